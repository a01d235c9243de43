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

Values that look like plaintext identifiers (reason ``looks_like_plaintext``:
tokens that are not tokens, filters that are base64-wrapped text, unexpected
top-level fields, record ids that read as an SSN, phone, date, e-mail or name,
context keys naming a direct identifier) are refused by the rules of
:mod:`linkage.admission.plaintext_rules`, which explains each of them.

Well-formed lines, the bulk of every honest batch, take a fast path that only
*accepts* (a whole ``tokens`` or ``filters`` object at once, with no message
built); anything it does not accept goes through the explaining checks, so the
problems reported are exactly those of the slow path.
"""

from __future__ import annotations

from linkage.admission.outcome import (
    DEFAULT_LIMITS,
    REASONS,
    BatchRejected,
    RecordProblem,
    SubmissionLimits,
    ValidatedBatch,
)
from linkage.admission.plaintext_rules import (
    accepted_filters,
    record_id_plaintext_kind,
)
from linkage.admission.record_checks import (
    LineRules,
    LineVerdict,
    allowed_filter_bytes,
    allowed_token_names,
    check_line,
    expected_encodings,
    parse_line,
)
from linkage.records import EncodedRecord
from linkage.schema import LinkageSchema

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
    rules = LineRules(
        agency, schema_version, key_id, expected_encodings(schema), expected_encodings(None), limits
    )
    records: list[EncodedRecord] = []
    problems: list[RecordProblem] = []
    first_line: dict[str, int] = {}
    lines = _split_lines(body, limits)
    parsed = [parse_line(raw, limits) for _number, raw in lines]
    filters = [obj.get("filters", {}) if type(obj) is dict else None for obj in parsed]
    accepted = accepted_filters(
        filters,
        rules.expected.fast_filters,
        balanced=rules.expected.balanced,
        max_filters=limits.max_filters,
    )
    for (number, _raw), obj, filters_ok in zip(lines, parsed, accepted, strict=True):
        line = check_line(number, obj, filters_ok, rules)
        _check_duplicate(line, first_line)
        problems.extend(line.problems)
        if line.record is not None:
            records.append(line.record)
    if problems:
        cap = limits.max_problems
        raise BatchRejected(problems[:cap], truncated=len(problems) > cap)
    return ValidatedBatch(tuple(records))


def _check_duplicate(line: LineVerdict, first_line: dict[str, int]) -> None:
    rid = line.raw_record_id
    if rid is None:
        return
    if rid in first_line:
        first = first_line[rid]
        line.add("duplicate_record_id", "record_id", f"the record id also occurs on line {first}")
    else:
        first_line[rid] = line.number
