"""Helpers every office page uses: the staff member, rendering, form fields, downloads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.response import File, Template
from sqlmodel import Session, select

from survey.models import Study
from survey.web.office.auth import Office, Staff, require_staff
from survey.web.office.forms import posted_of

OFFICER, MANAGER, ANALYST, ADMIN = "officer", "manager", "analyst", "admin"
ANY_STAFF = (OFFICER, MANAGER, ANALYST, ADMIN)

Req = Request[Any, Any, Any]

# An absolute path in a message (a file that exists, say): ASCII segments after a slash.
_PATH = re.compile(r"(?<![\w.:/])/[\w.\-]+(?:/[\w.\-]*)+")
HIDDEN_PATH = "（サーバー上のファイル）"


def without_paths(message: str, office: Office) -> str:
    """A message to show on a page, with every server path taken out: where the data and
    key folders are is no business of the browser (the command line shows paths, the office
    never does)."""
    for root in (office.settings.data_dir, office.settings.key_dir):
        message = re.sub(re.escape(str(root)) + r"[^\s「」（）、。]*", HIDDEN_PATH, message)
    return _PATH.sub(HIDDEN_PATH, message)


def office_of(state: State) -> Office:
    office: Office = state.office
    return office


def page(request: Req, template: str, status_code: int = 200, **context: Any) -> Template:
    staff = require_staff(request)
    if context.get("error"):
        context["error"] = without_paths(str(context["error"]), request.app.state.office)
    return Template(
        template_name=template, context={"staff": staff, **context}, status_code=status_code
    )


def form_of(request: Req) -> tuple[Staff, dict[str, str]]:
    """The staff member and the posted form's fields (parsed, and its CSRF token checked, by
    the role guard before the handler ran)."""
    return require_staff(request), posted_of(request).fields


def find_study(session: Session, name: str) -> Study:
    study = session.exec(select(Study).where(Study.name == name)).first()
    if study is None:
        raise NotFoundException(f"調査 {name} はありません。")
    return study


def download(path: Path, media_type: str) -> File:
    return File(
        path=path, filename=path.name, media_type=media_type, content_disposition_type="attachment"
    )
