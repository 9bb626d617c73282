"""Serving the front doors: ``survey-collector serve`` and ``survey serve``.

``both`` mounts the office app under ``/office`` beside the public collector on one host and
port (demo, development, small sites); the two stay separate Litestar apps, so the public one
never gets the office's session middleware. Production runs one app per host (see deploy/).

A server never migrates the schema: it refuses to start unless the tables of the apps it
serves are at their newest migration (``survey db upgrade`` / ``survey-collector db
upgrade``, as the database owner). With several workers each process builds its app from
the environment through one of the factories below.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any, Literal

import uvicorn
from litestar.types import ASGIApp
from sqlalchemy import Engine

from survey.collector.intake import today_in_tokyo
from survey.db import check_current, make_engine
from survey.settings import Settings, load_settings
from survey.web.collector.app import create_collector_app
from survey.web.headers import collector_headers

Which = Literal["both", "collector", "office"]
OFFICE_PREFIX = "/office"
SCHEMAS: dict[str, tuple[str, ...]] = {
    "both": ("office", "collector"),
    "collector": ("collector",),
    "office": ("office",),
}


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
        # Imported only here: a collector-only server never loads office code.
        from survey.web.office.app import create_office_app

        office = create_office_app(settings, engine)
    return Dispatch(collector, office)


def checked_app(which: Which, settings: Settings | None = None) -> ASGIApp:
    """The app for ``which``, from the environment, once the schema is known to be current."""
    settings = settings or load_settings()
    engine = make_engine(settings)
    check_current(engine, SCHEMAS[which])
    return build_app(settings, engine, which)


# Factories for uvicorn's worker processes (each builds its own engine and app).
def collector_factory() -> ASGIApp:
    return checked_app("collector")


def office_factory() -> ASGIApp:
    return checked_app("office")


def both_factory() -> ASGIApp:
    return checked_app("both")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How every server of ours runs uvicorn."""
    return {
        # No access log: a request line would record an address, a time and a path.
        "access_log": False,
        "server_header": False,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: anyone on the host, or a
        # client through a proxy that passes the header on, could then choose the address the
        # rate limits count. Only the proxies the operator names are believed.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
        "lifespan": "on",
        "log_level": "info",
    }


def run(
    settings: Settings,
    which: Which,
    host: str,
    port: int,
    workers: int = 1,
    ready: Callable[[], object] | None = None,
) -> None:
    """Serve until Ctrl+C; refuses (SchemaNotCurrent) before listening if the schema is old.

    ``ready`` runs once the schema is known to be current, just before listening (the
    command prints the addresses then, never for a server that refused to start)."""
    app: ASGIApp | str
    if workers > 1:
        # Checked here too, so the refusal comes once and clearly, not from every worker.
        check_current(make_engine(settings), SCHEMAS[which])
        app = f"survey.web.serve:{which}_factory"
    else:
        app = checked_app(which, settings)
    if ready is not None:
        ready()
    # uvicorn re-raises the Ctrl+C it handled once it has shut down: that is a normal stop.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            app,
            host=host,
            port=port,
            workers=workers,
            factory=workers > 1,
            **uvicorn_options(settings),
        )
