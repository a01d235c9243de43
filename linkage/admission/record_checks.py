"""The checks of one line of a batch: envelope, record id, tokens, filters, context.

:func:`check_line` returns a :class:`LineVerdict`: the line's problems, or the
:class:`~linkage.records.EncodedRecord` it holds. :class:`LineRules` carries what
the hub expects of every line of one batch. Field names are shown in messages
only when they look like machine names; values never are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from linkage.admission.outcome import REASONS, RecordProblem, SubmissionLimits
from linkage.admission.plaintext_rules import (
    TOKEN,
    filter_base64_chars,
    filter_problem,
    identifier_key_problem,
    record_id_plaintext_kind,
    token_item_problem,
)
from linkage.records import CONTEXT_CATEGORIES, EncodedRecord
from linkage.schema import FIELD_TOKENS, IDENTIFIER_FIELDS, LinkageSchema, default_schema
from linkage.table import MULTI_TOKENS

__all__ = [
    "LineRules",
    "LineVerdict",
    "allowed_filter_bytes",
    "allowed_token_names",
    "check_line",
    "expected_encodings",
    "parse_line",
]


_ENVELOPE = ("schema_version", "key_id", "agency", "record_id")
_TOP_LEVEL = frozenset({*_ENVELOPE, "tokens", "filters", "context"})
_SAFE_NAME = re.compile(r"[a-z][a-z0-9_.\-]{0,63}")
_HEX = re.compile(r"[0-9a-f]*")


def _token_name(field_name: str, token: str) -> str:
    # Mirrors RecordEncoder._token_key: suffixes share one name across name fields.
    return "name.suffix" if token == "suffix" else f"{field_name}.{token}"  # noqa: S105


def allowed_token_names(schema: LinkageSchema | None) -> frozenset[str]:
    """Token names the encoder can produce under ``schema`` (any schema if ``None``)."""
    if schema is None:
        pairs = [(f, t) for f in IDENTIFIER_FIELDS for t in FIELD_TOKENS[f]]
    else:
        pairs = [(spec.name, t) for spec in schema.fields for t in spec.tokens]
    return frozenset(_token_name(f, t) for f, t in pairs)


def allowed_filter_bytes(schema: LinkageSchema) -> dict[str, int]:
    """Filter names of ``schema`` and the byte length of each encoded filter."""
    factor = 2 if schema.hardening == "balance" else 1
    return {
        spec.name: spec.filter_bits * factor // 8 for spec in schema.fields if spec.grams != "none"
    }


@dataclass(frozen=True, slots=True)
class _Expected:
    """What the encodings of one schema look like (``None`` sizes: any plausible size)."""

    token_names: frozenset[str]
    filter_bytes: Mapping[str, int | None]
    balanced: bool
    #: Filters of a known, possible size: name -> (bytes, base64 characters).
    fast_filters: Mapping[str, tuple[int, int]] = field(default_factory=dict)


@functools.lru_cache(maxsize=32)
def expected_encodings(schema: LinkageSchema | None) -> _Expected:
    if schema is None:
        names = allowed_filter_bytes(default_schema())
        return _Expected(allowed_token_names(None), dict.fromkeys(names), balanced=False)
    sizes = allowed_filter_bytes(schema)
    fast = {
        name: (size, chars)
        for name, size in sizes.items()
        if (chars := filter_base64_chars(size)) is not None
    }
    return _Expected(allowed_token_names(schema), dict(sizes), schema.hardening == "balance", fast)


def _safe_name(name: object) -> str | None:
    """``name`` if it can be shown in a message (a machine-style field name)."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        return None
    return None if re.search(r"\d{3}", name) else name


def _shown(name: object) -> str:
    shown = _safe_name(name)
    return repr(shown) if shown else "(name withheld)"


# --- one line ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineRules:
    agency: str
    schema_version: str
    key_id: str
    expected: _Expected
    generic: _Expected
    limits: SubmissionLimits
    #: Per batch (never kept beyond it): context key -> why it names an identifier.
    key_problems: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @property
    def envelope(self) -> tuple[str, str, str] | None:
        """The expected envelope, when every part is non-empty (else no fast path)."""
        parts = (self.schema_version, self.key_id, self.agency)
        return parts if all(parts) else None


@dataclass(slots=True)
class LineVerdict:
    """The verdict on one line: its problems, or the record it holds."""

    number: int
    raw_record_id: str | None = None
    record_id: str | None = None  # only when safe to show
    problems: list[RecordProblem] = field(default_factory=list)
    record: EncodedRecord | None = None

    def add(
        self, reason: str, where: str | tuple[object, ...] | None = None, message: str = ""
    ) -> None:
        """Record a problem; ``where`` is a field name or the parts of a field path
        (made safe to show only here, so that well-formed lines never pay for it)."""
        text = message or REASONS[reason]
        if isinstance(where, tuple):
            where = _path(*where)
        shown = where or None  # "" when no part of the path is safe to show
        self.problems.append(RecordProblem(self.number, self.record_id, reason, shown, text))


