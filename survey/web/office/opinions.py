"""自由意見 pages (analyst only): categories, per-item progress, and per answer the coding,
the redacted version and the approval. The original text is shown here and nowhere else."""

from __future__ import annotations

from litestar import get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template

from survey.analysis import opinions
from survey.cohorts import COHORT_LABELS
from survey.web.office.common import ANALYST, Req, find_study, form_of, office_of, page


@get("/studies/{name:str}/opinions", opt={"roles": (ANALYST,)}, sync_to_thread=True)
def opinions_index(request: Req, state: State, name: FromPath[str]) -> Template:
    error = request.query_params.get("error")
    with office_of(state).read() as session:
        study = find_study(session, name)
        cats = opinions.categories(session, study)
        rows = opinions.progress(session, study)
    questions = {variable: opinions.question_text(variable) for variable, *_ in rows}
    return page(
        request, "opinions.html", study=study, categories=cats, rows=rows, error=error,
        questions=questions,
    )  # fmt: skip


@post(
    "/studies/{name:str}/opinions/categories",
    opt={"roles": (ANALYST,)},
    status_code=303,
    sync_to_thread=True,
)
def opinions_category(request: Req, state: State, name: FromPath[str]) -> Redirect:
    staff, fields = form_of(request)
    target = f"/office/studies/{name}/opinions"
    with office_of(state).write() as session:
        study = find_study(session, name)
        try:
            if fields.get("category"):
                opinions.rename_category(
                    session, study, int(fields["category"]), fields.get("name", ""), staff.name
                )
            else:
                opinions.add_category(session, study, fields.get("name", ""), staff.name)
        except (opinions.OpinionError, ValueError) as e:
            session.rollback()
            return Redirect(target, query_params={"error": str(e)})
    return Redirect(target)


PER_PAGE = 50  # answers per page of an item


def page_number(raw: object, total: int) -> tuple[int, int]:
    """The page asked for (1 when it is not a number), within 1..pages; and pages."""
    pages = max(1, -(-total // PER_PAGE))
    try:
        number = int(str(raw))
    except ValueError:
        number = 1
    return min(max(number, 1), pages), pages


def _item_url(name: str, variable: str, number: int) -> str:
    base = f"/office/studies/{name}/opinions/{variable}"
    return f"{base}?page={number}" if number > 1 else base


@get("/studies/{name:str}/opinions/{variable:str}", opt={"roles": (ANALYST,)}, sync_to_thread=True)
def opinions_item(
    request: Req, state: State, name: FromPath[str], variable: FromPath[str]
) -> Template:
    """The item's answers, :data:`PER_PAGE` a page (``?page=N``)."""
    error = request.query_params.get("error")
    with office_of(state).read() as session:
        study = find_study(session, name)
        cats = opinions.categories(session, study)
        total = opinions.count_answers(session, study, variable)
        number, pages = page_number(request.query_params.get("page", 1), total)
        offset = (number - 1) * PER_PAGE
        rows = opinions.answers(session, study, variable, offset, PER_PAGE)
    flags = {
        a.text.id: opinions.identifier_flags(a.coding.redacted)
        for a in rows
        if a.coding and a.coding.redacted
    }
    return page(
        request, "opinions_item.html", study=study, variable=variable, categories=cats,
        rows=rows, flags=flags, error=error, question=opinions.question_text(variable),
        cohorts=COHORT_LABELS, number=number, pages=pages, total=total, first=offset + 1,
        prev_url=_item_url(name, variable, number - 1) if number > 1 else None,
        next_url=_item_url(name, variable, number + 1) if number < pages else None,
    )  # fmt: skip


@post(
    "/studies/{name:str}/opinions/{variable:str}/{answer:int}",
    opt={"roles": (ANALYST,)},
    status_code=303,
    sync_to_thread=True,
)
def opinions_answer(
    request: Req, state: State, name: FromPath[str], variable: FromPath[str], answer: FromPath[int]
) -> Redirect:
    staff, fields = form_of(request)
    # Back to the page the form was on (a number only: never echo what was posted).
    number, _ = page_number(fields.get("page", 1), 10**9)
    target = _item_url(name, variable, number)
    action = fields.get("action", "code")
    chosen = [int(k.removeprefix("cat_")) for k in fields if k.startswith("cat_")]
    try:
        if action in ("code", "approve"):
            # Its own transaction: a refused approval keeps the coding and redaction typed.
            with office_of(state).write() as session:
                study = find_study(session, name)
                opinions.code(session, study, answer, chosen, fields.get("redacted"), staff.name)
        if action in ("approve", "withdraw"):
            with office_of(state).write() as session:
                study = find_study(session, name)
                if action == "approve":
                    reviewed = fields.get("reviewed") == "1"
                    opinions.approve(session, study, answer, staff.name, reviewed)
                else:
                    opinions.withdraw(session, study, answer, staff.name)
    except opinions.OpinionError as e:
        query = {"error": f"#{answer}: {e}", **({"page": str(number)} if number > 1 else {})}
        return Redirect(_item_url(name, variable, 1), query_params=query)
    return Redirect(f"{target}#a{answer}")
