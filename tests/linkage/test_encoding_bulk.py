"""The bulk encoding path writes exactly what the reference path writes.

``RecordEncoder.encode`` builds each record from the normalisers, ``hmac`` and
``FieldFilter.encode``; ``encode_csv`` goes through cached JSON fragments, per-word
filter masks and pre-keyed hash states. The encoded format is a contract between
agencies and the hub, so the two must agree byte for byte.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
from collections import Counter
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.encode import encoding
from linkage.encode.bloom import FieldFilter, positional_grams, qgrams
from linkage.encode.encode_file import encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.schema import default_schema, load_schema

DEMO_CONTEXT = {
    "police_cad": {
        "safety_flags": ["weapons", "officer_safety_note"],
        "communication_needs": ["language"],
    },
    "behavioral_health": {"communication_needs": ["language", "interpreter_needed"]},
    "homeless_services": {"housing": ["shelter_status"]},
}

#: SHA-256 of the demo fixture encoded under ``bytes(range(32))`` with DEMO_CONTEXT, as
#: written before the bulk path was optimised. A change here changes the encoded
#: format: every agency would have to re-encode, so it must be deliberate.
#: Re-recorded for schema canonical/2 (issue 17): new tokens birth_date.year_near,
#: birth_date.generation and ssn.serial_pair, and placeholder dates refused; the
#: reference encoder (test above) still checks the bulk path line by line.
DEMO_DIGESTS = {
    "police_cad": "ef882cff1311abde08a64f388c5e2ccc85ce21b77305d71b05e7bc8d5fc2e180",
    "behavioral_health": "af69626963db1ae7ea6663fff10464a27d6ea25cbe0e19aaf6645a4ee88de354",
    "homeless_services": "bfaf4bc5d148cc2c941056380c4abe8d81a521d049ae542919f014a464d06e36",
}


def _reference_line(encoder: RecordEncoder, row: dict[str, str], context: dict) -> bytes:
    record, _ = encoder.encode(row["record_id"].strip(), row)
    record.context = {
        category: cells
        for category, columns in context.items()
        if (cells := {c: row[c] for c in columns if row[c].strip()})
    }
    return record.to_json()


@pytest.mark.parametrize("agency", sorted(DEMO_CONTEXT))
def test_encode_csv_equals_the_reference_encoder_on_the_demo_fixture(
    demo_data_dir: Path, tmp_path: Path, secret: LinkageSecret, agency: str
) -> None:
    source = demo_data_dir / f"{agency}.csv"
    context = DEMO_CONTEXT[agency]
    out = tmp_path / "out.jsonl"
    encode_csv(source, out, RecordEncoder(default_schema(), secret, agency), context=context)
    lines = out.read_bytes().splitlines()
    reference = RecordEncoder(default_schema(), secret, agency)
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        expected = _reference_line(reference, row, context)
        if line.count(b'"name.suffix"') > 1:  # both names carry a suffix: see encode_line
            assert orjson.loads(line) == orjson.loads(expected)
        else:
            assert line == expected


@pytest.mark.parametrize("agency", sorted(DEMO_DIGESTS))
def test_demo_fixture_encodes_to_the_recorded_bytes(
    demo_data_dir: Path, tmp_path: Path, secret: LinkageSecret, agency: str
) -> None:
    out = tmp_path / "out.jsonl"
    source = demo_data_dir / f"{agency}.csv"
    encoder = RecordEncoder(default_schema(), secret, agency)
    encode_csv(source, out, encoder, context=DEMO_CONTEXT[agency])
    assert hashlib.sha256(out.read_bytes()).hexdigest() == DEMO_DIGESTS[agency]


def test_bulk_path_is_unchanged_when_its_caches_overflow(
    demo_data_dir: Path, secret: LinkageSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = demo_data_dir / "police_cad.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[:400]
    roomy = RecordEncoder(default_schema(), secret, "p")
    expected = [roomy.encode_line(r["record_id"], r, b"{}", Counter()) for r in rows]
    monkeypatch.setattr(encoding, "_CACHE_LIMIT", 3)
    cramped = RecordEncoder(default_schema(), secret, "p")
    for _ in range(2):  # the second pass meets values evicted in the first
        assert [cramped.encode_line(r["record_id"], r, b"{}", Counter()) for r in rows] == expected


def test_multi_column_fields_join_their_non_blank_cells(
    fixtures_dir: Path, tmp_path: Path, secret: LinkageSecret
) -> None:
    schema = load_schema(fixtures_dir / "schemas" / "febrl.toml")
    header = "rec_id,given_name,surname,street_number,address_1,address_2,suburb,postcode,"
    header += "state,date_of_birth,soc_sec_id"
    source = tmp_path / "in.csv"
    source.write_text(f"{header}\nr1,ann,lee,12, main st ,,lakes,2600,act,19800307,1234567\n")
    out = tmp_path / "out.jsonl"
    encode_csv(source, out, RecordEncoder(schema, secret, "febrl"))
    values = {"given_name": "ann", "family_name": "lee", "birth_date": "19800307",
              "street_address": "12  main st ", "city": "lakes", "postcode": "2600",
              "ssn": "1234567"}  # fmt: skip
    record, _ = RecordEncoder(schema, secret, "febrl").encode("r1", values)
    assert out.read_bytes() == record.to_json() + b"\n"


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=1, max_size=100),
    kind=st.sampled_from(["exact", "year", "parts"]),
    value=st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
)
def test_token_hasher_equals_hmac_sha256(key: bytes, kind: str, value: str) -> None:
    expected = hmac.digest(key, f"{kind}\x1f{value}".encode(), hashlib.sha256)[:8].hex()
    hasher = encoding._TokenHasher(key, kind)
    assert hasher(value) == expected
    assert hasher(value) == expected  # again, from its cache where it keeps one


@settings(max_examples=80, deadline=None)
@given(
    text=st.text(alphabet="abcxyz 0123-", max_size=30),
    q=st.integers(min_value=1, max_value=3),
    balance=st.booleans(),
)
def test_cached_filter_masks_give_the_per_gram_filter(text: str, q: int, balance: bool) -> None:
    bloom = FieldFilter(b"f" * 32, 128, 5, balance=balance)
    for _ in range(2):  # cold, then from the word and run caches
        assert (
            bloom.encode_text(text, q) == base64.b64encode(bloom.encode(qgrams(text, q))).decode()
        )
        assert (
            bloom.encode_positional(text)
            == base64.b64encode(bloom.encode(positional_grams(text))).decode()
        )
