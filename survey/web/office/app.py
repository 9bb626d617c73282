"""The office app: staff login, studies, the draw, print files, dashboard, accounts, audit,
erasure.

Internal network only. Its own app factory, templates and static files under ``/office``;
every route is guarded by role (survey.web.office.auth), the same guard checks the CSRF token
of every unsafe request (survey.web.office.csrf), sensitive actions ask for the password
again, and each sensitive action is written to the audit log in its own transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.datastructures import State
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from survey.analysis.pages import Store
from survey.audit import now_utc
from survey.settings import Settings
from survey.web.guards import RefuseNulPaths
from survey.web.headers import OFFICE_CSP, office_headers, security_headers
from survey.web.office import (
    admin,
    analysis,
    analysis_files,
    dashboard,
    erasure,
    login,
    opinions,
    paper,
    responses,
    studies,
)
from survey.web.office.auth import Office, PasswordChangeRequired, current_staff, role_guard
from survey.web.office.common import without_paths
from survey.web.office.csrf import LoginTokenRefused
from survey.web.office.display import FILTERS

HERE = Path(__file__).parent
STUDY_PATH = re.compile(r"^/office/studies/([a-z0-9][a-z0-9_-]{0,31})/")
log = logging.getLogger("survey.office")

HANDLERS = [
    login.login_form,
    login.login,
    login.logout,
    studies.home,
    studies.create,
    studies.overview,
    studies.upload_and_draw,
    studies.print_file,
    dashboard.dashboard,
    dashboard.dashboard_chart,
    dashboard.dashboard_csv,
    admin.users,
    admin.add_user,
    admin.change_user,
    admin.keys,
    admin.confirm_key,
    admin.audit_log,
    admin.account,
    admin.change_password,
    *paper.ROUTES,
    responses.responses_page,
    responses.upload_bundles,
    responses.decrypt,
    responses.build_dataset,
    responses.download_dataset,
    responses.quarantine_csv,
    analysis.analysis_index,
    analysis.compute,
    analysis.analysis_block,
    analysis.analysis_internal,
    analysis.chart,
    analysis_files.download,
    analysis_files.report_page,
    analysis_files.report,
    analysis_files.prepared_file,
    opinions.opinions_index,
    opinions.opinions_category,
    opinions.opinions_item,
    opinions.opinions_answer,
    erasure.erasure_list,
    erasure.create_request,
    erasure.erasure_request,
    erasure.sign,
    erasure.execute,
    erasure.confirm,
    erasure.download,
]


def _error_page(request: Request[Any, Any, Any], status: int, message: str) -> Template:
    """An error on a page with the menu (for a logged-in member) and a way back."""
    shown = without_paths(message, request.app.state.office)
    study = STUDY_PATH.match(request.url.path)
    back = (f"/office/studies/{study.group(1)}", "調査の画面へ戻る") if study else None
    return Template(
        template_name="error.html",
        context={"status": status, "message": shown, "staff": current_staff(request), "back": back},
        status_code=status,
    )


def _not_logged_in(_request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    return Redirect("/office/login", status_code=303)


def _first_password(_request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    return Redirect("/office/account", status_code=303)


def _login_again(request: Request[Any, Any, Any], exc: LoginTokenRefused) -> Template:
    return login.login_page(request, exc.fresh_token, str(exc.detail), 403)


def _forbidden(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    return _error_page(request, 403, str(exc.detail))


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    texts = {
        404: "ページが見つかりません。",
        405: "この操作はできません。",
        413: "ファイルが大きすぎます。",
    }
    message = texts.get(exc.status_code) or str(exc.detail) or "リクエストを処理できません。"
    return _error_page(request, exc.status_code, message)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Template:
    if isinstance(exc, OperationalError):
        return _error_page(
            request, 503, "データベースが混み合っています。少し待ってからやり直してください。"
        )
    # Only the type: a message could quote a register row or an address.
    log.error("unexpected %s", type(exc).__name__)
    return _error_page(request, 500, f"内部エラー（{type(exc).__name__}）が起きました。")


def _filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters.update(FILTERS)  # roles, audit actions and objects, JST


def create_office_app(
    settings: Settings, engine: Engine, clock: Callable[[], datetime] = now_utc
) -> Litestar:
    """The office app; ``clock`` is the time sessions and the audit log see (tests move it)."""
    office_router = Router(
        path="/office",
        route_handlers=[
            *HANDLERS,
            create_static_files_router(
                path="/static",
                directories=[HERE / "static"],
                include_in_schema=False,
                opt={"public": True},
            ),
        ],
        guards=[role_guard],
    )
    return Litestar(
        route_handlers=[office_router],
        # The computed analysis of each study, kept in this process (survey.analysis.pages).
        state=State({"office": Office(engine, settings, clock), "analysis": Store()}),
        template_config=TemplateConfig(
            directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=_filters
        ),
        openapi_config=None,  # no schema pages (they would load outside scripts)
        before_send=[security_headers(office_headers())],
        middleware=[RefuseNulPaths()],
        exception_handlers={
            NotAuthorizedException: _not_logged_in,
            PasswordChangeRequired: _first_password,
            LoginTokenRefused: _login_again,
            PermissionDeniedException: _forbidden,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        logging_config=None,
        debug=False,
        request_max_body_size=1024 * 1024,  # forms; the register upload route raises its own
    )


__all__ = ["OFFICE_CSP", "create_office_app"]
