"""``survey serve``: the front doors on one host and port (demo, development, small sites).

``both`` mounts the office app under ``/office`` beside the public collector; the two stay
separate Litestar apps, so the public one never gets the office's session middleware.
Production runs one app per host (see deploy/).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any, Literal

import uvicorn
from litestar.types import ASGIApp
from sqlalchemy import Engine

from survey.ingest.intake import today_in_tokyo
from survey.settings import Settings
from survey.web.collector.app import create_collector_app
from survey.web.headers import collector_headers

Which = Literal["both", "collector", "office"]
OFFICE_PREFIX = "/office"


class Dispatch:
    """Route ``/office`` and below to the office app, everything else to the collector."""

    def __init__(self, collector: ASGIApp | None, office: ASGIApp | None) -> None:
        self.collector = collector
        self.office = office

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        path = scope.get("path", "")
        is_office = path == OFFICE_PREFIX or path.startswith(OFFICE_PREFIX + "/")
        app = self.office if is_office else self.collector
        if app is None:
            await _not_found(send)
            return
        await app(scope, receive, send)


async def _not_found(send: Any) -> None:
    # The other app is not served here: reply as both do, with their security headers.
    headers = [(k.lower().encode(), v.encode()) for k, v in collector_headers()]
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": b"Not found", "more_body": False})


async def _lifespan(receive: Any, send: Any) -> None:
    # Neither app has start-up or shut-down work (no on_startup hooks): acknowledge only.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def build_app(
    settings: Settings,
    engine: Engine,
    which: Which = "both",
    clock: Callable[[], date] = today_in_tokyo,
) -> ASGIApp:
    collector = create_collector_app(settings, engine, clock) if which != "office" else None
    office = None
    if which != "collector":
        from survey.web.office.app import create_office_app

        office = create_office_app(settings, engine)
    return Dispatch(collector, office)


def run(settings: Settings, engine: Engine, which: Which, host: str, port: int) -> None:
    app = build_app(settings, engine, which)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # No access log: a request line would record an address, a time and a path.
        access_log=False,
        server_header=False,
        lifespan="on",
        log_level="info",
    )
    # uvicorn re-raises the Ctrl+C it handled once it has shut down: that is a normal stop.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
