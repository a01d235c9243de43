"""Shapes of plaintext that must never reach a log line, a header we echo, or an audit event.

The hub never holds a plaintext identifier, but callers can still try to slip one
in through a free-text field (a request id, a break-glass reason, an event
detail). :func:`looks_identifying` is the one test for that, used by the audit
log's privacy guard and by the request-id middleware of both services: SSN-,
date- or phone-shaped content (seven or more digits in one run).
"""

from __future__ import annotations

import re

__all__ = ["looks_identifying"]

_SSN = re.compile(r"(?<!\d)\d{3}-?\d{2}-?\d{4}(?!\d)")
_DATE = re.compile(r"(?<!\d)(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})(?!\d)")
_LONG_DIGITS = re.compile(r"\d[\d ().-]{5,}\d")


def looks_identifying(text: str) -> bool:
    """SSN-, date- or phone-shaped content (7+ digits in one run)."""
    if _SSN.search(text) or _DATE.search(text):
        return True
    return any(sum(ch.isdigit() for ch in run) >= 7 for run in _LONG_DIGITS.findall(text))
