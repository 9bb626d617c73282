"""The analyst's pages: bundle upload, decryption, the quarantine, the dataset.

The study key file is uploaded for the decryption request only: parsed in memory, unwrapped
in memory, never written, and forgotten when the request ends. One decryption runs at a time
(unwrapping the key takes a lot of memory). Every step is audited; decryption and the dataset
download need the password again.
"""

from __future__ import annotations

import io
import json
import threading
from html import escape
from typing import Any

import anyio
from litestar import get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException
from litestar.params import FromPath
from litestar.response import Response, Stream, Template
from sqlalchemy import func
from sqlmodel import Session, col, select

from survey import audit
from survey.bundles import BundleError
from survey.cohorts import COHORT_LABELS
from survey.decrypt import unwrap_private_key
from survey.errors import SurveyError
from survey.ingest import dataset
from survey.ingest.bundle_import import ImportReport, import_bundle
from survey.ingest.decryption import (
    DecryptReport,
    decrypt_responses,
    quarantine_list,
    web_caps,
)
from survey.models import DatasetBuild, SealedResponse, Study
from survey.models import Response as Answer
from survey.spreadsheet import writer as csv_writer
from survey.web.office.auth import reauthenticate, require_staff
from survey.web.office.common import ANALYST, Req, find_study, form_of, office_of, page
from survey.web.office.forms import posted_of
from survey.web.office.streaming import Report, streamed

BUNDLE_LIMIT = 200 * 1024 * 1024  # several bundles of a national survey's answers
KEY_FILE_LIMIT = 64 * 1024
MAX_BUNDLES = 20
_decrypting = threading.Lock()  # one decryption at a time in this process


def _figures(session: Session, study: Study) -> dict[str, Any]:
    held = dict(
        session.exec(
            select(SealedResponse.cohort, func.count())
            .where(SealedResponse.study_id == study.id)
            .group_by(col(SealedResponse.cohort))
        ).all()
    )
    pending = dict(
        session.exec(
            select(SealedResponse.cohort, func.count())
            .where(SealedResponse.study_id == study.id, col(SealedResponse.opened).is_(False))
            .group_by(col(SealedResponse.cohort))
        ).all()
    )
    accepted = dict(
        session.exec(
            select(Answer.cohort, func.count())
            .where(Answer.study_id == study.id)
            .group_by(col(Answer.cohort))
        ).all()
    )
    last = session.exec(
        select(DatasetBuild)
        .where(DatasetBuild.study_id == study.id)
        .order_by(col(DatasetBuild.id).desc())
    ).first()
    return {
        "held": held,
        "pending": pending,
        "accepted": accepted,
        "caps": web_caps(session, study),
        "quarantine": quarantine_list(session, study),
        "build": last,
    }


def _responses_page(request: Req, state: State, name: str, **extra: Any) -> Template:
    with office_of(state).read() as session:
        study = find_study(session, name)
        figures = _figures(session, study)
    return page(
        request,
        "responses.html",
        study=study,
        labels=COHORT_LABELS,
        bundle_limit_mb=BUNDLE_LIMIT // (1024 * 1024),
        max_bundles=MAX_BUNDLES,
        **figures,
        **extra,
    )


@get("/studies/{name:str}/responses", opt={"roles": (ANALYST,)}, sync_to_thread=True)
def responses_page(request: Req, state: State, name: FromPath[str]) -> Template:
    return _responses_page(request, state, name)


def _sequence(data: bytes) -> int:
    """A bundle's sequence number, to import several in chain order (0 if unreadable)."""
    try:
        return int(json.loads(data)["bundle"]["sequence"])
    except (ValueError, KeyError, TypeError):
        return 0


@post(
    "/studies/{name:str}/bundles",
    opt={"roles": (ANALYST,), "files": MAX_BUNDLES},
    status_code=200,
    request_max_body_size=BUNDLE_LIMIT,
)
async def upload_bundles(request: Req, state: State, name: FromPath[str]) -> Template:
    """Import the uploaded bundles, in chain order; each in its own transaction."""
    staff = require_staff(request)
    files = sorted(posted_of(request).files, key=lambda f: _sequence(f[1]))
    if not files:
        raise ClientException("束のファイルを選んで送信してください。")
    office = office_of(state)

    def work() -> list[tuple[str, ImportReport | str]]:
        out: list[tuple[str, ImportReport | str]] = []
        for filename, data in files:
            try:
                with office.write() as session:
                    study = find_study(session, name)
                    report = import_bundle(session, study, data)
                    if not report.already:
                        detail = {**report.as_json(), "file": filename[:100]}
                        audit.append(session, staff.actor, "bundle.import", detail, office.clock)
                out.append((filename, report))
            except (BundleError, SurveyError) as exc:
                out.append((filename, exc.ja))
                break  # the chain: later bundles cannot follow a refused one
        return out

    results = await anyio.to_thread.run_sync(work)
    return await anyio.to_thread.run_sync(
        lambda: _responses_page(request, state, name, imported=results)
    )