def _path(*parts: object) -> str:
    """A dotted field path of the parts that are safe to show (stops at the first not)."""
    shown: list[str] = []
    for part in parts:
        safe = _safe_name(part)
        if safe is None:
            break
        shown.append(safe)
    return ".".join(shown)


_TOO_LARGE = object()  # a line over the size limit, never parsed


def parse_line(raw: bytes, limits: SubmissionLimits) -> object:
    """The line's JSON value (``None`` if it is not JSON, ``_TOO_LARGE`` if too long)."""
    if len(raw) > limits.max_line_bytes:
        return _TOO_LARGE
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def check_line(number: int, obj: object, filters_accepted: bool, rules: LineRules) -> LineVerdict:
    """Check one parsed line (``filters_accepted``: its filters passed the batch check)."""
    line = LineVerdict(number)
    if obj is _TOO_LARGE:
        line.add("record_too_large", None, f"the line exceeds {rules.limits.max_line_bytes} bytes")
        return line
    if not isinstance(obj, dict):
        line.add("invalid_json")
        return line
    _check_record_id(line, obj.get("record_id"), rules.limits)
    version_ok = _check_envelope(line, obj, rules)
    expected = rules.expected if version_ok else rules.generic
    tokens, filters = obj.get("tokens", {}), obj.get("filters", {})
    if not _well_formed_tokens(tokens, expected, rules.limits):
        _check_tokens(line, tokens, expected, rules.limits)
    if not (version_ok and filters_accepted):
        _check_filters(line, filters, expected, rules.limits)
    _check_context(line, obj.get("context", {}), rules)
    if not line.problems:
        line.record = EncodedRecord(
            obj["schema_version"], obj["key_id"], obj["agency"], obj["record_id"],
            tokens, filters, obj.get("context", {}),
        )  # fmt: skip
    return line


def _check_record_id(line: LineVerdict, record_id: object, limits: SubmissionLimits) -> None:
    if not isinstance(record_id, str) or not record_id:
        line.add("missing_field", "record_id", "'record_id' is missing, empty or not a string")
        return
    line.raw_record_id = record_id
    if len(record_id) > limits.max_record_id_chars or not record_id.isprintable():
        line.add(
            "malformed_record_id",
            "record_id",
            f"record ids must be at most {limits.max_record_id_chars} printable characters",
        )
        return
    kind = record_id_plaintext_kind(record_id)
    if kind:
        line.add(
            "looks_like_plaintext",
            "record_id",
            f"the record id looks like {kind}; record ids must be opaque agency keys",
        )
        return
    line.record_id = record_id


def _check_envelope(line: LineVerdict, obj: dict[str, Any], rules: LineRules) -> bool:
    """Check the envelope fields; return whether the schema version is the expected one."""
    declared = (obj.get("schema_version"), obj.get("key_id"), obj.get("agency"))
    if declared == rules.envelope and _TOP_LEVEL.issuperset(obj):
        return True  # the common case: all three as expected (and non-empty)
    for key in _ENVELOPE[:3]:
        if not isinstance(obj.get(key), str) or not obj[key]:
            line.add("missing_field", key, f"{key!r} is missing, empty or not a string")
    for key in obj.keys() - _TOP_LEVEL:
        line.add(
            "looks_like_plaintext",
            _path(key),
            f"unexpected top-level field {_shown(key)}: only encodings are accepted",
        )
    expected = {
        "schema_version": rules.schema_version,
        "key_id": rules.key_id,
        "agency": rules.agency,
    }
    for key, want in expected.items():
        if isinstance(obj.get(key), str) and obj[key] and obj[key] != want:
            line.add(f"wrong_{key}", key, f"{REASONS[f'wrong_{key}']} (expected {want!r})")
    return obj.get("schema_version") == rules.schema_version


# --- tokens and filters -----------------------------------------------------------


def _well_formed_tokens(tokens: object, expected: _Expected, limits: SubmissionLimits) -> bool:
    """Fast acceptance of a whole ``tokens`` object: ``True`` only when
    :func:`_check_tokens` would find nothing (``False`` just means "look closer")."""
    if type(tokens) is not dict or len(tokens) > limits.max_tokens:
        return False
    if not expected.token_names.issuperset(tokens):
        return False
    values = [value for name, value in tokens.items() if name not in MULTI_TOKENS]
    for name in MULTI_TOKENS.intersection(tokens):
        alternatives = tokens[name]
        if type(alternatives) is not list:
            return False
        if not 1 <= len(alternatives) <= limits.max_token_alternatives:
            return False
        values += alternatives
    try:
        joined = "".join(values)  # a TypeError for anything but text
    except TypeError:
        return False
    return set(map(len, values)) <= {16} and _HEX.fullmatch(joined) is not None


