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


@get("/studies/{name:str}/opinions/{variable:str}", opt={"roles": (ANALYST,)}, sync_to_thread=True)
def opinions_item(
    request: Req, state: State, name: FromPath[str], variable: FromPath[str]
) -> Template:
    error = request.query_params.get("error")
    with office_of(state).read() as session:
        study = find_study(session, name)
        cats = opinions.categories(session, study)
        rows = opinions.answers(session, study, variable)
    flags = {
        a.text.id: opinions.identifier_flags(a.coding.redacted)
        for a in rows
        if a.coding and a.coding.redacted
    }
    return page(
        request, "opinions_item.html", study=study, variable=variable, categories=cats,
        rows=rows, flags=flags, error=error, question=opinions.question_text(variable),
        cohorts=COHORT_LABELS,
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
    target = f"/office/studies/{name}/opinions/{variable}"
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
        return Redirect(target, query_params={"error": f"#{answer}: {e}"})
    return Redirect(f"{target}#a{answer}")
