"""Strict validation of a steward's batch of encoded records before anything is stored.

A batch is NDJSON (``application/x-ndjson``): exactly the lines ``crosswalk encode``
writes (:mod:`linkage.records`). The batch is all or nothing: every bad line is
reported as a :class:`RecordProblem` (line number, record id when it is itself
safe to show, a stable reason code and human text) in one :class:`BatchRejected`,
and nothing of a refused batch is accepted.

**Nothing a steward sends is ever echoed back.** Messages name line numbers, field
names and the hub's own expectations, never a submitted value. A field *name* is
shown only when it looks like a machine name (lowercase ASCII, digits, ``_.-``, at
most 64 characters, no run of three digits, no ``@``); otherwise it is withheld.
A record id is shown only when it passed the record-id rules below.

**Plaintext rules** (reason ``looks_like_plaintext``; what a privacy officer expects
of a hub that must never hold raw identifiers):

* *Tokens* must be exactly 16 lowercase hex digits (64-bit truncated HMACs). Any
  other string or number where a token belongs is refused. A 16-digit decimal
  number is indistinguishable from a token and passes: about 1 token in 1,850 is
  all digits, so refusing them would refuse honest records.
* *Filters* must be canonical base64. A string that is not, or that decodes to a
  length no filter can have (a multiple of 8 bytes between 8 and 2,048), is
  refused as plaintext; a plausible filter of the wrong size for the schema is
  ``malformed_filter``. Under a ``balance`` schema every filter holds exactly
  half of its bits set (the filter joined with its complement), so any other bit
  count means base64-wrapped plaintext or an unhardened filter, both refused: a
  random blob of the right length passes this by chance only about 1 time in 30,
  and ASCII text (high bit always clear) practically never. Without a schema only
  the structural checks apply, so the service should always pass its schema.
* *Top-level fields* other than the seven the encoder writes (``"given_name"``,
  ``"dob"``, ``"ssn"``, …) are refused: the encoder never writes them, so they are
  a leak or a bug, and the safe reading is the alarming one.
* *Record ids* must be opaque agency keys. Refused when they contain ``@``
  (e-mail), an SSN (``123-45-6789``, a run of exactly 9 digits), a US phone
  (``(555) 123-4567``, a run of 10 digits, or 11 beginning with 1), a valid
  calendar date (``1980-01-02``, ``01/02/1980``, an isolated run of 8 digits that
  reads as YYYYMMDD or MMDDYYYY), or two alphabetic words separated by a space or
  comma (``"Smith, John"``). Date-stamped incident numbers are refused too: the
  hub cannot tell an incident date from a birth date, and agencies can issue
  undated ids.
* *Context* values are free text by design (encrypted at rest, released per
  category by policy), so they are not scanned. Context *keys* that name a direct
  identifier are refused by name: an SSN (any spelling) in every category,
  because no responder needs it and linkage already has its encoding; names,
  birth date, address, postcode, phone and e-mail everywhere except ``identity``,
  the category that policy treats as identifying (display name, aliases), so
  they cannot ride under a more widely shared category such as ``housing``. Sex
  and city are left alone: they identify little and have clinical and housing
  uses.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import orjson

from linkage.records import CONTEXT_CATEGORIES, EncodedRecord
from linkage.schema import FIELD_TOKENS, IDENTIFIER_FIELDS, LinkageSchema, default_schema
from linkage.table import MULTI_TOKENS

__all__ = [
    "DEFAULT_LIMITS",
    "REASONS",
    "BatchRejected",
    "RecordProblem",
    "SubmissionLimits",
    "ValidatedBatch",
    "allowed_filter_bytes",
    "allowed_token_names",
    "record_id_plaintext_kind",
    "validate_batch",
]

#: Stable reason codes and their generic human text.
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "batch_too_large": "the batch exceeds the size or record-count limit",
        "empty_batch": "the batch holds no records",
        "record_too_large": "the record exceeds a size limit",
        "invalid_json": "the line is not a JSON object",
        "missing_field": "a required field is missing, empty or not a string",
        "wrong_schema_version": "the record was encoded under another schema version",
        "wrong_key_id": "the record was encoded under another linkage key",
        "wrong_agency": "the record is stamped with another agency",
        "duplicate_record_id": "the record id occurs more than once in the batch",
        "malformed_record_id": "the record id is too long or holds control characters",
        "unknown_token": "the schema produces no token of this name",
        "malformed_token": "the token is not a token or a list of tokens",
        "unknown_filter": "the schema produces no filter of this name",
        "malformed_filter": "the filter has the wrong size or is degenerate",
        "unknown_category": "the context category is not a known data category",
        "malformed_context": "context must map categories to {field: text} within size limits",
        "looks_like_plaintext": "a plaintext identifier was found where only encodings belong",
    }
)

_ENVELOPE = ("schema_version", "key_id", "agency", "record_id")
_TOP_LEVEL = frozenset({*_ENVELOPE, "tokens", "filters", "context"})
_TOKEN = re.compile(r"[0-9a-f]{16}")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_SAFE_NAME = re.compile(r"[a-z][a-z0-9_.\-]{0,63}")
_FILTER_BYTES_RANGE = (8, 2048)  # schema filter_bits in [64, 8192], doubled when balanced


@dataclass(frozen=True, slots=True)
class SubmissionLimits:
    """Size limits of one submission (production defaults).

    An encoded record of the canonical schema is about 2.5 KB before context.
    """

    max_batch_records: int = 5000
    max_body_bytes: int = 32 * 1024 * 1024
    max_line_bytes: int = 64 * 1024
    max_record_id_chars: int = 128
    max_tokens: int = 64
    max_token_alternatives: int = 16
    max_filters: int = 16
    max_context_bytes_per_record: int = 32 * 1024
    max_context_fields_per_category: int = 64
    max_context_key_chars: int = 64
    max_context_value_chars: int = 8192
    max_problems: int = 500

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 1:
                raise ValueError(f"SubmissionLimits.{name} must be positive")


DEFAULT_LIMITS = SubmissionLimits()


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """Why one line of a batch was refused.

    Attributes:
        line: 1-based line number in the body (0 for the batch as a whole).
        record_id: The line's record id when it is safe to show, else ``None``.
        reason: A stable code from :data:`REASONS`.
        field: The field concerned when its name is safe to show.
        message: Human text; never holds a submitted value.
    """

    line: int
    record_id: str | None
    reason: str
    field: str | None = None
    message: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "batch"
        rid = f" (record {self.record_id})" if self.record_id else ""
        return f"{where}{rid}: {self.reason}: {self.message}"


class BatchRejected(Exception):
    """The whole batch is refused; ``problems`` lists every bad line (in order).

    Args:
        problems: The problems found (at most ``SubmissionLimits.max_problems``).
        truncated: Whether more problems were found than are listed.
    """

    def __init__(self, problems: Sequence[RecordProblem], *, truncated: bool = False) -> None:
        self.problems = tuple(problems)
        self.truncated = truncated
        lines = len({p.line for p in self.problems})
        more = " (list truncated)" if truncated else ""
        head = "; ".join(str(p) for p in self.problems[:3])
        super().__init__(
            f"batch refused, nothing accepted: {len(self.problems)} problem(s) "
            f"on {lines} line(s){more}: {head}"
        )

    def reason_counts(self) -> dict[str, int]:
        """How many listed problems carry each reason code (for logs and audit)."""
        return dict(Counter(p.reason for p in self.problems))


@dataclass(frozen=True, slots=True)
class ValidatedBatch:
    """The records of an accepted batch, in line order."""

    records: tuple[EncodedRecord, ...]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def record_ids(self) -> tuple[str, ...]:
        """The record ids, in line order."""
        return tuple(r.record_id for r in self.records)


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


@functools.lru_cache(maxsize=32)
def _expected(schema: LinkageSchema | None) -> _Expected:
    if schema is None:
        names = allowed_filter_bytes(default_schema())
        return _Expected(allowed_token_names(None), dict.fromkeys(names), balanced=False)
    sizes: dict[str, int | None] = dict(allowed_filter_bytes(schema))
    return _Expected(allowed_token_names(schema), sizes, schema.hardening == "balance")


def _safe_name(name: object) -> str | None:
    """``name`` if it can be shown in a message (a machine-style field name)."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        return None
    return None if re.search(r"\d{3}", name) else name


