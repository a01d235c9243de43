"""The linkage CLI end to end, as an agency data steward and a hub operator use it."""

from __future__ import annotations

import csv
import hashlib
import stat
from pathlib import Path

import orjson
import pytest

from api.cli import main
from linkage.datasets import load_febrl, write_canonical_csvs


@pytest.fixture(scope="module")
def febrl_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 600 records of each FEBRL4 file in the canonical layout."""
    folder = tmp_path_factory.mktemp("febrl")
    paths = write_canonical_csvs(load_febrl("febrl4"), folder)
    for path in paths.values():
        lines = path.read_text().splitlines()[:601]
        path.write_text("\n".join(lines) + "\n")
    return folder


def _run(*args: str | Path) -> int:
    return main([str(a) for a in args])


def test_keygen_encode_link_writes_every_record(febrl_sample: Path, tmp_path: Path) -> None:
    key = tmp_path / "key"
    assert _run("keygen", "-o", key) == 0
    for agency in ("febrl4_a", "febrl4_b"):
        assert _run("encode", febrl_sample / f"{agency}.csv", "--agency", agency,
                    "--key-file", key, "-o", tmp_path / f"{agency}.jsonl") == 0  # fmt: skip
    out = tmp_path / "clusters.csv"
    assert _run("link", tmp_path / "febrl4_a.jsonl", tmp_path / "febrl4_b.jsonl", "-o", out,
                "--review", tmp_path / "review.csv") == 0  # fmt: skip
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1200
    assert set(rows[0]) == {"agency", "record_id", "subject_id", "match_probability"}
    assert {(r["agency"], r["record_id"]) for r in rows} >= {("febrl4_a", "rec-1070-org")}
    assert all(0.0 <= float(r["match_probability"]) <= 1.0 for r in rows)
    model = orjson.loads((tmp_path / "clusters.model.json").read_bytes())
    assert model["format"] == "crosswalk-fs-model/1"
    assert (tmp_path / "clusters.model.weights.html").read_text().startswith("<!doctype html>")
    assert (tmp_path / "review.csv").exists()


def test_relinking_with_previous_keeps_subject_ids(febrl_sample: Path, tmp_path: Path) -> None:
    key = tmp_path / "key"
    _run("keygen", "-o", key)
    enc = tmp_path / "a.jsonl"
    _run("encode", febrl_sample / "febrl4_a.csv", "--agency", "a", "--key-file", key, "-o", enc)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    model = tmp_path / "model.json"
    assert _run("link", enc, "-o", first, "--model", model) == 0
    assert _run("link", enc, "-o", second, "--model", model, "--previous", first) == 0
    assert first.read_text() == second.read_text()


def _subject_ids(path: Path) -> list[str]:
    with path.open() as handle:
        return [r["subject_id"] for r in csv.DictReader(handle)]


def test_link_with_an_id_key_is_reproducible_and_another_key_names_subjects_apart(
    febrl_sample: Path, tmp_path: Path
) -> None:
    key = tmp_path / "key"
    _run("keygen", "-o", key)
    enc = tmp_path / "a.jsonl"
    _run("encode", febrl_sample / "febrl4_a.csv", "--agency", "a", "--key-file", key, "-o", enc)
    model, id_key, other_key = tmp_path / "model.json", tmp_path / "ids.key", tmp_path / "o.key"
    outs = [tmp_path / f"{name}.csv" for name in ("first", "again", "other")]
    for out, ids in zip(outs, (id_key, id_key, other_key), strict=True):
        assert _run("link", enc, "-o", out, "--model", model, "--id-key", ids) == 0
    assert stat.S_IMODE(id_key.stat().st_mode) == 0o600  # created on first use
    first, again, other = (_subject_ids(out) for out in outs)
    assert first == again
    assert not set(first) & set(other)
    with enc.open() as handle:
        record_ids = [orjson.loads(line)["record_id"] for line in handle]
    unkeyed = {
        "S-" + hashlib.sha256(f"a\x1f{r}\x1e0".encode()).hexdigest()[:16] for r in record_ids
    }
    assert not unkeyed & set(first)


def test_link_refuses_a_linkage_secret_as_its_id_key(
    febrl_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key"
    _run("keygen", "-o", key)
    enc = tmp_path / "a.jsonl"
    _run("encode", febrl_sample / "febrl4_a.csv", "--agency", "a", "--key-file", key, "-o", enc)
    capsys.readouterr()
    assert _run("link", enc, "-o", tmp_path / "c.csv", "--id-key", key) == 2
    assert "not a subject-id key file" in capsys.readouterr().err
    assert not (tmp_path / "c.csv").exists()


def test_linking_encodings_of_different_keys_is_refused(
    febrl_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("k1", "k2"):
        _run("keygen", "-o", tmp_path / name)
        _run("encode", febrl_sample / "febrl4_a.csv", "--agency", name,
             "--key-file", tmp_path / name, "-o", tmp_path / f"{name}.jsonl")  # fmt: skip
    status = _run("link", tmp_path / "k1.jsonl", tmp_path / "k2.jsonl", "-o", tmp_path / "c.csv")
    err = capsys.readouterr().err
    assert status == 2
    assert "different linkage keys" in err
    assert "Traceback" not in err
    assert not (tmp_path / "c.csv").exists()


def test_linking_different_schema_versions_is_refused(
    febrl_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fixtures_dir: Path
) -> None:
    key = tmp_path / "key"
    _run("keygen", "-o", key)
    schema = tmp_path / "v2.toml"
    schema.write_text((fixtures_dir / "schemas" / "canonical.toml").read_text()
                      .replace("version = 2", "version = 3"))  # fmt: skip
    _run("encode", febrl_sample / "febrl4_a.csv", "--agency", "a", "--key-file", key,
         "-o", tmp_path / "v1.jsonl")  # fmt: skip
    _run("encode", febrl_sample / "febrl4_b.csv", "--agency", "b", "--key-file", key,
         "--schema", schema, "-o", tmp_path / "v2.jsonl")  # fmt: skip
    assert _run("link", tmp_path / "v1.jsonl", tmp_path / "v2.jsonl", "-o", tmp_path / "c.csv") == 2
    assert "different schema versions" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing_key", "does not exist"),
        ("short_key", "at least 32"),
        ("empty_csv", "empty"),
        ("missing_column", "lacks required column"),
        ("bad_schema", "unknown"),
        ("bad_context", "CATEGORY=COL"),
    ],
)
def test_encode_bad_input_is_one_line_and_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], febrl_sample: Path, setup: str, message: str
) -> None:
    key, src, out = tmp_path / "key", febrl_sample / "febrl4_a.csv", tmp_path / "out.jsonl"
    extra: list[str | Path] = []
    _run("keygen", "-o", key)
    capsys.readouterr()
    if setup == "missing_key":
        key = tmp_path / "nope"
    elif setup == "short_key":
        key.write_text("crosswalk-linkage-secret v1\n" + "ab" * 8 + "\n")
    elif setup == "empty_csv":
        src = tmp_path / "empty.csv"
        src.write_text("")
    elif setup == "missing_column":
        src = tmp_path / "narrow.csv"
        src.write_text("record_id,given_name\nR1,Ann\n")
    elif setup == "bad_schema":
        schema = tmp_path / "s.toml"
        schema.write_text('[schema]\nname = "x"\nversion = 1\n[fields.shoe_size]\n')
        extra = ["--schema", schema]
    elif setup == "bad_context":
        extra = ["--context", "safety_flags"]
    status = _run("encode", src, "--agency", "a", "--key-file", key, "-o", out, *extra)
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_malformed_encoded_file_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"schema_version": "canonical/2"}\nnot json\n')
    assert _run("link", bad, "-o", tmp_path / "c.csv") == 2
    assert f"{bad}:1" in capsys.readouterr().err


def test_evaluate_prints_quality_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "record_id,given_name,middle_name,family_name,birth_date,sex,street_address,city,"
        "postcode,phone,ssn\n"
        "1,Ann,,Lee,1980-03-07,F,1 Main St,Springfield,62704,,\n"
        "2,Anne,,Lee,1980-03-07,F,1 Main Street,Springfield,62704,,\n"
        "3,Bob,,Okafor,1970-01-02,M,9 Elm Ave,Shelbyville,62565,,\n"
    )
    (folder / "truth.csv").write_text("agency,record_id,person_id\na,1,p1\na,2,p1\na,3,p2\n")
    assert _run("evaluate", "--dataset", folder) == 0
    out = capsys.readouterr().out
    assert "precision" in out
    assert "pair completeness" in out


def test_reviewer_constraints_are_honoured_by_link(febrl_sample: Path, tmp_path: Path) -> None:
    key = tmp_path / "key"
    _run("keygen", "-o", key)
    files = []
    for agency in ("febrl4_a", "febrl4_b"):
        out = tmp_path / f"{agency}.jsonl"
        _run("encode", febrl_sample / f"{agency}.csv", "--agency", agency, "--key-file", key,
             "-o", out)  # fmt: skip
        files.append(out)
    first = tmp_path / "first.csv"
    assert _run("link", *files, "-o", first) == 0
    with first.open() as handle:
        subject = {(r["agency"], r["record_id"]): r["subject_id"] for r in csv.DictReader(handle)}
    linked = next(
        (a, b) for a in subject for b in subject
        if a[0] == "febrl4_a" and b[0] == "febrl4_b" and subject[a] == subject[b]
    )  # fmt: skip
    apart = next(k for k in subject if k[0] == "febrl4_a" and subject[k] != subject[linked[0]])
    constraints = tmp_path / "decisions.csv"
    constraints.write_text(
        "agency_l,record_id_l,agency_r,record_id_r,decision\n"
        f"{linked[0][0]},{linked[0][1]},{linked[1][0]},{linked[1][1]},cannot_link\n"
        f"{linked[0][0]},{linked[0][1]},{apart[0]},{apart[1]},must_link\n"
    )
    second = tmp_path / "second.csv"
    assert _run("link", *files, "-o", second, "--constraints", constraints,
                "--previous", first) == 0  # fmt: skip
    with second.open() as handle:
        after = {(r["agency"], r["record_id"]): r["subject_id"] for r in csv.DictReader(handle)}
    assert after[linked[0]] != after[linked[1]]
    assert after[linked[0]] == after[apart]
