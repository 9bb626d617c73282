"""Downloads of the analysis and the report: each behind password re-entry, each audited.

Tables, charts and the .sav are made from the computed analysis in the request; the analysis
ZIP (``survey analyze`` entire) and the report take long (the report two minutes on the demo),
so they stream their progress and leave the file for one download by the same session
(survey.web.office.prepared). Audit actions: ``file.tables``, ``file.charts``,
``file.dataset`` (the .sav: the dataset itself, so an erasure of the answers lists it as
handed out), ``file.analysis`` and ``file.report``, as the command line names them.
"""

from __future__ import annotations

import hashlib
import shutil
from typing import Any

import anyio
from litestar import get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Stream, Template

from survey import audit
from survey.analysis import downloads
from survey.analysis.pages import heartbeat
from survey.analysis.report.build import build as build_report
from survey.analysis.report.build import gather
from survey.web.office import prepared
from survey.web.office.analysis import computed_of, link_html, store_of
from survey.web.office.auth import Staff, reauthenticate, require_staff
from survey.web.office.common import ANALYST, MANAGER, Req, find_study, form_of, office_of, page
from survey.web.office.streaming import Report, percent_steps, streamed

REPORT_ROLES = (ANALYST, MANAGER)
ACTIONS = {
    "xlsx": "file.tables",
    "csv": "file.tables",
    "charts": "file.charts",
    "sav": "file.dataset",
}


def _attachment(data: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _record(state: State, staff: Staff, action: str, detail: dict[str, Any]) -> None:
    office = office_of(state)
    with office.write() as session:
        audit.append(session, staff.actor, action, {**detail, "via": "office"}, office.clock)


@post("/studies/{name:str}/analysis-files/{kind:str}", opt={"roles": (ANALYST,)}, status_code=200)
async def download(request: Req, state: State, name: FromPath[str], kind: FromPath[str]) -> Any:
    staff, fields = form_of(request)
    if kind not in downloads.KINDS:
        raise NotFoundException("その種類のファイルはありません。")
    label, filename, media = downloads.KINDS[kind]
    office = office_of(state)
    await anyio.to_thread.run_sync(reauthenticate, office, staff, fields.get("password"), label)
    computed = await anyio.to_thread.run_sync(computed_of, state, name)
    if computed is None:
        raise ClientException("集計がまだです。集計の画面で「集計する」を押してください。")
    detail = {"study": name, "kind": kind, "dataset_sha256": computed.inputs.sha256}
    if kind == "bundle":
        return _bundle(request, state, staff, name, computed, detail)

    def make() -> bytes:
        work = prepared.work_dir(office.settings, name)
        try:
            if kind == "xlsx":
                return downloads.xlsx(computed, work)
            if kind == "csv":
                return downloads.csv_zip(computed)
            if kind == "charts":
                return downloads.charts_zip(computed)
            return downloads.sav(computed, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    data = await anyio.to_thread.run_sync(make)
    digest = hashlib.sha256(data).hexdigest()
    await anyio.to_thread.run_sync(
        _record, state, staff, ACTIONS[kind], {**detail, "sha256": digest}
    )
    return _attachment(data, f"{name}-{filename}", media)


def _bundle(
    request: Req, state: State, staff: Staff, name: str, computed: Any, detail: dict[str, Any]
) -> Stream:
    office = office_of(state)

    def work(report: Report) -> str:
        folder = prepared.work_dir(office.settings, name)
        try:
            with heartbeat(report) as say:
                data, summary = downloads.bundle(computed, folder, percent_steps(say))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        filename = f"{name}-analysis.zip"
        # "file" names it in an erasure certificate of the answers: the ZIP holds dataset.sav.
        entry = {**detail, **summary, "file": filename, "sha256": hashlib.sha256(data).hexdigest()}
        item = prepared.Prepared(data, filename, "application/zip", "file.analysis", entry)
        token = prepared.put(office.settings, name, staff, item)
        return (
            f'<p class="ok" role="status">集計一式を作成しました（{len(data) / 1e6:.1f} MB）。'
            "このリンクは1回だけ、1時間まで使えます。</p>"
            + link_html(name, token, "集計一式（ZIP）")
        )

    back = f"/office/studies/{name}/analysis"
    return streamed(request, office, f"集計一式: {name}", back, work, "集計の画面へ戻る")


@get("/studies/{name:str}/report", opt={"roles": REPORT_ROLES}, sync_to_thread=True)
def report_page(request: Req, state: State, name: FromPath[str]) -> Template:
    with office_of(state).read() as session:
        study = find_study(session, name)
    return page(request, "report.html", name=study.name)


@post("/studies/{name:str}/report", opt={"roles": REPORT_ROLES}, status_code=200)
async def report(request: Req, state: State, name: FromPath[str]) -> Stream:
    """Build the report (PDF), streaming its progress; then a link to download it once."""
    staff, fields = form_of(request)
    office = office_of(state)
    await anyio.to_thread.run_sync(reauthenticate, office, staff, fields.get("password"), "報告書")

    def work(report: Report) -> str:
        report("調査の記録とデータセットを読み込んでいます")
        with office.read() as session:
            study = find_study(session, name)
            ctx = gather(session, study, office.settings.public_url or "")
            # The 集計 pages' tables, when they are of the current dataset (the store checks
            # its key), so the report is not suppressed a second time.
            known = store_of(state).get(session, study)
        if known is not None and known.inputs.sha256 != ctx.inputs.sha256:
            known = None
        computed = (known.analysis, known.report) if known is not None else None
        folder = prepared.work_dir(office.settings, name)
        try:
            with heartbeat(report) as say:
                summary = build_report(
                    ctx, folder / "report.pdf", percent_steps(say), computed=computed
                )
            data = (folder / "report.pdf").read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        summary = {k: v for k, v in summary.items() if k != "file"}  # a server path
        entry = {**summary, "study": name, "sha256": hashlib.sha256(data).hexdigest()}
        item = prepared.Prepared(
            data, f"report-{name}.pdf", "application/pdf", "file.report", entry
        )
        token = prepared.put(office.settings, name, staff, item)
        pages = summary.get("report_pages", 0) + summary.get("appendix_pages", 0)
        return (
            f'<p class="ok" role="status">報告書を作成しました（{pages} ページ）。'
            "このリンクは1回だけ、1時間まで使えます。</p>" + link_html(name, token, "報告書（PDF）")
        )

    back = f"/office/studies/{name}/report"
    return streamed(request, office, f"報告書: {name}", back, work, "報告書の画面へ戻る")


@get("/studies/{name:str}/prepared/{token:str}", opt={"roles": REPORT_ROLES}, sync_to_thread=True)
def prepared_file(
    request: Req, state: State, name: FromPath[str], token: FromPath[str]
) -> Response[bytes]:
    """A file the streamed work left for this session: handed out once, audited then."""
    staff = require_staff(request)
    office = office_of(state)
    with office.read() as session:
        study = find_study(session, name).name
    item = prepared.take(office.settings, study, staff, token)
    if item is None:
        raise NotFoundException("そのファイルはありません（ダウンロード済みか、期限切れです）。")
    _record(state, staff, item.action, item.detail)
    return _attachment(item.data, item.filename, item.media_type)
