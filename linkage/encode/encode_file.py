"""Encode a whole CSV of identifiers into a JSON Lines file, safely.

Reading is strict about the file and lenient about rows: a missing column, an
empty file or a schema column absent from the header stops everything with one
clear message; a malformed row (wrong number of cells, undecodable bytes, no
record id, a repeated record id) is skipped and counted. Values that cannot be
parsed are treated as missing and counted per field. Output goes to a temporary
file renamed into place only when everything succeeded, so a failure never leaves
a partial output file behind.

Large files are encoded by a pool of worker processes (one per core): encoding is
CPU-bound (HMAC and bit operations) and rows are independent. The reading process
sends each worker only the cells it encodes, and the workers' part files are joined
into the output inside the kernel (``sendfile``), not through Python buffers.
"""

from __future__ import annotations

import csv
import itertools
import multiprocessing
import operator
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson
from tqdm import tqdm

from linkage.encode.encoding import RecordEncoder
from linkage.errors import InputDataError
from linkage.records import CONTEXT_CATEGORIES

__all__ = ["EncodeReport", "encode_csv", "encode_rows"]

_CHUNK = 4000
_PARALLEL_MIN_BYTES = 4_000_000
csv.field_size_limit(1_000_000)

Row = tuple[str, dict[str, str], dict[str, dict[str, str]]]


@dataclass
class EncodeReport:
    """What happened while encoding a file (counts only, never values)."""

    records: int = 0
    skipped_rows: Counter[str] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    unparseable: Counter[str] = field(default_factory=Counter)


def encode_csv(
    source: Path,
    output: Path,
    encoder: RecordEncoder,
    *,
    context: Mapping[str, Sequence[str]] | None = None,
    progress: bool = False,
) -> EncodeReport:
    """Encode ``source`` into ``output`` (JSON Lines), atomically.

    Args:
        source: CSV with a header row, UTF-8.
        output: Destination; written only if the whole file encodes.
        encoder: The agency's :class:`RecordEncoder`.
        context: Context category → input columns carried verbatim into ``context``.
        progress: Show a progress bar on standard error.

    Raises:
        InputDataError: for file-level problems (see module docstring).
    """
    context = dict(context or {})
    report = EncodeReport()
    rows = _read_rows(source, encoder, context, report)
    parallel = source.stat().st_size >= _PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    folder = output.parent or Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    try:
        with (
            tempfile.TemporaryDirectory(prefix=f".{output.name}.parts.", dir=folder) as scratch,
            os.fdopen(fd, "wb") as sink,
            tqdm(disable=not progress, unit="rec", desc="encode", leave=False) as bar,
        ):
            for part, count, statuses in _encode_chunks(
                rows, encoder, Path(scratch), parallel=parallel
            ):
                _append(part, sink)
                part.unlink()
                report.records += count
                report.missing.update(statuses["missing"])
                report.unparseable.update(statuses["unparseable"])
                bar.update(count)
        if report.records == 0:
            raise InputDataError(f"{source} contains no usable records")
        os.replace(tmp_name, output)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return report


def _append(part: Path, sink: BinaryIO) -> None:
    """Append a part file to the output, copied inside the kernel where it can be."""
    sink.flush()  # a fallback copy may have left bytes in the sink's buffer
    with part.open("rb") as piece:
        size = os.fstat(piece.fileno()).st_size
        offset = 0
        try:
            while offset < size:
                sent = os.sendfile(sink.fileno(), piece.fileno(), offset, size - offset)
                if sent == 0:
                    break
                offset += sent
        except OSError:  # no sendfile to this sink: copy through user space
            pass
        piece.seek(offset)
        shutil.copyfileobj(piece, sink)


def encode_rows(
    encoder: RecordEncoder, rows: Sequence[Row]
) -> tuple[list[bytes], dict[str, Counter[str]]]:
    """Encode rows in this process; return JSON lines and per-field status counts."""
    names = [spec.name for spec in encoder.schema.fields]
    return _encode_field_rows(
        encoder,
        [
            (
                record_id,
                [values.get(name, "") for name in names],
                orjson.dumps(ctx) if ctx else _NO_CONTEXT,
            )
            for record_id, values, ctx in rows
        ],
    )


#: A row as the reader hands it on: record id, raw values in schema field order, and
#: the record's context already serialised (a list pickles smaller than a dict).
_FieldRow = tuple[str, Sequence[str], bytes]
_NO_CONTEXT = b"{}"


def _encode_field_rows(
    encoder: RecordEncoder, rows: Sequence[_FieldRow]
) -> tuple[list[bytes], dict[str, Counter[str]]]:
    counts: Counter[str] = Counter()
    encode = encoder.encode_values
    lines = [encode(record_id, values, ctx, counts) for record_id, values, ctx in rows]
    statuses: dict[str, Counter[str]] = {"missing": Counter(), "unparseable": Counter()}
    for key, count in counts.items():
        state, field_name = key.split(":", 1)
        statuses[state][field_name] += count
    return lines, statuses


_WORKER: RecordEncoder | None = None
_Statuses = dict[str, Counter[str]]


def _worker_encode(job: tuple[Path, Sequence[_FieldRow]]) -> tuple[Path, int, _Statuses]:
    """Encode one chunk into its own part file; only counts travel back."""
    assert _WORKER is not None  # set before the fork  # noqa: S101
    part, rows = job
    lines, statuses = _encode_field_rows(_WORKER, rows)
    lines.append(b"")
    with part.open("wb") as handle:
        handle.write(b"\n".join(lines))
    return part, len(rows), statuses


