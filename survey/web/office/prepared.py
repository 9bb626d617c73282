"""Files made by long office work (the report, the analysis ZIP), held until downloaded.

The work streams its progress on a page (survey.web.office.streaming) and cannot answer with
the file itself, so it leaves the file here and the page links to it. A file lies under the
data folder's ``analysis/`` (the erasure's inventory knows that place: kept for an erasure of
personal data, listed for an erasure of the answers), in a folder named by the SHA-256 of the
staff session and a random token: only the session that made it can fetch it (several
workers share the folder, not their memory), once; what nobody fetched is removed after an
hour. The audit entry is written when the file is handed out.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survey.settings import Settings
from survey.web.office.auth import Staff

MAX_AGE = 3600.0  # seconds a file waits for its download
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True, slots=True)
class Prepared:
    data: bytes
    filename: str
    media_type: str
    action: str
    detail: dict[str, Any]


def _root(settings: Settings, study: str) -> Path:
    root = settings.data_dir / "analysis" / "office" / study
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def _folder(settings: Settings, study: str, staff: Staff, token: str) -> Path:
    digest = hashlib.sha256(f"{staff.session_id}:{token}".encode()).hexdigest()
    return _root(settings, study) / digest


def _prune(root: Path) -> None:
    now = time.time()
    for folder in root.iterdir():
        if folder.is_dir() and now - folder.stat().st_mtime > MAX_AGE:
            shutil.rmtree(folder, ignore_errors=True)


def work_dir(settings: Settings, study: str) -> Path:
    """A private folder for files being made (removed with :func:`put` or the pruning)."""
    root = _root(settings, study)
    _prune(root)
    folder = root / ("work-" + secrets.token_hex(16))
    folder.mkdir(mode=0o700)
    return folder


def put(settings: Settings, study: str, staff: Staff, prepared: Prepared) -> str:
    """Keep ``prepared`` for ``staff``'s session; returns the token of its download link."""
    token = secrets.token_urlsafe(24)
    folder = _folder(settings, study, staff, token)
    folder.mkdir(mode=0o700)
    (folder / "file").write_bytes(prepared.data)
    meta = {k: getattr(prepared, k) for k in ("filename", "media_type", "action", "detail")}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
    return token


def take(settings: Settings, study: str, staff: Staff, token: str) -> Prepared | None:
    """The file for this session and token, removed as it is taken (None: no such file)."""
    if not TOKEN.match(token):
        return None
    folder = _folder(settings, study, staff, token)
    claimed = folder.with_name(f"{folder.name}-taken-{secrets.token_hex(8)}")
    try:
        folder.rename(claimed)  # atomic: of two requests for one file, one gets it
    except OSError:
        return None
    try:
        meta = json.loads((claimed / "meta.json").read_text())
        data = (claimed / "file").read_bytes()
    except (OSError, ValueError):
        return None
    finally:
        shutil.rmtree(claimed, ignore_errors=True)
    return Prepared(data, meta["filename"], meta["media_type"], meta["action"], meta["detail"])
