"""Erasure pages: the officer requests and signs, a manager reviews the inventory in
Japanese and signs, the officer executes (a streamed page), the manager confirms; the
certificates download as JSON (the original) and PDF. Every signing step asks for the
password again: it both re-authenticates and opens the signer's own key.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import anyio
from litestar import get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Stream, Template
from sqlmodel import Session, col, select

from survey import accounts
from survey.erasure import execution, labels, present, requests
from survey.erasure.verify import parse_canonical
from survey.errors import SurveyError
from survey.models import ErasureRequest, StaffUser, Study
from survey.web.office.auth import Office, Staff, reauthenticate
from survey.web.office.common import MANAGER, OFFICER, Req, find_study, form_of, office_of, page
from survey.web.office.forms import posted_of
from survey.web.office.streaming import Report, streamed

VENDOR_LIMIT = 20 * 1024 * 1024  # a scanned, signed confirmation from the printing vendor
DOWNLOADS = {
    "certificate.json": ("certificate", "application/json"),
    "certificate.pdf": ("certificate", "application/pdf"),
    "confirmed.json": ("confirmed_certificate", "application/json"),
    "confirmed.pdf": ("confirmed_certificate", "application/pdf"),
}
STATUS = {
    "requested": "署名待ち",
    "executing": "実施中（中断したときは実施をやり直すと再開します）",
    "executed": "実施済み（責任者の確認待ち）",
    "confirmed": "実施済み・責任者が確認済み",
}


def _names(session: Session) -> dict[int | None, str]:
    return {u.id: u.name for u in session.exec(select(StaffUser)).all()}


@get("/studies/{name:str}/erasure", opt={"roles": (OFFICER, MANAGER)}, sync_to_thread=True)
def erasure_list(request: Req, state: State, name: FromPath[str]) -> Template:
    with office_of(state).read() as session:
        study = find_study(session, name)
        rows = session.exec(
            select(ErasureRequest)
            .where(ErasureRequest.study_id == study.id)
            .order_by(col(ErasureRequest.requested_at).desc())
        ).all()
        names = _names(session)
    return page(
        request, "erasure_list.html", study=study, rows=rows, names=names, status=STATUS,
        scopes=labels.SCOPES, limit_mb=VENDOR_LIMIT // (1024 * 1024),
    )  # fmt: skip


@post(
    "/studies/{name:str}/erasure",
    opt={"roles": (OFFICER,)},
    status_code=303,
    request_max_body_size=VENDOR_LIMIT + 64 * 1024,
)
async def create_request(request: Req, state: State, name: FromPath[str]) -> Redirect:
    staff = form_of(request)[0]
    posted = posted_of(request)
    office = office_of(state)
    vendor = None
    if posted.files and posted.files[0][1]:
        filename, data = posted.files[0]
        vendor = {
            "name": filename[:100],
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }

    def work() -> str:
        with office.write() as session:
            study = find_study(session, name)
            user = accounts.require_user(session, staff.name)
            scope = posted.fields.get("scope", "personal")
            row = requests.create(
                session, office.settings, study, scope, user, staff.actor, office.clock(), vendor
            )
            return row.id

    try:
        request_id = await anyio.to_thread.run_sync(work)
    except SurveyError as exc:
        raise ClientException(exc.ja) from exc
    return Redirect(f"/office/erasure/{request_id}", status_code=303)


def _may_sign(session: Session, row: ErasureRequest, staff: Staff) -> str | None:
    """Why this member cannot sign now (None: they can)."""
    user = accounts.require_user(session, staff.name)
    try:
        role = requests.signing_role(user)
    except SurveyError as exc:
        return exc.ja
    refusal = requests.signer_refusal(session, user, role)
    if refusal is not None:
        return refusal.ja
    done = requests.signatures(session, row)
    if any(s.user_id == user.id for s in done):
        return "あなたはすでに署名しました。"
    if any(s.role == role for s in done):
        return "この役割の署名はすでにあります。"
    if role == "manager" and not done:
        return "先に担当者が署名します。"
    return None


def _context(office: Office, staff: Staff, request_id: str) -> dict[str, Any]:
    with office.read() as session:
        row = requests.get_request(session, request_id)
        study = session.get(Study, row.study_id)
        names = _names(session)
        signed = [(s, names.get(s.user_id, "?")) for s in requests.signatures(session, row)]
        may_sign = _may_sign(session, row, staff) if row.status == "requested" else None
    inventory = row.inventory
    stored = row.confirmed_certificate or row.certificate
    certificate = parse_canonical(stored) if stored else None
    return {
        "row": row,
        "study": study,
        "inventory": inventory,
        "scope_ja": labels.SCOPES[row.scope][0],
        "tables": present.tables(inventory),
        "files": present.files(inventory, office.settings.data_dir),
        "keys": present.keys(inventory),
        "kept": present.kept(row.scope),
        "signed": signed,
        "requester": names.get(row.requested_by, "?"),
        "may_sign": may_sign,
        "status": STATUS[row.status],
        "checklist": [(k, labels.CHECKLIST[k]) for k in labels.CHECKLIST_BY_SCOPE[row.scope]],
        "certificate": certificate,
        "check_lines": present.check_lines(certificate["verification"]["checks"])
        if certificate
        else [],
        "not_covered": [labels.NOT_COVERED[i][0] for i in labels.NOT_COVERED_BY_SCOPE[row.scope]],
    }


def _request_page(
    request: Req, state: State, request_id: str, error: str | None = None
) -> Template:
    office = office_of(state)
    staff: Staff = request.scope["state"]["staff"]
    try:
        context = _context(office, staff, request_id)
    except SurveyError as exc:
        raise NotFoundException(exc.ja) from exc
    return page(request, "erasure.html", status_code=400 if error else 200, error=error, **context)


@get("/erasure/{request_id:str}", opt={"roles": (OFFICER, MANAGER)}, sync_to_thread=True)
def erasure_request(request: Req, state: State, request_id: FromPath[str]) -> Template:
    return _request_page(request, state, request_id)


@post("/erasure/{request_id:str}/sign", opt={"roles": (OFFICER, MANAGER)}, status_code=303)
async def sign(request: Req, state: State, request_id: FromPath[str]) -> Redirect | Template:
    staff, form = form_of(request)
    office = office_of(state)
    password = form.get("password", "")
    await anyio.to_thread.run_sync(reauthenticate, office, staff, password, "消去の署名")

    def work() -> None:
        with office.write() as session:
            row = requests.get_request(session, request_id)
            user = accounts.require_user(session, staff.name)
            requests.sign_request(
                session, office.settings, row, user, password, staff.actor, office.clock()
            )

    try:
        await anyio.to_thread.run_sync(work)
    except SurveyError as exc:
        return await anyio.to_thread.run_sync(_request_page, request, state, request_id, exc.ja)
    return Redirect(f"/office/erasure/{request_id}", status_code=303)


@post("/erasure/{request_id:str}/execute", opt={"roles": (OFFICER,)}, status_code=200)
async def execute(request: Req, state: State, request_id: FromPath[str]) -> Stream:
    """Execute, streaming each step; the certificate is stored and offered for download."""
    staff, form = form_of(request)
    office = office_of(state)
    password = form.get("password", "")
    await anyio.to_thread.run_sync(reauthenticate, office, staff, password, "消去の実施")
    checklist = [k for k in labels.CHECKLIST if form.get(f"check_{k}")]

    def work(report: Report) -> str:
        data = execution.execute(
            office.engine, office.settings, request_id, staff.name, password, staff.actor,
            checklist, clock=office.clock, progress=report,
        )  # fmt: skip
        doc = parse_canonical(data)
        passed = doc["verification"]["passed"]
        verdict = (
            '<p class="ok" role="status">消去を実施しました。漏れの確認: 問題なし。</p>'
            if passed
            else '<p class="error" role="alert">消去を実施しました。漏れの確認で問題が'
            "見つかりました（証明書に記載）。</p>"
        )
        base = f"/office/erasure/{request_id}"
        return (
            verdict + f'<p>証明書: <a href="{base}/certificate.json">JSON（正本）</a>・'
            f'<a href="{base}/certificate.pdf">PDF</a>。次に責任者が確認します。</p>'
        )

    return streamed(
        request,
        office,
        "消去の実施",
        f"/office/erasure/{request_id}",
        work,
        "消去の依頼の画面へ戻る",
    )


@post("/erasure/{request_id:str}/confirm", opt={"roles": (MANAGER,)}, status_code=303)
async def confirm(request: Req, state: State, request_id: FromPath[str]) -> Redirect | Template:
    staff, form = form_of(request)
    office = office_of(state)
    password = form.get("password", "")
    await anyio.to_thread.run_sync(reauthenticate, office, staff, password, "消去の確認")

    def work() -> None:
        execution.confirm(
            office.engine, office.settings, request_id, staff.name, password, staff.actor,
            office.clock,
        )  # fmt: skip

    try:
        await anyio.to_thread.run_sync(work)
    except SurveyError as exc:
        return await anyio.to_thread.run_sync(_request_page, request, state, request_id, exc.ja)
    return Redirect(f"/office/erasure/{request_id}", status_code=303)


@get(
    "/erasure/{request_id:str}/{filename:str}",
    opt={"roles": (OFFICER, MANAGER)},
    sync_to_thread=True,
)
def download(state: State, request_id: FromPath[str], filename: FromPath[str]) -> Response[bytes]:
    if filename not in DOWNLOADS:
        raise NotFoundException("そのファイルはありません。")
    column, media = DOWNLOADS[filename]
    with office_of(state).read() as session:
        row = session.get(ErasureRequest, request_id)
        data = getattr(row, column) if row is not None else None
    if data is None:
        raise NotFoundException("証明書はまだありません。")
    if filename.endswith(".pdf"):
        from survey.erasure.pdf import render

        buffer = io.BytesIO()
        render(buffer, data)
        data = buffer.getvalue()
    stem = "erasure-" + request_id[:8] + ("-confirmed" if column.startswith("confirmed") else "")
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{stem}{filename[filename.index(".") :]}"'
        },
    )
