"""Write synthetic data sets as CSV: one file per agency plus ``truth.csv``.

:func:`write_dataset` writes a generated :class:`SyntheticDataset`;
:func:`write_large` streams chunk by chunk for benchmark sizes (10k, 100k,
1M records) so memory stays flat whatever the size.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any, Protocol

from tools.synthetic.city import parse_habits
from tools.synthetic.generator import Chunk, SyntheticDataset, iter_chunks
from tools.synthetic.profiles import DEFAULT_AGENCIES, PROFILES, resolve_profiles

TRUTH_COLUMNS = ("agency", "record_id", "person_id")
HABIT_COLUMNS = ("agency", "record_id", "habits")


class _RowWriter(Protocol):
    """The part of a ``csv.writer`` used here."""

    def writerow(self, row: Iterable[Any], /) -> Any: ...

    def writerows(self, rows: Iterable[Iterable[Any]], /) -> None: ...


def write_dataset(dataset: SyntheticDataset, out_dir: Path, *, labels: bool = False) -> None:
    """Write ``out_dir/{agency}.csv`` for each agency and ``out_dir/truth.csv``.

    With city habits on (or ``labels``), ``out_dir/habits.csv`` also names the
    habits behind each record (``agency,record_id,habits``, habits joined by ``;``).

    Args:
        dataset: The generated data set.
        out_dir: Target folder, created if missing; existing files are replaced.
        labels: Write ``habits.csv`` even for the default generator.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for agency, rows in dataset.records.items():
        with (out_dir / f"{agency}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            columns = _columns(agency, rows)
            writer.writerow(columns)
            writer.writerows([row[c] for c in columns] for row in rows)
    with (out_dir / "truth.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        writer.writerows(dataset.truth)
    if labels or dataset.city_habits:
        with (out_dir / "habits.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(HABIT_COLUMNS)
            writer.writerows((a, rid, ";".join(h)) for (a, rid), h in dataset.habits.items())


def write_large(
    out_dir: Path,
    records: int,
    seed: int,
    *,
    agencies: Sequence[str] = DEFAULT_AGENCIES,
    habits: Iterable[str] = (),
    labels: bool = False,
) -> dict[str, int]:
    """Stream a data set of exactly ``records`` records to ``out_dir``.

    People are generated chunk by chunk until the record count is reached; the
    last chunk is cut proportionally across agencies (its rows are already
    shuffled, so the cut is random with respect to people).

    Args:
        out_dir: Target folder, created if missing.
        records: Total number of records over all agencies.
        seed: Seed of every random draw.
        agencies: Agencies to produce.
        habits: City habits to switch on (see :func:`tools.synthetic.generate`).
        labels: Write ``habits.csv`` even when no city habit is on.

    Returns:
        Records written per agency.

    Raises:
        ValueError: If ``records`` is negative or an agency is unknown.
    """
    if records < 0:
        raise ValueError("records must not be negative")
    resolve_profiles(agencies)  # refuse unknown agencies before creating any file
    city = parse_habits(habits)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = dict.fromkeys(agencies, 0)
    with ExitStack() as stack:
        writers = {a: _open(stack, out_dir / f"{a}.csv", _columns(a, [])) for a in agencies}
        truth = _open(stack, out_dir / "truth.csv", TRUTH_COLUMNS)
        tags = _open(stack, out_dir / "habits.csv", HABIT_COLUMNS) if city or labels else None
        chunks = stack.enter_context(
            closing(iter_chunks(None, seed=seed, agencies=agencies, habits=city))
        )
        while sum(written.values()) < records:
            chunk = next(chunks)
            rows = _cut(chunk, records - sum(written.values()))
            for agency, pairs in rows.items():
                columns = _columns(agency, [])
                writers[agency].writerows([row[c] for c in columns] for _, row in pairs)
                truth.writerows((agency, row["record_id"], pid) for pid, row in pairs)
                if tags is not None:
                    habit = chunk.labels[agency]
                    tags.writerows(
                        (agency, row["record_id"], ";".join(habit[i]))
                        for i, (_, row) in enumerate(pairs)
                    )
                written[agency] += len(pairs)
    return written


def _cut(chunk: Chunk, budget: int) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Keep at most ``budget`` rows of a chunk, in proportion across agencies.

    The kept rows are a prefix of each agency's rows, so ``chunk.labels`` still
    lines up with them.
    """
    total = sum(len(rows) for rows in chunk.rows.values())
    if total <= budget:
        return chunk.rows
    keep = {a: len(rows) * budget // total for a, rows in chunk.rows.items()}
    for agency in list(keep)[: budget - sum(keep.values())]:
        keep[agency] += 1
    return {a: rows[: keep[a]] for a, rows in chunk.rows.items()}


def _columns(agency: str, rows: Sequence[dict[str, str]]) -> tuple[str, ...]:
    if agency in PROFILES:
        return PROFILES[agency].columns
    return tuple(rows[0]) if rows else ("record_id",)


def _open(stack: ExitStack, path: Path, header: Iterable[str]) -> _RowWriter:
    handle = stack.enter_context(path.open("w", newline="", encoding="utf-8"))
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    return writer
