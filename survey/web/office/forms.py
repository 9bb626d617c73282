"""The posted body of an unsafe office request, parsed once, in memory, before any handler.

The role guard parses it (to check the CSRF token, survey.web.office.csrf) and keeps it in the
request's state; handlers read it from there. URL-encoded forms are parsed by Litestar;
multipart forms (the register upload) by a streaming parser into memory, so a register is
never written to disk (Litestar's own parser spools files above 1 MB to a temporary file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException
from multipart import (  # type: ignore[import-untyped]
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
    parse_options_header,
)

FIELD_LIMIT = 4096  # bytes kept of one text field of a multipart form
STATE_KEY = "posted"


@dataclass(frozen=True)
class Posted:
    fields: dict[str, str]
    files: tuple[tuple[str, bytes], ...] = ()  # (file name, content) of a multipart form

    @property
    def file(self) -> bytes | None:
        """The one file of a form that takes one (the register upload)."""
        return self.files[0][1] if self.files else None


async def parse(connection: ASGIConnection[Any, Any, Any, Any], max_files: int = 1) -> Posted:
    """Parse the body (within the route's size limit and number of files: a route's
    ``opt["files"]``, one by default) and keep it for the handler."""
    request = (
        connection
        if isinstance(connection, Request)
        else Request(connection.scope, connection.receive)
    )
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype == "multipart/form-data" and "boundary" in options:
        posted = await _multipart(request, options["boundary"], max_files)
    elif ctype == "application/x-www-form-urlencoded":
        form = await request.form()
        posted = Posted({k: str(v) for k, v in form.items()})
    else:
        posted = Posted({})  # nothing a browser form sends: no token either
    connection.scope.setdefault("state", {})[STATE_KEY] = posted
    return posted


def posted_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Posted:
    """The body the guard parsed (every unsafe request's is: see role_guard)."""
    posted: Posted | None = connection.scope.get("state", {}).get(STATE_KEY)
    if posted is None:
        raise RuntimeError("the body of an unsafe request is parsed by the role guard")
    return posted


async def _multipart(request: Request[Any, Any, Any], boundary: str, max_files: int) -> Posted:
    fields: dict[str, bytearray] = {}
    files: list[tuple[str, bytearray]] = []
    in_file = False
    current: bytearray | None = None  # the text field being read
    parser = PushMultipartParser(boundary, max_segment_count=16)
    try:
        with parser:
            async for chunk in request.stream():
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        in_file = event.filename is not None
                        if in_file:
                            if len(files) == max_files:
                                raise ClientException(
                                    "ファイルは1つだけ送ってください。"
                                    if max_files == 1
                                    else f"ファイルは{max_files}個までです。"
                                )
                            files.append((str(event.filename), bytearray()))
                        current = None if in_file else fields.setdefault(event.name, bytearray())
                    elif event is None:
                        in_file, current = False, None
                    elif in_file:
                        files[-1][1].extend(event)
                    elif current is not None and len(current) < FIELD_LIMIT:
                        current += event
    except MultipartError as exc:
        raise ClientException("送信データを読み取れませんでした。") from exc
    text = {k: v.decode("utf-8", "replace") for k, v in fields.items()}
    return Posted(text, tuple((name, bytes(data)) for name, data in files))
