"""Validation of submitted batches: real encoder lines pass, anything else is refused."""

from __future__ import annotations

import base64
import csv
import datetime
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.admission import BatchRejected, SubmissionLimits, validate_batch
from linkage.admission.validation import (
    REASONS,
    RecordProblem,
    ValidatedBatch,
    allowed_filter_bytes,
    allowed_token_names,
    record_id_plaintext_kind,
)
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.records import parse_encoded_line
from linkage.schema import default_schema, parse_schema

# The same secret as the ``secret`` fixture: hypothesis tests cannot take fixtures.
SECRET = LinkageSecret(bytes(range(32)))
AGENCY = "police"
VERSION = "canonical/2"
RICH_ROW = {
    "given_name": "Bill",
    "middle_name": "James",
    "family_name": "Garcia-Lopez",
    "birth_date": "1980-01-02",
    "sex": "M",
    "street_address": "12 Main St",
    "city": "Springfield",
    "postcode": "12345",
    "phone": "555-123-4567",
    "ssn": "536-22-1234",
}
Record = dict[str, Any]


@functools.cache
def _encoder() -> RecordEncoder:
    return RecordEncoder(default_schema(), SECRET, AGENCY)


def encoded(record_id: str, row: dict[str, str], context: dict[str, Any] | None = None) -> Record:
    """One record exactly as ``crosswalk encode`` writes it (the bulk line path)."""
    line = _encoder().encode_line(record_id, row, orjson.dumps(context or {}), Counter())
    parsed: Record = orjson.loads(line)
    return parsed


def base_records() -> list[Record]:
    """Three good records; tests spoil the second."""
    return [
        encoded("CAD-0000001", RICH_ROW, {"safety_flags": {"weapons": "knife"}}),
        encoded("CAD-0000002", {**RICH_ROW, "given_name": "William Jr"}),
        encoded("CAD-0000003", {"family_name": "Nguyen", "birth_date": "03/04/1975"}),
    ]


def body_of(records: Sequence[Record | bytes]) -> bytes:
    return b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records)


def validate(body: bytes, **overrides: Any) -> ValidatedBatch:
    kwargs: dict[str, Any] = {
        "agency": AGENCY,
        "schema_version": VERSION,
        "key_id": SECRET.key_id,
        "schema": default_schema(),
    }
    kwargs.update(overrides)
    return validate_batch(body, **kwargs)


def problems_of(body: bytes, **overrides: Any) -> tuple[RecordProblem, ...]:
    with pytest.raises(BatchRejected) as info:
        validate(body, **overrides)
    problems = info.value.problems
    assert problems
    assert all(p.reason in REASONS for p in problems)
    return problems


def _filter_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _balanced_filter(n_bytes: int) -> bytes:
    return b"\x0f" * n_bytes  # exactly half of the bits set


# --- accepted input -----------------------------------------------------------------


