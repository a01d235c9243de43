import orjson
import pytest

from linkage.errors import EncodedDataError, IncompatibleEncodingError
from linkage.table import table_from_lines

from .helpers import SECRET, table_of


def _lines() -> list[bytes]:
    from linkage.encode.encoding import RecordEncoder
    from linkage.schema import default_schema

    encoder = RecordEncoder(default_schema(), SECRET, "a")
    rows = [{"given_name": n, "family_name": "Lee", "birth_date": "1980-03-07"}
            for n in ("Ann", "Bob", "Cy")]  # fmt: skip
    return [encoder.encode(str(i), row)[0].to_json() for i, row in enumerate(rows)]


def test_columns_hold_tokens_filters_and_popcounts() -> None:
    table = table_of([{"given_name": "Ann"}, {"given_name": ""}, {"family_name": "Lee"}])
    assert len(table) == 3
    assert table.token("given_name.exact")[1] == 0
    assert table.token("given_name.exact")[0] != 0
    assert table.popcounts["given_name"][0] > 0 == table.popcounts["given_name"][1]
    assert table.multi["given_name.canonical"].shape == (3, 3)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda o: o["tokens"].update({"given_name.exact": "xyz"}), "malformed token"),
        (lambda o: o["tokens"].update({"given_name.exact": "g" * 16}), "malformed token"),
        (lambda o: o["tokens"].update({"given_name.canonical": "0" * 16}), "malformed token"),
        (lambda o: o["filters"].update({"given_name": "@@@@"}), "filter .* is not valid base64"),
        (lambda o: o.update({"record_id": ""}), "missing .*record_id"),
    ],
)
def test_a_bad_record_is_named_by_its_line(edit, message: str) -> None:  # type: ignore[no-untyped-def]
    lines = _lines()
    obj = orjson.loads(lines[2])
    edit(obj)
    lines[2] = orjson.dumps(obj)
    with pytest.raises(EncodedDataError, match=rf"f\.jsonl:3: {message}"):
        table_from_lines(lines, source="f.jsonl")


def test_mixed_keys_and_duplicate_records_are_refused() -> None:
    lines = _lines()
    other = orjson.loads(lines[1])
    other["key_id"] = "k-0000000000000000"
    with pytest.raises(IncompatibleEncodingError, match="different linkage keys"):
        table_from_lines([lines[0], orjson.dumps(other)])
    with pytest.raises(EncodedDataError, match="appears twice"):
        table_from_lines([lines[0], lines[0]])
