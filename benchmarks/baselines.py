"""Plaintext record-linkage baselines, run on the same data as the hashed pipeline.

Two established unsupervised linkers see the *plaintext* canonical columns, so the
privacy cost of Crosswalk's keyed encodings can be read off as the gap between them
and the hashed pipeline:

* :func:`recordlinkage_ecm` — the ``recordlinkage`` toolkit: union of standard blocks,
  binary agreement features (Jaro-Winkler / Levenshtein thresholds, exact matches) and
  the ECM (Fellegi-Sunter by expectation/conditional maximisation) classifier.
* :func:`splink_duckdb` — Splink on DuckDB: multi-level comparisons, u by random
  sampling, m by EM, pairwise predictions at a match probability of 0.5 and
  connected-components clusters at the same threshold.

Both accept a :class:`~linkage.datasets.BenchmarkDataset` or canonical frames per
agency, infer the task from the number of files (one: deduplicate; two: link the
two; more: deduplicate their union), skip fields that are empty everywhere or listed
in ``exclude_fields``, and return predicted pairs in the truth's pair format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import recordlinkage as rl
from recordlinkage.classifiers import ECMClassifier

from benchmarks.common import Stopwatch, peak_rss_bytes
from linkage.datasets import CANONICAL_COLUMNS, BenchmarkDataset, PairKey, sorted_pair
from linkage.records import RecordKey

__all__ = [
    "FEBRL_BLOCKS",
    "BaselineResult",
    "BaselineUnavailable",
    "canonical_frames",
    "recordlinkage_ecm",
    "splink_duckdb",
]

FrameInput = BenchmarkDataset | Mapping[str, pd.DataFrame]

_NAME_FIELDS = ("given_name", "middle_name", "family_name")
_TEXT_FIELDS = ("street_address", "city")
# Blocking passes, unioned. Sized on FEBRL3/4 for pair completeness >= 0.98 without
# ssn (>= 0.998 with it) at about 10-22 candidate pairs per record. Single-column
# passes on postcode or family name grow quadratically with larger data; pass
# ``blocks`` there (see benchmarks.link_runs).
FEBRL_BLOCKS: tuple[tuple[str, ...], ...] = (
    ("given_name", "birth_year"),
    ("family_name",),
    ("postcode",),
    ("birth_date",),
    ("ssn",),
)
_EM_BLOCKS: tuple[tuple[str, ...], ...] = (("given_name", "family_name"), ("birth_date",))
_DETERMINISTIC_RULES: tuple[tuple[str, ...], ...] = (
    ("given_name", "family_name", "birth_date"),
    ("ssn", "birth_date"),
)


class BaselineUnavailable(RuntimeError):
    """A baseline's library is not installed, so the baseline cannot run."""


@dataclass(frozen=True)
class BaselineResult:
    """What a baseline predicted and how long each stage took.

    Attributes:
        method: Human-readable baseline name.
        predicted_pairs: Pairs classified as matches.
        candidate_pairs: Pairs produced by blocking (scored by the classifier).
        stage_seconds: Wall time per stage, in run order.
        cluster_pairs: Every pair within a predicted cluster (Splink only).
        linked_peak_rss_bytes: Peak RSS of the process when the last stage ended, before
            the pair sets above were built for scoring (with many candidates or
            over-merged clusters, those sets can outweigh the linker itself).
    """

    method: str
    predicted_pairs: frozenset[PairKey]
    candidate_pairs: frozenset[PairKey]
    stage_seconds: dict[str, float]
    cluster_pairs: frozenset[PairKey] | None = None
    linked_peak_rss_bytes: int | None = None

    @property
    def seconds(self) -> float:
        """Total wall time over all stages."""
        return sum(self.stage_seconds.values())


@dataclass(frozen=True)
class _Sides:
    """The one or two frames a recordlinkage index runs on, with record addresses."""

    left: pd.DataFrame
    left_keys: list[RecordKey]
    right: pd.DataFrame | None = None
    right_keys: list[RecordKey] = field(default_factory=list)

    @property
    def frames(self) -> tuple[pd.DataFrame, ...]:
        """The frames in the order ``Index.index`` and ``Compare.compute`` take them."""
        return (self.left,) if self.right is None else (self.left, self.right)

    def pairs(self, index: pd.MultiIndex) -> frozenset[PairKey]:
        """Translate positional index pairs into record-address pairs."""
        right_keys = self.left_keys if self.right is None else self.right_keys
        return frozenset(
            sorted_pair(self.left_keys[i], right_keys[j])
            for i, j in zip(index.get_level_values(0), index.get_level_values(1), strict=True)
        )


