"""Turn one row of plaintext identifiers into an :class:`EncodedRecord`.

This is the agency-side half of the privacy boundary: every identifier is first
normalised (:mod:`linkage.normalize`), then only *keyed* derivatives leave this
module — 64-bit HMAC tokens for blocking and exact comparison, and hardened Bloom
filters (:mod:`linkage.bloom`) for fuzzy comparison. The field keys come from the
linkage secret through HKDF (:mod:`linkage.keys`).

Which tokens a field yields (names used by the hub's comparisons and blocking):

===============  =============================================================
given_name       exact, canonical (nickname → formal names, a list), phonetic,
                 initial, suffix (Jr/Sr/III found in the name)
middle_name      exact, initial
family_name      exact, parts (compound/hyphenated parts, a list), phonetic, suffix
birth_date       exact, year, swapped (day and month unordered), monthday
street_address   exact, number (house number)
others           exact
===============  =============================================================
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import orjson

from linkage import normalize as norm
from linkage.bloom import FieldFilter, positional_grams, qgrams
from linkage.keys import LinkageSecret
from linkage.records import EncodedRecord, Token
from linkage.schema import FieldSpec, LinkageSchema

__all__ = ["FieldStatus", "RecordEncoder"]

FieldStatus = Literal["ok", "missing", "unparseable"]

#: What a field contributes before keying: grams for its filter and token values.
_Plain = tuple[str, dict[str, str | list[str]]]


def _plain_name(name: norm.NormalizedName, kind: str) -> _Plain:
    tokens: dict[str, str | list[str]] = {
        "exact": name.text.replace(" ", ""),
        "phonetic": name.phonetic,
        "initial": name.text[0],
    }
    if kind == "given_name":
        tokens["canonical"] = list(name.canonical_forms)
    elif kind == "family_name":
        tokens["parts"] = list(name.parts)
    if name.suffix:
        tokens["suffix"] = name.suffix
    return name.text, tokens


def _plain_date(day: datetime.date) -> _Plain:
    y, m, d = day.year, day.month, day.day
    return f"{y:04d}{m:02d}{d:02d}", {
        "exact": day.isoformat(),
        "year": str(y),
        "swapped": f"{y}-{min(m, d)}-{max(m, d)}",
        "monthday": f"{m}-{d}",
    }


def _plain_address(text: str) -> _Plain:
    tokens: dict[str, str | list[str]] = {"exact": text}
    first = text.split(" ", 1)[0]
    if first.isdigit():
        tokens["number"] = first
    return text, tokens


def _plain_simple(text: str) -> _Plain:
    return text, {"exact": text}


_NORMALISERS: dict[str, Callable[[str], _Plain | None]] = {
    "given_name": lambda v: _opt(norm.normalize_given_name(v), "given_name"),
    "middle_name": lambda v: _opt(norm.normalize_middle_name(v), "middle_name"),
    "family_name": lambda v: _opt(norm.normalize_family_name(v), "family_name"),
    "birth_date": lambda v: None if (d := norm.normalize_birth_date(v)) is None else _plain_date(d),
    "sex": lambda v: None if (s := norm.normalize_sex(v)) is None else _plain_simple(s),
    "street_address": lambda v: _opt_text(norm.normalize_street_address(v), _plain_address),
    "city": lambda v: _opt_text(norm.normalize_city(v), _plain_simple),
    "postcode": lambda v: _opt_text(norm.normalize_postcode(v), _plain_simple),
    "phone": lambda v: _opt_text(norm.normalize_phone(v), _plain_simple),
    "ssn": lambda v: _opt_text(norm.normalize_ssn(v), _plain_simple),
}


def _opt(name: norm.NormalizedName | None, kind: str) -> _Plain | None:
    return None if name is None else _plain_name(name, kind)


def _opt_text(text: str | None, build: Callable[[str], _Plain]) -> _Plain | None:
    return None if not text else build(text)


#: Middle names share the given-name token key: a middle name recorded as the given
#: name elsewhere ("Michael" for "James Michael") must be comparable across fields.
_TOKEN_KEY_OF = {"middle_name": "given_name"}


#: Fields whose values are nearly unique per person: caching them only costs memory.
_UNCACHED = frozenset({"phone", "ssn"})
_CACHE_LIMIT = 50_000

#: A field's encoded contribution: status, tokens, base64 filter, and the same
#: tokens and filter pre-serialised as JSON members (for the fast line writer).
_Encoded = tuple[FieldStatus, dict[str, Token], str | None, str, str]


@dataclass(frozen=True, slots=True)
class _FieldEncoder:
    spec: FieldSpec
    token_key: bytes
    filter: FieldFilter | None
    cache: dict[str, _Encoded]

    def grams(self, text: str) -> list[str]:
        if self.spec.grams == "positional":
            return positional_grams(text)
        return qgrams(text, self.spec.qgram)


class RecordEncoder:
    """Encodes rows of one agency under one schema and linkage secret.

    Names, dates, cities and postcodes repeat across records, so each field keeps
    a bounded cache from raw value to its finished encoding: a repeated value
    costs one dictionary look-up instead of normalisation, HMACs and a filter.

    Args:
        schema: The linkage schema (fields, columns, filter sizes, tokens).
        secret: The program's linkage secret.
        agency: Name of the agency the rows belong to.
    """

    def __init__(self, schema: LinkageSchema, secret: LinkageSecret, agency: str) -> None:
        self.schema = schema
        self.agency = agency
        self.key_id = secret.key_id
        balance = schema.hardening == "balance"
        self._fields = [
            _FieldEncoder(
                spec,
                secret.derive(f"token:{_TOKEN_KEY_OF.get(spec.name, spec.name)}"),
                None
                if spec.grams == "none"
                else FieldFilter(
                    secret.derive(f"filter:{spec.name}"),
                    spec.filter_bits,
                    spec.filter_hashes,
                    balance=balance,
                ),
                {},
            )
            for spec in schema.fields
        ]
        # Shared keys make tokens comparable across fields: a suffix may sit in either
        # name field, and given and family names are sometimes entered swapped.
        self._shared_keys = {
            "suffix": secret.derive("token:name_suffix"),
            "phonetic": secret.derive("token:name_phonetic"),
        }
        head = {"schema_version": schema.schema_version, "key_id": self.key_id, "agency": agency}
        self._line_head = orjson.dumps(head)[:-1] + b',"record_id":'

    def encode(
        self, record_id: str, values: Mapping[str, str]
    ) -> tuple[EncodedRecord, dict[str, FieldStatus]]:
        """Encode one record.

        Args:
            record_id: The agency's record id (not an identifier of the person).
            values: Raw field values by canonical field name ('' when missing).

        Returns:
            The encoded record and, per field, whether it was ok, missing or unparseable.
        """
        record = EncodedRecord(self.schema.schema_version, self.key_id, self.agency, record_id)
        status: dict[str, FieldStatus] = {}
        for fenc in self._fields:
            state, tokens, filter_b64, _, _ = self._field(fenc, values.get(fenc.spec.name, ""))
            status[fenc.spec.name] = state
            record.tokens.update(tokens)
            if filter_b64 is not None:
                record.filters[fenc.spec.name] = filter_b64
        return record, status

    def encode_line(
        self, record_id: str, values: Mapping[str, str], context_json: bytes, counts: Counter[str]
    ) -> bytes:
        """Encode one record straight to its JSON line (the bulk path).

        Produces exactly what ``encode(...)[0].to_json()`` produces with the given
        context, but joins cached, pre-serialised field fragments instead of
        building and serialising dictionaries: encoding is dominated by repeated
        values, and this path touches each field once.

        Args:
            record_id: The agency's record id.
            values: Raw field values by canonical field name.
            context_json: The record's context, already serialised as a JSON object.
            counts: Incremented with ``"missing:FIELD"`` / ``"unparseable:FIELD"``.
        """
        token_parts: list[str] = []
        filter_parts: list[str] = []
        for fenc in self._fields:
            encoded = self._field(fenc, values.get(fenc.spec.name, ""))
            if encoded[0] != "ok":
                counts[f"{encoded[0]}:{fenc.spec.name}"] += 1
                continue
            if encoded[3]:
                token_parts.append(encoded[3])
            if encoded[4]:
                filter_parts.append(encoded[4])
        return b"".join(
            (
                self._line_head,
                orjson.dumps(record_id),
                b',"tokens":{', ",".join(token_parts).encode(),
                b'},"filters":{', ",".join(filter_parts).encode(),
                b'},"context":', context_json, b"}",
            )
        )  # fmt: skip

    def _field(self, fenc: _FieldEncoder, raw: str) -> _Encoded:
        """The field's encoding of ``raw``, from its cache when the value was seen."""
        encoded = fenc.cache.get(raw)
        if encoded is None:
            encoded = self._encode_value(fenc, raw)
            if len(fenc.cache) < _CACHE_LIMIT and fenc.spec.name not in _UNCACHED:
                fenc.cache[raw] = encoded
        return encoded

    def _encode_value(self, fenc: _FieldEncoder, raw: str) -> _Encoded:
        raw = raw.strip()
        if not raw or norm.is_unknown_marker(raw):
            return "missing", {}, None, "", ""
        plain = _NORMALISERS[fenc.spec.name](raw)
        if plain is None:
            return "unparseable", {}, None, "", ""
        text, token_values = plain
        tokens: dict[str, Token] = {}
        for token_name in fenc.spec.tokens:
            value = token_values.get(token_name)
            if value:
                key_name, key = self._token_key(fenc, token_name)
                tokens[key_name] = _token(key, token_name, value)
        filter_b64 = None
        filter_json = ""
        if fenc.filter is not None:
            filter_b64 = base64.b64encode(fenc.filter.encode(fenc.grams(text))).decode()
            filter_json = f'"{fenc.spec.name}":"{filter_b64}"'
        tokens_json = orjson.dumps(tokens).decode()[1:-1]
        return "ok", tokens, filter_b64, tokens_json, filter_json

    def _token_key(self, fenc: _FieldEncoder, token_name: str) -> tuple[str, bytes]:
        """Output name and key of a token (shared keys where fields must compare)."""
        name = fenc.spec.name
        if token_name == "suffix":  # noqa: S105 - a token kind, not a password
            return "name.suffix", self._shared_keys["suffix"]
        if name in ("given_name", "family_name") and token_name == "phonetic":  # noqa: S105
            return f"{name}.phonetic", self._shared_keys["phonetic"]
        return f"{name}.{token_name}", fenc.token_key


def _token(key: bytes, kind: str, value: str | list[str]) -> Token:
    """Keyed 64-bit token(s): HMAC-SHA256 truncated, hex. Lists stay lists."""
    if isinstance(value, list):
        return sorted({_hmac_hex(key, kind, v) for v in value})
    return _hmac_hex(key, kind, value)


@functools.lru_cache(maxsize=1 << 18)
def _hmac_hex(key: bytes, kind: str, value: str) -> str:
    """One keyed token. Cached: years, month-days, initials and phonetic codes recur
    even when the whole field value (a full date, an address) is new."""
    return hmac.digest(key, f"{kind}\x1f{value}".encode(), hashlib.sha256)[:8].hex()