def _shown(name: object) -> str:
    shown = _safe_name(name)
    return repr(shown) if shown else "(name withheld)"


# --- record ids -------------------------------------------------------------------

_SSN = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")
_PHONE = re.compile(r"(?<!\d)\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d)")
_YMD = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_MDY = re.compile(r"(?<!\d)(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|(?<=/)\d{2})(?!\d)")
_NAME_WORDS = re.compile(r"[^\W\d_]{2,}(?:\s*,\s*|\s+)[^\W\d_]{2,}")
_DIGIT_RUN = re.compile(r"\d+")


def _is_date(year: int, month: int, day: int) -> bool:
    if year < 100:
        year += 1900
    if not 1900 <= year <= 2099:
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _has_date(text: str) -> bool:
    for y, m, d in _YMD.findall(text):
        if _is_date(int(y), int(m), int(d)):
            return True
    for a, _, b, y in _MDY.findall(text):
        if _is_date(int(y), int(a), int(b)) or _is_date(int(y), int(b), int(a)):
            return True
    return False


def _digit_run_kind(run: str) -> str | None:
    if len(run) == 9:
        return "an SSN"
    if len(run) == 10 or (len(run) == 11 and run.startswith("1")):
        return "a phone number"
    # Eight digits are a date only with a four-digit year (zero-padded counters
    # such as MRN00000101 must not read as 1900-01-01).
    if len(run) == 8 and (
        (run[0] != "0" and _is_date(int(run[:4]), int(run[4:6]), int(run[6:])))
        or (run[4] != "0" and _is_date(int(run[4:]), int(run[:2]), int(run[2:4])))
    ):
        return "a date"
    return None