def canonical_frames(data: FrameInput) -> dict[str, pd.DataFrame]:
    """Canonical frames per agency: string columns, NaN for missing, positional index.

    Args:
        data: A benchmark dataset, or canonical frames keyed by agency name.

    Returns:
        One frame per agency with exactly the canonical columns (absent ones all
        missing), ``''`` replaced by NaN.
    """
    if isinstance(data, BenchmarkDataset):
        raw = {
            a: pd.DataFrame(rows, columns=list(CANONICAL_COLUMNS)) for a, rows in data.files.items()
        }
    else:
        raw = dict(data)
    frames = {}
    for agency, frame in raw.items():
        frame = frame.reset_index(drop=True).reindex(columns=list(CANONICAL_COLUMNS))
        frame = frame.astype(object)
        frames[agency] = frame.mask(frame.isna() | (frame == ""))
    return frames


def _linkage_fields(frames: Mapping[str, pd.DataFrame], exclude: Sequence[str]) -> list[str]:
    """Canonical fields to compare: present somewhere and not excluded."""
    return [
        column
        for column in CANONICAL_COLUMNS[1:]
        if column not in exclude and any(f[column].notna().any() for f in frames.values())
    ]


def _usable(rules: Sequence[tuple[str, ...]], fields: Sequence[str]) -> list[tuple[str, ...]]:
    """The rules whose every column is a linkage field (``birth_year`` via birth_date)."""
    available = set(fields) | ({"birth_year"} if "birth_date" in fields else set())
    return [rule for rule in rules if set(rule) <= available]


def _keys(agency: str, frame: pd.DataFrame) -> list[RecordKey]:
    return [(agency, str(record_id)) for record_id in frame["record_id"]]


def _year(birth_date: object) -> str | None:
    """The year of a ``YYYYMMDD`` birth date, None when missing."""
    return birth_date[:4] if isinstance(birth_date, str) else None


def _rl_sides(frames: Mapping[str, pd.DataFrame]) -> _Sides:
    """Link when there are exactly two files, else deduplicate their union."""
    with_year = {a: f.assign(birth_year=f["birth_date"].map(_year)) for a, f in frames.items()}
    if len(with_year) == 2:
        (agency_l, left), (agency_r, right) = with_year.items()
        return _Sides(left, _keys(agency_l, left), right, _keys(agency_r, right))
    union = pd.concat(with_year.values(), ignore_index=True)
    return _Sides(union, [key for a, f in with_year.items() for key in _keys(a, f)])


def _rl_comparer(fields: Sequence[str], string_threshold: float) -> rl.Compare:
    """Binary agreement features, one per field, as ECM requires."""
    compare = rl.Compare()
    for column in fields:
        if column in _NAME_FIELDS or column in _TEXT_FIELDS:
            compare.string(column, column, "jarowinkler", string_threshold, label=column)
        elif column == "birth_date":  # one typo in eight digits scores 0.875
            compare.string(column, column, "levenshtein", string_threshold, label=column)
        else:
            compare.exact(column, column, label=column)
    return compare


