"""The public collector: form pages and the intake API, internet-facing.

It reads only the collector's own tables (:mod:`survey.collector.models`): no sessions, no
cookies, no staff routes, no decryption, roster or analysis code (tests/collector/
test_boundaries.py enforces the imports). Nothing about a client is stored or logged; the only
per-client state is the in-memory limit on unknown codes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from litestar import Litestar, Request, Response, get, post
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.params import FromPath, JSONBody
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from msgspec import Meta, Struct
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

import survey
from survey.collector.intake import (
    Intake,
    IntakeError,
    UnknownCode,
    active_study,
    busy,
    decode_sealed,
    installed_revisions,
    last_day,
    not_ready,
    page_values,
    rate_limited,
    today_in_tokyo,
)
from survey.collector.writer import Writer
from survey.forms.web import form_view
from survey.public import Contact, crisis_lines, hours_en, tel
from survey.settings import Settings
from survey.web.assets import Assets
from survey.web.guards import RefuseNulPaths
from survey.web.headers import collector_headers, security_headers
from survey.web.ratelimit import UnknownCodeLimiter

HERE = Path(__file__).parent
BODY_LIMIT = 256 * 1024
log = logging.getLogger("survey.collector")


class CodeIn(Struct):
    code: Annotated[str, Meta(max_length=64)]


class ResponseIn(Struct):
    code: Annotated[str, Meta(max_length=64)]
    # Standard base64 of the sealed answer (its length is the form's padded size + 48 bytes).
    sealed: Annotated[str, Meta(pattern=r"^[A-Za-z0-9+/]*={0,2}$", max_length=BODY_LIMIT)]


class CodeOut(Struct):
    study: str
    cohort: str
    form: str
    version: int


class StoredOut(Struct):
    stored: bool


class ErrorOut(Struct):
    """Every refusal: a code for scripts, a Japanese message for people, and its English."""

    error: str
    message: str
    message_en: str


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The refusals a route can give, as the OpenAPI document lists them (for fuzzing)."""
    texts = {
        400: "malformed body (JSON, base64, or a sealed answer of the wrong length)",
        403: "a paper-only cohort's code, or fieldwork has closed (error: closed)",
        404: "unknown access code (one reply for any), or no such form",
        409: "the code was used already, or these sealed bytes are stored already",
        413: "request body over 256 KiB",
        429: "too many unknown codes from this address",
        503: "not accepting answers yet, or the database is busy: try again",
    }
    return {
        s: ResponseSpec(data_container=ErrorOut, description=texts[s], generate_examples=False)
        for s in statuses
    }


class Collector:
    """Per-app state: the intake of the active study, found when first needed."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], date]) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.limiter = UnknownCodeLimiter(settings.unknown_code_limit)
        self._intake: Intake | None = None
        self._installed: tuple[tuple[str, int], ...] = ()  # (study, revision) when resolved
        # Requests run in worker threads: the first ones arrive together, and without the
        # lock each would build an intake of its own.
        self._lock = threading.Lock()
        # Answers are stored by one writer thread, in arrival order, several per commit; the
        # study is resolved there once per batch, so a request queues without a query.
        self.writer = Writer(self.intake, settings.busy_timeout_ms / 1000)
        # Resolve the study now (forms read and checked), not inside the first respondents'
        # requests: they would all wait for it. Not ready yet is fine: requests will say so.
        with contextlib.suppress(IntakeError, DBAPIError):
            self.intake()

    def intake(self) -> tuple[Intake, int]:
        """The active study's intake and its revision. One small query per request: which
        studies are installed at which revision; the study is resolved again (and re-read)
        only when that changed, e.g. after an import."""
        installed = installed_revisions(self.engine)
        with self._lock:
            if self._intake is None or installed != self._installed:
                name = active_study(self.engine, self.settings)
                if self._intake is None or self._intake.study_name != name:
                    self._intake = Intake(self.engine, self.settings, name, self.clock)
                self._installed = installed
            intake = self._intake
        return intake, dict(installed)[intake.study_name]

    def _admit(self, request: Request[Any, Any, Any]) -> str:
        """The client's address, refused (429) while it is over the unknown-code limit."""
        # The address is used here only, in memory, to count unknown codes: the limiter keeps a
        # keyed hash of it (per-process random key), and nothing stores or logs it.
        client = request.client.host if request.client else ""
        if self.limiter.limit and self.limiter.blocked(client):
            raise rate_limited()
        return client

    def guarded(self, request: Request[Any, Any, Any], call: Callable[[Intake, int], Any]) -> Any:
        """Run an intake call under the unknown-code limit (only 404 replies count)."""
        client = self._admit(request)
        try:
            return call(*self.intake())
        except UnknownCode:
            if self.limiter.limit:
                self.limiter.record_unknown(client)
            raise

    async def submit(self, request: Request[Any, Any, Any], code: str, sealed_b64: str) -> None:
        """Queue one answer for the writer and wait until it is durably stored (or refused)."""
        client = self._admit(request)
        sealed = decode_sealed(sealed_b64)
        try:
            await self.writer.submit_async(code, sealed)
        except UnknownCode:
            if self.limiter.limit:
                self.limiter.record_unknown(client)
            raise


