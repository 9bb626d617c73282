"""Security headers on every response of a front door (pages, API, static files, errors).

Applied as a Litestar ``before_send`` hook, which sees every message the app sends, including
the replies to unknown routes and to errors raised before any handler ran.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from litestar.types import Message, Scope

COLLECTOR_CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; "
    "style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The office pages run no script at all.
OFFICE_CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")

Hook = Callable[[Message, Scope], Awaitable[None]]


def security_headers(headers: Iterable[tuple[str, str]]) -> Hook:
    """A hook setting ``headers`` (replacing any the handler set) and HSTS behind TLS."""
    fixed = [(k.lower().encode(), v.encode()) for k, v in headers]
    names = {k for k, _ in fixed}

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
        extra = [HSTS] if scope.get("scheme") == "https" else []
        message["headers"] = [*kept, *fixed, *extra]

    return before_send


def collector_headers() -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", COLLECTOR_CSP),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]


def office_headers() -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", OFFICE_CSP),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cache-Control", "no-store"),
    ]
