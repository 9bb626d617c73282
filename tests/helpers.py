"""Test helpers shared across the tree: the test study key, sealing as a browser does, Chromium."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from typing import Any

import nacl.bindings
import nacl.public

from survey.forms.loader import Form
from survey.forms.payload import encode

# A fixed study key pair for tests, so a test can open what was sealed (the real private key
# never exists on a server).
STUDY_PRIVATE_KEY = nacl.public.PrivateKey(hashlib.sha256(b"survey test study key").digest())
STUDY_PUBLIC_KEY = bytes(STUDY_PRIVATE_KEY.public_key)
CANARY = "カナリア回答XYZZY"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def seal(public: bytes, form: Form, answers: dict[str, Any], study: str = "default") -> str:
    """What the browser does, done with PyNaCl: pad to the form's size, seal, base64."""
    padded = nacl.bindings.sodium_pad(encode(study, form, answers), form.padded_size)
    sealed = nacl.public.SealedBox(nacl.public.PublicKey(public)).encrypt(padded)
    return base64.b64encode(bytes(sealed)).decode()


def open_sealed(sealed: bytes, padded_size: int) -> dict[str, Any]:
    """Open a sealed answer with the test study key (what the office will do)."""
    padded = nacl.public.SealedBox(STUDY_PRIVATE_KEY).decrypt(sealed)
    doc: dict[str, Any] = json.loads(bytes(nacl.bindings.sodium_unpad(padded, padded_size)))
    return doc


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


def carry_to_office(engine: Any, settings: Any, out: Any, study: str = "default") -> int:
    """What carries web answers into the office: a bundle exported by the collector and
    imported by the office (one-process mode: both sides in the same database). Returns how
    many answers the office newly holds."""
    from sqlmodel import Session, select

    from survey.collector.export import export_bundle
    from survey.ingest.bundle_import import import_bundle
    from survey.models import Study

    with Session(engine) as session:
        exported = export_bundle(session, settings, study, out)
        session.commit()
    if exported is None:
        return 0
    with Session(engine) as session:
        row = session.exec(select(Study).where(Study.name == study)).one()
        report = import_bundle(session, row, out.read_bytes())
        session.commit()
    return report.added
