"""Envelope encryption of context: round trips, bindings, tampering, key parsing."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.hub.context_crypto import (
    PAD_BLOCK,
    ContextCryptoError,
    ContextDecryptionError,
    DataKeyError,
    MasterKeyError,
    decrypt_category,
    decrypt_context,
    encrypt_category,
    encrypt_context,
    master_key_id,
    new_wrapped_data_key,
    parse_master_key,
    rewrap_data_key,
    unwrap_data_key,
    wrap_data_key,
)

MASTER = bytes.fromhex("8f3a1c9e27d4b6055ae1f0c8932d7b4e6a1f5c0d9e8b7a6f5e4d3c2b1a09f8e7")
OTHER_MASTER = bytes.fromhex("1b2e3f4a5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061")
CONTEXT = {
    "safety_flags": {"weapons": "knife in kitchen", "officer_safety_note": "dog on premises"},
    "communication_needs": {"language": "Tagalog", "interpreter": "yes"},
    "substance_use": {"program": "methadone clinic"},
}
SECRET_WORDS = ["knife in kitchen", "dog on premises", "Tagalog", "methadone clinic"]


@pytest.fixture(scope="module")
def data_key() -> bytes:
    return unwrap_data_key(MASTER, new_wrapped_data_key(MASTER, "police"), "police")


def _blobs(data_key: bytes, record_id: str = "CAD-0000001") -> dict[str, bytes]:
    return encrypt_context(data_key, CONTEXT, agency="police", record_id=record_id)


# --- data keys --------------------------------------------------------------------


def test_a_wrapped_data_key_unwraps_for_its_agency_only() -> None:
    wrapped = new_wrapped_data_key(MASTER, "police")
    key = unwrap_data_key(MASTER, wrapped, "police")
    assert len(key) == 32
    assert key not in wrapped
    with pytest.raises(DataKeyError, match="'county_bh'"):
        unwrap_data_key(MASTER, wrapped, "county_bh")
    with pytest.raises(DataKeyError):
        unwrap_data_key(OTHER_MASTER, wrapped, "police")


def test_each_new_data_key_is_fresh() -> None:
    keys = {unwrap_data_key(MASTER, new_wrapped_data_key(MASTER, "ems"), "ems") for _ in range(5)}
    assert len(keys) == 5


def test_rewrapping_under_a_new_master_keeps_the_data_key(data_key: bytes) -> None:
    wrapped = wrap_data_key(MASTER, data_key, "police")
    rewrapped = rewrap_data_key(MASTER, OTHER_MASTER, wrapped, "police")
    assert unwrap_data_key(OTHER_MASTER, rewrapped, "police") == data_key
    with pytest.raises(DataKeyError):
        unwrap_data_key(MASTER, rewrapped, "police")


def test_master_key_ids_name_keys_without_revealing_them() -> None:
    assert master_key_id(MASTER) == master_key_id(MASTER) != master_key_id(OTHER_MASTER)
    assert MASTER.hex()[:16] not in master_key_id(MASTER)


@pytest.mark.parametrize(
    "call",
    [
        lambda: new_wrapped_data_key(b"short", "police"),
        lambda: wrap_data_key(MASTER, b"\x01" * 16, "police"),
        lambda: encrypt_category(b"\x01" * 31, {}, agency="a", record_id="r", category="medical"),
        lambda: decrypt_category(b"\x01" * 33, b"", agency="a", record_id="r", category="medical"),
    ],
    ids=["short-master", "short-data-key", "short-context-key", "long-context-key"],
)
def test_keys_of_the_wrong_length_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ContextCryptoError, match="must be 32 bytes"):
        call()


# --- context ----------------------------------------------------------------------


def test_context_round_trips_one_ciphertext_per_category(data_key: bytes) -> None:
    blobs = _blobs(data_key)
    assert set(blobs) == set(CONTEXT)
    assert decrypt_context(data_key, blobs, agency="police", record_id="CAD-0000001") == CONTEXT


def test_only_the_allowed_categories_are_decrypted(data_key: bytes) -> None:
    blobs = _blobs(data_key)
    blobs["substance_use"] = b"\x01garbage that would fail to decrypt"
    allowed = ["safety_flags", "housing"]  # housing is allowed but absent
    got = decrypt_context(
        data_key, blobs, agency="police", record_id="CAD-0000001", categories=allowed
    )
    assert got == {"safety_flags": CONTEXT["safety_flags"]}


def test_ciphertexts_hide_values_and_differ_each_time(data_key: bytes) -> None:
    first, second = _blobs(data_key), _blobs(data_key)
    for category, blob in first.items():
        assert blob != second[category]
        assert (len(blob) - 1 - 12 - 16) % PAD_BLOCK == 0
        assert not any(word.encode() in blob for word in SECRET_WORDS)


def test_padding_hides_small_length_differences(data_key: bytes) -> None:
    short = encrypt_category(
        data_key, {"n": "a"}, agency="police", record_id="R-1", category="medical"
    )
    longer = encrypt_category(
        data_key, {"n": "a" * 100}, agency="police", record_id="R-1", category="medical"
    )
    assert len(short) == len(longer)


Move = tuple[str, str, str]  # agency, record_id, category to decrypt under


@pytest.mark.parametrize(
    ("agency", "record_id", "category"),
    [
        ("county_bh", "CAD-0000001", "safety_flags"),
        ("police", "CAD-0000002", "safety_flags"),
        ("police", "CAD-0000001", "medical"),
        ("police", "CAD-000000", "1safety_flags"),
    ],
    ids=["other-agency", "other-record", "other-category", "shifted-boundary"],
)
def test_a_ciphertext_moved_to_another_row_fails(
    data_key: bytes, agency: str, record_id: str, category: str
) -> None:
    blob = _blobs(data_key)["safety_flags"]
    with pytest.raises(ContextDecryptionError) as info:
        decrypt_category(data_key, blob, agency=agency, record_id=record_id, category=category)
    assert not any(word in str(info.value) for word in SECRET_WORDS)


def test_another_agencys_data_key_cannot_decrypt(data_key: bytes) -> None:
    other = unwrap_data_key(MASTER, new_wrapped_data_key(MASTER, "police"), "police")
    with pytest.raises(ContextDecryptionError):
        decrypt_context(other, _blobs(data_key), agency="police", record_id="CAD-0000001")


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x01", b"\x02" + bytes(40), bytes(40)],
    ids=["empty", "version-only", "unknown-version", "zero-version"],
)
def test_truncated_or_unknown_format_blobs_fail_cleanly(data_key: bytes, blob: bytes) -> None:
    with pytest.raises(ContextDecryptionError):
        decrypt_category(data_key, blob, agency="police", record_id="R-1", category="medical")


@pytest.mark.parametrize(
    ("context", "match"),
    [
        ({"gossip": {"note": "x"}}, "not a known data category"),
        ({"medical": {"a1c": 7}}, "must map names to text"),
    ],
    ids=["unknown-category", "non-text-value"],
)
def test_encrypting_malformed_context_is_refused_without_echo(
    data_key: bytes, context: dict[str, dict[str, object]], match: str
) -> None:
    with pytest.raises(ContextCryptoError, match=match) as info:
        encrypt_context(data_key, context, agency="police", record_id="R-1")  # type: ignore[arg-type]
    assert "gossip" not in str(info.value)
    assert "a1c" not in str(info.value)


@settings(max_examples=60, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=10_000),
    flip=st.integers(min_value=1, max_value=255),
    category=st.sampled_from(sorted(CONTEXT)),
)
def test_any_altered_byte_is_detected(position: int, flip: int, category: str) -> None:
    key = bytes(range(100, 132))
    blob = bytearray(_blobs(key)[category])
    blob[position % len(blob)] ^= flip
    with pytest.raises(ContextDecryptionError):
        decrypt_category(
            key, bytes(blob), agency="police", record_id="CAD-0000001", category=category
        )


@settings(max_examples=60, deadline=None)
@given(agency=st.text(max_size=20), record_id=st.text(min_size=1, max_size=40))
def test_associated_data_binds_agency_and_record(agency: str, record_id: str) -> None:
    key = bytes(range(100, 132))
    blob = encrypt_category(
        key, {"n": "x"}, agency="police", record_id="CAD-0000001", category="medical"
    )
    if (agency, record_id) == ("police", "CAD-0000001"):
        return
    with pytest.raises(ContextDecryptionError):
        decrypt_category(key, blob, agency=agency, record_id=record_id, category="medical")


@settings(max_examples=40, deadline=None)
@given(fields=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=300), max_size=8))
def test_any_text_context_round_trips(fields: dict[str, str]) -> None:
    key = bytes(range(100, 132))
    blob = encrypt_category(key, fields, agency="ems", record_id="E-1", category="medical")
    assert decrypt_category(key, blob, agency="ems", record_id="E-1", category="medical") == fields


# --- master key parsing -----------------------------------------------------------

_B64 = base64.urlsafe_b64encode(MASTER).decode()


@pytest.mark.parametrize(
    "text",
    [MASTER.hex(), MASTER.hex().upper(), f"  {MASTER.hex()}\n", _B64, _B64.rstrip("=")],
    ids=["hex", "upper-hex", "whitespace", "base64", "base64-unpadded"],
)
def test_master_key_forms_parse(text: str) -> None:
    assert parse_master_key(text) == MASTER


@pytest.mark.parametrize(
    "text",
    [
        "",
        "changeme",
        MASTER.hex()[:62],
        MASTER.hex() + "00",
        base64.urlsafe_b64encode(MASTER[:24]).decode(),
        base64.b64encode(b"\xfb" * 32).decode(),  # standard alphabet, not URL-safe
        "00" * 32,
        "ab" * 32,
        bytes(range(32)).hex(),
        (b"0123456789abcdef" * 2).hex(),
    ],
    ids=[
        "empty",
        "word",
        "short-hex",
        "long-hex",
        "short-b64",
        "std-b64",
        "zeros",
        "repeated",
        "sequence",
        "two-periods",
    ],
)
def test_short_malformed_or_weak_master_keys_are_refused(text: str) -> None:
    with pytest.raises(MasterKeyError) as info:
        parse_master_key(text)
    if len(text) > 8:
        assert text.strip() not in str(info.value)


def test_random_master_keys_parse() -> None:
    for _ in range(50):
        key = os.urandom(32)
        assert parse_master_key(key.hex()) == key
