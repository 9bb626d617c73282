"""Shared steps for the office tests: a movable clock, staff accounts, logging in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from survey import accounts, staff_keys
from survey.db import Database

PASSWORD = "office staff password 2026"  # noqa: S105  (test accounts)
BASE = "https://office.city.example"  # https, so Secure cookies behave as in production


@dataclass
class Clock:
    now: datetime = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: Any) -> None:
        self.now += timedelta(**delta)


def make_staff(db: Database, **people: list[str]) -> None:
    """``make_staff(db, olive=["officer"], ...)``: accounts with the test password, as if each
    had already chosen it (no forced change at the first login)."""
    with db.session() as session:
        for name, roles in people.items():
            accounts.add_user(session, name, roles, PASSWORD, must_change=False)


def hold_key_ceremony(db: Database, manager: str, password: str = PASSWORD) -> None:
    """Confirm the first manager's key as ``survey users confirm-key --bootstrap`` does."""
    with db.session() as session:
        user = accounts.require_user(session, manager)
        staff_keys.bootstrap_key(session, user, password, datetime.now(UTC))


def login_token(client: TestClient[Litestar]) -> str:
    page = client.get("/office/login")
    match = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def log_in(client: TestClient[Litestar], name: str, password: str = PASSWORD) -> Any:
    token = login_token(client)
    return client.post(
        "/office/login",
        data={"username": name, "password": password, "login_token": token},
        follow_redirects=False,
    )


def csrf(client: TestClient[Litestar], path: str = "/office/") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)
