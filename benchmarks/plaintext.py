"""Plaintext inputs for the baselines: raw canonical CSVs or Crosswalk-normalised ones.

The synthetic agency files are messy on purpose (``09/23/1979`` next to
``1979-09-23``, ``UNKNOWN`` for a missing name, upper case). Crosswalk normalises
every value before hashing it; a plaintext linker given the raw strings would be
handicapped by formats rather than by the lack of encryption. So by default the
baselines see the *same normalisation* in plaintext (:func:`normalized_row`): names
as lower-case ASCII, birth dates as ``YYYYMMDD``, placeholders as missing. The gap
between the baselines and the hashed pipeline is then the cost of hashing alone.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from pathlib import Path

from linkage.encode import normalize as norm
from linkage.schema import CANONICAL_COLUMNS

__all__ = ["normalize_csv", "normalized_row"]


def _name(fn: Callable[[str], norm.NormalizedName | None]) -> Callable[[str], str | None]:
    def text(raw: str) -> str | None:
        name = fn(raw)
        return None if name is None else name.text

    return text


def _date(raw: str) -> str | None:
    day = norm.normalize_birth_date(raw)
    return None if day is None else f"{day.year:04d}{day.month:02d}{day.day:02d}"


_NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    "given_name": _name(norm.normalize_given_name),
    "middle_name": _name(norm.normalize_middle_name),
    "family_name": _name(norm.normalize_family_name),
    "birth_date": _date,
    "sex": norm.normalize_sex,
    "street_address": norm.normalize_street_address,
    "city": norm.normalize_city,
    "postcode": norm.normalize_postcode,
    "phone": norm.normalize_phone,
    "ssn": norm.normalize_ssn,
}


def normalized_row(row: Mapping[str, str]) -> dict[str, str]:
    """The canonical columns of ``row``, each normalised as Crosswalk would before hashing.

    Args:
        row: A raw row with (at least) the canonical columns; absent ones count as empty.

    Returns:
        ``record_id`` unchanged and every identifier normalised, ``""`` when missing
        or unparseable.
    """
    out = {"record_id": row["record_id"].strip()}
    for column, normalize in _NORMALIZERS.items():
        raw = row.get(column) or ""
        out[column] = (normalize(raw) or "") if raw.strip() else ""
    return out


def normalize_csv(source: Path, target: Path) -> int:
    """Write the canonical columns of ``source``, normalised, to ``target``.

    Args:
        source: A CSV with a header that includes the canonical columns.
        target: Destination CSV with exactly the canonical columns.

    Returns:
        The number of rows written.
    """
    count = 0
    with (
        source.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        writer = csv.DictWriter(dst, fieldnames=CANONICAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in csv.DictReader(src):
            writer.writerow(normalized_row(row))
            count += 1
    return count
