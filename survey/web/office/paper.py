"""The officers' paper pages: the receipt log, keying a sheet, reconciliation, operator rates.

Keying is a plain form without script (the office keeps ``script-src 'none'`` everywhere): the
fields follow the paper's order, Tab moves on, Enter submits the sheet, number keys enter the
option codes and the paper keys (``/`` 判読不能, ``*`` 無効, ``-`` 答えたくない, nothing = 無回答)
are shown on the page. Skip logic is shown as guidance beside a field, never hides one: the
respondent may have answered anyway, and it is keyed as written. In double entry the second
officer never sees the first entry. A refused entry (a mistyped code) comes back with every
value still typed in, and a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from litestar import get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session, select

from survey import audit
from survey.cohorts import COHORT_LABELS, COHORTS
from survey.collector.intake import today_in_tokyo
from survey.errors import SurveyError
from survey.forms.items import kind
from survey.forms.items.base import PAPER_KEY_LABELS
from survey.forms.loader import Form
from survey.forms.paper.pen import ROW_MARKS
from survey.forms.paper.plan import plan
from survey.ingest import keying, receipts
from survey.models import PaperEntry, PaperReceipt, Study
from survey.study import effective_settings
from survey.web.office.common import OFFICER, Req, find_study, form_of, office_of, page


@dataclass(frozen=True, slots=True)
class Field:
    id: str
    number: str  # 問3, 問8-1, 問6ア (a grid's rows), as printed
    text: str
    choices: str  # 「1 はい・2 いいえ」: what the codes mean
    guidance: str  # the skip logic, as guidance only
    multi: bool


def fields(form: Form) -> list[Field]:
    """Every variable of the form, in the paper's order, numbered as the paper numbers them
    (問8, 問8-1; a grid's rows 問6ア …) with the paper's banners as guidance."""
    out: list[Field] = []
    layout = plan(form)
    for item in form.items():
        variables = kind(item).variables(item)
        number = layout.number(item.id)
        for i, var in enumerate(variables):
            choices = "・".join(f"{o.code} {o.label.ja}" for o in var.options)
            if item.sensitive and var.options:
                choices += "・- 答えたくない"
            if var.type == "integer":
                choices = f"{item.min}〜{item.max}"
            grid = len(variables) > 1 or item.type == "grid"
            text = f"{item.text.ja} — {var.text.ja}" if grid else var.text.ja
            out.append(
                Field(
                    var.id,
                    f"{number}{ROW_MARKS[i % len(ROW_MARKS)]}" if grid else number,
                    text,
                    choices,
                    layout.banners.get(item.id, ""),
                    var.type == "multi",
                )
            )
    return out


def _paper_page(request: Req, state: State, name: str, **extra: Any) -> Template:
    office = office_of(state)
    with office.read() as session:
        study = find_study(session, name)
        summary = receipts.summary(session, study)
        waiting = _reconcile_list(session, study)
        mode = effective_settings(study)["keying"]
    return page(
        request,
        "paper.html",
        study=study,
        summary=summary,
        labels=COHORT_LABELS,
        cohorts=COHORTS,
        reasons=receipts.REASONS,
        waiting=waiting,
        keying_mode=mode,
        today=today_in_tokyo().isoformat(),
        **extra,
    )


def _reconcile_list(session: Session, study: Study) -> list[str]:
    rows = session.exec(
        select(PaperReceipt.receipt_no).where(
            PaperReceipt.study_id == study.id, PaperReceipt.state == "reconcile"
        )
    ).all()
    return sorted(rows)


@get("/studies/{name:str}/paper", opt={"roles": (OFFICER,)}, sync_to_thread=True)
def paper_page(request: Req, state: State, name: FromPath[str]) -> Template:
    return _paper_page(request, state, name)


@post("/studies/{name:str}/paper/receipts", opt={"roles": (OFFICER,)}, status_code=200)
async def log_receipts(request: Req, state: State, name: FromPath[str]) -> Template:
    staff, form = form_of(request)
    office = office_of(state)

    def work() -> Template:
        try:
            status = form.get("status", receipts.RETURNED)
            reason = form.get("reason") if status == receipts.UNDELIVERABLE else None
            day = date.fromisoformat(form.get("day", "")) if form.get("day") else today_in_tokyo()
            count = int(form.get("count", "1") or "1")

            def record(session: Session, logged: receipts.Logged) -> None:
                detail = {"cohort": logged.cohort, "status": status, "reason": reason,
                          "count": count, "receipts": logged.span}  # fmt: skip
                audit.append(session, staff.actor, "paper.receive", detail, office.clock)

            logged = receipts.log(
                office.engine, name, form.get("cohort", ""), form.get("batch", ""), day,
                count, status, reason, record,
            )  # fmt: skip
        except (SurveyError, ValueError) as exc:
            message = exc.ja if isinstance(exc, SurveyError) else "通数と日付を確かめてください。"
            return _paper_page(request, state, name, error=message, form=form)
        return _paper_page(request, state, name, logged=logged)

    return await anyio.to_thread.run_sync(work)


def _key_page(request: Req, state: State, name: str, no: str, **extra: Any) -> Template:
    office = office_of(state)
    with office.read() as session:
        study = find_study(session, name)
        row = receipts.receipt(session, study, no)
        form = keying.form_of(session, study, row.cohort)
        keyed = len(keying.entries_of(session, row))
        mode = effective_settings(study)["keying"]
    return page(
        request,
        "paper_key.html",
        study=study,
        receipt=row,
        label=COHORT_LABELS.get(row.cohort, row.cohort),
        form=form,
        fields=fields(form),
        keys=PAPER_KEY_LABELS,
        pass_no=keyed + 1,
        keying_mode=mode,
        values=extra.pop("values", {}),
        **extra,
    )


@get("/studies/{name:str}/paper/key", opt={"roles": (OFFICER,)}, status_code=303)
async def find_sheet(request: Req, name: FromPath[str], no: FromQuery[str] = "") -> Redirect:
    """The receipt number typed on the paper page (a query: a receipt number is no secret)."""
    return Redirect(f"/office/studies/{name}/paper/key/{no.strip()}", status_code=303)


@get("/studies/{name:str}/paper/key/{no:str}", opt={"roles": (OFFICER,)}, sync_to_thread=True)
def key_sheet(request: Req, state: State, name: FromPath[str], no: FromPath[str]) -> Template:
    try:
        return _key_page(request, state, name, no)
    except SurveyError as exc:
        return _paper_page(request, state, name, error=exc.ja)


@post("/studies/{name:str}/paper/key/{no:str}", opt={"roles": (OFFICER,)}, status_code=200)
async def submit_sheet(
    request: Req, state: State, name: FromPath[str], no: FromPath[str]
) -> Template:
    staff, posted = form_of(request)
    office = office_of(state)
    values = {k[2:]: v for k, v in posted.items() if k.startswith("v_")}
    sheet = keying.Sheet(posted.get("code", ""), values)

    def work() -> Template:
        def record(session: Session, result: keying.Keyed) -> None:
            detail = {"receipt": result.receipt_no, "pass": result.pass_no, "state": result.state}
            audit.append(session, staff.actor, "paper.key", detail, office.clock)

        try:
            result = keying.enter(
                office.engine,
                office.settings,
                name,
                no,
                staff.name,
                sheet,
                today_in_tokyo(),
                record,
            )
        except SurveyError as exc:
            # Nothing is lost: the page comes back with everything typed (the code too).
            return _key_page(request, state, name, no, error=exc.ja, values=values,
                             code=sheet.code)  # fmt: skip
        return _paper_page(request, state, name, keyed=result)

    return await anyio.to_thread.run_sync(work)


@get("/studies/{name:str}/paper/reconcile/{no:str}", opt={"roles": (OFFICER,)}, sync_to_thread=True)
def reconcile_page(request: Req, state: State, name: FromPath[str], no: FromPath[str]) -> Template:
    office = office_of(state)
    try:
        form, first, second, differing = keying.pending(office.engine, name, no)
    except SurveyError as exc:
        return _paper_page(request, state, name, error=exc.ja)
    return _reconcile(request, state, name, no, form, first, second, differing)


def _reconcile(
    request: Req, state: State, name: str, no: str, form: Form, first: PaperEntry,
    second: PaperEntry, differing: list[str], **extra: Any,
) -> Template:  # fmt: skip
    by_id = {f.id: f for f in fields(form)}
    with office_of(state).read() as session:
        study = find_study(session, name)
    rows = [
        (by_id[f], first.values.get(f, ""), second.values.get(f, ""))
        for f in differing
        if f != keying.CODE
    ]
    return page(
        request,
        "paper_reconcile.html",
        study=study,
        receipt_no=no,
        rows=rows,
        code_differs=keying.CODE in differing,
        first=first,
        second=second,
        keys=PAPER_KEY_LABELS,
        **extra,
    )


@post("/studies/{name:str}/paper/reconcile/{no:str}", opt={"roles": (OFFICER,)}, status_code=200)
async def reconcile(request: Req, state: State, name: FromPath[str], no: FromPath[str]) -> Template:
    staff, posted = form_of(request)
    office = office_of(state)
    decided = {k[2:]: v for k, v in posted.items() if k.startswith("v_")}
    if "code" in posted:
        decided[keying.CODE] = posted["code"]

    def work() -> Template:
        def record(session: Session, result: keying.Keyed) -> None:
            detail = {"receipt": result.receipt_no, "fields": len(result.differences),
                      "state": result.state}  # fmt: skip
            audit.append(session, staff.actor, "paper.reconcile", detail, office.clock)

        try:
            result = keying.reconcile(
                office.engine, office.settings, name, no, staff.name, decided, record
            )
        except SurveyError as exc:
            form, first, second, differing = keying.pending(office.engine, name, no)
            return _reconcile(request, state, name, no, form, first, second, differing,
                              error=exc.ja, decided=decided)  # fmt: skip
        return _paper_page(request, state, name, keyed=result)

    return await anyio.to_thread.run_sync(work)


@get("/studies/{name:str}/paper/operators", opt={"roles": (OFFICER,)}, sync_to_thread=True)
def operators(request: Req, state: State, name: FromPath[str]) -> Template:
    office = office_of(state)
    with office.read() as session:
        study = find_study(session, name)
    rates = keying.operator_rates(office.engine, name)
    return page(request, "paper_operators.html", study=study, rates=rates)


ROUTES = [paper_page, log_receipts, find_sheet, key_sheet, submit_sheet, reconcile_page,
          reconcile, operators]  # fmt: skip
