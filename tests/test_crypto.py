import nacl.bindings
import nacl.encoding
import nacl.hash
import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.crypto import (
    DecryptionError,
    KeyFileError,
    KeyMissingError,
    create_key_file,
    keyed_hash,
    load_or_create_key,
    read_key_file,
    seal_secret,
)
from survey.decrypt import open_secret


@given(key=st.binary(min_size=16, max_size=64), message=st.binary(max_size=200))
def test_keyed_hash_equals_libsodium_generichash(key: bytes, message: bytes) -> None:
    expected = nacl.hash.blake2b(message, digest_size=32, key=key, encoder=nacl.encoding.RawEncoder)
    assert keyed_hash(key, message) == expected


def test_seal_and_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = create_key_file(tmp_path / "k")
    sealed = seal_secret(key, "髙橋　𠮷".encode())
    assert open_secret(key, sealed).decode() == "髙橋　𠮷"
    assert seal_secret(key, b"x") != seal_secret(key, b"x")  # random nonces
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionError):
        open_secret(key, tampered)


def test_key_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sub" / "k"
    with pytest.raises(KeyMissingError):
        read_key_file(path)
    key = load_or_create_key(path)
    assert load_or_create_key(path) == key  # never replaced
    with pytest.raises(FileExistsError):
        create_key_file(path)
    path.write_bytes(b"short")
    with pytest.raises(KeyFileError):
        read_key_file(path)


def test_padding_hides_small_length_differences() -> None:
    key = bytes(32)
    assert len(seal_secret(key, b"a")) == len(seal_secret(key, b"a" * 200))
    assert nacl.bindings.sodium_unpad(nacl.bindings.sodium_pad(b"abc", 256), 256) == b"abc"
