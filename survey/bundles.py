"""Export bundles: the file format sealed answers travel in from the collector to the office.

A bundle is a file of ``{id, cohort, form, version, day, sealed}`` records, in an order
unrelated to arrival, with a sequence number, the SHA-256 of the previous bundle's body and an
Ed25519 signature by the collector's bundle-signing key. From format v2 it also lists
``consumed``: the keyed hashes of the codes consumed since the previous bundle, sorted by hash
(never in answer order, never paired with an answer), so the office knows which codes the web
used (a paper sheet with one of them is a second answer from the same envelope). The file
crosses an air gap or a sanitising gateway; the office never talks to the collector. Core:
the collector writes bundles (:mod:`survey.collector.export`), the office reads them
(:func:`read_bundle`, which accepts v1 and v2).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from survey.crypto import (
    SignatureError,
    load_or_create_key,
    sign,
    verify_key_of,
    verify_signature,
)
from survey.errors import DataError
from survey.settings import Settings

BUNDLE_FORMAT = "survey-bundle/v2"
READABLE_FORMATS = {"survey-bundle/v1": 1, BUNDLE_FORMAT: 2}
SIGNING_KEY_FILE = "bundle-signing.key"
GENESIS = "0" * 64


def signing_key_path(settings: Settings, study: str) -> Path:
    return settings.study_key_dir(study) / SIGNING_KEY_FILE


def signing_seed(settings: Settings, study: str) -> tuple[bytes, bool]:
    """The collector's bundle-signing key (created on first use); True if just created."""
    path = signing_key_path(settings, study)
    existed = path.exists()
    return load_or_create_key(path), not existed


def canonical(body: dict[str, Any]) -> bytes:
    """The signed bytes: compact, sorted, ASCII-only JSON of the bundle body."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def document(
    seed: bytes,
    study: str,
    sequence: int,
    previous: str,
    day: date,
    records: list[dict[str, Any]],
    consumed: list[bytes],
) -> tuple[bytes, str]:
    """The signed bundle file and its body's SHA-256 (what the next bundle's ``previous`` is)."""
    body = {
        "format": BUNDLE_FORMAT,
        "study": study,
        "sequence": sequence,
        "previous": previous,
        "created_on": day.isoformat(),
        "collector_key": base64.b64encode(verify_key_of(seed)).decode(),
        "records": records,
        # Sorted by hash: the list says which codes were used, never which answer used which.
        "consumed": [base64.b64encode(h).decode() for h in sorted(consumed)],
    }
    signed = canonical(body)
    digest = hashlib.sha256(signed).hexdigest()
    signature = base64.b64encode(sign(seed, signed)).decode()
    doc = {"bundle": body, "sha256": digest, "signature": signature}
    return (json.dumps(doc, ensure_ascii=True, indent=1) + "\n").encode(), digest


class BundleError(DataError):
    """A bundle file that is not a valid, correctly signed bundle."""


def format_version(body: dict[str, Any]) -> int:
    """1 or 2: v1 bundles carry no consumed codes."""
    return READABLE_FORMATS[str(body["format"])]


def read_bundle(data: bytes, trusted: list[bytes]) -> dict[str, Any]:
    """The body of a bundle signed by one of the ``trusted`` collector keys; else BundleError."""
    try:
        doc = json.loads(data)
        body = doc["bundle"]
        if body.get("format") not in READABLE_FORMATS:
            raise ValueError("format")
        signature = base64.b64decode(doc["signature"], validate=True)
        signer = base64.b64decode(body["collector_key"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleError("回答の束の形式ではありません。", "Not an answer bundle.") from exc
    if signer not in trusted:
        raise BundleError(
            "信頼されていない回収サーバーの束です（survey bundle trust で登録してください）。",
            "The bundle is signed by a collector key that is not trusted "
            "(register it with `survey bundle trust`).",
        )
    signed = canonical(body)
    try:
        verify_signature(signer, signed, signature)
    except SignatureError as exc:
        raise BundleError(exc.ja, exc.en) from exc
    if hashlib.sha256(signed).hexdigest() != doc.get("sha256"):
        raise BundleError("束のハッシュが一致しません。", "The bundle's hash does not match.")
    return dict(body)