def record_id_plaintext_kind(record_id: str) -> str | None:
    """What plaintext identifier ``record_id`` looks like, or ``None`` if it looks opaque.

    Returns:
        A short description safe to show ("an SSN", "a date", ...), never the value.
    """
    if "@" in record_id:
        return "an e-mail address"
    if _SSN.search(record_id):
        return "an SSN"
    if _PHONE.search(record_id):
        return "a phone number"
    if _has_date(record_id):
        return "a date"
    for run in _DIGIT_RUN.findall(record_id):
        kind = _digit_run_kind(run)
        if kind:
            return kind
    if _NAME_WORDS.search(record_id):
        return "a person's name"
    return None


# --- context keys -----------------------------------------------------------------

_SSN_KEYS = frozenset(
    {"ssn", "ssn_last4", "last4_ssn", "social_security", "social_security_number",
     "social_security_no", "soc_sec_no", "ss_number", "ss_no"}
)  # fmt: skip
_IDENTITY_ONLY_KEYS = frozenset(
    {"given_name", "first_name", "firstname", "fname", "forename",
     "middle_name", "middlename", "mname", "middle_initial",
     "family_name", "last_name", "lastname", "surname", "lname",
     "name", "full_name", "fullname", "legal_name",
     "birth_date", "birthdate", "date_of_birth", "dob", "birthday",
     "street_address", "address", "home_address", "residence_address",
     "address_1", "address_2", "address1", "address2",
     "postcode", "postal_code", "zip", "zipcode", "zip_code",
     "phone", "phone_number", "telephone", "mobile", "cell_phone", "home_phone",
     "email", "email_address", "e_mail"}
)  # fmt: skip


def _identifier_key_problem(category: str, key: str) -> str | None:
    """Why a context key names a direct identifier not allowed in ``category``."""
    normal = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
    if normal in _SSN_KEYS:
        return "an SSN is never accepted as context, in any category"
    if normal in _IDENTITY_ONLY_KEYS and category != "identity":
        return "direct identifiers are accepted as context only under 'identity'"
    return None


# --- one line ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rules:
    agency: str
    schema_version: str
    key_id: str
    expected: _Expected
    generic: _Expected
    limits: SubmissionLimits


@dataclass(slots=True)
class _Line:
    """The verdict on one line: its problems, or the record it holds."""

    number: int
    raw_record_id: str | None = None
    record_id: str | None = None  # only when safe to show
    problems: list[RecordProblem] = field(default_factory=list)
    record: EncodedRecord | None = None

    def add(self, reason: str, where: str | None = None, message: str | None = None) -> None:
        text = message or REASONS[reason]
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


