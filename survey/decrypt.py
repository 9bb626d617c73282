"""Decryption, kept apart from :mod:`survey.crypto` so the public collector cannot reach it.

Office side only: opening the roster's secretboxes, unwrapping the study private key with its
passphrase, and (for the analysts) opening sealed answers. The collector package never imports
this module (tests/web/test_boundaries.py fails if it does).
"""

from __future__ import annotations

import base64

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.secret

from survey.crypto import (
    DecryptionError,
    KeyFormatError,
    WrongPassphraseError,
    derive_kek,
    read_key_document,
)


def open_secret(key: bytes, sealed: bytes, block: int = 256) -> bytes:
    """Open :func:`survey.crypto.seal_secret`'s ciphertext and strip its padding."""
    try:
        padded = nacl.secret.SecretBox(key).decrypt(sealed)
        return bytes(nacl.bindings.sodium_unpad(padded, block))
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise DecryptionError(
            "復号できません（鍵が違うか、データが改ざんされています）。",
            "Decryption failed: wrong key or altered data.",
        ) from exc


def unwrap_private_key(data: bytes, passphrase: str) -> nacl.public.PrivateKey:
    """The study private key from its key file; WrongPassphraseError on a wrong passphrase."""
    doc = read_key_document(data)
    try:
        salt, box = base64.b64decode(doc["salt"]), base64.b64decode(doc["box"])
        kek = derive_kek(passphrase, salt, int(doc["opslimit"]), int(doc["memlimit"]))
    except (ValueError, TypeError, nacl.exceptions.RuntimeError) as exc:
        raise KeyFormatError(
            "調査鍵ファイルが壊れています。", "The study key file is damaged."
        ) from exc
    try:
        private = nacl.secret.SecretBox(kek).decrypt(box)
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphraseError(
            "パスフレーズが違います（または鍵ファイルが改ざんされています）。",
            "Wrong passphrase (or the key file was altered).",
        ) from exc
    key = nacl.public.PrivateKey(private)
    if base64.b64encode(bytes(key.public_key)).decode() != doc["public_key"]:
        raise KeyFormatError(
            "鍵ファイルの公開鍵と秘密鍵が一致しません。",
            "The key file's public key does not match.",
        )
    return key


def open_answer(private_key: nacl.public.PrivateKey, sealed: bytes, padded_size: int) -> bytes:
    """A sealed web answer's plaintext payload (``crypto_box_seal_open``, then ``sodium_unpad``)."""
    try:
        padded = nacl.public.SealedBox(private_key).decrypt(sealed)
        return bytes(nacl.bindings.sodium_unpad(padded, padded_size))
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise DecryptionError(
            "回答を復号できません（鍵が違うか、データが改ざんされています）。",
            "The answer cannot be opened: wrong key or altered data.",
        ) from exc
