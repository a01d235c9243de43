"""The hub's in-memory link index: every stored record, its subject, its blocking keys.

Incremental linking (:mod:`linkage.match.incremental`) needs, for a handful of new
records, the stored records that share a blocking key with them — in
milliseconds, against a million stored records. The index keeps:

* the encoded columns of every stored row (an :class:`EncodedTable` with spare
  capacity, so appends rarely copy), each row keyed by ``(agency, record_id)``
  and carrying its current subject id; a replaced or retracted row is marked
  dead and never returned again;
* every row's blocking keys (:mod:`linkage.match.index_keys`): a large sorted *main*
  run and a small *delta* run of recent appends, merged into the main run
  (dropping dead rows) when the delta outgrows a fraction of it.

Block sizes are known at query time (the length of a key's range), so hot
blocks follow the batch rules of :mod:`linkage.match.blocking` exactly: a broad rule's
block with more than ``_BROAD_MAX_BLOCK`` records is skipped; another rule's hot
block is narrowed to the members sharing the new record's birth year, then its
postcode, and skipped if it is still too large.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from linkage.errors import EncodedDataError, LinkageError
from linkage.match.blocking import _BROAD_MAX_BLOCK, DEFAULT_RULES, BlockingRule
from linkage.match.index_keys import SortedKeys, expand_ranges, refine_hot_blocks, table_keys
from linkage.match.table_ops import check_compatible, take_rows
from linkage.records import RecordKey
from linkage.table import EncodedTable

__all__ = [
    "IndexUpdate",
    "LinkIndex",
    "SortedKeys",
    "StaleIndexError",
    "table_keys",
]

I64 = npt.NDArray[np.int64]
Column = npt.NDArray[Any]
_DELTA_MIN = 1 << 16  # delta entries kept before a merge is considered
_DELTA_SHARE = 64  # ... and merged once larger than main / this


class StaleIndexError(LinkageError):
    """An outcome was computed against an index that has changed since.

    (A subclass of :class:`LinkageError` defined here, not in ``errors.py``,
    only because this module was added while that file was frozen.)
    """


class IndexUpdate(Protocol):
    """What :meth:`LinkIndex.apply` needs of a linking outcome."""

    @property
    def generation(self) -> int:
        """Index generation the outcome was computed against."""

    @property
    def table(self) -> EncodedTable:
        """The new rows to upsert."""

    @property
    def subject_ids(self) -> Sequence[str]:
        """Subject of each new row."""

    @property
    def subject_changes(self) -> Mapping[RecordKey, str]:
        """Stored records that move to another subject (merges)."""


class LinkIndex:
    """Appendable store of encoded records with their subjects and blocking keys.

    Mutations (:meth:`upsert`, :meth:`remove`, :meth:`set_subjects`,
    :meth:`apply`) bump :attr:`generation`; an outcome computed against one
    generation can only be applied to that generation. The index is not
    thread-safe: the caller serialises mutations (reads may run between them).

    Subjects are held as integer codes per row (:meth:`subject_codes`), so that
    linking can look up the subjects of thousands of candidate rows at once.

    Args:
        schema_version, key_id: What every stored encoding must carry.
        rules: Blocking passes (those of the batch run, to link alike).
        max_block: Block size above which blocks are refined, then skipped.
    """

    def __init__(
        self,
        schema_version: str,
        key_id: str,
        rules: tuple[BlockingRule, ...] = DEFAULT_RULES,
        *,
        max_block: int = 100,
    ) -> None:
        self.rules = rules
        self.max_block = max_block
        self.generation = 0
        self._store = EncodedTable(schema_version, key_id, [], [])
        self._n = 0  # rows stored, dead ones included
        self._capacity = 0
        self._alive = np.zeros(0, dtype=bool)
        self._codes = np.zeros(0, dtype=np.int32)  # subject code of each row
        self._names: list[str] = []  # subject id of each code
        self._code_of: dict[str, int] = {}
        self._row_of: dict[RecordKey, int] = {}
        self._members: dict[int, list[int]] = {}  # live rows of each subject code
        empty = np.empty(0, dtype=np.int64)
        self._main = SortedKeys(empty, empty.astype(np.int32))
        self._delta = SortedKeys(empty, empty.astype(np.int32))
        limits = [min(max_block, _BROAD_MAX_BLOCK) if r.broad else max_block for r in rules]
        self._limits = np.array(limits, dtype=np.int64)
        self._broad = np.array([r.broad for r in rules], dtype=bool)

    # --- construction ---------------------------------------------------------------
    @classmethod
    def empty(
        cls, schema_version: str, key_id: str, rules: tuple[BlockingRule, ...] = DEFAULT_RULES
    ) -> LinkIndex:
        """An index with no records."""
        return cls(schema_version, key_id, rules)

    @classmethod
    def from_table(
        cls,
        table: EncodedTable,
        subject_ids: Sequence[str],
        rules: tuple[BlockingRule, ...] = DEFAULT_RULES,
        *,
        max_block: int = 100,
    ) -> LinkIndex:
        """Bulk-build an index of every row of ``table`` (one sort of all keys)."""
        index = cls(table.schema_version, table.key_id, rules, max_block=max_block)
        index._load(table, subject_ids)
        rows, keys, _ = table_keys(table, rules)
        index._main = SortedKeys.build(keys, rows)
        return index

    # --- reads ----------------------------------------------------------------------
    @property
    def schema_version(self) -> str:
        """Schema version of every stored encoding."""
        return self._store.schema_version

    @property
    def key_id(self) -> str:
        """Key id of every stored encoding."""
        return self._store.key_id

    def __len__(self) -> int:
        """Number of live (not replaced, not retracted) records."""
        return len(self._row_of)

    def __contains__(self, key: object) -> bool:
        return key in self._row_of

    @property
    def table(self) -> EncodedTable:
        """Every stored row, dead ones included, as a view valid until the next mutation."""
        n, store = self._n, self._store
        view = EncodedTable(store.schema_version, store.key_id, store.agencies, store.record_ids)
        for kind in ("tokens", "multi", "filters", "popcounts"):
            getattr(view, kind).update({k: v[:n] for k, v in getattr(store, kind).items()})
        return view

    def take(self, rows: I64) -> EncodedTable:
        """The stored rows ``rows`` as a table of their own."""
        return take_rows(self.table, rows)

    def row_of(self, key: RecordKey) -> int | None:
        """Row of the live record ``key``."""
        return self._row_of.get(key)

    def key_of(self, row: int) -> RecordKey:
        """``(agency, record_id)`` of a stored row."""
        return self._store.agencies[row], self._store.record_ids[row]

    def subject_of(self, key: RecordKey) -> str | None:
        """Current subject of the live record ``key`` (``None`` if not stored)."""
        row = self._row_of.get(key)
        return None if row is None else self._names[int(self._codes[row])]

    def subject_of_row(self, row: int) -> str:
        """Subject of a stored row."""
        return self._names[int(self._codes[row])]

    def subject_codes(self, rows: I64) -> npt.NDArray[np.int32]:
        """Subject code of each stored row (see :meth:`subject_name`)."""
        out: npt.NDArray[np.int32] = self._codes[rows]
        return out

    def subject_code(self, subject_id: str) -> int:
        """Code of a subject id the index has seen (see :meth:`subject_codes`), else -1."""
        return self._code_of.get(subject_id, -1)

    def subject_name(self, code: int) -> str:
        """Subject id of a subject code."""
        return self._names[code]

    def member_rows(self, subject_id: str) -> list[int]:
        """Live rows of a subject."""
        code = self._code_of.get(subject_id)
        return [] if code is None else list(self._members.get(code, ()))

    def member_count(self, subject_id: str) -> int:
        """Number of live records of a subject."""
        code = self._code_of.get(subject_id)
        return 0 if code is None else len(self._members.get(code, ()))

    def members(self, subject_id: str) -> list[RecordKey]:
        """Live records of a subject."""
        return [self.key_of(row) for row in self.member_rows(subject_id)]

    def subject_ids(self) -> set[str]:
        """Every subject with at least one live record."""
        return {self._names[code] for code in self._members}

    def alive(self, rows: I64) -> npt.NDArray[np.bool_]:
        """Whether each stored row is live."""
        out: npt.NDArray[np.bool_] = self._alive[rows]
        return out

    # --- mutations ------------------------------------------------------------------
    def upsert(self, table: EncodedTable, subject_ids: Sequence[str]) -> None:
        """Add the rows of ``table`` with their subjects; a stored key is replaced."""
        keys = table.keys()
        self._retire([self._row_of[key] for key in keys if key in self._row_of])
        start = self._n
        self._load(table, subject_ids)
        rows, blocking, _ = table_keys(table, self.rules)
        self._add_keys(blocking, rows + start)
        self.generation += 1

    def remove(self, keys: Iterable[RecordKey]) -> int:
        """Retract records; returns how many were stored (unknown keys are ignored)."""
        rows = [self._row_of[key] for key in set(keys) if key in self._row_of]
        self._retire(rows)
        self.generation += 1
        return len(rows)

    def set_subjects(self, mapping: Mapping[RecordKey, str]) -> None:
        """Move live records to other subjects (merges, reviewer decisions)."""
        for key, subject_id in mapping.items():
            row = self._row_of.get(key)
            if row is not None and self._names[self._codes[row]] != subject_id:
                self._leave(row)
                code = self._code(subject_id)
                self._codes[row] = code
                self._members.setdefault(code, []).append(row)
        self.generation += 1

    def apply(self, outcome: IndexUpdate) -> None:
        """Apply a computed linking outcome (see :func:`linkage.match.incremental.link_batch`).

        Raises:
            StaleIndexError: if the index changed since the outcome was computed.
        """
        if outcome.generation != self.generation:
            raise StaleIndexError(
                f"outcome computed at index generation {outcome.generation}, "
                f"index is at {self.generation}; link the batch again"
            )
        self.set_subjects(outcome.subject_changes)
        self.upsert(outcome.table, outcome.subject_ids)

    def _code(self, subject_id: str) -> int:
        code = self._code_of.get(subject_id)
        if code is None:
            code = self._code_of[subject_id] = len(self._names)
            self._names.append(subject_id)
        return code

    def _load(self, table: EncodedTable, subject_ids: Sequence[str]) -> None:
        """Append rows and their bookkeeping (no blocking keys)."""
        keys = table.keys()
        if len(subject_ids) != len(keys):
            raise ValueError("one subject id per row is needed")
        if len(set(keys)) != len(keys):
            raise EncodedDataError("a record appears twice in one batch")
        start, end = self._n, self._n + len(keys)
        self._append_columns(table)
        self._alive[start:end] = True
        self._row_of.update(zip(keys, range(start, end), strict=True))
        codes = [self._code(subject_id) for subject_id in subject_ids]
        self._codes[start:end] = codes
        members = self._members
        for row, code in enumerate(codes, start=start):
            members.setdefault(code, []).append(row)
        self._n = end

    def _append_columns(self, table: EncodedTable) -> None:
        store = self._store
        check_compatible(store, table)
        start, end = self._n, self._n + len(table)
        self._grow(end)
        for kind in ("tokens", "multi", "filters", "popcounts"):
            stored: dict[str, Column] = getattr(store, kind)
            for name, col in getattr(table, kind).items():
                if name not in stored:
                    stored[name] = np.zeros((self._capacity, *col.shape[1:]), dtype=col.dtype)
                stored[name][start:end] = col
        store.agencies.extend(table.agencies)
        store.record_ids.extend(table.record_ids)

    def _grow(self, needed: int) -> None:
        """Reallocate with headroom so that appends rarely copy.

        The first allocation leaves an eighth spare, later ones grow by half:
        at a million records (~1 GB of columns) a copy happens once per 125,000+
        appended records. Spare rows cost no memory until written (``np.zeros``
        maps untouched pages lazily).
        """
        if needed <= self._capacity:
            return
        capacity = max(needed + needed // 8 + 4096, self._capacity * 3 // 2)
        for kind in ("tokens", "multi", "filters", "popcounts"):
            columns: dict[str, Column] = getattr(self._store, kind)
            for name, old in columns.items():
                grown = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
                grown[: self._n] = old[: self._n]
                columns[name] = grown
        for name in ("_alive", "_codes"):
            old = getattr(self, name)
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[: self._n] = old[: self._n]
            setattr(self, name, grown)
        self._capacity = capacity

    def _retire(self, rows: list[int]) -> None:
        for row in rows:
            self._alive[row] = False
            del self._row_of[self.key_of(row)]
            self._leave(row)

    def _leave(self, row: int) -> None:
        code = int(self._codes[row])
        members = self._members[code]
        members.remove(row)
        if not members:
            del self._members[code]

    def _add_keys(self, keys: I64, rows: I64) -> None:
        """Merge new entries into the delta run; fold the delta into main when large."""
        self._delta = self._delta.merged(SortedKeys.build(keys, rows))
        if len(self._delta) > max(_DELTA_MIN, len(self._main) // _DELTA_SHARE):
            alive = self._alive
            self._main = self._main.without(alive).merged(self._delta.without(alive))
            self._delta = SortedKeys(self._delta.keys[:0], self._delta.rows[:0])

    # --- blocking look-up -----------------------------------------------------------
    def candidates(self, table: EncodedTable) -> tuple[I64, I64]:
        """Every (row of ``table``, live stored row) pair sharing a blocking key.

        A stored row with the same ``(agency, record_id)`` as a row of ``table`` is
        that record's previous version and is never returned. Pairs are unique,
        sorted by new row then stored row.
        """
        check_compatible(self._store, table)
        qrow, qkey, qrule = table_keys(table, self.rules)
        runs = (self._main, self._delta)
        bounds = [run.ranges(qkey) for run in runs]
        sizes = sum(hi - lo for lo, hi in bounds)
        limits = self._limits[qrule]
        hot = np.asarray(sizes) + 1 > limits  # +1: the new record joins the block
        new_parts, stored_parts = [], []
        for run, (lo, hi) in zip(runs, bounds, strict=True):
            which, pos = expand_ranges(lo[~hot], hi[~hot])
            new_parts.append(qrow[~hot][which])
            stored_parts.append(run.rows[pos].astype(np.int64))
        refinable = hot & ~self._broad[qrule]
        picks = [
            (run.rows, lo[refinable], hi[refinable])
            for run, (lo, hi) in zip(runs, bounds, strict=True)
        ]
        new_hot, stored_hot = refine_hot_blocks(
            table, self._store, self._alive, picks, qrow[refinable], limits[refinable]
        )
        new = np.concatenate([*new_parts, new_hot])
        stored = np.concatenate([*stored_parts, stored_hot])
        return self._clean_pairs(table, new, stored)

    def _clean_pairs(self, table: EncodedTable, new: I64, stored: I64) -> tuple[I64, I64]:
        """Unique pairs of live stored rows that are not a new row's previous version."""
        keep = self._alive[stored]
        records = table.keys()
        previous = [self._row_of[key] for key in records if key in self._row_of]
        if previous:
            keep &= ~np.isin(stored, previous)
        span = max(self._n, 1)
        codes = np.sort(new[keep] * span + stored[keep])  # NumPy 2's hashing unique is slower
        codes = codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes
        return codes // span, codes % span