def _check_line(number: int, raw: bytes, rules: _Rules) -> _Line:
    line = _Line(number)
    if len(raw) > rules.limits.max_line_bytes:
        line.add("record_too_large", None, f"the line exceeds {rules.limits.max_line_bytes} bytes")
        return line
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict):
        line.add("invalid_json")
        return line
    _check_record_id(line, obj.get("record_id"), rules.limits)
    version_ok = _check_envelope(line, obj, rules)
    expected = rules.expected if version_ok else rules.generic
    _check_tokens(line, obj.get("tokens", {}), expected, rules.limits)
    _check_filters(line, obj.get("filters", {}), expected, rules.limits)
    _check_context(line, obj.get("context", {}), rules.limits)
    if not line.problems:
        line.record = EncodedRecord(
            obj["schema_version"], obj["key_id"], obj["agency"], obj["record_id"],
            obj.get("tokens", {}), obj.get("filters", {}), obj.get("context", {}),
        )  # fmt: skip
    return line


def _check_record_id(line: _Line, record_id: object, limits: SubmissionLimits) -> None:
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


def _check_envelope(line: _Line, obj: dict[str, Any], rules: _Rules) -> bool:
    """Check the envelope fields; return whether the schema version is the expected one."""
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


def _check_tokens(
    line: _Line, tokens: object, expected: _Expected, limits: SubmissionLimits
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
        return name not in MULTI_TOKENS and _TOKEN.fullmatch(value) is not None
    return (
        isinstance(value, list)
        and name in MULTI_TOKENS
        and 1 <= len(value) <= limits.max_token_alternatives
        and all(isinstance(v, str) and _TOKEN.fullmatch(v) for v in value)
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
    kinds = {_token_item_problem(item) for item in items}
    if "looks_like_plaintext" in kinds:
        problems.append(
            ("looks_like_plaintext", "is not 16 lowercase hex digits: plaintext is refused")
        )
    if "malformed_token" in kinds:
        problems.append(("malformed_token", "must be a hex string or a list of them"))
    return problems


def _token_item_problem(item: object) -> str | None:
    if isinstance(item, str) and _TOKEN.fullmatch(item):
        return None
    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
        return "looks_like_plaintext"
    return "malformed_token"


def _check_filters(
    line: _Line, filters: object, expected: _Expected, limits: SubmissionLimits
) -> None:
    if not isinstance(filters, dict):
        line.add("malformed_filter", "filters", "'filters' must be an object")
        return
    if len(filters) > limits.max_filters:
        line.add("record_too_large", "filters", f"more than {limits.max_filters} filters")
        return
    for name, value in filters.items():
        known = name in expected.filter_bytes
        found = _filter_problem(value, expected.filter_bytes.get(name), expected.balanced)
        if known and not found:
            continue
        where = _path("filters", name)
        if not known:
            line.add("unknown_filter", where, f"the schema produces no filter {_shown(name)}")
        if found:
            line.add(found[0], where, f"filter {_shown(name)} {found[1]}")


def _filter_problem(value: object, size: int | None, balanced: bool) -> tuple[str, str] | None:
    """Why ``value`` is not a filter of ``size`` bytes (any plausible size if ``None``)."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return "malformed_filter", "must be a base64 string"
    if not isinstance(value, str) or not value or not _BASE64.fullmatch(value):
        return "looks_like_plaintext", "is not base64: plaintext is refused where a filter belongs"
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:  # pragma: no cover - the pattern admits only valid base64
        return "looks_like_plaintext", "is not base64: plaintext is refused"
    lo, hi = _FILTER_BYTES_RANGE
    if len(raw) % 8 or not lo <= len(raw) <= hi:
        return "looks_like_plaintext", "decodes to a length no filter has: plaintext is refused"
    if size is not None and len(raw) != size:
        return "malformed_filter", f"has the wrong length (the schema's filter has {size} bytes)"
    ones = int.from_bytes(raw, "little").bit_count()
    if balanced and ones * 2 != len(raw) * 8:
        return "looks_like_plaintext", (
            "is not a balanced filter (exactly half of its bits set): "
            "plaintext and unhardened encodings are refused"
        )
    if ones in (0, len(raw) * 8):
        return "malformed_filter", "has no bit set or every bit set"
    return None


# --- context ----------------------------------------------------------------------


def _check_context(line: _Line, context: object, limits: SubmissionLimits) -> None:
    if not isinstance(context, dict):
        line.add("malformed_context", "context", "'context' must be an object of categories")
        return
    size = 0
    for category, fields in context.items():
        where = _path("context", category)
        if category not in CONTEXT_CATEGORIES:
            line.add("unknown_category", where, f"{_shown(category)} is not a data category")
        if not isinstance(fields, dict):
            line.add("malformed_context", where, "a category must map field names to text")
            continue
        size += len(category) + _check_context_fields(line, category, fields, limits)
    if size > limits.max_context_bytes_per_record:
        line.add(
            "record_too_large",
            "context",
            f"the context exceeds {limits.max_context_bytes_per_record} bytes",
        )


def _check_context_fields(
    line: _Line, category: str, fields: dict[str, Any], limits: SubmissionLimits
) -> int:
    """Check one category's fields; return their size in bytes."""
    if len(fields) > limits.max_context_fields_per_category:
        n = limits.max_context_fields_per_category
        line.add("malformed_context", _path("context", category), f"more than {n} fields")
    size = 0
    for key, value in fields.items():
        where = _path("context", category, key)
        if not 1 <= len(key) <= limits.max_context_key_chars:
            n = limits.max_context_key_chars
            line.add("malformed_context", where, f"field names must be 1 to {n} characters")
        why = _identifier_key_problem(category, key)
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


# --- the batch --------------------------------------------------------------------


def _reject(reason: str, message: str) -> BatchRejected:
    return BatchRejected([RecordProblem(0, None, reason, None, message)])


def _split_lines(body: bytes, limits: SubmissionLimits) -> list[tuple[int, bytes]]:
    if len(body) > limits.max_body_bytes:
        raise _reject("batch_too_large", f"the body exceeds {limits.max_body_bytes} bytes")
    body = body.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark some tools write
    lines = [(n, raw) for n, raw in enumerate(body.split(b"\n"), start=1) if raw.strip()]
    if not lines:
        raise _reject("empty_batch", REASONS["empty_batch"])
    if len(lines) > limits.max_batch_records:
        raise _reject("batch_too_large", f"more than {limits.max_batch_records} records")
    return lines


def validate_batch(
    body: bytes,
    *,
    agency: str,
    schema_version: str,
    key_id: str,
    schema: LinkageSchema | None = None,
    limits: SubmissionLimits = DEFAULT_LIMITS,
) -> ValidatedBatch:
    """Validate a steward's NDJSON batch of encoded records, all or nothing.

    Args:
        body: The request body: one encoded record per line (blank lines ignored).
        agency: The submitting steward's agency; every record must carry it.
        schema_version: The schema version the hub links (``name/version``).
        key_id: The key id of the program's current linkage secret.
        schema: The hub's schema; enables the exact token, filter-size and
            filter-balance checks (``None``: only checks valid for any schema).
        limits: Size limits.

    Returns:
        The parsed records, in line order.

    Raises:
        BatchRejected: listing every problem found; nothing of the batch is accepted.
        ValueError: if ``schema`` is not of version ``schema_version``.
    """
    if schema is not None and schema.schema_version != schema_version:
        raise ValueError("the schema passed is not of the expected schema version")
    rules = _Rules(agency, schema_version, key_id, _expected(schema), _expected(None), limits)
    records: list[EncodedRecord] = []
    problems: list[RecordProblem] = []
    first_line: dict[str, int] = {}
    for number, raw in _split_lines(body, limits):
        line = _check_line(number, raw, rules)
        _check_duplicate(line, first_line)
        problems.extend(line.problems)
        if line.record is not None:
            records.append(line.record)
    if problems:
        cap = limits.max_problems
        raise BatchRejected(problems[:cap], truncated=len(problems) > cap)
    return ValidatedBatch(tuple(records))


def _check_duplicate(line: _Line, first_line: dict[str, int]) -> None:
    rid = line.raw_record_id
    if rid is None:
        return
    if rid in first_line:
        first = first_line[rid]
        line.add("duplicate_record_id", "record_id", f"the record id also occurs on line {first}")
    else:
        first_line[rid] = line.number