def recordlinkage_ecm(
    data: FrameInput,
    *,
    exclude_fields: Sequence[str] = (),
    string_threshold: float = 0.85,
    blocks: Sequence[tuple[str, ...]] = FEBRL_BLOCKS,
) -> BaselineResult:
    """Link or deduplicate with recordlinkage's blocking, comparison and ECM classifier.

    Blocking is the union of ``blocks``, by default passes on given name + birth year,
    family name, postcode, birth date and ssn (passes using an excluded field are
    dropped). Each field gives
    one binary feature: names, address and city agree when Jaro-Winkler similarity is
    at least ``string_threshold``, birth dates when normalised Levenshtein similarity
    is, the rest on exact equality; missing values disagree. ECM then fits the
    Fellegi-Sunter m and u probabilities without labels and classifies each pair.

    Args:
        data: A benchmark dataset or canonical frames keyed by agency.
        exclude_fields: Canonical fields the baseline must not use, e.g. ``("ssn",)``.
        string_threshold: Similarity at or above which a string feature agrees.
        blocks: Blocking passes (column tuples; ``birth_year`` is allowed).

    Returns:
        Predicted and candidate pairs, with timings for prepare/index/compare/classify.
    """
    timer = Stopwatch()
    with timer.stage("prepare"):
        frames = canonical_frames(data)
        fields = _linkage_fields(frames, exclude_fields)
        sides = _rl_sides(frames)
    with timer.stage("index"):
        indexer = rl.Index()
        for block in _usable(blocks, fields):
            indexer.block(list(block))
        candidates = indexer.index(*sides.frames)
    with timer.stage("compare"):
        features = _rl_comparer(fields, string_threshold).compute(candidates, *sides.frames)
    with timer.stage("classify"):
        matches = ECMClassifier(binarize=None).fit_predict(features)
    linked_peak = peak_rss_bytes()
    return BaselineResult(
        "recordlinkage ECM",
        sides.pairs(matches),
        sides.pairs(candidates),
        timer.stages,
        linked_peak_rss_bytes=linked_peak,
    )


def splink_duckdb(
    data: FrameInput,
    *,
    exclude_fields: Sequence[str] = (),
    threshold: float = 0.5,
    u_max_pairs: float = 2e6,
    seed: int = 42,
    blocks: Sequence[tuple[str, ...]] = FEBRL_BLOCKS,
) -> BaselineResult:
    """Link or deduplicate with Splink's Fellegi-Sunter model on DuckDB.

    Comparisons: names by exact / Jaro-Winkler 0.92, 0.88, 0.7; birth date by exact,
    one edit, and 1 month / 1 year / 10 years apart; address and city by Jaro-Winkler
    0.9, 0.7; postcode by exact / one edit; ssn and other identifiers exact. The prior
    comes from deterministic rules assumed to find 70% of matches, u from random
    sampling (``u_max_pairs``), m from EM on name-blocked and date-blocked pairs.
    Blocking for prediction is the same union of passes as :func:`recordlinkage_ecm`.

    Args:
        data: A benchmark dataset or canonical frames keyed by agency.
        exclude_fields: Canonical fields the baseline must not use, e.g. ``("ssn",)``.
        threshold: Match probability at or above which a pair (or cluster edge) matches.
        u_max_pairs: Number of random pairs for estimating u.
        seed: Seed for the u sampling, for reproducible runs.
        blocks: Blocking passes for prediction (column tuples; ``birth_year`` allowed).

    Returns:
        Predicted pairs, candidate pairs, all pairs within clusters, and timings.

    Raises:
        BaselineUnavailable: If splink (or duckdb) cannot be imported.
    """
    try:  # imported here so the recordlinkage baseline's memory excludes splink
        from benchmarks import splink_model
    except ImportError as exc:  # splink and duckdb are the optional "bench" extra
        raise BaselineUnavailable(f"splink cannot be imported: {exc}") from exc
    timer = Stopwatch()
    with timer.stage("prepare"):
        frames = canonical_frames(data)
        fields = _linkage_fields(frames, exclude_fields)
        linker = splink_model.build_linker(frames, fields, _usable(blocks, fields))
    with timer.stage("train"):
        splink_model.train(
            linker,
            deterministic_rules=_usable(_DETERMINISTIC_RULES, fields),
            em_blocks=_usable(_EM_BLOCKS, fields),
            u_max_pairs=u_max_pairs,
            seed=seed,
        )
    with timer.stage("predict"):
        predictions = linker.inference.predict()
        scored = splink_model.to_frame(predictions)
    with timer.stage("cluster"):
        clusters = splink_model.to_frame(
            linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold
            )
        )
    linked_peak = peak_rss_bytes()
    agencies = list(frames)
    return BaselineResult(
        "splink (duckdb)",
        splink_model.prediction_pairs(scored[scored["match_probability"] >= threshold], agencies),
        splink_model.prediction_pairs(scored, agencies),
        timer.stages,
        splink_model.cluster_pairs(clusters, agencies),
        linked_peak,
    )
