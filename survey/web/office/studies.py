"""Studies: overview, creation, register upload and draw, print-file downloads."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from litestar import get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath
from litestar.response import File, Redirect, Stream, Template
from sqlmodel import Session, select

from mailing.layouts import get_layout
from mailing.service import PrintReport, print_codes, print_labels, print_postcards
from survey import access_codes, audit
from survey.cohorts import COHORT_LABELS
from survey.errors import SurveyError
from survey.keys import get_study_key
from survey.models import Draw, Study
from survey.public import Contact
from survey.register.dates import DateFormatError, parse_date
from survey.sampling.service import DrawReport, parse_allocation, plan_draw, store_draw
from survey.study import create_study, effective_settings, list_studies, require_as_of
from survey.web.office.auth import reauthenticate, require_staff
from survey.web.office.common import (
    ADMIN,
    ANY_STAFF,
    MANAGER,
    OFFICER,
    Req,
    download,
    find_study,
    form_of,
    office_of,
    page,
)
from survey.web.office.forms import posted_of
from survey.web.office.streaming import Report, percent_steps, streamed

REGISTER_LIMIT = 100 * 1024 * 1024  # a whole municipal register extract


def _draw_of(session: Session, study: Study) -> Draw | None:
    return session.exec(select(Draw).where(Draw.study_id == study.id)).first()


@get("/", opt={"roles": ANY_STAFF}, sync_to_thread=True)
def home(request: Req, state: State) -> Template:
    with office_of(state).read() as session:
        studies = [(s, _draw_of(session, s)) for s in list_studies(session)]
    return page(request, "home.html", studies=studies)


@post("/studies", opt={"roles": (OFFICER,)}, status_code=303)
async def create(request: Req, state: State) -> Redirect | Template:
    staff, form = form_of(request)
    office = office_of(state)
    name = form.get("name", "").strip()

    def work() -> Template | None:
        try:
            values = [("as_of", parse_date(form.get("as_of", "")).isoformat())]
            for key in ("fieldwork_start", "fieldwork_end"):
                if form.get(key):
                    values.append((key, parse_date(form[key]).isoformat()))
            with office.write() as session:
                create_study(session, name, values)
                audit.append(session, staff.actor, "study.create", {"study": name}, office.clock)
        except (SurveyError, DateFormatError) as exc:
            with office.read() as session:
                studies = [(s, _draw_of(session, s)) for s in list_studies(session)]
            return page(request, "home.html", studies=studies, error=exc.ja, status_code=400)
        return None

    refused = await anyio.to_thread.run_sync(work)
    return refused or Redirect(f"/office/studies/{name}", status_code=303)


FILE_KINDS: dict[str, tuple[str, str, str]] = {
    # kind: (label, file name, media type)
    "slips": ("コード票（アクセスコード）", "code-slips.pdf", "application/pdf"),
    "labels": ("宛名ラベル", "labels.pdf", "application/pdf"),
    "vendor": ("印刷業者向けCSV", "labels-vendor.csv", "text/csv"),
    "postcards": ("お礼・督促はがき", "postcards.pdf", "application/pdf"),
}


@get("/studies/{name:str}", opt={"roles": (OFFICER, MANAGER, ADMIN)}, sync_to_thread=True)
def overview(request: Req, state: State, name: FromPath[str]) -> Template:
    with office_of(state).read() as session:
        study = find_study(session, name)
        draw = _draw_of(session, study)
        report = DrawReport(study.name, draw).as_json() if draw else None
        codes = access_codes.existing_counts(session, study)
        key = get_study_key(session, study)
        values = effective_settings(study)
    return page(
        request,
        "study.html",
        study=study,
        draw=report,
        codes=codes,
        key=key,
        settings=values,
        contact=Contact.of(values),
        labels=COHORT_LABELS,
        kinds=FILE_KINDS,
        limit_mb=REGISTER_LIMIT // (1024 * 1024),
    )


# --- upload and draw (parsed in memory by the guard: the file is never written to disk) ----


@post(
    "/studies/{name:str}/draw",
    opt={"roles": (OFFICER,)},
    status_code=200,
    request_max_body_size=REGISTER_LIMIT + 64 * 1024,  # this route only
)
async def upload_and_draw(request: Req, state: State, name: FromPath[str]) -> Stream:
    """Draw from the uploaded register (in memory), streaming the progress and the report."""
    staff = require_staff(request)
    upload = posted_of(request)
    fields, data = upload.fields, upload.file
    if data is None:
        raise ClientException("ファイルを選んで送信してください。")
    office = office_of(state)
    await anyio.to_thread.run_sync(reauthenticate, office, staff, fields.get("password"), "抽出")
    try:
        as_of = parse_date(fields.get("as_of", "")) if fields.get("as_of") else None
        allocation = parse_allocation(fields.get("allocation") or None)
    except (SurveyError, DateFormatError) as exc:
        raise ClientException(exc.ja) from exc

    def work(report: Report) -> str:
        progress = percent_steps(report)
        # Read and draw holding no write lock (the public form keeps taking answers in
        # one-process mode), then store in one short transaction.
        with office.read() as session:
            study = find_study(session, name)
            d = require_as_of(study, as_of)
            plan = plan_draw(
                session, office.settings, study, data, d, allocation, progress=progress
            )
        with office.write() as session:
            study = find_study(session, name)
            result = store_draw(session, office.settings, study, plan)
            audit.append(session, staff.actor, "register.draw", result.audit_object(), office.clock)
        return _draw_report(request, result.as_json())

    return streamed(request, office, f"抽出: {name}", f"/office/studies/{name}", work)


def _draw_report(request: Req, result: dict[str, Any]) -> str:
    engine = request.app.template_engine
    assert engine is not None
    return str(engine.get_template("_draw_result.html").render(r=result, labels=COHORT_LABELS))


# --- print files (each audited, each with password re-entry) --------------------------------


def _export_dir(root: Path, study: str, now: datetime) -> Path:
    """A new folder for one download: named from the time, made unique (and owner-only) by
    mkdtemp, so two downloads in the same second never meet."""
    parent = root / "exports" / study
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Path(tempfile.mkdtemp(prefix=now.strftime("%Y%m%d-%H%M%S-"), dir=parent))


@post("/studies/{name:str}/files/{kind:str}", opt={"roles": (OFFICER,)}, status_code=200)
async def print_file(request: Req, state: State, name: FromPath[str], kind: FromPath[str]) -> File:
    staff, form = form_of(request)
    if kind not in FILE_KINDS:
        raise NotFoundException("その種類のファイルはありません。")
    office = office_of(state)
    label, filename, media = FILE_KINDS[kind]
    await anyio.to_thread.run_sync(reauthenticate, office, staff, form.get("password"), label)

    def make() -> Path:
        with office.read() as session:
            study = find_study(session, name).name
        out = _export_dir(office.settings.data_dir, study, office.clock()) / filename
        settings = office.settings
        sheet = get_layout(form.get("layout") or "a4-12")

        def record(session: Session, report: PrintReport) -> None:
            # In the transaction that records the files: audited together or not at all.
            detail = report.audit_object(study)
            audit.append(session, staff.actor, f"file.{kind}", detail, office.clock)

        engine = office.engine
        if kind == "slips":
            raw = form.get("additional", "").strip()
            if raw and not (raw.isascii() and raw.isdigit()):
                raise ClientException("追加する予備の数は1以上の整数です。")
            additional = int(raw) if raw else None
            print_codes(engine, settings, study, out, additional=additional, record=record)
        elif kind == "labels":
            print_labels(engine, settings, study, out, sheet, record=record)
        elif kind == "vendor":
            print_labels(engine, settings, study, None, sheet, vendor_csv=out, record=record)
        else:
            print_postcards(engine, settings, study, out, None, record=record)
        return out

    try:
        path = await anyio.to_thread.run_sync(make)
    except SurveyError as exc:
        raise ClientException(exc.ja) from exc
    return download(path, media)
