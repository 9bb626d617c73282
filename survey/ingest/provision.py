"""Provisioning a separate collector, and the office's trust in its bundle-signing key.

``survey collector export`` (office) writes what a collector needs and nothing more: the study
id, public key and fingerprint, the web-enabled cohorts and the pages' settings, the frozen
form versions (checked against the collector's own definitions on import), code hashes with
their cohort and used flag, and the code-hash key. No roster, no register counts, no answers.
The file is secret (it holds the code-hash key): it travels like the study key, not by email.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from survey.access_codes import CODE_HASH_KEY_FILE, code_hash_key
from survey.crypto import (
    KEY_BYTES,
    fingerprint,
    parse_public_key,
    signing_fingerprint,
    verify_key_of,
)
from survey.errors import DataError, UsageError
from survey.files import write_new
from survey.forms.loader import load_forms
from survey.ingest.bundles import signing_seed
from survey.keys import install_public_key, require_study_key
from survey.models import AccessCode, Draw, FormVersion, Study, TrustedCollector
from survey.settings import Settings
from survey.study import check_name, effective_settings

PROVISION_FORMAT = "survey-collector/v1"
PAGE_SETTINGS = ("title", "title_en", "crisis_lines", "web_cohorts")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def export_provision(session: Session, settings: Settings, study: Study) -> dict[str, Any]:
    key = require_study_key(session, study)
    values = effective_settings(study)
    forms = session.exec(select(FormVersion).where(FormVersion.study_id == study.id)).all()
    if not forms:
        raise DataError(
            "アクセスコードがまだ発行されていません（survey codes を先に）。",
            "No access codes yet: run `survey codes` first.",
        )
    codes = session.exec(select(AccessCode).where(AccessCode.study_id == study.id)).all()
    return {
        "format": PROVISION_FORMAT,
        "study": study.name,
        "public_key": _b64(key.public_key),
        "fingerprint": key.fingerprint,
        "settings": {k: values[k] for k in PAGE_SETTINGS},
        "forms": [
            {"form": f.form_id, "version": f.version, "cohort": f.cohort, "sha256": f.sha256}
            for f in forms
        ],
        "code_hash_key": _b64(code_hash_key(settings, study.name)),
        "codes": [{"hash": _b64(c.hash), "cohort": c.cohort, "used": c.used} for c in codes],
    }


def write_provision(path: Path, doc: dict[str, Any]) -> None:
    write_new(path, json.dumps(doc, ensure_ascii=False, indent=1).encode())


@dataclass(frozen=True, slots=True)
class ProvisionReport:
    study: str
    codes_added: int
    codes_marked_used: int
    signing_public_key: str
    signing_fingerprint: str
    created: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "codes_added": self.codes_added,
            "codes_marked_used": self.codes_marked_used,
            "bundle_signing_key": self.signing_public_key,
            "bundle_signing_fingerprint": self.signing_fingerprint,
            "created": self.created,
        }


def _bad() -> DataError:
    return DataError("回収サーバー用ファイルの形式ではありません。", "Not a collector file.")


def read_provision(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != PROVISION_FORMAT:
            raise ValueError("format")
        missing = {"study", "public_key", "settings", "forms", "code_hash_key", "codes"} - set(doc)
        if missing:
            raise ValueError("fields")
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise _bad() from exc
    return doc


def _install_hash_key(settings: Settings, study: str, key: bytes) -> None:
    path = settings.study_key_dir(study) / CODE_HASH_KEY_FILE
    if path.exists():
        if code_hash_key(settings, study) != key:
            raise DataError(
                "この回収サーバーには別のコード用鍵があります。",
                "This collector already holds a different code-hash key.",
            )
        return
    write_new(path, key)


def import_provision(session: Session, settings: Settings, doc: dict[str, Any]) -> ProvisionReport:
    """Install (or update with new codes) the study on this collector."""
    name = str(doc["study"])
    check_name(name)
    try:
        public = parse_public_key(doc["public_key"])
        hash_key = base64.b64decode(doc["code_hash_key"], validate=True)
        codes = [
            (base64.b64decode(c["hash"]), str(c["cohort"]), bool(c["used"])) for c in doc["codes"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad() from exc
    if len(hash_key) != KEY_BYTES or doc.get("fingerprint") != fingerprint(public):
        raise _bad()
    local = load_forms()
    for f in doc["forms"]:
        mine = local.get((f["form"], int(f["version"])))
        if mine is None or mine.sha256 != f["sha256"]:
            raise DataError(
                f"調査票 {f['form']} v{f['version']} がこの回収サーバーの定義と一致しません"
                "（事務所と同じ版のソフトウェアを入れてください）。",
                f"Form {f['form']} v{f['version']} differs from this collector's definition "
                "(install the same software release as the office).",
            )
    study = session.exec(select(Study).where(Study.name == name)).first()
    created = study is None
    if study is None:
        study = Study(name=name, settings=dict(doc["settings"]), created_on=date.today())
        session.add(study)
        session.flush()
    elif session.exec(select(Draw).where(Draw.study_id == study.id)).first() is not None:
        raise UsageError(
            "このデータベースは事務所側のものです（1プロセス構成では回収サーバーは同じ表を"
            "直接読みます）。",
            "This database is the office's: in one-process mode the collector reads its tables "
            "directly; a separate collector needs its own SURVEY_DATABASE_URL.",
        )
    else:
        study.settings = {**study.settings, **doc["settings"]}
        session.add(study)
    install_public_key(session, study, public)
    _install_hash_key(settings, name, hash_key)
    assert study.id is not None
    for f in doc["forms"]:
        exists = session.exec(
            select(FormVersion).where(
                FormVersion.study_id == study.id,
                FormVersion.form_id == f["form"],
                FormVersion.version == int(f["version"]),
            )
        ).first()
        if exists is None:
            session.add(
                FormVersion(
                    study_id=study.id,
                    form_id=f["form"],
                    version=int(f["version"]),
                    cohort=f["cohort"],
                    sha256=f["sha256"],
                    frozen_on=date.today(),
                )
            )
    known = {
        c.hash: c for c in session.exec(select(AccessCode).where(AccessCode.study_id == study.id))
    }
    added = marked = 0
    for digest, cohort, used in codes:
        row = known.get(digest)
        if row is None:
            session.add(AccessCode(hash=digest, study_id=study.id, cohort=cohort, used=used))
            added += 1
        elif used and not row.used:  # a code is never made usable again
            row.used = True
            session.add(row)
            marked += 1
    session.flush()
    seed, _ = signing_seed(settings, name)
    verify = verify_key_of(seed)
    return ProvisionReport(name, added, marked, _b64(verify), signing_fingerprint(verify), created)


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
    assert study.id is not None
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
