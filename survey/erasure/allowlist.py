"""Files that may stay in the data folder after an erasure: kinds known to hold no personal
data, each recognised by where it is or what it is, not by its name alone.

- the SQLite database and its ``-wal``, ``-shm`` and ``-journal`` files;
- analysis outputs: dataset exports the audit log records (``file.dataset``) and anything
  under ``analysis/`` (personal-data scopes only: an erasure of the answers lists them);
- answer bundles, recognised by their content (sealed answers, hashes of used codes);
- erasure certificates, recognised by their content; staff key exports and key sheets the
  audit log records (staff names and public keys);
- the demo's staff accounts (``demo/accounts.txt``).

Anything else is reported: a file the system does not know may hold anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from survey.bundles import READABLE_FORMATS
from survey.erasure.destroy import sqlite_path
from survey.erasure.signing import CERTIFICATE_FORMAT
from survey.models import AuditEntry
from survey.settings import Settings

AUDITED = {
    "file.dataset": "analysis",
    "file.staff_keys": "staff_keys",
    "file.staff_key_sheet": "staff_keys",
}


def _audited(session: Session) -> dict[Path, str]:
    rows = session.exec(select(AuditEntry).where(col(AuditEntry.action).in_(list(AUDITED)))).all()
    out = {}
    for entry in rows:
        name = entry.object.get("file")
        if isinstance(name, str):
            out[Path(name).resolve()] = AUDITED[entry.action]
    return out


def _content_kind(path: Path) -> str | None:
    """A bundle or a certificate, by its content."""
    try:
        with path.open("rb") as fh:
            if fh.read(1) not in (b"{", b"["):
                return None
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict):
        body = doc.get("bundle")
        if isinstance(body, dict) and body.get("format") in READABLE_FORMATS:
            return "bundle"
        if doc.get("format") == CERTIFICATE_FORMAT:
            return "certificate"
    return None


def leftovers(session: Session, settings: Settings, engine: Engine, scope: str) -> dict[str, Any]:
    root = settings.data_dir
    database = sqlite_path(engine)
    db_files = (
        {Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")}
        if database
        else set()
    )
    audited = _audited(session)
    answers_kept = scope != "responses"
    allowed: list[dict[str, str]] = []
    unlisted: list[str] = []
    for folder, _dirs, names in os.walk(root):
        for name in sorted(names):
            path = (Path(folder) / name).resolve()
            rel = str((Path(folder) / name).relative_to(root))
            kind: str | None = None
            if path in db_files:
                kind = "database"
            elif rel == os.path.join("demo", "accounts.txt"):
                kind = "demo_accounts"
            elif path in audited and (answers_kept or audited[path] != "analysis"):
                kind = audited[path]
            elif answers_kept and rel.startswith("analysis" + os.sep):
                kind = "analysis"
            else:
                content = _content_kind(path)
                if content == "certificate" or (content == "bundle" and answers_kept):
                    kind = content
            if kind is None:
                unlisted.append(rel)
            else:
                allowed.append({"path": rel, "kind": kind})
    return {"allowed": allowed, "unlisted": unlisted}
