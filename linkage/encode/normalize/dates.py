"""Parsing of birth dates with plausibility checks.

Accepted shapes are the ones agencies export: ISO ``YYYY-MM-DD`` (also with
``/`` or ``.``), US ``MM/DD/YYYY`` and ``M/D/YYYY`` (also with ``-``), and
compact ``YYYYMMDD`` — including the float text ``"19560412.0"`` that the FEBRL
files turn into after a round trip through a data frame. A trailing time of day
(``1956-04-12 00:00:00``, as spreadsheet and database exports write) is ignored.
Two-digit years are ambiguous and day-first European dates cannot be told from
US ones, so both are refused rather than guessed. Impossible dates (Feb 30),
years before 1900 and dates after ``today`` are refused too, and so are the
placeholders systems write for "unknown" (1 January 1900 and 1901): compared
as real dates they would link strangers.
"""

from __future__ import annotations

import datetime
import functools
import re

__all__ = ["normalize_birth_date"]

_MIN_YEAR = 1900
_PLACEHOLDERS = frozenset({datetime.date(1900, 1, 1), datetime.date(1901, 1, 1)})
# Longer text is no date; the cap also bounds the regex work on hostile input.
_MAX_LENGTH = 40
_TIME_OF_DAY = re.compile(r"[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?\s*\Z", re.ASCII)
_BLANKS = re.compile(r"\s+")
_ISO = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", re.ASCII)
_US = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})", re.ASCII)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\.0+)?", re.ASCII)


def normalize_birth_date(raw: str, *, today: datetime.date | None = None) -> datetime.date | None:
    """Parse a birth date and check that it is plausible.

    Args:
        raw: The raw date text, e.g. ``"4/12/1956"`` or ``"19560412"``.
        today: The latest acceptable date; defaults to ``datetime.date.today()``.

    Returns:
        The date, or None when the text is not a complete, plausible date.
    """
    parsed = _parse(raw)
    if parsed is None:
        return None
    latest = datetime.date.today() if today is None else today
    return parsed if parsed <= latest else None


@functools.lru_cache(maxsize=1 << 16)
def _parse(raw: str) -> datetime.date | None:
    """Parse the accepted shapes into a real date from 1900 on (no upper bound)."""
    if len(raw) > _MAX_LENGTH:
        return None
    text = _BLANKS.sub("", _TIME_OF_DAY.sub("", raw.strip()))
    if match := _ISO.fullmatch(text):
        year, month, day = match.group(1, 3, 4)
    elif match := _US.fullmatch(text):
        month, day, year = match.group(1, 3, 4)
    elif match := _COMPACT.fullmatch(text):
        year, month, day = match.group(1, 2, 3)
    else:
        return None
    try:
        parsed = datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None
    return parsed if parsed.year >= _MIN_YEAR and parsed not in _PLACEHOLDERS else None
