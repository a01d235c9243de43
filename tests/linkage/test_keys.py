from pathlib import Path

import pytest

from linkage.encode.keys import LinkageSecret, generate_secret, read_secret, write_secret
from linkage.errors import KeyFileError


def test_derived_keys_are_deterministic_and_independent_per_purpose() -> None:
    secret = LinkageSecret(b"\x01" * 32)
    again = LinkageSecret(b"\x01" * 32)
    assert secret.derive("token:given_name") == again.derive("token:given_name")
    assert secret.derive("token:given_name") != secret.derive("token:family_name")
    assert len(secret.derive("filter:city")) == 32


def test_key_id_names_the_secret_without_revealing_it() -> None:
    raw = generate_secret()
    secret = LinkageSecret(raw)
    assert secret.key_id.startswith("k-")
    assert raw.hex() not in secret.key_id
    assert raw.hex() not in repr(secret)
    assert LinkageSecret(generate_secret()).key_id != secret.key_id


def test_short_secret_is_refused() -> None:
    with pytest.raises(KeyFileError, match="at least 32"):
        LinkageSecret(b"x" * 31)


def test_key_file_round_trip_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "key"
    raw = generate_secret(48)
    write_secret(path, raw)
    assert path.stat().st_mode & 0o077 == 0
    assert read_secret(path).key_id == LinkageSecret(raw).key_id


def test_existing_key_file_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "key"
    write_secret(path, generate_secret())
    with pytest.raises(KeyFileError, match="already exists"):
        write_secret(path, generate_secret())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "not a crosswalk key file"),
        ("hello\n", "not a crosswalk key file"),
        ("crosswalk-linkage-secret v1\nzz\n", "hex"),
        ("crosswalk-linkage-secret v1\n" + "ab" * 16 + "\n", "at least 32"),
    ],
)
def test_malformed_key_files_give_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "key"
    path.write_text(content)
    with pytest.raises(KeyFileError, match=message):
        read_secret(path)


def test_missing_and_binary_key_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        read_secret(tmp_path / "nope")
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KeyFileError):
        read_secret(binary)
