"""A drawn study with codes, labels and a roster export, and the staff who erase it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from survey import accounts, staff_keys
from survey.db import Database
from survey.settings import Settings, load_settings
from tests.web.office_helpers import PASSWORD, hold_key_ceremony, make_staff

OFFICER, MANAGER = "olive", "mia"


def confirm(db: Database, name: str, by: str) -> None:
    with db.session() as session:
        user = accounts.require_user(session, name)
        manager = accounts.require_user(session, by)
        key = staff_keys.active_key(session, user)
        staff_keys.confirm_key(session, key, manager, datetime.now(UTC))


@dataclass
class Erasable:
    run: Any
    db: Database
    settings: Settings
    env: dict[str, str]
    tmp: Path

    def as_user(self, name: str, *args: str, password: str = PASSWORD) -> Result:
        return self.run("--user", name, *args, extra_env={"SURVEY_PASSWORD": password})

    def request(self, scope: str = "personal", *extra: str) -> str:
        result = self.as_user(OFFICER, "erasure", "request", "--scope", scope, "--json", *extra)
        assert result.exit_code == 0, result.stderr
        return str(json.loads(result.stdout)["request"])

    def sign(self, name: str, request_id: str) -> Result:
        return self.as_user(name, "erasure", "sign", request_id, "--yes")

    def signed(self, scope: str = "personal") -> str:
        request_id = self.request(scope)
        for name in (OFFICER, MANAGER):
            result = self.sign(name, request_id)
            assert result.exit_code == 0, result.stderr
        return request_id

    def execute(self, request_id: str, out: Path, *extra: str, user: str = OFFICER) -> Result:
        return self.as_user(user, "erasure", "execute", request_id, "--out", str(out), *extra)


@pytest.fixture
def erasable(
    drawn, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Erasable]:  # type: ignore[no-untyped-def]
    """A drawn study with slips, codes CSV, labels, vendor CSV and a roster export (all
    tracked); an officer and a manager with attested keys, and a second manager. On
    PostgreSQL the fixture's superuser stands in for the tables' owner."""
    url = env.get("SURVEY_DATABASE_URL", "")
    if url.startswith("postgresql"):
        env["SURVEY_OWNER_DATABASE_URL"] = url
        monkeypatch.setenv("SURVEY_OWNER_DATABASE_URL", url)
    out = tmp_path / "print"
    assert (
        drawn("codes", "--out", str(out / "slips.pdf"), "--csv", str(out / "codes.csv")).exit_code
        == 0
    )
    result = drawn("labels", "--out", str(out / "labels.pdf"), "--csv", str(out / "vendor.csv"))
    assert result.exit_code == 0, result.stderr
    assert drawn("roster", "export", "--csv", str(out / "roster.csv")).exit_code == 0
    settings = load_settings()
    db = Database(settings)
    make_staff(db, **{MANAGER: ["manager"], "max": ["manager"], OFFICER: ["officer"]})
    hold_key_ceremony(db, MANAGER)
    confirm(db, OFFICER, MANAGER)
    confirm(db, "max", MANAGER)
    yield Erasable(drawn, db, settings, env, tmp_path)
    db.dispose()