def _collector(state: State) -> Collector:
    collector: Collector = state.collector
    return collector


def _page_context(collector: Collector) -> tuple[dict[str, Any], Intake | None]:
    """What every public page shows (title, crisis lines, the office), and the intake."""
    intake: Intake | None = None
    values = page_values(None)
    try:
        intake, revision = collector.intake()
        values = intake.current(revision).values
    except IntakeError:
        intake = None
    end = last_day(values)
    context = {
        "title": {"ja": values["title"], "en": values["title_en"]},
        "bilingual": True,
        "crisis_lines": [
            {**line, "tel": tel(line["number"]), "hours_en": hours_en(line["hours"])}
            for line in crisis_lines(values["crisis_lines"])
        ],
        "office": Contact.of(values),
        "office_tel": tel(values["office_phone"]),
        "last_day": end,
    }
    return context, intake


# --- pages --------------------------------------------------------------------------------


@get("/", sync_to_thread=True, include_in_schema=False)
def index(state: State) -> Template:
    context, intake = _page_context(_collector(state))
    if intake is None:
        return Template(template_name="unavailable.html", context=context)
    if intake.is_closed(intake.current()):
        return Template(template_name="closed.html", context=context)
    return Template(template_name="index.html", context=context)


@get("/thanks", sync_to_thread=True, include_in_schema=False)
def thanks(state: State) -> Template:
    return Template(template_name="thanks.html", context=_page_context(_collector(state))[0])


@get("/forms/{form_id:str}/{version:int}", sync_to_thread=True, include_in_schema=False)
def form_page(state: State, form_id: FromPath[str], version: FromPath[int]) -> Template:
    """The questionnaire as an HTML fragment, inserted by the landing page's script."""
    context, intake = _page_context(_collector(state))
    if intake is None:
        raise not_ready()
    view = form_view(intake.web_form(form_id, version))
    context = {**context, "form": view, "bilingual": view.bilingual}
    return Template(template_name="form.html", context=context)


# --- API ----------------------------------------------------------------------------------


@get("/api/study", sync_to_thread=True, responses=_errors(503))
def study_info(state: State) -> dict[str, Any]:
    """The study, its public key (base64) and fingerprint, and the web forms' padded sizes."""
    return _collector(state).intake()[0].study_info()


@post(
    "/api/codes/check",
    status_code=200,
    sync_to_thread=True,
    responses=_errors(400, 403, 404, 409, 413, 429, 503),
)
def check_code(state: State, request: Request[Any, Any, Any], data: JSONBody[CodeIn]) -> CodeOut:
    """200 for a usable code of a web-enabled cohort; 404 unknown, 409 used, 403 paper only."""
    info = _collector(state).guarded(request, lambda intake, rev: intake.check(data.code, rev))
    return CodeOut(info.study, info.cohort, info.form.id, info.form.version)


