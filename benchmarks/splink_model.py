"""The Splink (DuckDB) model behind :func:`benchmarks.baselines.splink_duckdb`.

Kept apart from :mod:`benchmarks.baselines` so that importing the baselines does not
import splink and duckdb: the recordlinkage baseline's peak memory then excludes them,
and a missing ``bench`` extra surfaces only when the Splink baseline is asked for.
Blocking passes are given as tuples of canonical column names; ``birth_year`` stands
for the first four characters of ``birth_date``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.splink_dataframe import SplinkDataFrame

from benchmarks.common import pairs_from_clusters
from linkage.datasets import PairKey, sorted_pair
from linkage.records import RecordKey

__all__ = [
    "blocking_rule",
    "build_linker",
    "cluster_pairs",
    "comparison_for",
    "prediction_pairs",
    "to_frame",
    "train",
]

LinkType = Literal["dedupe_only", "link_only", "link_and_dedupe"]

_NAME_FIELDS = frozenset({"given_name", "middle_name", "family_name"})
_TEXT_FIELDS = frozenset({"street_address", "city"})
# FEBRL-style data: a deterministic rule finds about this share of the true matches.
_DETERMINISTIC_RECALL = 0.7


def comparison_for(column: str) -> ComparisonCreator:
    """The comparison for one canonical field (null level first, else level last).

    Args:
        column: Canonical column name.

    Returns:
        Names: exact, Jaro-Winkler 0.92 / 0.88 / 0.7. Birth date (``YYYYMMDD``):
        exact, one edit, within 1 month / 1 year / 10 years; invalid dates are kept so
        that a typo still reaches the one-edit level. Address and city: exact,
        Jaro-Winkler 0.9 / 0.7. Postcode: exact, one edit. Anything else: exact.
    """
    if column in _NAME_FIELDS:
        return cl.NameComparison(column)
    if column == "birth_date":
        return cl.DateOfBirthComparison(
            column, input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=False
        )
    if column in _TEXT_FIELDS:
        return cl.JaroWinklerAtThresholds(column, [0.9, 0.7])
    if column == "postcode":
        return cl.LevenshteinAtThresholds(column, 1)
    return cl.ExactMatch(column)


def blocking_rule(columns: Sequence[str]) -> BlockingRuleCreator:
    """Equality on every column of a blocking pass."""
    return block_on(*("substr(birth_date, 1, 4)" if c == "birth_year" else c for c in columns))


def build_linker(
    frames: Mapping[str, pd.DataFrame],
    fields: Sequence[str],
    prediction_blocks: Sequence[Sequence[str]],
) -> Linker:
    """Register the frames in an in-memory DuckDB and build an untrained Linker.

    Args:
        frames: Canonical frames per agency (NaN for missing); the agency name
            becomes Splink's ``source_dataset``.
        fields: Canonical fields to compare.
        prediction_blocks: Blocking passes whose union generates candidate pairs.

    Returns:
        A dedupe-only Linker for one frame, link-only for two, link-and-dedupe beyond.
    """
    db_api = DuckDBAPI()
    tables = []
    for agency, frame in frames.items():
        table = frame[["record_id", *fields]].rename(columns={"record_id": "unique_id"})
        tables.append(db_api.register(table, dataset_display_name=agency))
    link_type: LinkType = "link_only" if len(tables) == 2 else "link_and_dedupe"
    settings = SettingsCreator(
        link_type="dedupe_only" if len(tables) == 1 else link_type,
        comparisons=[comparison_for(column) for column in fields],
        blocking_rules_to_generate_predictions=[blocking_rule(b) for b in prediction_blocks],
        retain_matching_columns=False,
    )
    return Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.WARNING)


def train(
    linker: Linker,
    *,
    deterministic_rules: Sequence[Sequence[str]],
    em_blocks: Sequence[Sequence[str]],
    u_max_pairs: float,
    seed: int,
) -> None:
    """Estimate the model without labels.

    ``probability_two_random_records_match`` comes from the pairs the deterministic
    rules find, scaled by their assumed recall; u probabilities from comparing random
    pairs (almost all non-matches); m probabilities by EM on each blocked set in turn,
    each session estimating every comparison not used by its blocking pass.

    Args:
        linker: The linker to train in place.
        deterministic_rules: High-precision equality rules for the prior.
        em_blocks: Blocking passes for the EM sessions.
        u_max_pairs: Number of random pairs for u.
        seed: Seed for the random pairs.
    """
    rules: list[str | BlockingRuleCreator] = [blocking_rule(r) for r in deterministic_rules]
    if rules:
        linker.training.estimate_probability_two_random_records_match(
            rules, recall=_DETERMINISTIC_RECALL
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    for block in em_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(blocking_rule(block))


def to_frame(table: SplinkDataFrame) -> pd.DataFrame:
    """A Splink table as a pandas frame."""
    frame: pd.DataFrame = table.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    return frame


def prediction_pairs(table: pd.DataFrame, agencies: Sequence[str]) -> frozenset[PairKey]:
    """Record-address pairs from a Splink predictions table.

    Args:
        table: Predictions with ``unique_id_l/_r`` (and ``source_dataset_l/_r`` when
            more than one frame was linked).
        agencies: Agency names in input order; the only one is used for dedupe.

    Returns:
        The pairs, smaller address first.
    """

    def side(suffix: str) -> list[RecordKey]:
        uids = [str(uid) for uid in table[f"unique_id_{suffix}"]]
        if f"source_dataset_{suffix}" not in table:
            return [(agencies[0], uid) for uid in uids]
        sources = [str(source) for source in table[f"source_dataset_{suffix}"]]
        return list(zip(sources, uids, strict=True))

    return frozenset(
        sorted_pair(left, right) for left, right in zip(side("l"), side("r"), strict=True)
    )


def cluster_pairs(clusters: pd.DataFrame, agencies: Sequence[str]) -> frozenset[PairKey]:
    """Every pair of records sharing a Splink cluster id.

    Args:
        clusters: Splink clusters with ``cluster_id`` and ``unique_id`` (and
            ``source_dataset`` when more than one frame was linked).
        agencies: Agency names in input order; the only one is used for dedupe.

    Returns:
        All within-cluster pairs, smaller address first.
    """
    if "source_dataset" in clusters:
        sources = [str(source) for source in clusters["source_dataset"]]
    else:
        sources = [agencies[0]] * len(clusters)
    members: defaultdict[object, list[RecordKey]] = defaultdict(list)
    for cluster_id, source, uid in zip(
        clusters["cluster_id"], sources, clusters["unique_id"], strict=True
    ):
        members[cluster_id].append((source, str(uid)))
    return pairs_from_clusters(members.values())
