"""The analyst's 集計 pages: the computation (streamed), the index, one page per question
block in its published and its internal view, and the charts as PNG routes (the office's
policy allows no ``data:`` image). The work is in survey.analysis.pages and .downloads.

The internal view shows suppressed figures: the analyst's role only, and marked
「内部用・公表不可」 on the page and in its title.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Stream, Template
from sqlmodel import col, select

from survey.analysis import disclosure, downloads, pages
from survey.analysis.blocks import blocks as item_blocks
from survey.analysis.pages import Computed, Store
from survey.analysis.tables import BY_LABELS, UNKNOWN_NOTE, group_label
from survey.models import DatasetBuild
from survey.web.office.auth import require_staff
from survey.web.office.common import ANALYST, Req, find_study, office_of, page
from survey.web.office.streaming import Report, streamed

INTERNAL = "内部用・公表不可"


def _labels() -> dict[str, Any]:
    return {
        "internal_label": INTERNAL,
        "footnote": disclosure.FOOTNOTE,
        "exempt_rows": pages.exempt_rows,
        "by_labels": BY_LABELS,
        "unknown_note": UNKNOWN_NOTE,
    }


def store_of(state: State) -> Store:
    found: Store = state.analysis
    return found


def computed_of(state: State, name: str) -> Computed | None:
    with office_of(state).read() as session:
        return store_of(state).get(session, find_study(session, name))


@get("/studies/{name:str}/analysis", opt={"roles": (ANALYST,)}, sync_to_thread=True)
def analysis_index(request: Req, state: State, name: FromPath[str]) -> Template:
    with office_of(state).read() as session:
        study = find_study(session, name)
        build = session.exec(
            select(DatasetBuild)
            .where(DatasetBuild.study_id == study.id)
            .order_by(col(DatasetBuild.id).desc())
        ).first()
        computed = store_of(state).get(session, study)
    context: dict[str, Any] = {"name": name, "build": build, "computed": computed, **_labels()}
    if computed is not None:
        context |= {
            "groups": [
                (slug, label, item_blocks(computed.analysis, g))
                for g, slug, label in pages.groups(computed.analysis)
            ],
            "summaries": [pages.published_view(t) for t in pages.summaries(computed.analysis)],
            "kinds": downloads.KINDS,
        }
    return page(request, "analysis.html", **context)


@post("/studies/{name:str}/analysis", opt={"roles": (ANALYST,)}, status_code=200)
async def compute(request: Req, state: State, name: FromPath[str]) -> Stream:
    """Compute the tables and their suppression once for this dataset, streaming progress."""
    require_staff(request)
    office = office_of(state)
    store = store_of(state)

    def work(report: Report) -> str:
        done = store.compute(office.engine, name, report)
        r = done.report
        return (
            f'<p class="ok" role="status">集計しました: {len(done.analysis.tables):,} 表、'
            f"秘匿 {r.suppressed_primary:,}（一次）+ {r.suppressed_complementary:,}（補完）"
            f"、{done.seconds:.0f} 秒。</p>"
        )

    back = f"/office/studies/{name}/analysis"
    return streamed(request, office, f"集計: {name}", back, work, "集計の画面へ戻る")


def _block(state: State, name: str, slug: str, block: str) -> tuple[Computed, str, Any, list[Any]]:
    computed = computed_of(state, name)
    if computed is None:
        raise NotFoundException("集計がまだです。集計の画面で「集計する」を押してください。")
    group = pages.group_of(computed.analysis, slug)
    found = item_blocks(computed.analysis, group) if group else []
    current = next((b for b in found if b.id == block), None)
    if group is None or current is None:
        raise NotFoundException("その集計はありません。")
    return computed, group, current, found


def _block_page(
    request: Req, state: State, name: str, slug: str, block: str, internal: bool
) -> Template:
    computed, group, current, found = _block(state, name, slug, block)
    view = pages.internal_view if internal else pages.published_view
    items = [
        {
            "table": view(item.table),
            "crosses": [view(t) for t in item.crosses],
            "chart": not internal and downloads.has_chart(item.table),
        }
        for item in current.items
    ]
    k6 = not internal and any(
        i.table.variable == "k6_1" and downloads.has_chart(i.table) for i in current.items
    )
    return page(
        request,
        "analysis_block.html",
        name=name,
        slug=slug,
        group=group_label(group),
        block=current,
        blocks=found,
        items=items,
        k6=k6,
        internal=internal,
        threshold=computed.inputs.threshold,
        **_labels(),
    )


@get(
    "/studies/{name:str}/analysis/{group:str}/{block:str}",
    opt={"roles": (ANALYST,)},
    sync_to_thread=True,
)
def analysis_block(
    request: Req, state: State, name: FromPath[str], group: FromPath[str], block: FromPath[str]
) -> Template:
    return _block_page(request, state, name, group, block, internal=False)


@get(
    "/studies/{name:str}/analysis/{group:str}/{block:str}/internal",
    opt={"roles": (ANALYST,)},
    sync_to_thread=True,
)
def analysis_internal(
    request: Req, state: State, name: FromPath[str], group: FromPath[str], block: FromPath[str]
) -> Template:
    """Every figure, suppressed or not: for the analyst's checks, never to be published."""
    return _block_page(request, state, name, group, block, internal=True)


@get(
    "/studies/{name:str}/charts/{group:str}/{chart:str}",
    opt={"roles": (ANALYST,)},
    sync_to_thread=True,
)
def chart(
    state: State, name: FromPath[str], group: FromPath[str], chart: FromPath[str]
) -> Response[bytes]:
    """A published chart as PNG (``<variable>.png`` or ``k6_grid.png``)."""
    computed = computed_of(state, name)
    found = pages.group_of(computed.analysis, group) if computed else None
    if computed is None or found is None or not chart.endswith(".png"):
        raise NotFoundException("そのグラフはありません。")
    data = downloads.chart_png(computed, found, chart.removesuffix(".png"))
    if data is None:
        raise NotFoundException("そのグラフはありません。")
    # Private: the figures are published ones, but the office's pages stay out of caches.
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


def link_html(name: str, token: str, label: str) -> str:
    href = f"/office/studies/{escape(name)}/prepared/{escape(token)}"
    return (
        f'<p><a class="download-link" href="{href}" download>{escape(label)}をダウンロード</a></p>'
    )
