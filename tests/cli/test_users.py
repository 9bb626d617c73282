"""`survey users`: the account commands end to end, each audited."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, col, select

from survey.db import Database
from survey.models import AuditEntry

ADMIN_PW = "the admin's own passphrase"
OLIVE_PW = "officer's chosen passphrase"
MIA_PW = "the manager's passphrase"


def test_account_commands(run, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def as_admin(*args: str, **kw: str):  # type: ignore[no-untyped-def]
        return run("--user", "ada", *args, extra_env={"SURVEY_PASSWORD": ADMIN_PW}, **kw)

    first = {"SURVEY_PASSWORD": "initial passphrase at install"}
    assert (
        run(
            "users", "add", "ada", "--role", "admin", "--role", "manager", extra_env=first
        ).exit_code
        == 0
    )
    own = run("users", "passwd", "ada", extra_env={"SURVEY_PASSWORD": ""},
              input=f"initial passphrase at install\n{ADMIN_PW}\n{ADMIN_PW}\n")  # fmt: skip
    assert own.exit_code == 0, own.stderr
    added = as_admin(
        "users", "add", "olive", "--role", "officer", input="set by ada 2026 spring\n" * 2
    )
    assert added.exit_code == 0, added.stderr
    listed = json.loads(run("users", "list", "--json").stdout)
    assert [(u["name"], u["roles"]) for u in listed] == [
        ("ada", ["admin", "manager"]),
        ("olive", ["officer"]),
    ]
    assert (
        as_admin("users", "roles", "olive", "--role", "officer", "--role", "analyst").exit_code == 0
    )
    assert as_admin("users", "disable", "olive").exit_code == 0
    assert json.loads(run("users", "list", "--json").stdout)[1]["disabled"] is True
    assert as_admin("users", "enable", "olive").exit_code == 0
    reset = as_admin("users", "passwd", "olive", "--reset", input="reset by ada 2026 summer\n" * 2)
    assert reset.exit_code == 0, reset.stderr
    changed = run("users", "passwd", "olive", extra_env={"SURVEY_PASSWORD": ""},
                  input=f"reset by ada 2026 summer\n{OLIVE_PW}\n{OLIVE_PW}\n")  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    key = json.loads(run("users", "list", "--json").stdout)[1]
    assert key["key_confirmed"] is False
    # Ada reset the password: she may not vouch for the key it led to.
    refused = as_admin("users", "confirm-key", "olive", key["key"])
    assert refused.exit_code == 2 and "another manager" in refused.stderr
    start = {"SURVEY_PASSWORD": "initial passphrase for the manager"}
    assert run("users", "add", "mia", "--role", "manager", extra_env=start).exit_code == 0
    run("users", "passwd", "mia", extra_env={"SURVEY_PASSWORD": ""},
        input=f"initial passphrase for the manager\n{MIA_PW}\n{MIA_PW}\n")  # fmt: skip
    wrong = run("--user", "mia", "users", "confirm-key", "olive", "AAAA-BBBB",
                extra_env={"SURVEY_PASSWORD": MIA_PW})  # fmt: skip
    assert wrong.exit_code == 1
    ok = run("--user", "mia", "users", "confirm-key", "olive", key["key"],
             extra_env={"SURVEY_PASSWORD": MIA_PW})  # fmt: skip
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(run("users", "list", "--json").stdout)[1]["key_confirmed"] is True
    out = tmp_path / "staff-keys.json"
    assert as_admin("users", "keys", "--export", str(out)).exit_code == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert {k["user"] for k in exported} == {"ada", "olive", "mia"}
    assert sum(1 for k in exported if k["user"] == "olive") == 3  # created, reset, own change
    with Session(db.engine) as session:
        log = [
            (e.actor, e.action)
            for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))
        ]
    for expected in (
        ("user:ada", "user.add"), ("user:ada", "user.roles"), ("user:ada", "user.disable"),
        ("user:ada", "user.enable"), ("user:ada", "user.reset"), ("user:mia", "user.key_confirm"),
        ("user:ada", "file.staff_keys"),
    ):  # fmt: skip
        assert expected in log, expected
