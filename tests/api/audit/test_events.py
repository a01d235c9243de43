"""The privacy guard: events hold ids, vocabularies and counts — never plaintext.

Unit checks of :func:`api.hub.audit.events.build_event`, properties over generated
identifier-shaped text, and an end-to-end check that after submitting, viewing
and listing real fixture records no plaintext identifier or context value
appears anywhere in the audit log.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from api.hub.audit.events import MAX_REASON_CHARS, AuditFieldError, build_event
from linkage.encode.keys import LinkageSecret
from tests.api.audit.helpers import quiet_hub
from tests.api.hub import FIXTURE_CONTEXT, encode_rows, read_rows

GOOD: dict[str, Any] = {
    "subject_id": "S-0123456789abcdef",
    "agency": "police_cad",
    "categories": ["housing"],
    "withheld": ["medical"],
    "decision": "partial",
    "rule": "po.county.allow-housing",
    "policy_version": "v12",
    "purpose": "care_coordination",
    "reason": "Follow-up visit requested by the crisis team",
    "incident": "CAD-2026-0012345",
    "client": "2001:db8::1",
    "request_id": "gw-17",
    "details": {"records": 3, "subject_ids": ["S-1", "S-2"], "score": 0.93, "ok": True},
}


def test_a_well_formed_event_is_accepted() -> None:
    values = build_event("subject.view", **GOOD).values

    assert values["categories"] == ",housing,"
    assert values["details"] == '{"ok":true,"records":3,"score":0.93,"subject_ids":["S-1","S-2"]}'


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("categories", ["gossip"]),
        ("withheld", ["address"]),
        ("decision", "maybe"),
        ("purpose", "curiosity"),
        ("subject_id", "Jane Doe"),
        ("agency", "police cad"),
        ("rule", "allow if name = 'x'"),
        ("incident", "call about John"),
        ("client", "joe's laptop"),
        ("request_id", "x" * 65),
        ("reason", "x" * (MAX_REASON_CHARS + 1)),
        ("reason", "SSN 123-45-6789 on file"),
        ("reason", "call back on (555) 123-4567"),
        ("reason", "born 1984-02-29"),
        ("reason", "dob 2/29/1984"),
        ("details", {"name": "Jane Doe"}),
        ("details", {"note": "lives at 12 Elm St"}),
        ("details", {"bad key": 1}),
        ("details", {"nested": {"deeper": {"deepest": [1]}}}),
        ("details", {"score": float("nan")}),
        ("details", {"blob": b"bytes"}),
    ],
)
def test_fields_that_could_carry_plaintext_are_refused(field: str, value: Any) -> None:
    with pytest.raises(AuditFieldError):
        build_event("subject.view", **{**GOOD, field: value})


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(AuditFieldError, match="kind"):
        build_event("subject.peek")


_digits = st.integers(0, 9).map(str)


@given(
    st.text(alphabet="abcdefghij klm", max_size=40),
    st.lists(_digits, min_size=9, max_size=9).map("".join),
    st.sampled_from(["{0}{1}{2}-{3}{4}-{5}{6}{7}{8}", "{0}{1}{2}{3}{4}{5}{6}{7}{8}"]),
)
def test_a_reason_never_carries_an_ssn(prefix: str, digits: str, shape: str) -> None:
    with pytest.raises(AuditFieldError):
        build_event("subject.break_glass", reason=f"{prefix} {shape.format(*digits)} end")


def _not_an_id(text: str) -> bool:
    """Has a character no id has (ids: ASCII letters, digits and ``_ . : -``)."""
    allowed = set(string.ascii_letters + string.digits + "_.:-")
    return any(c not in allowed for c in text) or text[0] in "_.:-"


@given(st.text(min_size=1, max_size=40).filter(_not_an_id))
def test_detail_strings_are_ids_only(value: str) -> None:
    with pytest.raises(AuditFieldError):
        build_event("record.submit", details={"value": value})


def test_no_plaintext_identifier_or_context_value_reaches_the_log(
    database_url: str, fixtures_dir: Path, secret: LinkageSecret
) -> None:
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:20]
    plaintext = {
        value
        for row in rows
        for column, value in row.items()
        if column != "record_id" and len(value) >= 5
    }
    columns = [c for cs in FIXTURE_CONTEXT["police_cad"].values() for c in cs]
    plaintext |= {row[c] for row in rows for c in columns if len(row.get(c) or "") >= 5}
    assert len(plaintext) > 40
    for hub in quiet_hub(database_url):
        hub.user("steward", "data_steward", "police_cad")
        hub.user("medic", "ems_medic", "ems")
        hub.user("reviewer", "linkage_reviewer", "program")
        submitted = hub.submit("steward", encode_rows(secret, "police_cad", rows)).json()
        for item in submitted["records"][:5]:
            subject = item["subject_id"]
            view = hub.client.get(
                f"/v1/subjects/{subject}",
                params={"purpose": "treatment"},
                headers=hub.auth("medic"),
            )
            assert view.status_code == 200
            hub.client.get(f"/v1/subjects/{subject}/records", headers=hub.auth("reviewer"))
        with hub.engine.connect() as db:
            dump = "\n".join(
                str(tuple(row)) for row in db.execute(text("SELECT * FROM audit_event"))
            ).lower()
            kinds = set(db.execute(text("SELECT kind FROM audit_event")).scalars())

    assert {"subject.view", "subject.records"} <= kinds
    # Whole tokens only: a 5-digit postcode also occurs by chance inside a
    # timestamp's microseconds or a hex id, which is not a leak.
    leaked = sorted(
        v for v in plaintext if re.search(rf"(?<![0-9a-z]){re.escape(v.lower())}(?![0-9a-z])", dump)
    )
    assert leaked == []