def _check_tokens(
    line: LineVerdict, tokens: object, expected: _Expected, limits: SubmissionLimits
) -> None:
    if not isinstance(tokens, dict):
        line.add("malformed_token", "tokens", "'tokens' must be an object")
        return
    if len(tokens) > limits.max_tokens:
        line.add("record_too_large", "tokens", f"more than {limits.max_tokens} tokens")
        return
    for name, value in tokens.items():
        if name in expected.token_names and _plain_token_ok(name, value, limits):
            continue  # the common case: no message to build
        where = _path("tokens", name)
        if name not in expected.token_names:
            line.add("unknown_token", where, f"the schema produces no token {_shown(name)}")
        for reason, why in _token_problems(name, value, limits):
            line.add(reason, where, f"token {_shown(name)} {why}")


def _plain_token_ok(name: str, value: object, limits: SubmissionLimits) -> bool:
    """Fast acceptance of a well-formed token (the slow path explains refusals)."""
    if isinstance(value, str):
        return name not in MULTI_TOKENS and TOKEN.fullmatch(value) is not None
    return (
        isinstance(value, list)
        and name in MULTI_TOKENS
        and 1 <= len(value) <= limits.max_token_alternatives
        and all(isinstance(v, str) and TOKEN.fullmatch(v) for v in value)
    )


def _token_problems(name: str, value: object, limits: SubmissionLimits) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list):
        if name not in MULTI_TOKENS:
            problems.append(("malformed_token", "must be a single token, not a list"))
        if not 1 <= len(value) <= limits.max_token_alternatives:
            n = limits.max_token_alternatives
            problems.append(("malformed_token", f"must list 1 to {n} alternatives"))
    elif name in MULTI_TOKENS:
        problems.append(("malformed_token", "must be a list of alternative tokens"))
    kinds = {token_item_problem(item) for item in items}
    if "looks_like_plaintext" in kinds:
        problems.append(
            ("looks_like_plaintext", "is not 16 lowercase hex digits: plaintext is refused")
        )
    if "malformed_token" in kinds:
        problems.append(("malformed_token", "must be a hex string or a list of them"))
    return problems


def _check_filters(
    line: LineVerdict, filters: object, expected: _Expected, limits: SubmissionLimits
) -> None:
    if not isinstance(filters, dict):
        line.add("malformed_filter", "filters", "'filters' must be an object")
        return
    if len(filters) > limits.max_filters:
        line.add("record_too_large", "filters", f"more than {limits.max_filters} filters")
        return
    for name, value in filters.items():
        known = name in expected.filter_bytes
        found = filter_problem(value, expected.filter_bytes.get(name), expected.balanced)
        if known and not found:
            continue
        where = _path("filters", name)
        if not known:
            line.add("unknown_filter", where, f"the schema produces no filter {_shown(name)}")
        if found:
            line.add(found[0], where, f"filter {_shown(name)} {found[1]}")


# --- context ----------------------------------------------------------------------


def _check_context(line: LineVerdict, context: object, rules: LineRules) -> None:
    limits = rules.limits
    if not isinstance(context, dict):
        line.add("malformed_context", "context", "'context' must be an object of categories")
        return
    size = 0
    for category, fields in context.items():
        where = ("context", category)
        if category not in CONTEXT_CATEGORIES:
            line.add("unknown_category", where, f"{_shown(category)} is not a data category")
        if not isinstance(fields, dict):
            line.add("malformed_context", where, "a category must map field names to text")
            continue
        size += len(category) + _check_context_fields(line, category, fields, rules)
    if size > limits.max_context_bytes_per_record:
        line.add(
            "record_too_large",
            "context",
            f"the context exceeds {limits.max_context_bytes_per_record} bytes",
        )


def _check_context_fields(
    line: LineVerdict, category: str, fields: dict[str, Any], rules: LineRules
) -> int:
    """Check one category's fields; return their size in bytes."""
    limits, memo = rules.limits, rules.key_problems
    if len(fields) > limits.max_context_fields_per_category:
        n = limits.max_context_fields_per_category
        line.add("malformed_context", ("context", category), f"more than {n} fields")
    size = 0
    for key, value in fields.items():
        where = ("context", category, key)
        if not 1 <= len(key) <= limits.max_context_key_chars:
            n = limits.max_context_key_chars
            line.add("malformed_context", where, f"field names must be 1 to {n} characters")
        if (category, key) not in memo:
            memo[(category, key)] = identifier_key_problem(category, key)
        why = memo[(category, key)]
        if why:
            line.add("looks_like_plaintext", where, f"context field {_shown(key)}: {why}")
        if not isinstance(value, str):
            line.add("malformed_context", where, "context values must be text")
            continue
        if len(value) > limits.max_context_value_chars:
            n = limits.max_context_value_chars
            line.add("malformed_context", where, f"a context value exceeds {n} characters")
        size += len(key.encode()) + len(value.encode())
    return size
