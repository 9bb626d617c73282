"""Installing a study on the collector from the office's collector file.

The file (``survey collector export`` on the office) holds what a collector needs and nothing
more: the study id, public key and fingerprint, the public pages' settings (title, crisis
lines, web cohorts, fieldwork window, the office's contact), the frozen form versions with
their SHA-256 (checked against this collector's own definitions), code hashes with cohort and
used flag, and the code-hash key. Importing a newer file updates the study: new codes are
added, used flags carried over; a used code is never made usable again.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from survey.codes import CODE_HASH_KEY_FILE, code_hash_key
from survey.collector.export import signer_seed
from survey.collector.models import CollectorCode, CollectorStudy
from survey.crypto import (
    KEY_BYTES,
    KeyMissingError,
    fingerprint,
    parse_public_key,
    signing_fingerprint,
    verify_key_of,
    write_new,
)
from survey.errors import DataError, UsageError
from survey.forms.loader import load_forms
from survey.public import PUBLIC_SETTINGS
from survey.settings import Settings, check_study_name

PROVISION_FORMAT = "survey-collector/v1"


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
    """A collector file: the full installation, or an update (``"update": true``) that carries
    no code-hash key and only refreshes an installed study (new codes, used flags, settings)."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != PROVISION_FORMAT:
            raise ValueError("format")
        needed = {"study", "public_key", "settings", "forms", "codes"}
        if not doc.get("update"):
            needed.add("code_hash_key")
        if needed - set(doc):
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


def _check_forms(forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    local = load_forms()
    out = []
    for f in forms:
        mine = local.get((str(f["form"]), int(f["version"])))
        if mine is None or mine.sha256 != f["sha256"]:
            raise DataError(
                f"調査票 {f['form']} v{f['version']} がこの回収サーバーの定義と一致しません"
                "（事務所と同じ版のソフトウェアを入れてください）。",
                f"Form {f['form']} v{f['version']} differs from this collector's definition "
                "(install the same software release as the office).",
            )
        out.append(
            {
                "form": str(f["form"]),
                "version": int(f["version"]),
                "cohort": str(f["cohort"]),
                "sha256": str(f["sha256"]),
            }
        )
    return out


def import_provision(session: Session, settings: Settings, doc: dict[str, Any]) -> ProvisionReport:
    """Install (or update) the study on this collector, in the caller's transaction."""
    name = str(doc["study"])
    check_study_name(name)
    update = bool(doc.get("update"))
    try:
        public = parse_public_key(doc["public_key"])
        hash_key = (
            code_hash_key(settings, name)
            if update
            else base64.b64decode(doc["code_hash_key"], validate=True)
        )
        codes = [
            (base64.b64decode(c["hash"], validate=True), str(c["cohort"]), bool(c["used"]))
            for c in doc["codes"]
        ]
        page = {k: doc["settings"][k] for k in PUBLIC_SETTINGS if k in doc["settings"]}
        forms = _check_forms(list(doc["forms"]))
    except KeyMissingError as exc:
        raise UsageError(
            f"調査 {name} のコード用鍵がこの回収サーバーにありません。先に --update なしの"
            "ファイルで設定してください。",
            f"This collector holds no code-hash key for {name!r}: install it first with a full "
            "collector file (exported without --update).",
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad() from exc
    if len(hash_key) != KEY_BYTES or doc.get("fingerprint") != fingerprint(public):
        raise _bad()
    if any(len(digest) != KEY_BYTES for digest, _, _ in codes):
        raise _bad()
    study = session.get(CollectorStudy, name)
    created = study is None
    if study is None and update:
        raise UsageError(
            f"調査 {name} はまだこの回収サーバーにありません。先に --update なしのファイルで"
            "設定してください。",
            f"Study {name!r} is not installed here: install it first with a full collector "
            "file (exported without --update).",
        )
    if study is None:
        study = CollectorStudy(
            name=name,
            public_key=public,
            fingerprint=fingerprint(public),
            settings=page,
            forms=forms,
            installed_on=date.today(),
        )
    elif study.public_key != public:
        raise UsageError(
            f"調査 {name} には別の調査鍵が設定されています（{study.fingerprint}）。",
            f"Study {name!r} is installed with another study key ({study.fingerprint}).",
        )
    else:
        known = {(f["form"], f["version"]) for f in study.forms}
        study.forms = [*study.forms, *(f for f in forms if (f["form"], f["version"]) not in known)]
        study.settings = page  # the office is the authority on what the pages say
        study.revision += 1
    session.add(study)
    session.flush()
    _install_hash_key(settings, name, hash_key)
    existing = {
        c.hash: c for c in session.exec(select(CollectorCode).where(CollectorCode.study == name))
    }
    added = marked = 0
    for digest, cohort, used in codes:
        row = existing.get(digest)
        # Codes the office marks used (a paper sheet came back) are never reported back to it
        # as used on the web (bundle 0).
        if row is None:
            office = 0 if used else None
            session.add(
                CollectorCode(hash=digest, study=name, cohort=cohort, used=used, bundle=office)
            )
            added += 1
        elif used and not row.used:  # a code is never made usable again
            row.used, row.bundle = True, 0
            session.add(row)
            marked += 1
    session.flush()
    verify = verify_key_of(signer_seed(session, settings, name))
    return ProvisionReport(
        name,
        added,
        marked,
        base64.b64encode(verify).decode(),
        signing_fingerprint(verify),
        created,
    )
