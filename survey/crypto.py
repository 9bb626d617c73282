"""The platform's cryptography, with named errors: everything except decryption.

Everything comes from libsodium through PyNaCl; nothing here is home-made. Decryption (the
roster, the study private key, sealed answers) lives apart in :mod:`survey.decrypt`, which the
public collector never imports (tests/web/test_boundaries.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from survey.errors import DataError, UsageError

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


def write_new(path: Path, data: bytes) -> None:
    """Write a new file readable by its owner only, durably; never replace an existing one.

    For everything secret the system writes (key files, the collector file, bundles, demo
    accounts): O_EXCL, so two runs racing cannot both write and none overwrites a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UsageError(
            f"{path} はすでにあります（上書きしません）。", f"{path} exists; not overwritten."
        ) from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


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


# --- the study key pair (answers are sealed to its public key) ---------------------------

STUDY_KEY_FORMAT = "survey-study-key/v1"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})


class WrongPassphraseError(CryptoError):
    """The passphrase does not open the wrapped private key."""


class KeyFormatError(CryptoError):
    """A key or key file is not in the expected format."""


@dataclass(frozen=True, slots=True)
class KdfLimits:
    opslimit: int
    memlimit: int


# Argon2id at libsodium's SENSITIVE limits (4 passes, 1 GiB): the wrapped study key may sit
# on a USB stick for months, so offline guessing must be as expensive as we can afford.
SENSITIVE = KdfLimits(
    nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE, nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE
)
INTERACTIVE = KdfLimits(
    nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
)


def base32(data: bytes) -> str:
    """Crockford base32 of ``data`` (big-endian bit string, zero-padded to whole symbols)."""
    bits = len(data) * 8
    n = int.from_bytes(data, "big") << (-bits % 5)
    count = (bits + 4) // 5
    return "".join(CROCKFORD[(n >> (5 * (count - 1 - i))) & 31] for i in range(count))


def fingerprint(public_key: bytes) -> str:
    """The study key's fingerprint: BLAKE2b-160 of the key in Crockford base32, 8 groups of 4.

    The same on the CLI, the printed slips and the web page (which computes it in the browser
    with libsodium's crypto_generichash from the key it actually encrypts to).
    """
    if len(public_key) != nacl.public.PublicKey.SIZE:
        raise KeyFormatError("公開鍵の長さが違います。", "A public key is 32 bytes.")
    digest = hashlib.blake2b(public_key, digest_size=20).digest()
    text = base32(digest)
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def generate_study_keypair() -> tuple[bytes, bytes]:
    """A fresh X25519 key pair: (public, private)."""
    private = nacl.public.PrivateKey.generate()
    return bytes(private.public_key), bytes(private)


def new_passphrase() -> str:
    """A 125-bit passphrase in five groups of five Crockford symbols (easy to read aloud)."""
    text = base32(secrets.token_bytes(16))[:25]
    return "-".join(text[i : i + 5] for i in range(0, 25, 5))


def wrap_private_key(
    private_key: bytes, passphrase: str, study: str, limits: KdfLimits = SENSITIVE
) -> bytes:
    """The key file: JSON with the KDF parameters, salt and secretbox of the private key."""
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    kek = derive_kek(passphrase, salt, limits.opslimit, limits.memlimit)
    public = bytes(nacl.public.PrivateKey(private_key).public_key)
    doc = {
        "format": STUDY_KEY_FORMAT,
        "study": study,
        "public_key": base64.b64encode(public).decode(),
        "fingerprint": fingerprint(public),
        "kdf": "argon2id13",
        "opslimit": limits.opslimit,
        "memlimit": limits.memlimit,
        "salt": base64.b64encode(salt).decode(),
        "box": base64.b64encode(bytes(nacl.secret.SecretBox(kek).encrypt(private_key))).decode(),
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def read_key_document(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != STUDY_KEY_FORMAT:
            raise ValueError("format")
        if not {"public_key", "salt", "box", "opslimit", "memlimit"} <= doc.keys():
            raise ValueError("fields")
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyFormatError(
            "調査鍵ファイルの形式ではありません。", "Not a study key file."
        ) from exc
    return doc


def normalize_passphrase(passphrase: str) -> str:
    """The passphrase as the KDF sees it.

    NFKC for every passphrase (full-width input is the same passphrase). A passphrase in the
    generated format (25 Crockford symbols) is also read forgivingly, like an access code:
    any case, I/L for 1, O for 0, any separators.
    """
    text: str = unicodedata.normalize("NFKC", passphrase).strip()
    symbols = "".join(ch for ch in text.upper().translate(_CROCKFORD_ALIASES) if ch.isalnum())
    if len(symbols) == 25 and all(ch in CROCKFORD for ch in symbols):
        return "-".join(symbols[i : i + 5] for i in range(0, 25, 5))
    return text


def derive_kek(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return bytes(
        nacl.pwhash.argon2id.kdf(
            KEY_BYTES,
            normalize_passphrase(passphrase).encode(),
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )
    )


def parse_public_key(text: str) -> bytes:
    """A public key as given on the command line: standard base64 (or hex) of 32 bytes."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeyFormatError(
            "公開鍵は32バイトの base64 です。", "A public key is 32 bytes in base64."
        ) from exc
    if len(raw) != nacl.public.PublicKey.SIZE:
        raise KeyFormatError(
            "公開鍵は32バイトの base64 です。", "A public key is 32 bytes in base64."
        )
    check_public_key(raw)
    return raw


def check_public_key(public_key: bytes) -> None:
    """Refuse a key nobody can encrypt to (all zeros, a low-order point): seal a test message."""
    try:
        nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(b"probe")
    except (nacl.exceptions.CryptoError, nacl.exceptions.RuntimeError, ValueError) as exc:
        raise KeyFormatError(
            "この公開鍵には暗号化できません（不正な鍵）。",
            "Nothing can be encrypted to this public key (an invalid point).",
        ) from exc


# --- access codes -------------------------------------------------------------------------


def code_hash(key: bytes, canonical_code: str) -> bytes:
    """How an access code is stored: BLAKE2b keyed with the study's code-hash key.

    Keyed, so that a copy of the database alone does not let anyone test candidate codes;
    the key lives in SURVEY_KEY_DIR, outside the database.
    """
    return keyed_hash(key, canonical_code.encode("ascii"))


# --- signatures (Ed25519): export bundles, later staff signatures --------------------------


class SignatureError(CryptoError):
    """A signature does not verify: wrong key or altered data."""


def new_signing_seed() -> bytes:
    """A fresh Ed25519 seed (32 bytes, the whole private key) from the OS CSPRNG."""
    return bytes(nacl.signing.SigningKey.generate())


def verify_key_of(seed: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def sign(seed: bytes, message: bytes) -> bytes:
    """The detached Ed25519 signature (64 bytes) of ``message``."""
    return bytes(nacl.signing.SigningKey(seed).sign(message).signature)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError) as exc:
        raise SignatureError(
            "署名を検証できません（鍵が違うか、内容が改ざんされています）。",
            "The signature does not verify: wrong key or altered content.",
        ) from exc


def signing_fingerprint(public_key: bytes) -> str:
    """Fingerprint of an Ed25519 public key, in the same format as the study key's."""
    digest = hashlib.blake2b(b"ed25519:" + public_key, digest_size=20).digest()
    text = base32(digest)
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))
