"""Requests refused before routing, for both front doors.

A path holding a NUL byte (``%00``) reached the static-file handler, where the operating
system's ``stat`` raised ValueError: an internal error naming the exception on the office,
a 500 on the collector. Nothing we serve has such a name, so it is simply not found.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send


class RefuseNulPaths(ASGIMiddleware):
    """404 for any path (raw or decoded) with a NUL byte, before any handler sees it."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("raw_path", b""):
            raise NotFoundException()
        await next_app(scope, receive, send)