def _decrypt_report(report: DecryptReport) -> str:
    rows = "".join(
        f"<tr><th scope=row>{escape(COHORT_LABELS.get(c, c))}</th><td>{n:,}</td></tr>"
        for c, n in sorted(report.opened.items())
    )
    held = sum(report.quarantined.values())
    return (
        f'<p class="ok" role="status">復号しました: {sum(report.opened.values()):,} 件を回答として'
        f"受け付けました。</p><table><caption>受け付けた回答</caption><tbody>{rows}</tbody></table>"
        + (f"<p>保留: {held:,} 件（理由は回答データの画面に一覧があります）</p>" if held else "")
        + (f"<p>無効（−8）にした回答: {report.edits:,} 件（編集記録に残しています）</p>")
    )


@post(
    "/studies/{name:str}/decrypt",
    opt={"roles": (ANALYST,)},
    status_code=200,
    request_max_body_size=KEY_FILE_LIMIT,
)
async def decrypt(request: Req, state: State, name: FromPath[str]) -> Stream:
    """Open the sealed answers with the uploaded key file (memory only), streaming progress."""
    staff = require_staff(request)
    posted = posted_of(request)
    key_file, phrase = posted.file, posted.fields.get("passphrase", "")
    if key_file is None or not phrase:
        raise ClientException("鍵ファイルとパスフレーズを入力してください。")
    office = office_of(state)
    await anyio.to_thread.run_sync(
        reauthenticate, office, staff, posted.fields.get("password"), "復号"
    )
    if not _decrypting.acquire(blocking=False):
        raise ClientException("別の復号を実行中です。終わってからやり直してください。")

    def work(report: Report) -> str:
        try:
            report("鍵を開いています（数秒かかります）")
            key = unwrap_private_key(key_file, phrase)

            def record(session: Session, result: DecryptReport) -> None:
                audit.append(
                    session, staff.actor, "responses.decrypt", result.as_json(), office.clock
                )

            result = decrypt_responses(
                office.engine,
                name,
                key,
                lambda done, total: report(f"復号 {done:,} / {total:,}"),
                record,
            )
            del key
            return _decrypt_report(result)
        finally:
            _decrypting.release()

    back = f"/office/studies/{name}/responses"
    return streamed(request, office, f"復号: {name}", back, work, "回答データの画面へ戻る")


@post("/studies/{name:str}/dataset/build", opt={"roles": (ANALYST,)}, status_code=200)
async def build_dataset(request: Req, state: State, name: FromPath[str]) -> Template:
    staff, _fields = form_of(request)
    office = office_of(state)

    def work() -> dataset.DatasetReport:
        def record(session: Session, report: dataset.DatasetReport) -> None:
            audit.append(session, staff.actor, "dataset.build", report.as_json(), office.clock)

        return dataset.build(office.engine, name, record)

    try:
        built = await anyio.to_thread.run_sync(work)
    except SurveyError as exc:
        raise ClientException(exc.ja) from exc
    return await anyio.to_thread.run_sync(
        lambda: _responses_page(request, state, name, built=built)
    )


@post("/studies/{name:str}/dataset.csv", opt={"roles": (ANALYST,)}, status_code=200)
async def download_dataset(request: Req, state: State, name: FromPath[str]) -> Response[bytes]:
    """The last build as CSV (UTF-8 with BOM), made in memory: no file is written."""
    staff, fields = form_of(request)
    office = office_of(state)
    await anyio.to_thread.run_sync(
        reauthenticate, office, staff, fields.get("password"), "データセット"
    )

    def work() -> bytes:
        with office.write() as session:
            study = find_study(session, name)
            data = dataset.current_csv(session, study)
            audit.append(
                session, staff.actor, "file.dataset", {"study": study.name, "via": "office"},
                office.clock,
            )  # fmt: skip
        return data

    try:
        data = await anyio.to_thread.run_sync(work)
    except SurveyError as exc:
        raise ClientException(exc.ja) from exc
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="dataset-{name}.csv"'},
    )


@get("/studies/{name:str}/quarantine.csv", opt={"roles": (ANALYST,)}, sync_to_thread=True)
def quarantine_csv(state: State, name: FromPath[str]) -> Response[bytes]:
    with office_of(state).read() as session:
        rows = quarantine_list(session, find_study(session, name))
    buffer = io.StringIO()
    out = csv_writer(buffer)
    header = ["sealed_id", "cohort", "form", "version", "reason", "reason_ja", "detail", "found_on"]
    out.writerow(header)
    for r in rows:
        out.writerow([r[h] for h in header])
    return Response(
        ("\ufeff" + buffer.getvalue()).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="quarantine-{name}.csv"'},
    )
