import orjson
import pytest

from linkage.errors import EncodedDataError
from linkage.records import parse_encoded_line

from .helpers import SECRET

GOOD = {
    "schema_version": "canonical/2",
    "key_id": SECRET.key_id,
    "agency": "police",
    "record_id": "CAD-1",
    "tokens": {
        "given_name.exact": "0123456789abcdef",
        "given_name.canonical": ["0123456789abcdef"],
    },
    "filters": {"given_name": "AAAA"},
    "context": {"safety_flags": {"weapons": "knife"}},
}


def test_a_good_line_parses() -> None:
    record = parse_encoded_line(orjson.dumps(GOOD))
    assert record.record_id == "CAD-1"
    assert record.context == GOOD["context"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"record_id": ""}, "record_id"),
        ({"tokens": {"given_name.exact": "Ann"}}, "hex tokens"),
        ({"tokens": {"given_name.exact": "1980-03-07"}}, "hex tokens"),
        ({"filters": {"given_name": "not base64!"}}, "base64"),
        ({"context": ["x"]}, "context"),
    ],
)
def test_malformed_lines_name_the_problem(change: dict[str, object], message: str) -> None:
    with pytest.raises(EncodedDataError, match=message):
        parse_encoded_line(orjson.dumps({**GOOD, **change}), where="f.jsonl:7")


def test_non_json_is_refused_with_its_location() -> None:
    with pytest.raises(EncodedDataError, match=r"f\.jsonl:3: not valid JSON"):
        parse_encoded_line(b"{nope", where="f.jsonl:3")
