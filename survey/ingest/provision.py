"""Provisioning the collector from the office, and the office's trust in its signing key.

``survey collector export`` writes what a separate collector needs and nothing more (see
:mod:`survey.collector.install`, which reads it): no roster, no register counts, no answers.
The file is secret (it holds the code-hash key): it travels like the study key, not by email.

In one-process mode (demo, small sites) the collector's tables sit in the office's database:
``survey collector install`` installs the study there through the very same import, trusts
the local collector's signing key, and from then on every change the collector must know of
(new codes, the public settings) is carried over in the same transaction
(:func:`refresh_local`).
"""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from survey.codes import code_hash_key
from survey.collector.install import PROVISION_FORMAT, ProvisionReport, import_provision
from survey.collector.models import CollectorStudy
from survey.crypto import signing_fingerprint, write_new
from survey.errors import DataError, UsageError
from survey.keys import require_study_key
from survey.models import AccessCode, FormVersion, Study, TrustedCollector
from survey.public import PUBLIC_SETTINGS
from survey.settings import Settings
from survey.study import effective_settings


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def export_provision(
    session: Session, settings: Settings, study: Study, update: bool = False
) -> dict[str, Any]:
    """The collector file; ``update``: without the code-hash key, for a collector installed
    already (new codes, codes used on paper, changed settings)."""
    key = require_study_key(session, study)
    values = effective_settings(study)
    forms = session.exec(select(FormVersion).where(FormVersion.study_id == study.id)).all()
    if not forms:
        raise DataError(
            "アクセスコードがまだ発行されていません（survey codes を先に）。",
            "No access codes yet: run `survey codes` first.",
        )
    codes = session.exec(select(AccessCode).where(AccessCode.study_id == study.id)).all()
    doc: dict[str, Any] = {
        "format": PROVISION_FORMAT,
        "study": study.name,
        "public_key": _b64(key.public_key),
        "fingerprint": key.fingerprint,
        "settings": {k: values[k] for k in PUBLIC_SETTINGS},
        "forms": [
            {"form": f.form_id, "version": f.version, "cohort": f.cohort, "sha256": f.sha256}
            for f in forms
        ],
        "codes": [{"hash": _b64(c.hash), "cohort": c.cohort, "used": c.used} for c in codes],
    }
    if update:
        doc["update"] = True
    else:
        doc["code_hash_key"] = _b64(code_hash_key(settings, study.name))
    return doc


def write_provision(path: Path, doc: dict[str, Any]) -> None:
    write_new(path, json.dumps(doc, ensure_ascii=False, indent=1).encode())


def install_local(session: Session, settings: Settings, study: Study) -> ProvisionReport:
    """Install (or update) the study in this database's own collector tables (one process)."""
    report = import_provision(session, settings, export_provision(session, settings, study))
    # The installation trusts its own collector: its bundles are imported like any other.
    trust_collector(session, study, report.signing_public_key)
    return report


def local_collector(session: Session, study: Study) -> bool:
    """Whether this database's collector tables serve the study (one-process mode)."""
    return session.get(CollectorStudy, study.name) is not None


def refresh_local(session: Session, settings: Settings, study: Study) -> ProvisionReport | None:
    """Carry the office's changes to a collector installed in this database, if there is one."""
    if not local_collector(session, study):
        return None
    return install_local(session, settings, study)


def trust_collector(session: Session, study: Study, key_text: str) -> TrustedCollector:
    """Accept bundles signed by this collector key (base64 of the Ed25519 public key)."""
    try:
        raw = base64.b64decode(key_text.strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UsageError(
            "回収サーバーの署名鍵は32バイトの base64 です。",
            "A collector signing key is 32 bytes in base64.",
        )
    if study.id is None:
        raise DataError("調査が保存されていません。", "The study is not stored yet.")
    existing = session.exec(
        select(TrustedCollector).where(
            TrustedCollector.study_id == study.id, TrustedCollector.public_key == raw
        )
    ).first()
    if existing is not None:
        return existing
    row = TrustedCollector(
        study_id=study.id,
        public_key=raw,
        fingerprint=signing_fingerprint(raw),
        trusted_on=date.today(),
    )
    session.add(row)
    session.flush()
    return row


def trusted_keys(session: Session, study: Study) -> list[bytes]:
    rows = session.exec(select(TrustedCollector).where(TrustedCollector.study_id == study.id))
    return [r.public_key for r in rows]
