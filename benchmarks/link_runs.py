"""What the link benchmark runs inside each measured child process.

Kept apart, with the fewest imports, because a spawned child imports the module of
the function it runs and everything that module imports: the Crosswalk child then
holds NumPy and :mod:`linkage` only (about 50 MiB), not pandas, recordlinkage or
Splink, so its peak memory is the engine's own. The baselines import their
libraries inside the child, as they must.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from linkage.pipeline import link_table
from linkage.schema import CANONICAL_COLUMNS
from linkage.table import load_encoded_files

if TYPE_CHECKING:
    import pandas as pd

    from linkage.datasets import PairKey

__all__ = [
    "BASELINE_METHODS",
    "SCALABLE_BLOCKS",
    "BaselineRun",
    "OursRun",
    "link_baseline",
    "link_ours",
    "read_canonical_frames",
]

BASELINE_METHODS = {"recordlinkage_ecm": "recordlinkage ECM", "splink_duckdb": "splink (duckdb)"}
"""Keys of :data:`benchmarks.run_baselines_febrl.BASELINES` and the names they report."""

SCALABLE_BLOCKS: tuple[tuple[str, ...], ...] = (
    ("given_name", "family_name"),
    ("given_name", "birth_year"),
    ("family_name", "birth_year"),
    ("birth_date",),
    ("ssn",),
    ("phone",),
    ("street_address",),
    ("family_name", "postcode"),
)
"""Plaintext blocking passes for the generated data, in the spirit of Crosswalk's rules.

The FEBRL passes (:data:`benchmarks.baselines.FEBRL_BLOCKS`) block on postcode and on
family name alone: on the generated data a postcode is shared by thousands of
records, so their candidate pairs grow quadratically (1.8M pairs at 10k records, a
Splink run over 8 GB at 100k). These passes pair every field with another, as
Crosswalk's blocking does, so blocks stay small as the data grows, and each field
still has a pass that survives a typo in any other one.
"""

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class OursRun:
    """What the Crosswalk child sends back.

    Attributes:
        agencies: Agency of each table row.
        record_ids: Record id of each table row.
        subject_ids: Subject of each table row.
        candidate_codes: Candidate pairs as ``min(i, j) * n + max(i, j)``.
        stage_seconds: ``load``, the pipeline's stages and ``load+link`` (wall).
    """

    agencies: list[str]
    record_ids: list[str]
    subject_ids: list[str]
    candidate_codes: I64
    stage_seconds: dict[str, float]


@dataclass(frozen=True)
class BaselineRun:
    """What a baseline child sends back.

    Attributes:
        method: The baseline's display name.
        predicted_pairs: Pairs it classified as matches.
        cluster_pairs: Pairs within its clusters, when it clusters.
        candidates: Number of candidate pairs it scored.
        stage_seconds: ``read``, its own stages and ``load+link`` (their sum).
    """

    method: str
    predicted_pairs: frozenset[PairKey]
    cluster_pairs: frozenset[PairKey] | None
    candidates: int
    stage_seconds: dict[str, float]


def link_ours(paths: list[Path]) -> OursRun:
    """Load the encoded files and link them, timing load and link separately."""
    start = time.perf_counter()
    table = load_encoded_files(paths)
    load_seconds = time.perf_counter() - start
    result = link_table(table)
    link_seconds = time.perf_counter() - start - load_seconds
    n = len(table)
    codes = np.minimum(result.left, result.right) * n + np.maximum(result.left, result.right)
    stages = {"load": load_seconds, **result.timings, "load+link": load_seconds + link_seconds}
    return OursRun(table.agencies, table.record_ids, result.subject_ids, codes, stages)


def read_canonical_frames(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Read canonical CSVs as all-string frames (``""`` for missing), keyed by agency."""
    import pandas as pd

    return {
        agency: pd.read_csv(path, dtype=str, keep_default_na=False, usecols=list(CANONICAL_COLUMNS))
        for agency, path in paths.items()
    }


def link_baseline(
    method: str, csvs: dict[str, Path], blocks: tuple[tuple[str, ...], ...]
) -> BaselineRun:
    """Read the plaintext CSVs and run one baseline on their union with ``blocks``."""
    from benchmarks.run_baselines_febrl import BASELINES

    start = time.perf_counter()
    frames = read_canonical_frames(csvs)
    read_seconds = time.perf_counter() - start
    result = BASELINES[method](frames, blocks=blocks)
    stages = {"read": read_seconds, **result.stage_seconds}
    stages["load+link"] = sum(stages.values())
    return BaselineRun(
        result.method,
        result.predicted_pairs,
        result.cluster_pairs,
        len(result.candidate_pairs),
        stages,
    )