def test_every_line_the_encoder_writes_for_a_fixture_file_is_accepted(
    fixtures_dir: Path, secret: LinkageSecret
) -> None:
    encoder = RecordEncoder(default_schema(), secret, AGENCY)
    lines = []
    with (fixtures_dir / "synthetic/small/police_cad.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            context = {"safety_flags": {"weapons": row["weapons"]}} if row["weapons"] else {}
            lines.append(
                encoder.encode_line(row["record_id"], row, orjson.dumps(context), Counter())
            )
    batch = validate(b"\n".join(lines) + b"\n")
    assert len(batch) == len(lines) > 100
    assert batch.records == tuple(parse_encoded_line(line) for line in lines)


def test_allowed_token_names_are_exactly_those_the_encoder_produces() -> None:
    produced: set[str] = set()
    for record in base_records():
        produced |= set(record["tokens"])
    assert produced == allowed_token_names(default_schema())


def test_allowed_filters_are_exactly_those_the_encoder_produces() -> None:
    record = base_records()[0]
    sizes = {name: len(base64.b64decode(v)) for name, v in record["filters"].items()}
    assert sizes == allowed_filter_bytes(default_schema())


def test_blank_lines_and_crlf_are_tolerated_and_lines_keep_their_numbers() -> None:
    good = body_of(base_records()).replace(b"\n", b"\r\n")
    problems = problems_of(b"\n" + good + b"\n  \nnot json\n")
    assert [(p.line, p.reason) for p in problems] == [(7, "invalid_json")]


@pytest.mark.parametrize(
    ("category", "key"),
    [
        ("identity", "display_name"),
        ("identity", "date_of_birth"),
        ("identity", "phone"),
        ("medical", "sex"),
        ("housing", "city"),
        ("behavioral_health", "clinician_phone"),
    ],
    ids=["display-name", "dob-in-identity", "phone-in-identity", "sex", "city", "clinician"],
)
def test_context_keys_allowed_by_the_identifier_rule(category: str, key: str) -> None:
    record = encoded("CAD-0000009", RICH_ROW, {category: {key: "free text"}})
    assert validate(body_of([record])).records[0].context == {category: {key: "free text"}}


# --- refused input, one case per rule ------------------------------------------------

Mutation = Callable[[Record], Record | bytes]


def spoil_second(mutate: Mutation) -> bytes:
    """The body of the three base records with the second one spoiled."""
    first, second, third = base_records()
    return body_of([first, mutate(second), third])


def _set(path: str, value: Any) -> Mutation:
    def mutate(record: Record) -> Record:
        *parents, last = path.split("/")
        target = record
        for part in parents:
            target = target[part]
        target[last] = value
        return record

    return mutate


def _delete(key: str) -> Mutation:
    return lambda record: {k: v for k, v in record.items() if k != key}


def _raw(line: bytes) -> Mutation:
    return lambda _record: line


PLAIN = "looks_like_plaintext"
b64 = _filter_b64
_BALANCED_64 = b64(_balanced_filter(64))
CASES: list[tuple[str, Mutation, str, str | None]] = [
    ("not-json", _raw(b"{not json"), "invalid_json", None),
    ("not-an-object", _raw(b"[1, 2]"), "invalid_json", None),
    ("wrong-version", _set("schema_version", "febrl/1"), "wrong_schema_version", None),
    ("wrong-key", _set("key_id", "k-0000000000000000"), "wrong_key_id", "key_id"),
    ("wrong-agency", _set("agency", "county_bh"), "wrong_agency", "agency"),
    ("no-key-id", _delete("key_id"), "missing_field", "key_id"),
    ("record-id-number", _set("record_id", 17), "missing_field", "record_id"),
    ("plain-given-name", _set("given_name", "Johnathan"), PLAIN, "given_name"),
    ("plain-dob", _set("dob", "1980-01-02"), PLAIN, "dob"),
    ("plain-ssn", _set("ssn", "536-22-1234"), PLAIN, "ssn"),
    ("plain-odd-key", _set("Johnathan Smith", "x"), PLAIN, None),
    ("rid-ssn", _set("record_id", "536-22-1234"), PLAIN, "record_id"),
    ("rid-9-digits", _set("record_id", "X536221234"), PLAIN, "record_id"),
    ("rid-phone", _set("record_id", "(555) 123-4567"), PLAIN, "record_id"),
    ("rid-date", _set("record_id", "SMITH-1980-01-02"), PLAIN, "record_id"),
    ("rid-yyyymmdd", _set("record_id", "JS19800102"), PLAIN, "record_id"),
    ("rid-email", _set("record_id", "js@example.org"), PLAIN, "record_id"),
    ("rid-name", _set("record_id", "Smith, John"), PLAIN, "record_id"),
    ("rid-too-long", _set("record_id", "R" * 129), "malformed_record_id", "record_id"),
    ("rid-control", _set("record_id", "R-1\x00"), "malformed_record_id", "record_id"),
    ("token-unknown", _set("tokens/given_name.nick", "0" * 16), "unknown_token", None),
    ("token-name", _set("tokens/family_name.exact", "GARCIA"), PLAIN, None),
    ("token-date", _set("tokens/birth_date.exact", "1980-01-02"), PLAIN, None),
    ("token-number", _set("tokens/ssn.exact", 536221234), PLAIN, None),
    ("token-upper-hex", _set("tokens/sex.exact", "ABCDEF0123456789"), PLAIN, None),
    ("token-in-list", _set("tokens/family_name.parts", ["GARCIA"]), PLAIN, None),
    ("token-null", _set("tokens/sex.exact", None), "malformed_token", None),
    ("token-list-single", _set("tokens/sex.exact", ["0" * 16]), "malformed_token", None),
    ("token-multi-single", _set("tokens/family_name.parts", "0" * 16), "malformed_token", None),
    ("token-empty-list", _set("tokens/given_name.canonical", []), "malformed_token", None),
    ("tokens-not-object", _set("tokens", ["0" * 16]), "malformed_token", "tokens"),
    ("filter-text", _set("filters/given_name", "Bill James"), PLAIN, None),
    ("filter-b64-text", _set("filters/city", b64(b"Springfield")), PLAIN, None),
    ("filter-ascii", _set("filters/city", b64(b"Springfield#" * 10 + b"12345678")), PLAIN, None),
    ("filter-unbalanced", _set("filters/given_name", b64(b"\x01" * 64)), PLAIN, None),
    ("filter-size", _set("filters/given_name", b64(b"\x0f" * 32)), "malformed_filter", None),
    ("filter-number", _set("filters/ssn", 536221234), PLAIN, None),
    ("filter-object", _set("filters/ssn", {}), "malformed_filter", None),
    ("filter-unknown", _set("filters/sex", _BALANCED_64), "unknown_filter", "filters.sex"),
    ("filters-not-object", _set("filters", "x"), "malformed_filter", "filters"),
    ("category-unknown", _set("context", {"gossip": {"note": "x"}}), "unknown_category", None),
    ("context-list", _set("context", ["x"]), "malformed_context", "context"),
    ("category-text", _set("context", {"medical": "diabetic"}), "malformed_context", None),
    ("context-number", _set("context", {"medical": {"a1c": 7}}), "malformed_context", None),
    ("context-empty-key", _set("context", {"medical": {"": "x"}}), "malformed_context", None),
    ("context-dob-housing", _set("context", {"housing": {"DOB": "x"}}), PLAIN, None),
    ("context-name-flags", _set("context", {"safety_flags": {"Last Name": "x"}}), PLAIN, None),
    ("context-ssn-identity", _set("context", {"identity": {"ssn": "x"}}), PLAIN, None),
    ("context-long", _set("context", {"medical": {"note": "x" * 8193}}), "malformed_context", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "reason", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_spoiled_line_is_refused_with_its_reason(
    mutate: Mutation, reason: str, field: str | None
) -> None:
    problems = problems_of(spoil_second(mutate))
    assert {p.line for p in problems} == {2}
    assert reason in {p.reason for p in problems}
    if field is not None:
        assert field in {p.field for p in problems if p.reason == reason}


@pytest.mark.parametrize(
    ("value", "schema_none_reason"),
    [
        (_filter_b64(_balanced_filter(32)), None),
        (_filter_b64(bytes(64)), "malformed_filter"),
        (_filter_b64(b"Springfield"), "looks_like_plaintext"),
    ],
    ids=["other-size-passes", "all-zero", "b64-text"],
)
def test_without_a_schema_only_structural_filter_checks_apply(
    value: str, schema_none_reason: str | None
) -> None:
    records = base_records()
    records[1]["filters"]["given_name"] = value
    if schema_none_reason is None:
        assert len(validate(body_of(records), schema=None)) == 3
    else:
        problems = problems_of(body_of(records), schema=None)
        assert [p.reason for p in problems] == [schema_none_reason]


def test_an_unhardened_schema_skips_the_balance_check() -> None:
    schema = parse_schema(
        {"schema": {"name": "canonical", "version": 2}, "encoding": {"hardening": "none"}}
    )
    records = [encoded("CAD-0000001", RICH_ROW)]
    records[0]["filters"] = {"given_name": _filter_b64(b"\x01" * 32)}
    assert len(validate(body_of(records), schema=schema)) == 1


def test_one_flipped_bit_in_a_real_balanced_filter_is_refused() -> None:
    records = base_records()
    raw = bytearray(base64.b64decode(records[1]["filters"]["family_name"]))
    raw[0] ^= 0x01
    records[1]["filters"]["family_name"] = _filter_b64(bytes(raw))
    problems = problems_of(body_of(records))
    assert [(p.line, p.reason, p.field) for p in problems] == [
        (2, "looks_like_plaintext", "filters.family_name")
    ]


def test_every_bad_line_is_reported_and_nothing_is_accepted() -> None:
    records = [*base_records(), *base_records()]
    for i, record in enumerate(records):
        record["record_id"] = f"CAD-{i:07d}"
    records[2]["key_id"] = "k-other"
    records[4]["dob"] = "1980-01-02"
    problems = problems_of(body_of([b"nope", *records[1:]]))
    assert [(p.line, p.reason) for p in problems] == [
        (1, "invalid_json"),
        (3, "wrong_key_id"),
        (5, "looks_like_plaintext"),
    ]
    assert [p.record_id for p in problems] == [None, "CAD-0000002", "CAD-0000004"]


def test_a_line_with_several_faults_reports_each() -> None:
    record = base_records()[1]
    record |= {"key_id": "k-other", "agency": "ems", "dob": "x"}
    reasons = {p.reason for p in problems_of(body_of([record]))}
    assert reasons == {"wrong_key_id", "wrong_agency", "looks_like_plaintext"}


def test_a_repeated_record_id_is_refused_on_every_repeat() -> None:
    first, *_ = base_records()
    problems = problems_of(body_of([first, base_records()[1], first, first]))
    assert [(p.line, p.reason) for p in problems] == [
        (3, "duplicate_record_id"),
        (4, "duplicate_record_id"),
    ]
    assert "line 1" in problems[0].message


@pytest.mark.parametrize(
    ("limits", "body", "reason"),
    [
        (SubmissionLimits(max_batch_records=2), None, "batch_too_large"),
        (SubmissionLimits(max_body_bytes=1000), None, "batch_too_large"),
        (SubmissionLimits(), b"\n \r\n", "empty_batch"),
        (SubmissionLimits(), b"", "empty_batch"),
    ],
    ids=["too-many-records", "too-many-bytes", "blank", "empty"],
)
def test_batch_level_limits_refuse_the_whole_batch(
    limits: SubmissionLimits, body: bytes | None, reason: str
) -> None:
    problems = problems_of(body_of(base_records()) if body is None else body, limits=limits)
    assert [(p.line, p.reason) for p in problems] == [(0, reason)]


@pytest.mark.parametrize(
    ("limits", "context", "field"),
    [
        (SubmissionLimits(max_line_bytes=500), {}, None),
        (SubmissionLimits(max_context_bytes_per_record=9), {"medical": {"n": "x" * 9}}, "context"),
        (SubmissionLimits(max_tokens=3), {}, "tokens"),
        (SubmissionLimits(max_filters=3), {}, "filters"),
    ],
    ids=["line", "context", "tokens", "filters"],
)  # fmt: skip
def test_record_size_limits(
    limits: SubmissionLimits, context: dict[str, Any], field: str | None
) -> None:
    record = encoded("CAD-0000001", RICH_ROW, context)
    problems = problems_of(body_of([record]), limits=limits)
    assert [(p.reason, p.field) for p in problems] == [("record_too_large", field)]


def test_the_problem_list_is_capped() -> None:
    records = base_records()
    for record in records:
        record["key_id"] = "k-other"
    with pytest.raises(BatchRejected) as info:
        validate(body_of(records), limits=SubmissionLimits(max_problems=2))
    assert len(info.value.problems) == 2
    assert info.value.truncated
    assert info.value.reason_counts() == {"wrong_key_id": 2}


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch_records"):
        SubmissionLimits(max_batch_records=0)


def test_a_schema_of_another_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="schema version"):
        validate(body_of(base_records()), schema_version="canonical/3")


# --- nothing submitted is ever echoed -------------------------------------------------

LEAKY = "Zbigniew-Quartermaine"
LEAKS: list[tuple[str, Mutation]] = [
    ("top-level-value", _set("given_name", LEAKY)),
    ("top-level-key", _set(LEAKY, "x")),
    ("record-id", _set("record_id", f"{LEAKY} 1980-01-02")),
    ("token", _set("tokens/family_name.exact", LEAKY)),
    ("token-name", _set(f"tokens/{LEAKY}", LEAKY)),
    ("filter", _set("filters/family_name", LEAKY)),
    ("filter-name", _set(f"filters/{LEAKY}", LEAKY)),
    ("category", _set("context", {LEAKY: {"note": "x"}})),
    ("context-key", _set("context", {"medical": {LEAKY: 7}})),
    ("agency", _set("agency", LEAKY)),
    ("schema-version", _set("schema_version", LEAKY)),
    ("key-id", _set("key_id", LEAKY)),
]


@pytest.mark.parametrize("mutate", [c[1] for c in LEAKS], ids=[c[0] for c in LEAKS])
def test_messages_never_contain_a_submitted_value(mutate: Mutation) -> None:
    with pytest.raises(BatchRejected) as info:
        validate(spoil_second(mutate))
    _assert_not_echoed(info.value, [LEAKY, LEAKY.lower()])


@pytest.mark.parametrize(
    ("mutate", "shown"),
    [
        (_set("ssn_536221234", "x"), None),
        (_set("context", {"medical": {"a1c": 7}}), "context.medical.a1c"),
        (_set("context", {"medical": {"case_536221234": 7}}), "context.medical"),
    ],
    ids=["key-with-digits", "machine-name", "context-key-with-digits"],
)
def test_field_names_are_shown_only_when_they_hold_no_digit_run(
    mutate: Mutation, shown: str | None
) -> None:
    with pytest.raises(BatchRejected) as info:
        validate(spoil_second(mutate))
    _assert_not_echoed(info.value, ["536221234", "536"])
    assert [p.field for p in info.value.problems] == [shown]


def test_a_duplicate_plaintext_record_id_is_never_echoed() -> None:
    first = base_records()[0] | {"record_id": "536-22-1234"}
    with pytest.raises(BatchRejected) as info:
        validate(body_of([first, first]))
    assert {p.reason for p in info.value.problems} == {
        "looks_like_plaintext",
        "duplicate_record_id",
    }
    _assert_not_echoed(info.value, ["536-22-1234", "536"])


def _assert_not_echoed(exc: BatchRejected, values: list[str]) -> None:
    texts = [str(exc)]
    for p in exc.problems:
        texts += [str(p), p.message, p.field or "", p.record_id or ""]
    for value in values:
        assert not any(value in text for text in texts), value


# --- property: plaintext never passes for an encoding ---------------------------------

_names = st.from_regex(r"[A-Z][a-z]{3,11}( [A-Z][a-z]{3,11})?", fullmatch=True)
_ssns = st.from_regex(r"[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}|[0-8][0-9]{8}", fullmatch=True)
_phones = st.from_regex(r"\(?[2-9][0-9]{2}\)? ?[0-9]{3}-[0-9]{4}", fullmatch=True)
_dates = st.builds(
    datetime.date.strftime,
    st.dates(datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)),
    st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%Y%m%d", "%m-%d-%Y"]),
)
_emails = st.emails()
PLAINTEXT = st.one_of(_names, _ssns, _phones, _dates, _emails)
ANY_TEXT = st.text(min_size=0, max_size=200)


def _spoil(slot: str, name: str, value: str) -> BatchRejected:
    records = base_records()
    records[1][slot][name] = value
    with pytest.raises(BatchRejected) as info:
        validate(body_of(records))
    return info.value


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(value=PLAINTEXT | ANY_TEXT, name=st.sampled_from(sorted(allowed_token_names(None))))
def test_plaintext_in_a_token_slot_is_refused(value: str, name: str) -> None:
    if len(value) == 16 and all(c in "0123456789abcdef" for c in value):
        return  # 16 lowercase hex digits is a token, whatever it was meant to be
    exc = _spoil("tokens", name, value)
    assert {p.reason for p in exc.problems} <= {"looks_like_plaintext", "malformed_token"}
    assert "looks_like_plaintext" in {p.reason for p in exc.problems}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=PLAINTEXT | ANY_TEXT, name=st.sampled_from(sorted(allowed_filter_bytes(default_schema())))
)
def test_plaintext_in_a_filter_slot_is_refused(value: str, name: str) -> None:
    exc = _spoil("filters", name, value)
    assert {p.reason for p in exc.problems} <= {"looks_like_plaintext", "malformed_filter"}


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(value=PLAINTEXT, slot=st.sampled_from(["tokens", "filters"]))
def test_plaintext_in_an_encoding_slot_is_never_echoed(value: str, slot: str) -> None:
    exc = _spoil(slot, "family_name.exact" if slot == "tokens" else "family_name", value)
    _assert_not_echoed(exc, [value])


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(min_size=64, max_size=64))
def test_base64_wrapped_bytes_pass_as_a_filter_only_when_balanced(raw: bytes) -> None:
    records = base_records()
    records[1]["filters"]["given_name"] = _filter_b64(raw)
    if int.from_bytes(raw, "little").bit_count() == 256:
        assert len(validate(body_of(records))) == 3
    else:
        assert [p.reason for p in problems_of(body_of(records))] == ["looks_like_plaintext"]


@settings(max_examples=200)
@given(value=st.one_of(_ssns, _phones, _dates, _emails, _names.filter(lambda n: " " in n)))
def test_plaintext_shaped_record_ids_are_refused_and_never_echoed(value: str) -> None:
    assert record_id_plaintext_kind(value) is not None
    assert record_id_plaintext_kind(f"CAD-{value}") is not None
    records = base_records()
    records[1]["record_id"] = value
    with pytest.raises(BatchRejected) as info:
        validate(body_of(records))
    assert [(p.line, p.reason) for p in info.value.problems] == [(2, "looks_like_plaintext")]
    _assert_not_echoed(info.value, [value])


@pytest.mark.parametrize(
    "record_id",
    ["CAD-0000001", "MRN00000001", "HMIS-000001", "rec-1234-dup-0", "INC-2023-000123",
     "a1b2c3d4", "CAD 0001", "R/12/345"],
)  # fmt: skip
def test_opaque_record_ids_pass(record_id: str) -> None:
    assert record_id_plaintext_kind(record_id) is None