@post("/api/responses", status_code=201, responses=_errors(400, 403, 404, 409, 413, 429, 503))
async def submit_response(
    state: State, request: Request[Any, Any, Any], data: JSONBody[ResponseIn]
) -> StoredOut:
    """Store a sealed answer and consume its code in one transaction; 201 only after commit.

    Async: the request waits on the event loop, not in a worker thread, for the writer."""
    await _collector(state).submit(request, data.code, data.sealed)
    return StoredOut(stored=True)


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, bool]:
    """A trivial endpoint (no database): the baseline of the intake benchmark."""
    return {"ok": True}


# --- errors -------------------------------------------------------------------------------


def _error(status: int, code: str, ja: str, en: str) -> Response[dict[str, str]]:
    return Response(
        {"error": code, "message": ja, "message_en": en},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _intake_error(_request: Request[Any, Any, Any], exc: IntakeError) -> Response[Any]:
    return _error(exc.status, type(exc).__name__.lower(), exc.ja, exc.en)


def _validation_error(_request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    # The offending input is not echoed back: it may hold a code.
    return _error(
        400, "malformed", "送信データの形式が正しくありません。", "The request body is malformed."
    )


_HTTP_TEXTS = {
    404: ("ページが見つかりません。", "Not found."),
    405: ("この操作はできません。", "Method not allowed."),
    413: ("送信データが大きすぎます。", "The request body is too large."),
}


def _too_deep(_request: Request[Any, Any, Any], _exc: RecursionError) -> Response[Any]:
    # Litestar decodes a JSON body before checking its shape: nesting deeper than the decoder
    # goes raises RecursionError. It is the client's malformed input, not our failure.
    return _error(
        400, "malformed", "送信データの形式が正しくありません。", "The request body is malformed."
    )


def _http_error(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    ja, en = _HTTP_TEXTS.get(status, ("リクエストを処理できません。", "Request refused."))
    return _error(status, "http", ja, en)


def _unexpected(_request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, OperationalError):  # a locked or unavailable database: try again
        err = busy()
        return _error(503, "busy", err.ja, err.en)
    # Only the type: a message could quote data. Nothing about the client is logged.
    log.error("unexpected %s", type(exc).__name__)
    return _error(500, "internal", "サーバーで問題が起きました。", "Internal error on the server.")


# --- the app ------------------------------------------------------------------------------


def create_collector_app(
    settings: Settings,
    engine: Engine,
    clock: Callable[[], date] = today_in_tokyo,
) -> Litestar:
    """The public app. ``clock`` gives the day stored with an answer (only demo and tests)."""
    static = HERE / "static"
    assets = Assets(static, ["style.css", "dist/app.js", "icon.svg"])

    def add_globals(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["assets"] = assets

    openapi = (
        OpenAPIConfig(
            title="Survey collector",
            version=survey.__version__,
            path="/schema",
            render_plugins=[JsonRenderPlugin()],  # JSON only: no UI page loading outside scripts
        )
        if settings.openapi
        else None
    )
    return Litestar(
        route_handlers=[
            index,
            thanks,
            form_page,
            study_info,
            check_code,
            submit_response,
            healthz,
            create_static_files_router(
                path="/static",
                directories=[static],
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=3600, public=True),
            ),
        ],
        state=State({"collector": Collector(engine, settings, clock)}),
        template_config=TemplateConfig(
            directory=HERE / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=add_globals,
        ),
        openapi_config=openapi,
        request_max_body_size=BODY_LIMIT,
        compression_config=CompressionConfig(backend="gzip", minimum_size=500),
        cache_control=CacheControlHeader(no_store=True),
        before_send=[security_headers(collector_headers())],
        middleware=[RefuseNulPaths()],
        exception_handlers={
            IntakeError: _intake_error,
            ValidationException: _validation_error,
            RecursionError: _too_deep,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        logging_config=None,
        debug=False,
    )
