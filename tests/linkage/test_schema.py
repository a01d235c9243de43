from pathlib import Path

import pytest

from linkage.errors import SchemaError
from linkage.schema import IDENTIFIER_FIELDS, default_schema, load_schema, parse_schema


def test_fixture_canonical_schema_equals_the_built_in_default(fixtures_dir: Path) -> None:
    assert load_schema(fixtures_dir / "schemas" / "canonical.toml") == default_schema()


def test_febrl_schema_maps_and_joins_address_columns(fixtures_dir: Path) -> None:
    schema = load_schema(fixtures_dir / "schemas" / "febrl.toml")
    assert schema.schema_version == "febrl/1"
    assert schema.field("street_address").columns == ("street_number", "address_1", "address_2")
    assert schema.record_id_column == "rec_id"
    assert "sex" not in {f.name for f in schema.fields}


def test_default_schema_encodes_every_identifier_field() -> None:
    assert tuple(f.name for f in default_schema().fields) == IDENTIFIER_FIELDS


BASE = {"schema": {"name": "t", "version": 1}}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"columns": {"nickname": "x"}}, "unknown column mapping for field 'nickname'"),
        ({"fields": {"given_name": {"tokens": ["exact", "soundex"]}}}, "unknown token"),
        ({"fields": {"given_name": {"filter_bits": 100}}}, "multiple of 64"),
        ({"fields": {"given_name": {"filter_hashes": 0}}}, "at least 1"),
        ({"fields": {"given_name": {"colour": 1}}}, "unknown given_name 'colour'"),
        ({"encoding": {"hardening": "xor"}}, "hardening"),
        ({"encoding": {"fields": ["given_name", "shoe_size"]}}, "shoe_size"),
        ({"fields": {"ssn": {}}, "encoding": {"fields": ["given_name"]}}, "'ssn'"),
        ({"surprise": {}}, "unknown table 'surprise'"),
    ],
)
def test_schema_typos_are_named(extra: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        parse_schema({**BASE, **extra})


@pytest.mark.parametrize(
    "head",
    [{}, {"name": "has space", "version": 1}, {"name": "ok", "version": 0}, {"name": "ok"}],
)
def test_schema_identity_is_required(head: dict[str, object]) -> None:
    with pytest.raises(SchemaError):
        parse_schema({"schema": head})


def test_unreadable_schema_files(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        load_schema(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[schema\nname=")
    with pytest.raises(SchemaError, match="not valid TOML"):
        load_schema(bad)
