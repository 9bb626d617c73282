"""Long office work (the draw, decryption) as a page that streams its progress.

The work runs in a thread of its own; the page shows each progress line as it comes, then
the result, or the error: a :class:`SurveyError` with its Japanese message (and the list of
problems it carries, e.g. bad register rows), anything else by its type only (a message
could quote a register row). Paths to the server's folders never reach the page.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Callable
from html import escape

import anyio
from litestar.exceptions import ClientException
from litestar.response import Stream

from survey.errors import SurveyError
from survey.web.office.auth import Office, require_staff
from survey.web.office.common import Req, without_paths

Report = Callable[[str], None]
MAX_LISTED = 500


STREAM = "<!-- the streamed progress and result -->"


def _page_parts(request: Req, title: str) -> tuple[str, str]:
    """The page (with the menu) cut where its streamed part goes: what comes before, after."""
    engine = request.app.template_engine
    assert engine is not None
    html = engine.get_template("streamed.html").render(
        staff=require_staff(request), title=title, marker=STREAM
    )
    head, _, tail = html.partition(STREAM)
    return head, tail


def error_html(exc: SurveyError, office: Office) -> str:
    problems = list(getattr(exc, "errors", []))
    details = "".join(f"<li>{escape(str(e))}</li>" for e in problems[:MAX_LISTED])
    more = len(problems) - MAX_LISTED
    return (
        f'<p class="error" role="alert">{escape(without_paths(exc.ja, office))}</p>'
        + (f"<ul class=errors>{details}</ul>" if details else "")
        + (f"<p>ほか {more:,} 件</p>" if more > 0 else "")
    )


def percent_steps(report: Report) -> Callable[[str, int, int], None]:
    """A ``progress(label, done, total)`` that reports every tenth percent of each step."""
    last: dict[str, int] = {}

    def progress(label: str, done: int, total: int) -> None:
        step = label.split(":")[0]
        percent = 100 * done // max(total, 1)
        if percent >= last.get(step, -10) + 10 or done == total:
            last[step] = percent
            report(f"{step}: {percent}%")

    return progress


def streamed(
    request: Req,
    office: Office,
    title: str,
    back: str,
    work: Callable[[Report], str],
    back_label: str = "調査の画面へ戻る",
) -> Stream:
    """The page: ``work(report)`` runs in a thread and returns the result's HTML."""
    events: queue.Queue[tuple[str, str]] = queue.Queue()

    def run() -> None:
        try:
            events.put(("done", work(lambda line: events.put(("progress", line)))))
        except SurveyError as exc:
            events.put(("end", error_html(exc, office)))
        except ClientException as exc:
            shown = escape(without_paths(str(exc.detail), office))
            events.put(("end", f'<p class="error" role="alert">{shown}</p>'))
        except Exception as exc:  # only its type: the message could quote data
            message = f"内部エラー（{type(exc).__name__}）のため中止しました。"
            events.put(("end", f'<p class="error" role="alert">{escape(message)}</p>'))

    head, tail = _page_parts(request, title)

    async def body() -> AsyncIterator[str]:
        yield head + '<ol class="progress-log">'
        threading.Thread(target=run, daemon=True).start()
        while True:
            try:
                kind, value = events.get_nowait()
            except queue.Empty:
                await anyio.sleep(0.1)
                continue
            if kind == "progress":
                yield f"<li>{escape(value)}</li>\n"
                continue
            yield "</ol>" + value
            yield f'<p><a href="{escape(back)}">{escape(back_label)}</a></p>' + tail
            return

    return Stream(body(), media_type="text/html; charset=utf-8")
