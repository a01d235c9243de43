"""Bad input never crashes and never leaves a partial output file."""

from pathlib import Path

import orjson
import pytest

from linkage.encode import encode_file
from linkage.encode.encode_file import encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.errors import InputDataError
from linkage.schema import CANONICAL_COLUMNS, default_schema

HEADER = ",".join(CANONICAL_COLUMNS)


def _row(i: int) -> str:
    return f"R{i},Ann,,Lee,1980-03-0{i % 9 + 1},F,1 Main St,Springfield,62704,,"


def _encoder(secret: LinkageSecret) -> RecordEncoder:
    return RecordEncoder(default_schema(), secret, "shelter")


def test_good_file_encodes_every_row(tmp_path: Path, secret: LinkageSecret) -> None:
    src = tmp_path / "in.csv"
    src.write_text("\n".join([HEADER, *(_row(i) for i in range(20))]) + "\n")
    report = encode_csv(src, tmp_path / "out.jsonl", _encoder(secret))
    lines = (tmp_path / "out.jsonl").read_bytes().splitlines()
    assert report.records == 20 == len(lines)
    assert orjson.loads(lines[0])["record_id"] == "R0"
    assert report.missing["phone"] == 20


def test_garbage_rows_are_counted_and_skipped(tmp_path: Path, secret: LinkageSecret) -> None:
    good = [_row(i) for i in range(90)]
    garbage = ["x,y", ",Ann,,Lee,,,,,,,", "R1,dup,,dup,,,,,,,", "", "a,b,c,d,e,f,g,h,i,j,k,l,m"]
    garbage += ["%%%"] * 5
    src = tmp_path / "in.csv"
    src.write_text("\n".join([HEADER, *good[:45], *garbage, *good[45:]]) + "\n")
    report = encode_csv(src, tmp_path / "out.jsonl", _encoder(secret))
    assert report.records == 90
    assert report.skipped_rows["wrong number of cells"] == 7
    assert report.skipped_rows["no record_id"] == 1
    assert report.skipped_rows["repeated record_id"] == 1


def test_non_utf8_rows_are_skipped_not_crashed(tmp_path: Path, secret: LinkageSecret) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes((HEADER + "\n" + _row(1) + "\n").encode() + b"R9,J\xe9r\xf4me,,X,,,,,,,\n")
    report = encode_csv(src, tmp_path / "out.jsonl", _encoder(secret))
    assert report.records == 1
    assert report.skipped_rows["not UTF-8"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (HEADER.encode() + b"\n", "no usable records"),
        (b"record_id,given_name\nR1,Ann\n", "lacks required column"),
        (b"given_name,family_name\nAnn,Lee\n", "record_id"),
        (HEADER.encode() + b"\n,,,,,,,,,,\n", "no usable records"),
    ],
)
def test_file_level_problems_are_one_clear_error_and_no_output(
    tmp_path: Path, secret: LinkageSecret, content: bytes, message: str
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    src.write_bytes(content)
    with pytest.raises(InputDataError, match=message):
        encode_csv(src, out, _encoder(secret))
    assert list(tmp_path.iterdir()) == [src]


def test_failure_midway_leaves_no_partial_output(
    tmp_path: Path, secret: LinkageSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    src.write_text("\n".join([HEADER, *(_row(i) for i in range(9000))]) + "\n")
    out.write_text("previous good output\n")
    encoder = _encoder(secret)
    calls = {"n": 0}
    original = encoder.encode_values

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 6000:
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(encoder, "encode_values", flaky)
    with pytest.raises(RuntimeError):
        encode_csv(src, out, encoder)
    assert out.read_text() == "previous good output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.jsonl"]


def test_context_columns_ride_verbatim_and_unknown_categories_fail(
    tmp_path: Path, secret: LinkageSecret
) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    src.write_text(HEADER + ",weapons,language\n" + _row(1) + ",Knife  ,ES\n" + _row(2) + ",,\n")
    encode_csv(
        src,
        out,
        _encoder(secret),
        context={"safety_flags": ["weapons"], "communication_needs": ["language"]},
    )
    first, second = (orjson.loads(x) for x in out.read_bytes().splitlines())
    assert first["context"] == {
        "safety_flags": {"weapons": "Knife  "},
        "communication_needs": {"language": "ES"},
    }
    assert second["context"] == {}
    with pytest.raises(InputDataError, match="unknown context category"):
        encode_csv(src, out, _encoder(secret), context={"gossip": ["weapons"]})
    with pytest.raises(InputDataError, match="lacks required column"):
        encode_csv(src, out, _encoder(secret), context={"housing": ["shelter_bed"]})


def test_pool_and_copy_fallback_write_what_one_process_writes(
    tmp_path: Path, secret: LinkageSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("\n".join([HEADER, *(_row(i) for i in range(9000))]) + "\n")
    encode_csv(src, tmp_path / "serial.jsonl", _encoder(secret))
    monkeypatch.setattr(encode_file, "_PARALLEL_MIN_BYTES", 0)
    encode_csv(src, tmp_path / "pool.jsonl", _encoder(secret))

    def no_sendfile(*args: object) -> int:
        raise OSError("sendfile not supported here")

    monkeypatch.setattr(encode_file.os, "sendfile", no_sendfile)
    encode_csv(src, tmp_path / "copied.jsonl", _encoder(secret))
    expected = (tmp_path / "serial.jsonl").read_bytes()
    assert len(expected.splitlines()) == 9000
    assert (tmp_path / "pool.jsonl").read_bytes() == expected
    assert (tmp_path / "copied.jsonl").read_bytes() == expected
