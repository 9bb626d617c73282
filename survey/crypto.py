"""All cryptography of the platform, behind one small module with named errors.

Everything comes from libsodium through PyNaCl; nothing here is home-made.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.secret
import nacl.utils

from survey.errors import DataError

KEY_BYTES = nacl.secret.SecretBox.KEY_SIZE  # 32
SEED_BYTES = 32  # 256-bit draw seeds


class CryptoError(DataError):
    """Base class of the named crypto errors."""


class KeyMissingError(CryptoError):
    """A key file that should exist does not."""


class KeyFileError(CryptoError):
    """A key file exists but is not a key (wrong size, unreadable)."""


class DecryptionError(CryptoError):
    """Ciphertext failed authentication: wrong key or altered data."""


# --- key files ---------------------------------------------------------------------------


def create_key_file(path: Path) -> bytes:
    """Write a fresh random 32-byte key, readable by its owner only; refuse to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = nacl.utils.random(KEY_BYTES)
    # O_EXCL: two processes racing to create the key cannot both win and encrypt under
    # different keys; an existing key is never replaced (that would orphan the roster).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def read_key_file(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyMissingError(
            f"鍵ファイルがありません: {path}", f"Key file not found: {path}"
        ) from exc
    except OSError as exc:
        raise KeyFileError(
            f"鍵ファイルを読めません: {path}", f"Cannot read key file: {path} ({exc.strerror})"
        ) from exc
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"鍵ファイルが壊れています（{len(key)} バイト）: {path}",
            f"Key file is not a {KEY_BYTES}-byte key ({len(key)} bytes): {path}",
        )
    return key


def load_or_create_key(path: Path) -> bytes:
    try:
        return create_key_file(path)
    except FileExistsError:
        return read_key_file(path)


# --- symmetric encryption at rest ----------------------------------------------------------


def seal_secret(key: bytes, plaintext: bytes, block: int = 256) -> bytes:
    """Encrypt with XSalsa20-Poly1305 (secretbox) under a random nonce.

    The plaintext is first padded (ISO/IEC 7816-4, libsodium's ``sodium_pad``) to a
    multiple of ``block`` so that ciphertext lengths do not reveal name or address lengths.
    """
    padded = nacl.bindings.sodium_pad(plaintext, block)
    return bytes(nacl.secret.SecretBox(key).encrypt(padded))


def open_secret(key: bytes, sealed: bytes, block: int = 256) -> bytes:
    try:
        padded = nacl.secret.SecretBox(key).decrypt(sealed)
        return bytes(nacl.bindings.sodium_unpad(padded, block))
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise DecryptionError(
            "復号できません（鍵が違うか、データが改ざんされています）。",
            "Decryption failed: wrong key or altered data.",
        ) from exc


# --- hashing ------------------------------------------------------------------------------


def new_seed() -> bytes:
    """A 256-bit seed from the operating system's CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def keyed_hash(key: bytes, message: bytes, size: int = 32) -> bytes:
    """BLAKE2b keyed with ``key``: a pseudo-random function of ``message``.

    hashlib's BLAKE2b gives the same bytes as libsodium's ``crypto_generichash`` (a test
    checks it) and costs a fraction of the per-call overhead, which matters when a
    million-person register is ranked.
    """
    return hashlib.blake2b(message, digest_size=size, key=key).digest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
