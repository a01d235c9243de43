"""Turn one row of plaintext identifiers into an :class:`EncodedRecord`.

This is the agency-side half of the privacy boundary: every identifier is first
normalised (:mod:`linkage.encode.normalize`), then only *keyed* derivatives leave this
module — 64-bit HMAC tokens for blocking and exact comparison, and hardened Bloom
filters (:mod:`linkage.encode.bloom`) for fuzzy comparison. The field keys come from the
linkage secret through HKDF (:mod:`linkage.encode.keys`).

Which tokens a field yields (names used by the hub's comparisons and blocking):

===============  =============================================================
given_name       exact, canonical (nickname → formal names, a list), phonetic,
                 initial, suffix (Jr/Sr/III found in the name)
middle_name      exact, initial
family_name      exact, parts (compound/hyphenated parts, a list), phonetic, suffix
birth_date       exact, year, swapped (day and month unordered), monthday,
                 year_near (the years before and after, as ``year`` tokens: a
                 year ± 1 test for dates estimated from an age), generation
                 (two 20-year grids offset by 10: no shared cell means 20+
                 years apart)
ssn              exact, serial_pair (prefix with serial // 2 and (serial + 1) // 2:
                 consecutive numbers share exactly one)
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import orjson

from linkage.encode import normalize as norm
from linkage.encode.bloom import FieldFilter, positional_grams, qgrams
from linkage.encode.keys import LinkageSecret
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
        "year_near": [str(y - 1), str(y + 1)],
        "generation": [f"a{y // 20}", f"b{(y + 10) // 20}"],
    }


def _plain_ssn(digits: str) -> _Plain:
    prefix, serial = digits[:-4], int(digits[-4:])
    return digits, {
        "exact": digits,
        "serial_pair": [f"{prefix}:{serial // 2}:0", f"{prefix}:{(serial + 1) // 2}:1"],
    }


def _plain_address(text: str) -> _Plain:
    tokens: dict[str, str | list[str]] = {"exact": text}
    first = text.split(" ", 1)[0]
    if first.isdigit():
        tokens["number"] = first
    return text, tokens


def _plain_simple(text: str) -> _Plain:
    return text, {"exact": text}


#: Per field: the normaliser (stripped raw value to a hashable normal form, falsy when
#: unparseable) and what that normal form contributes. Equal normal forms encode equally,
#: which is what lets the bulk path cache encodings per normal form.
_NORMALISERS: dict[str, tuple[Callable[[str], Any], Callable[[Any], _Plain]]] = {
    "given_name": (norm.normalize_given_name, lambda n: _plain_name(n, "given_name")),
    "middle_name": (norm.normalize_middle_name, lambda n: _plain_name(n, "middle_name")),
    "family_name": (norm.normalize_family_name, lambda n: _plain_name(n, "family_name")),
    "birth_date": (norm.normalize_birth_date, _plain_date),
    "sex": (norm.normalize_sex, _plain_simple),
    "street_address": (norm.normalize_street_address, _plain_address),
    "city": (norm.normalize_city, _plain_simple),
    "postcode": (norm.normalize_postcode, _plain_simple),
    "phone": (norm.normalize_phone, _plain_simple),
    "ssn": (norm.normalize_ssn, _plain_ssn),
}

#: Token kinds hashed as another kind, so that they compare with it: a
#: ``year_near`` value is the ``year`` token of the neighbouring year.
_HASH_KIND = {"year_near": "year"}

#: Middle names share the given-name token key: a middle name recorded as the given
#: name elsewhere ("Michael" for "James Michael") must be comparable across fields.
_TOKEN_KEY_OF = {"middle_name": "given_name"}

#: Entries per value cache; a full cache is emptied and refills with what recurs.
_CACHE_LIMIT = 1 << 17

#: A field's contribution to a JSON line: the report key when the field is missing or
#: unparseable (``"missing:city"``, else ``""``), its tokens as JSON object members and
#: its filter as one JSON member (each ``""`` when there are none).
_Fragments = tuple[str, str, str]


class _TokenHasher:
    """Tokens of one kind under one key: ``_hmac_hex(key, kind, value)``, faster.

    HMAC is ``H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m))`` (RFC 2104); the two padded key
    blocks are hashed once here and their states copied per token, which halves the
    cost of ``hmac.digest`` (that re-keys on every call). Kinds that recur even when
    the field value is new (years, initials, phonetic codes) are also cached.
    """

    __slots__ = ("_cache", "_inner", "_outer", "_prefix")

    def __init__(self, key: bytes, kind: str) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > _SHA256_BLOCK else key).ljust(
            _SHA256_BLOCK, b"\0"
        )
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._prefix = f"{kind}\x1f"
        # A value's exact token recurs only with the value, which the field caches hold.
        self._cache: dict[str, str] | None = None if kind == "exact" else {}

    def __call__(self, value: str) -> str:
        cache = self._cache
        if cache is not None and (token := cache.get(value)) is not None:
            return token
        inner = self._inner.copy()
        inner.update((self._prefix + value).encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        token = outer.digest()[:8].hex()
        if cache is not None:
            _remember(cache, value, token)
        return token


_SHA256_BLOCK = 64


@dataclass(frozen=True, slots=True)
class _TokenPlan:
    kind: str  # token kind in the schema, e.g. "phonetic"
    output: str  # name in the encoded record, e.g. "given_name.phonetic"
    key: bytes
    json_name: str  # ``output`` as a JSON object member name, with the colon
    hasher: _TokenHasher


@dataclass(frozen=True, slots=True)
class _FieldEncoder:
    spec: FieldSpec
    normalise: Callable[[str], Any]
    plain: Callable[[Any], _Plain]
    tokens: tuple[_TokenPlan, ...]
    filter: FieldFilter | None
    missing: _Fragments
    unparseable: _Fragments
    raw_cache: dict[str, _Fragments] = field(default_factory=dict)
    normal_cache: dict[Any, _Fragments] = field(default_factory=dict)

    def grams(self, text: str) -> list[str]:
        if self.spec.grams == "positional":
            return positional_grams(text)
        return qgrams(text, self.spec.qgram)

    def normal_form(self, raw: str) -> tuple[FieldStatus, Any]:
        """Status of a raw value and, when ok, its normal form."""
        raw = raw.strip()
        if not raw or norm.is_unknown_marker(raw):
            return "missing", None
        normal = self.normalise(raw)
        return ("ok", normal) if normal else ("unparseable", None)


class RecordEncoder:
    """Encodes rows of one agency under one schema and linkage secret.

    :meth:`encode` is the reference: it builds the record field by field from the
    normalisers, the keyed tokens and :meth:`FieldFilter.encode`. The bulk path
    (:meth:`encode_line`) must produce the same JSON, byte for byte, faster: names,
    dates, cities and postcodes repeat across records, so each field keeps bounded
    caches from raw value and from normal form (``"ROGERS "`` and ``"Rogers"``, or
    ``04/12/1956`` and ``1956-04-12``, are one normal form) to the field's finished
    JSON fragments. A repeated value costs a dictionary look-up instead of
    normalisation, HMACs and a filter; a new one reuses cached word masks.

    Args:
        schema: The linkage schema (fields, columns, filter sizes, tokens).
        secret: The program's linkage secret.
        agency: Name of the agency the rows belong to.
    """

    def __init__(self, schema: LinkageSchema, secret: LinkageSecret, agency: str) -> None:
        self.schema = schema
        self.agency = agency
        self.key_id = secret.key_id
        self._fields = [_field_encoder(spec, schema, secret) for spec in schema.fields]
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
            state, normal = fenc.normal_form(values.get(fenc.spec.name, ""))
            status[fenc.spec.name] = state
            if state != "ok":
                continue
            text, token_values = fenc.plain(normal)
            for plan in fenc.tokens:
                value = token_values.get(plan.kind)
                if value:
                    kind = _HASH_KIND.get(plan.kind, plan.kind)
                    record.tokens[plan.output] = _token(plan.key, kind, value)
            if fenc.filter is not None:
                filter_bytes = fenc.filter.encode(fenc.grams(text))
                record.filters[fenc.spec.name] = base64.b64encode(filter_bytes).decode()
        return record, status

    def encode_line(
        self, record_id: str, values: Mapping[str, str], context_json: bytes, counts: Counter[str]
    ) -> bytes:
        """Encode one record straight to its JSON line (the bulk path).

        Produces exactly what ``encode(...)[0].to_json()`` produces with the given
        context, but joins cached, pre-serialised field fragments instead of
        building and serialising dictionaries. (Should both name fields carry a
        suffix, ``name.suffix`` appears twice here; JSON readers keep the last,
        which is the one ``encode`` keeps.)

        Args:
            record_id: The agency's record id.
            values: Raw field values by canonical field name.
            context_json: The record's context, already serialised as a JSON object.
            counts: Incremented with ``"missing:FIELD"`` / ``"unparseable:FIELD"``.
        """
        return self.encode_values(
            record_id, [values.get(f.spec.name, "") for f in self._fields], context_json, counts
        )

    def encode_values(
        self, record_id: str, values: Sequence[str], context_json: bytes, counts: Counter[str]
    ) -> bytes:
        """:meth:`encode_line` with the raw values in schema field order."""
        token_parts: list[str] = []
        filter_parts: list[str] = []
        for fenc, raw in zip(self._fields, values, strict=True):
            problem, tokens_json, filter_json = fenc.raw_cache.get(raw) or _fragments(fenc, raw)
            if problem:
                counts[problem] += 1
                continue
            if tokens_json:
                token_parts.append(tokens_json)
            if filter_json:
                filter_parts.append(filter_json)
        return b"".join(
            (
                self._line_head,
                orjson.dumps(record_id),
                b',"tokens":{', ",".join(token_parts).encode(),
                b'},"filters":{', ",".join(filter_parts).encode(),
                b'},"context":', context_json, b"}",
            )
        )  # fmt: skip


def _field_encoder(spec: FieldSpec, schema: LinkageSchema, secret: LinkageSecret) -> _FieldEncoder:
    """Keys, filter and token plan of one field."""
    normalise, plain = _NORMALISERS[spec.name]
    field_key = secret.derive(f"token:{_TOKEN_KEY_OF.get(spec.name, spec.name)}")
    # Shared keys make tokens comparable across fields: a suffix may sit in either
    # name field, and given and family names are sometimes entered swapped.
    plans = []
    for kind in spec.tokens:
        output, key = f"{spec.name}.{kind}", field_key
        if kind == "suffix":
            output, key = "name.suffix", secret.derive("token:name_suffix")
        elif kind == "phonetic" and spec.name in ("given_name", "family_name"):
            key = secret.derive("token:name_phonetic")
        json_name = orjson.dumps(output).decode() + ":"
        hasher = _TokenHasher(key, _HASH_KIND.get(kind, kind))
        plans.append(_TokenPlan(kind, output, key, json_name, hasher))
    filter_ = None
    if spec.grams != "none":
        filter_key = secret.derive(f"filter:{spec.name}")
        balance = schema.hardening == "balance"
        filter_ = FieldFilter(filter_key, spec.filter_bits, spec.filter_hashes, balance=balance)
    missing, unparseable = (f"missing:{spec.name}", "", ""), (f"unparseable:{spec.name}", "", "")
    return _FieldEncoder(spec, normalise, plain, tuple(plans), filter_, missing, unparseable)


def _fragments(fenc: _FieldEncoder, raw: str) -> _Fragments:
    """The field's JSON fragments for ``raw`` (not in the raw-value cache), then cached."""
    state, normal = fenc.normal_form(raw)
    if state != "ok":
        fragments = fenc.missing if state == "missing" else fenc.unparseable
    else:
        fragments = fenc.normal_cache.get(normal) or _remember(
            fenc.normal_cache, normal, _build_fragments(fenc, normal)
        )
    return _remember(fenc.raw_cache, raw, fragments)


def _build_fragments(fenc: _FieldEncoder, normal: Any) -> _Fragments:
    """Serialise a field's tokens and filter as ``encode`` + ``to_json`` would."""
    text, token_values = fenc.plain(normal)
    members = []
    for plan in fenc.tokens:
        value = token_values.get(plan.kind)
        if not value:
            continue
        if isinstance(value, list):
            hexes = sorted({plan.hasher(v) for v in value})
            members.append(plan.json_name + '["' + '","'.join(hexes) + '"]')
        else:
            members.append(plan.json_name + '"' + plan.hasher(value) + '"')
    filter_json = ""
    if fenc.filter is not None:
        if fenc.spec.grams == "positional":
            filter_b64 = fenc.filter.encode_positional(text)
        else:
            filter_b64 = fenc.filter.encode_text(text, fenc.spec.qgram)
        filter_json = f'"{fenc.spec.name}":"{filter_b64}"'
    return "", ",".join(members), filter_json


_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


def _remember(cache: dict[_Key, _Value], key: _Key, value: _Value) -> _Value:
    """Store in a bounded cache, emptying it when full (what recurs comes back)."""
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


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
