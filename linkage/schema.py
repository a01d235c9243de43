"""Linkage schemas: which fields are encoded, from which columns, and how.

A schema is a small TOML file shared by all agencies of a program (it holds no
secret). It maps the agency's CSV columns onto the canonical identifier fields and
sets the encoding parameters of each field: the q-gram length, the Bloom-filter
size and number of hash functions, and which keyed tokens are built. Its
``name`` and ``version`` travel with every encoded record; the hub refuses to
link encodings made under different schema versions.

Example::

    [schema]
    name = "canonical"
    version = 1

    [columns]                 # canonical field -> input column (a list is joined with spaces)
    record_id = "record_id"
    street_address = ["street_number", "address_1", "address_2"]

    [fields.family_name]
    filter_bits = 256
    filter_hashes = 12
    tokens = ["exact", "parts", "phonetic"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from linkage.errors import SchemaError

__all__ = [
    "CANONICAL_COLUMNS",
    "FIELD_TOKENS",
    "IDENTIFIER_FIELDS",
    "FieldSpec",
    "LinkageSchema",
    "default_schema",
    "load_schema",
]

IDENTIFIER_FIELDS: tuple[str, ...] = (
    "given_name",
    "middle_name",
    "family_name",
    "birth_date",
    "sex",
    "street_address",
    "city",
    "postcode",
    "phone",
    "ssn",
)
CANONICAL_COLUMNS: tuple[str, ...] = ("record_id", *IDENTIFIER_FIELDS)

#: Tokens each field can produce; the hub's comparisons and blocking use these names.
FIELD_TOKENS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "given_name": frozenset({"exact", "canonical", "phonetic", "initial", "suffix"}),
        "middle_name": frozenset({"exact", "initial"}),
        "family_name": frozenset({"exact", "parts", "phonetic", "initial", "suffix"}),
        "birth_date": frozenset(
            {"exact", "year", "swapped", "monthday", "year_near", "generation"}
        ),
        "sex": frozenset({"exact"}),
        "street_address": frozenset({"exact", "number"}),
        "city": frozenset({"exact"}),
        "postcode": frozenset({"exact"}),
        "phone": frozenset({"exact"}),
        "ssn": frozenset({"exact", "serial_pair"}),
    }
)

GramStyle = Literal["qgram", "positional", "none"]
_GRAM_STYLE: dict[str, GramStyle] = {
    "birth_date": "positional",
    "postcode": "positional",
    "phone": "positional",
    "ssn": "positional",
    "sex": "none",
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Encoding parameters of one identifier field.

    Attributes:
        name: Canonical field name.
        columns: Input columns whose values (joined by a space) form the field.
        grams: ``qgram`` for text, ``positional`` for fixed-format digit strings
            (each digit keyed with its position), ``none`` for no Bloom filter.
        qgram: q-gram length for ``qgram`` fields (padded at both ends).
        filter_bits: Bloom-filter length in bits before hardening (multiple of 64).
        filter_hashes: Number of keyed hash positions per q-gram.
        tokens: Keyed tokens to build (see :data:`FIELD_TOKENS`).
    """

    name: str
    columns: tuple[str, ...]
    grams: GramStyle
    qgram: int
    filter_bits: int
    filter_hashes: int
    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LinkageSchema:
    """A whole schema: identity, hardening, record-id column and field specs."""

    name: str
    version: int
    record_id_column: str
    hardening: Literal["balance", "none"]
    fields: tuple[FieldSpec, ...]

    @property
    def schema_version(self) -> str:
        """The ``name/version`` string stamped on every encoded record."""
        return f"{self.name}/{self.version}"

    def field(self, name: str) -> FieldSpec:
        """Return the spec of field ``name`` (raises ``KeyError`` if not encoded)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def input_columns(self) -> tuple[str, ...]:
        """Every input column the schema reads, record id first."""
        cols = [self.record_id_column]
        for spec in self.fields:
            cols.extend(c for c in spec.columns if c not in cols)
        return tuple(cols)


def _default_field(name: str) -> FieldSpec:
    grams = _GRAM_STYLE.get(name, "qgram")
    long_text = name in ("street_address", "city")
    return FieldSpec(
        name=name,
        columns=(name,),
        grams=grams,
        qgram=2,
        filter_bits=0 if grams == "none" else (512 if long_text else 256),
        filter_hashes=0 if grams == "none" else (8 if long_text else 12),
        tokens=tuple(sorted(FIELD_TOKENS[name])),
    )


def default_schema() -> LinkageSchema:
    """The canonical-layout schema (``canonical/2``) used when no file is given.

    Version 2 added the birth-date tokens ``year_near`` and ``generation`` and
    the SSN token ``serial_pair`` (approximate dates, relatives a generation
    apart, consecutive SSNs), and refuses placeholder dates (1900-01-01).
    """
    return LinkageSchema(
        name="canonical",
        version=2,
        record_id_column="record_id",
        hardening="balance",
        fields=tuple(_default_field(name) for name in IDENTIFIER_FIELDS),
    )


def load_schema(path: Path) -> LinkageSchema:
    """Read and validate a TOML schema file.

    Raises:
        SchemaError: on unreadable TOML, unknown fields/tokens or bad parameters.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaError(f"schema file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"schema file {path} is not valid TOML: {exc}") from exc
    return parse_schema(data, source=str(path))


def parse_schema(data: dict[str, Any], *, source: str = "<schema>") -> LinkageSchema:
    """Validate a parsed TOML document into a :class:`LinkageSchema`."""
    _reject_unknown(data, {"schema", "columns", "encoding", "fields"}, source, "table")
    head = _table(data, "schema", source)
    name, version = head.get("name"), head.get("version")
    if not isinstance(name, str) or not name.isidentifier():
        raise SchemaError(f"{source}: [schema] name must be an identifier-like string")
    if not isinstance(version, int) or version < 1:
        raise SchemaError(f"{source}: [schema] version must be a positive integer")
    columns = _table(data, "columns", source, required=False)
    _reject_unknown(columns, set(CANONICAL_COLUMNS), source, "column mapping for field")
    encoding = _table(data, "encoding", source, required=False)
    _reject_unknown(encoding, {"hardening", "fields"}, source, "[encoding] key")
    hardening = encoding.get("hardening", "balance")
    if hardening not in ("balance", "none"):
        raise SchemaError(f"{source}: [encoding] hardening must be 'balance' or 'none'")
    enabled = encoding.get("fields", list(IDENTIFIER_FIELDS))
    if not isinstance(enabled, list) or not enabled:
        raise SchemaError(f"{source}: [encoding] fields must be a non-empty list")
    _reject_unknown(dict.fromkeys(enabled), set(IDENTIFIER_FIELDS), source, "encoded field")
    overrides = _table(data, "fields", source, required=False)
    _reject_unknown(overrides, set(enabled), source, "[fields] entry for field")
    specs = tuple(
        _field_spec(f, columns.get(f), overrides.get(f, {}), source)
        for f in IDENTIFIER_FIELDS
        if f in enabled
    )
    record_id = columns.get("record_id", "record_id")
    if not isinstance(record_id, str):
        raise SchemaError(f"{source}: the record_id column must be a single column name")
    return LinkageSchema(name, version, record_id, hardening, specs)


def _field_spec(name: str, column: Any, override: Any, source: str) -> FieldSpec:
    spec = _default_field(name)
    if column is not None:
        cols = (column,) if isinstance(column, str) else column
        if not isinstance(cols, (list, tuple)) or not all(isinstance(c, str) for c in cols):
            raise SchemaError(f"{source}: column mapping of {name} must be a string or list")
        spec = replace(spec, columns=tuple(cols))
    if not isinstance(override, dict):
        raise SchemaError(f"{source}: [fields.{name}] must be a table")
    _reject_unknown(override, {"qgram", "filter_bits", "filter_hashes", "tokens"}, source, name)
    tokens = override.get("tokens", list(spec.tokens))
    if not isinstance(tokens, list):
        raise SchemaError(f"{source}: [fields.{name}] tokens must be a list")
    _reject_unknown(dict.fromkeys(tokens), set(FIELD_TOKENS[name]), source, f"token of {name}")
    spec = replace(
        spec,
        qgram=_int(override, "qgram", spec.qgram, 1, 4, name, source),
        filter_bits=_int(override, "filter_bits", spec.filter_bits, 0, 8192, name, source),
        filter_hashes=_int(override, "filter_hashes", spec.filter_hashes, 0, 64, name, source),
        tokens=tuple(sorted(tokens)),
    )
    if spec.grams != "none" and (spec.filter_bits < 64 or spec.filter_bits % 64):
        raise SchemaError(f"{source}: {name}.filter_bits must be a positive multiple of 64")
    if spec.grams != "none" and spec.filter_hashes < 1:
        raise SchemaError(f"{source}: {name}.filter_hashes must be at least 1")
    return spec


def _int(table: dict[str, Any], key: str, default: int, lo: int, hi: int, f: str, src: str) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise SchemaError(f"{src}: {f}.{key} must be an integer in [{lo}, {hi}]")
    return value


def _table(data: dict[str, Any], key: str, source: str, *, required: bool = True) -> Any:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise SchemaError(f"{source}: missing or malformed [{key}] table")
    return value


def _reject_unknown(table: dict[str, Any], allowed: set[str], source: str, what: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SchemaError(f"{source}: unknown {what} {unknown[0]!r}")
