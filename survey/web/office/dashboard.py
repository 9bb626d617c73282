"""The response-rate dashboard: table, cumulative chart, CSV."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Template

from survey import audit
from survey.fieldwork import Fieldwork, chart_png, fieldwork, rates_csv
from survey.web.office.auth import require_staff
from survey.web.office.common import MANAGER, OFFICER, Req, find_study, office_of, page

DASHBOARD = (OFFICER, MANAGER)


def _work(state: State, name: str) -> Fieldwork:
    with office_of(state).read() as session:
        return fieldwork(session, find_study(session, name))


@get("/studies/{name:str}/dashboard", opt={"roles": DASHBOARD}, sync_to_thread=True)
def dashboard(request: Req, state: State, name: FromPath[str]) -> Template:
    work = _work(state, name)
    return page(request, "dashboard.html", work=work, name=name)


@get("/studies/{name:str}/dashboard.png", opt={"roles": DASHBOARD}, sync_to_thread=True)
def dashboard_chart(state: State, name: FromPath[str]) -> Response[bytes]:
    return Response(chart_png(_work(state, name)), media_type="image/png")


@get("/studies/{name:str}/dashboard.csv", opt={"roles": DASHBOARD}, sync_to_thread=True)
def dashboard_csv(request: Req, state: State, name: FromPath[str]) -> Response[bytes]:
    staff = require_staff(request)
    office = office_of(state)
    work = _work(state, name)
    with office.write() as session:  # aggregate figures only, but every export is audited
        audit.append(session, staff.actor, "file.dashboard_csv", {"study": name}, office.clock)
    return Response(
        rates_csv(work),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="response-rates-{name}.csv"'},
    )
