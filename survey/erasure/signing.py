"""Canonical bytes, digests and the signed messages of erasure (no database: the offline
verifier uses this module too).

Every document of erasure (inventory, certificate) is hashed and written as its RFC 8785
canonical JSON (JCS, the ``rfc8785`` package): a verifier can recompute every digest from the
file alone. A signature is Ed25519 over a domain-separated message::

    survey-erasure-v1 NUL request-id NUL role NUL signer NUL digest

where the role is ``officer`` or ``manager`` (approvals of the inventory: the digest is the
inventory's) or ``performed-by`` / ``verified-by`` (the certificate: the digest of what
precedes that signature). No field may contain NUL, so the message names exactly one tuple.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import rfc8785

from survey.crypto import SignatureError, sign, signing_fingerprint, verify_key_of, verify_signature

DOMAIN = "survey-erasure-v1"
APPROVAL_ROLES = ("officer", "manager")
PERFORMED_BY, VERIFIED_BY = "performed-by", "verified-by"
MESSAGE_ROLES = (*APPROVAL_ROLES, PERFORMED_BY, VERIFIED_BY)


def canonical(obj: Any) -> bytes:
    """The RFC 8785 bytes of ``obj`` (what is hashed, and what a certificate file holds)."""
    return rfc8785.dumps(obj)


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical(obj)).hexdigest()


def message(request_id: str, role: str, signer: str, document_digest: str) -> bytes:
    fields = (DOMAIN, request_id, role, signer, document_digest)
    if role not in MESSAGE_ROLES or any(not f or "\x00" in f for f in fields):
        raise SignatureError(
            "署名する内容が不正です。", "Malformed fields for an erasure signature."
        )
    return "\x00".join(fields).encode()


def signature_part(
    seed: bytes, request_id: str, role: str, signer: str, document_digest: str
) -> dict[str, str]:
    """What a certificate carries of one signature: who, with which key, and the signature."""
    public = verify_key_of(seed)
    return {
        "signer": signer,
        "public_key": base64.b64encode(public).decode(),
        "fingerprint": signing_fingerprint(public),
        "signature": base64.b64encode(
            sign(seed, message(request_id, role, signer, document_digest))
        ).decode(),
    }


def b64(text: Any, size: int) -> bytes:
    """Strict base64 of exactly ``size`` bytes, else SignatureError."""
    try:
        raw = base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(
            "鍵または署名の形式が不正です。", "Malformed key or signature."
        ) from exc
    if len(raw) != size or base64.b64encode(raw).decode() != text:
        # Also non-canonical base64 (unused bits set): another text for the same bytes.
        raise SignatureError("鍵または署名の形式が不正です。", "Malformed key or signature.")
    return raw


def check_part(part: Any, request_id: str, role: str, document_digest: str) -> bytes:
    """Check one signature part (key, fingerprint, signature); its public key."""
    if not isinstance(part, dict) or not isinstance(part.get("signer"), str):
        raise SignatureError("署名の記録が不正です。", "A malformed signature entry.")
    public = b64(part.get("public_key"), 32)
    if part.get("fingerprint") != signing_fingerprint(public):
        raise SignatureError(
            "署名鍵の指紋が公開鍵と一致しません。", "A signer's fingerprint does not match the key."
        )
    signature = b64(part.get("signature"), 64)
    verify_signature(public, message(request_id, role, part["signer"], document_digest), signature)
    return public


INVENTORY_FORMAT = "survey-erasure-inventory/v1"
CERTIFICATE_FORMAT = "survey-erasure-certificate/v1"
# Parts of a certificate that are not covered by the performed-by signature: the stage (it
# follows from which parts are present) and the signatures made after it.
UNSIGNED_BY_PERFORMER = ("stage", "performed_by", "confirmation", "verified_by")
UNSIGNED_BY_VERIFIER = ("stage", "verified_by")


def performed_digest(certificate: dict[str, Any]) -> str:
    """What the officer signs as performed-by: everything but the later parts."""
    return digest({k: v for k, v in certificate.items() if k not in UNSIGNED_BY_PERFORMER})


def verified_digest(certificate: dict[str, Any]) -> str:
    """What the manager signs as verified-by: the performed certificate and the confirmation."""
    return digest({k: v for k, v in certificate.items() if k not in UNSIGNED_BY_VERIFIER})
