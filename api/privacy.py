"""Shapes of plaintext that must never reach a log line, a header we echo, or an audit event.

The hub never holds a plaintext identifier, but callers can still try to slip one
in through a free-text field (a request id, a break-glass reason, an event
detail). :func:`looks_identifying` is the one test for that, used by the audit
log's privacy guard and by the request-id middleware of both services: SSN-,
date- or phone-shaped content (seven or more digits in one run).
:func:`looks_like_name_or_address` is the test for free text that people write
(a break-glass reason, a review note): a run of two or more capitalised words,
as a person's name is written, or a street address (a number, then up to three
words and a street suffix). It errs towards refusing: "Emergency Room" is
refused too, and the caller is told to write without names or addresses.
"""

from __future__ import annotations

import re

__all__ = ["looks_identifying", "looks_like_name_or_address"]

_SSN = re.compile(r"(?<!\d)\d{3}-?\d{2}-?\d{4}(?!\d)")
_DATE = re.compile(r"(?<!\d)(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})(?!\d)")
_LONG_DIGITS = re.compile(r"\d[\d ().-]{5,}\d")
#: Two or more capitalised words in a row ("John Smith", "Mary-Ann O'Neil", "J. Smith").
_WORD = r"[a-z'\u2019-]+"  # letters, apostrophes (straight and curly), hyphens
_NAME = re.compile(rf"\b[A-Z](?:{_WORD}|\.)\s+(?:[A-Z](?:{_WORD}|\.)\s+)*[A-Z]{_WORD}\b")
_STREET = re.compile(
    r"\b\d+[A-Za-z]?\s+(?:[A-Za-z.'-]+\s+){0,3}"
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
    r"|terrace|ter|circle|cir|highway|hwy|parkway|pkwy|square|sq|alley|row)\b\.?",
    re.IGNORECASE,
)


def looks_identifying(text: str) -> bool:
    """SSN-, date- or phone-shaped content (7+ digits in one run)."""
    if _SSN.search(text) or _DATE.search(text):
        return True
    return any(sum(ch.isdigit() for ch in run) >= 7 for run in _LONG_DIGITS.findall(text))


def looks_like_name_or_address(text: str) -> bool:
    """Two or more capitalised words in a row (a name), or a street address."""
    return bool(_NAME.search(text) or _STREET.search(text))
