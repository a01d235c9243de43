"""What the link benchmark runs inside each measured child process.

Kept apart, with the fewest imports, because a spawned child imports the module of
the function it runs and everything that module imports: the Crosswalk child then
holds NumPy and :mod:`linkage` only (about 50 MiB), not pandas, recordlinkage or
Splink, so its peak memory is the engine's own. The baselines import their
libraries inside the child, as they must.

Each child reads its peak memory when linking ends, then scores against the truth
and sends back only the figures: pair sets (millions of tuples when a baseline
over-merges) are neither counted in the peak nor shipped to the parent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from benchmarks.common import pair_metrics, peak_rss_bytes
from linkage.evaluation import PairKey, PairScores, cluster_pairs_of, read_truth_csv
from linkage.match.pipeline import link_table
from linkage.schema import CANONICAL_COLUMNS
from linkage.table import load_encoded_files

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BASELINE_METHODS",
    "SCALABLE_BLOCKS",
    "LinkRun",
    "link_baseline",
    "link_ours",
    "pair_completeness",
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
records, so their candidate pairs grow quadratically (1.8M pairs at 10k records; at
100k, Splink was killed over 8 GB). These passes pair every field with another, as
Crosswalk's blocking does, so blocks stay small as the data grows, and each field
still has a pass that survives a typo in any other one.
"""

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LinkRun:
    """What a measured child sends back: scores and times, never record-level data.

    Attributes:
        method: Display name of the linker.
        candidates: Candidate pairs scored.
        pairs: Pairwise scores of the pairs classified as matches.
        clusters: Pairwise scores of all pairs within clusters (``None``: no clusters).
        stage_seconds: Load and linking stages, and ``load+link``, their wall time.
        linked_peak_rss_bytes: Peak RSS when linking ended, before scoring began.
        completeness: Pair completeness of the blocking, where it is computed.
    """

    method: str
    candidates: int
    pairs: PairScores
    clusters: PairScores | None
    stage_seconds: dict[str, float]
    linked_peak_rss_bytes: int
    completeness: float | None = None


def pair_completeness(
    keys: Sequence[tuple[str, str]], left: I64, right: I64, truth: set[PairKey]
) -> float:
    """Share of true pairs among the candidate pairs ``(left[k], right[k])`` (row indices)."""
    if not truth:
        return 1.0
    n = len(keys)
    index = {key: i for i, key in enumerate(keys)}
    rows = np.array([(index.get(a, -1), index.get(b, -1)) for a, b in truth], dtype=np.int64)
    codes = rows.min(axis=1) * n + rows.max(axis=1)
    candidates = np.minimum(left, right) * n + np.maximum(left, right)
    found = np.isin(codes, candidates) & (rows.min(axis=1) >= 0)
    return float(found.mean())


def link_ours(paths: list[Path], truth_csv: Path) -> LinkRun:
    """Load the encoded files and link them; then, outside the measured peak, score."""
    start = time.perf_counter()
    table = load_encoded_files(paths)
    load_seconds = time.perf_counter() - start
    result = link_table(table)
    link_seconds = time.perf_counter() - start - load_seconds
    linked_peak = peak_rss_bytes()
    stages = {"load": load_seconds, **result.timings, "load+link": load_seconds + link_seconds}
    truth = read_truth_csv(truth_csv)
    keys = table.keys()
    matched = result.probability >= result.settings.match_threshold
    left, right = result.left[matched].tolist(), result.right[matched].tolist()
    return LinkRun(
        method="crosswalk",
        candidates=len(result.left),
        pairs=pair_metrics(((keys[a], keys[b]) for a, b in zip(left, right, strict=True)), truth),
        clusters=pair_metrics(cluster_pairs_of(keys, result.subject_ids), truth),
        stage_seconds=stages,
        linked_peak_rss_bytes=linked_peak,
        completeness=pair_completeness(keys, result.left, result.right, truth),
    )


def read_canonical_frames(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Read canonical CSVs as all-string frames (``""`` for missing), keyed by agency."""
    import pandas as pd

    return {
        agency: pd.read_csv(path, dtype=str, keep_default_na=False, usecols=list(CANONICAL_COLUMNS))
        for agency, path in paths.items()
    }


def link_baseline(
    method: str, csvs: dict[str, Path], blocks: tuple[tuple[str, ...], ...], truth_csv: Path
) -> LinkRun:
    """Read the plaintext CSVs, run one baseline on their union with ``blocks``, score."""
    from benchmarks.run_baselines_febrl import BASELINES

    start = time.perf_counter()
    frames = read_canonical_frames(csvs)
    read_seconds = time.perf_counter() - start
    result = BASELINES[method](frames, blocks=blocks)
    stages = {"read": read_seconds, **result.stage_seconds}
    stages["load+link"] = sum(stages.values())
    truth = read_truth_csv(truth_csv)
    clusters = result.cluster_pairs
    return LinkRun(
        method=result.method,
        candidates=len(result.candidate_pairs),
        pairs=pair_metrics(result.predicted_pairs, truth),
        clusters=None if clusters is None else pair_metrics(clusters, truth),
        stage_seconds=stages,
        linked_peak_rss_bytes=result.linked_peak_rss_bytes or peak_rss_bytes(),
    )