def _encode_chunks(
    rows: Iterator[_FieldRow], encoder: RecordEncoder, scratch: Path, *, parallel: bool
) -> Iterator[tuple[Path, int, _Statuses]]:
    """Encode chunk by chunk into part files under ``scratch``, in input order.

    In parallel mode each forked worker keeps its own value caches warm across
    the chunks it gets, and writes its lines itself: sending 1.6 KB per record
    back through the pool's pipe cost more than the encoding it parallelised.
    """
    jobs = ((scratch / f"part-{i:06d}", chunk) for i, chunk in enumerate(_chunked(rows, _CHUNK)))
    if not parallel:
        _set_worker(encoder)
        try:
            yield from map(_worker_encode, jobs)
        finally:
            _set_worker(None)
        return
    _set_worker(encoder)
    try:
        with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
            yield from pool.imap(_worker_encode, jobs, chunksize=1)
    finally:
        _set_worker(None)


def _set_worker(encoder: RecordEncoder | None) -> None:
    global _WORKER  # handed to (forked) workers, never shared mutable state
    _WORKER = encoder


def _chunked(rows: Iterator[_FieldRow], size: int) -> Iterator[list[_FieldRow]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _read_rows(
    source: Path, encoder: RecordEncoder, context: dict[str, Sequence[str]], report: EncodeReport
) -> Iterator[_FieldRow]:
    """Validate the header eagerly, then return a lazy iterator of good rows."""
    try:
        handle = source.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise InputDataError(f"cannot open {source}: {exc.strerror}") from exc
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise InputDataError(f"{source} is empty (no header row)") from None
    except csv.Error as exc:
        handle.close()
        raise InputDataError(f"{source} is not a readable CSV file: {exc}") from exc
    try:
        index = _header_index(source, header, encoder, context)
    except InputDataError:
        handle.close()
        raise
    return _good_rows(handle, reader, index, encoder, context, report)


def _header_index(
    source: Path, header: list[str], encoder: RecordEncoder, context: dict[str, Sequence[str]]
) -> dict[str, int]:
    names = [h.strip() for h in header]
    if any(_undecodable(h) for h in names):
        raise InputDataError(f"{source} is not UTF-8 text (undecodable bytes in the header)")
    index = {name: i for i, name in enumerate(names)}
    needed = list(encoder.schema.input_columns)
    for category, columns in context.items():
        if category not in CONTEXT_CATEGORIES:
            raise InputDataError(f"unknown context category {category!r}")
        needed.extend(columns)
    missing = [c for c in needed if c not in index]
    if missing:
        raise InputDataError(f"{source} lacks required column(s): {', '.join(missing)}")
    return index


def _good_rows(
    handle: object,
    reader: Iterator[list[str]],
    index: dict[str, int],
    encoder: RecordEncoder,
    context: dict[str, Sequence[str]],
    report: EncodeReport,
) -> Iterator[_FieldRow]:
    schema = encoder.schema
    rid_col = index[schema.record_id_column]
    field_values = _field_values([[index[c] for c in f.columns] for f in schema.fields])
    ctx_cols = {cat: [(c, index[c]) for c in cols] for cat, cols in context.items()}
    width = len(index)
    seen: set[str] = set()
    with handle:  # type: ignore[attr-defined]
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                report.skipped_rows["malformed CSV row"] += 1
                continue
            # The usual row (right width, a record id, UTF-8, new id) is settled by the
            # first test; _row_problem names what is wrong with any other.
            record_id = row[rid_col].strip() if len(row) == width else ""
            if not record_id or record_id in seen or _undecodable("".join(row)):
                reason = _row_problem(row, width, rid_col, seen)
                if reason:
                    report.skipped_rows[reason] += 1
                    continue
                record_id = row[rid_col].strip()
            seen.add(record_id)
            yield (
                record_id,
                field_values(row),
                _context_json(row, ctx_cols) if ctx_cols else _NO_CONTEXT,
            )


def _field_values(columns: list[list[int]]) -> Callable[[list[str]], Sequence[str]]:
    """A function from a CSV row to its raw field values, in schema field order.

    A field read from several columns joins their non-blank cells with spaces; a field
    of one column is that cell as it is (a blank cell is missing either way).
    """
    if any(len(cols) != 1 for cols in columns):
        return lambda row: [" ".join(row[i] for i in cols if row[i].strip()) for cols in columns]
    singles = [cols[0] for cols in columns]
    if len(singles) > 1:  # itemgetter of one index returns the cell, not a tuple
        return operator.itemgetter(*singles)
    return lambda row: [row[i] for i in singles]


def _context_json(row: list[str], ctx_cols: dict[str, list[tuple[str, int]]]) -> bytes:
    ctx = {cat: {c: row[i] for c, i in cols if row[i].strip()} for cat, cols in ctx_cols.items()}
    ctx = {k: v for k, v in ctx.items() if v}
    return orjson.dumps(ctx) if ctx else _NO_CONTEXT


def _row_problem(row: list[str], width: int, rid_col: int, seen: set[str]) -> str | None:
    if not any(cell.strip() for cell in row):
        return "blank row"
    if len(row) != width:
        return "wrong number of cells"
    if _undecodable("".join(row)):
        return "not UTF-8"
    record_id = row[rid_col].strip()
    if not record_id:
        return "no record_id"
    if record_id in seen:
        return "repeated record_id"
    return None


_SURROGATE = re.compile("[\udc80-\udcff]")


def _undecodable(text: str) -> bool:
    """Bytes that were not UTF-8 survive decoding as lone surrogates (surrogateescape)."""
    return _SURROGATE.search(text) is not None
