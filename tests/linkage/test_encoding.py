import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.schema import default_schema

PERSON = {
    "given_name": "William",
    "middle_name": "Henry",
    "family_name": "De La Cruz-Smith Jr",
    "birth_date": "04/12/1956",
    "sex": "M",
    "street_address": "123 North Main Street Apt 4",
    "city": "Springfield",
    "postcode": "62704",
    "phone": "(217) 555-0134",
    "ssn": "287-65-4321",
}


def _encode(secret: LinkageSecret, values: dict[str, str], agency: str = "police") -> dict:
    record, _ = RecordEncoder(default_schema(), secret, agency).encode("R-1", values)
    return orjson.loads(record.to_json())


def test_output_carries_schema_version_key_id_and_no_plaintext(secret: LinkageSecret) -> None:
    line = RecordEncoder(default_schema(), secret, "police").encode("R-1", PERSON)[0].to_json()
    obj = orjson.loads(line)
    assert obj["schema_version"] == "canonical/2"
    assert obj["key_id"] == secret.key_id
    text = line.decode().lower()
    for needle in ("william", "henry", "cruz", "smith", "1956", "springfield", "main", "62704",
                   "0134", "9999", "willi", "spring"):  # fmt: skip
        assert needle not in text


def test_same_person_gives_same_tokens_in_two_agencies(secret: LinkageSecret) -> None:
    a = _encode(secret, PERSON, "police")
    b = _encode(secret, {**PERSON, "birth_date": "1956-04-12", "phone": "217.555.0134"}, "ems")
    assert a["tokens"] == b["tokens"]
    assert a["filters"] == b["filters"]


def test_tokens_differ_across_keys(secret: LinkageSecret, other_secret: LinkageSecret) -> None:
    a, b = _encode(secret, PERSON), _encode(other_secret, PERSON)
    assert set(a["tokens"]) == set(b["tokens"])
    assert all(a["tokens"][k] != b["tokens"][k] for k in a["tokens"])


def test_nickname_shares_a_canonical_token(secret: LinkageSecret) -> None:
    bill = _encode(secret, {"given_name": "Bill"})["tokens"]
    william = _encode(secret, {"given_name": "William"})["tokens"]
    assert bill["given_name.exact"] != william["given_name.exact"]
    assert set(bill["given_name.canonical"]) & set(william["given_name.canonical"])


def test_suffix_and_swapped_names_use_shared_keys(secret: LinkageSecret) -> None:
    jr = _encode(secret, {"given_name": "John", "family_name": "Smith Jr"})["tokens"]
    jr2 = _encode(secret, {"given_name": "John Jr", "family_name": "Smith"})["tokens"]
    assert jr["name.suffix"] == jr2["name.suffix"]
    swapped = _encode(secret, {"given_name": "Smith", "family_name": "John"})["tokens"]
    assert swapped["given_name.phonetic"] == jr["family_name.phonetic"]


def test_birth_date_tokens_catch_day_month_swaps(secret: LinkageSecret) -> None:
    a = _encode(secret, {"birth_date": "1980-03-07"})["tokens"]
    b = _encode(secret, {"birth_date": "1980-07-03"})["tokens"]
    assert a["birth_date.exact"] != b["birth_date.exact"]
    assert a["birth_date.swapped"] == b["birth_date.swapped"]


@pytest.mark.parametrize(
    ("field", "raw", "state"),
    [
        ("birth_date", "13/45/1990", "unparseable"),
        ("birth_date", "", "missing"),
        ("birth_date", "UNKNOWN", "missing"),
        ("phone", "12", "unparseable"),
        ("given_name", "!!!", "unparseable"),
        ("given_name", "Ann", "ok"),
    ],
)
def test_field_status_separates_missing_from_unparseable(
    secret: LinkageSecret, field: str, raw: str, state: str
) -> None:
    _, status = RecordEncoder(default_schema(), secret, "a").encode("R", {field: raw})
    assert status[field] == state


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(PERSON)), st.text(max_size=40)))
def test_any_text_encodes_without_error(values: dict[str, str]) -> None:
    record, status = RecordEncoder(default_schema(), LinkageSecret(b"k" * 32), "a").encode(
        "R", values
    )
    assert set(status) == set(PERSON)
    assert record.record_id == "R"


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(PERSON)), st.sampled_from(["", "x", "Ann", "1980-03-07"])
    ),
    st.dictionaries(st.sampled_from(["safety_flags", "housing"]), st.just({"note": 'é "q"'})),
)
def test_fast_line_writer_equals_the_record_serialisation(
    values: dict[str, str], context: dict[str, dict[str, str]]
) -> None:
    from collections import Counter

    encoder = RecordEncoder(default_schema(), LinkageSecret(b"k" * 32), 'agency "q"')
    record, status = encoder.encode('R"1', {**PERSON, **values})
    record.context = context
    counts: Counter[str] = Counter()
    line = encoder.encode_line('R"1', {**PERSON, **values}, orjson.dumps(context), counts)
    assert orjson.loads(line) == orjson.loads(record.to_json())
    assert sum(counts.values()) == sum(1 for s in status.values() if s != "ok")
