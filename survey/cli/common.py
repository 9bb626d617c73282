"""Shared CLI plumbing: bilingual errors with exit codes, settings, progress bars on stderr."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click
from sqlmodel import Session

from survey import audit
from survey.accounts import AccountError, Locked, authenticate, get_user
from survey.audit import now_utc, os_actor
from survey.cli.messages import BadValue
from survey.db import Database
from survey.errors import DataError
from survey.register.dates import DateFormatError, parse_date
from survey.settings import Settings, load_settings


class AppContext:
    """What every command needs, created lazily so --help never touches the database."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Database | None = None
        self.user_name: str | None = None  # --user NAME: the staff member acting
        self._actor: str | None = None
        self._password: str | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()

    def actor(self) -> str:
        """Who the audit log records: ``user:NAME`` once the password is checked, else the
        operating-system user. Call it before opening the action's session."""
        if self._actor is None:
            self._actor = os_actor() if self.user_name is None else self._login(self.user_name)
        return self._actor

    def password(self) -> str:
        """The --user's checked password, for a command that must open their signing key (the
        key ceremony, signing). Kept in this process's memory for the command's life only."""
        self.actor()
        if self._password is None:
            raise click.UsageError("--user NAME が必要です / --user NAME is required")
        return self._password

    def _login(self, name: str) -> str:
        password = self.settings.password or click.prompt(
            f"{name} のパスワード / password", hide_input=True, err=True
        )
        # Its own transaction: a failed attempt (and a lockout) is recorded even though the
        # command then stops.
        with self.db.session() as session:
            try:
                user = authenticate(session, name, password, now_utc())
            except AccountError as exc:
                action = "login.locked" if isinstance(exc, Locked) and exc.new else "login.failed"
                # Only a real account's name is logged: a password typed as the name is not.
                known = get_user(session, name) is not None
                audit.append(
                    session, f"user:{name}" if known else "unknown", action, {"via": "cli"}
                )
                session.commit()
                raise
            audit.append(session, f"user:{user.name}", "login.ok", {"via": "cli"})
            if user.must_change:
                session.commit()
                raise DataError(
                    f"{name} のパスワードは他の人が設定したものです。先に "
                    f"survey users passwd {name} で自分のパスワードにしてください。",
                    f"{name}'s password was set by someone else: choose your own first "
                    f"(`survey users passwd {name}`).",
                )
        self._password = password
        return f"user:{name}"

    def audit(self, session: Session, action: str, obj: dict[str, Any] | None = None) -> None:
        """Record ``action`` in the caller's transaction, under :meth:`actor`.

        The actor must be resolved before the session opened (it may need a login of its own,
        which cannot run inside another write transaction).
        """
        assert self._actor is not None, "call app.actor() before opening the session"
        audit.append(session, self._actor, action, obj)


pass_app = click.make_pass_decorator(AppContext, ensure=True)


class DateParam(click.ParamType[date]):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value))
        except DateFormatError as exc:
            raise BadValue(f"{exc.ja}（{value}）", f"{exc.en}: {value}", ctx, param) from exc


DATE = DateParam()

study_option = click.option(
    "--study",
    "study_name",
    metavar="NAME",
    default=None,
    help="調査名（省略時は唯一の調査、または SURVEY_STUDY）. Study name.",
)


def pad(text: str, width: int, right: bool = False) -> str:
    """Pad to a display width, counting East Asian wide characters as two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(0, width - shown)
    return fill + text if right else text + fill


@contextmanager
def progress_bar(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields ``set_position(n)``."""
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True) as bar:

        def set_position(n: int) -> None:
            bar.update(max(0, min(length, n) - bar.pos))

        yield set_position


class StepProgress:
    """Adapts services' ``progress(label, done, total)`` calls to one stderr bar per label."""

    def __init__(self) -> None:
        self._label: str | None = None
        self._bar: Any = None

    def __call__(self, label: str, done: int, total: int) -> None:
        stem = label.split(":")[0]
        if stem != self._label:
            self.close()
            self._label = stem
            self._bar = click.progressbar(length=total, label=stem, file=sys.stderr, show_pos=True)
            self._bar.__enter__()
        self._bar.update(max(0, done - self._bar.pos))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
            self._label = None


def chosen_study(app: AppContext, given: str | None) -> str:
    """The study a command works on (``--study``, else SURVEY_STUDY or the only one), after
    resolving the actor: that may log in, which cannot happen inside the command's session."""
    from survey.study import resolve_study

    app.actor()
    with app.db.session(write=False) as session:
        return resolve_study(session, given or app.settings.study).name
