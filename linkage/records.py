"""The encoded-record format: one JSON object per line, no plaintext identifier.

A line looks like::

    {"schema_version": "canonical/2", "key_id": "k-3f2a…", "agency": "police",
     "record_id": "CAD-000123",
     "tokens":  {"family_name.exact": "9c1d…", "given_name.canonical": ["41aa…"], …},
     "filters": {"family_name": "<base64 Bloom filter>", …},
     "context": {"safety_flags": {"weapons": "…"}}}

*Tokens* are 64-bit truncated HMAC-SHA256 values in hex; a token list holds
alternatives (nickname canonical forms, compound-surname parts). *Filters* are the
hardened Bloom filters of :mod:`linkage.encode.bloom` in base64. *Context* is the agency's
shareable context grouped by data category; the linkage engine never reads it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson

from linkage.errors import EncodedDataError

__all__ = [
    "CONTEXT_CATEGORIES",
    "EncodedRecord",
    "RecordKey",
    "parse_encoded_line",
]

#: One record's address everywhere in Crosswalk: ``(agency, record_id)``.
RecordKey = tuple[str, str]

#: Data categories that context values are grouped into (DESIGN §3).
CONTEXT_CATEGORIES: tuple[str, ...] = (
    "identity",
    "contact_history",
    "safety_flags",
    "communication_needs",
    "behavioral_health",
    "substance_use",
    "medical",
    "housing",
    "service_connections",
    "criminal_history",
    "follow_up",
)

Token = str | list[str]


@dataclass(slots=True)
class EncodedRecord:
    """One agency record after keyed encoding."""

    schema_version: str
    key_id: str
    agency: str
    record_id: str
    tokens: dict[str, Token] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)  # base64
    context: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Serialise as one JSON line (without the trailing newline)."""
        return orjson.dumps(
            {
                "schema_version": self.schema_version,
                "key_id": self.key_id,
                "agency": self.agency,
                "record_id": self.record_id,
                "tokens": self.tokens,
                "filters": self.filters,
                "context": self.context,
            }
        )


def parse_encoded_line(line: bytes | str, *, where: str = "line") -> EncodedRecord:
    """Parse and structurally validate one encoded line.

    Raises:
        EncodedDataError: naming ``where`` (file and line number) and what is wrong.
    """
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EncodedDataError(f"{where}: not valid JSON") from exc
    if not isinstance(obj, dict):
        raise EncodedDataError(f"{where}: expected a JSON object")
    for key in ("schema_version", "key_id", "agency", "record_id"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise EncodedDataError(f"{where}: missing or empty {key!r}")
    tokens, filters = obj.get("tokens", {}), obj.get("filters", {})
    if not isinstance(tokens, dict) or not all(_is_token(v) for v in tokens.values()):
        raise EncodedDataError(f"{where}: 'tokens' must map names to hex tokens")
    if not isinstance(filters, dict):
        raise EncodedDataError(f"{where}: 'filters' must be an object")
    try:
        for value in filters.values():
            base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:
        raise EncodedDataError(f"{where}: a filter is not valid base64") from exc
    context = obj.get("context", {})
    if not isinstance(context, dict):
        raise EncodedDataError(f"{where}: 'context' must be an object")
    return EncodedRecord(
        obj["schema_version"], obj["key_id"], obj["agency"], obj["record_id"],
        tokens, filters, context,
    )  # fmt: skip


def _is_token(value: Any) -> bool:
    if isinstance(value, str):
        return _is_hex64(value)
    return isinstance(value, list) and all(isinstance(v, str) and _is_hex64(v) for v in value)


def _is_hex64(value: str) -> bool:
    if len(value) != 16:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True
