"""`survey users`: the account commands end to end, each audited; the key ceremony and sheet."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from survey.db import Database
from survey.models import AuditEntry

ADMIN_PW = "the admin's own passphrase"
OLIVE_PW = "officer's chosen passphrase"
MIA_PW = "the manager's passphrase"


def audit_log(db: Database) -> list[tuple[str, str]]:
    with Session(db.engine) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))
        return [(e.actor, e.action) for e in rows]


def listed(run: Any) -> dict[str, dict[str, Any]]:
    return {u["name"]: u for u in json.loads(run("users", "list", "--json").stdout)}


def test_account_commands(run, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def as_admin(*args: str, **kw: str):  # type: ignore[no-untyped-def]
        return run("--user", "ada", *args, extra_env={"SURVEY_PASSWORD": ADMIN_PW}, **kw)

    def as_mia(*args: str):  # type: ignore[no-untyped-def]
        return run("--user", "mia", *args, extra_env={"SURVEY_PASSWORD": MIA_PW})

    first = {"SURVEY_PASSWORD": "initial passphrase at install"}
    both = run("users", "add", "ada", "--role", "admin", "--role", "manager", extra_env=first)
    assert both.exit_code == 2 and "cannot be combined" in both.stderr
    assert run("users", "add", "ada", "--role", "admin", extra_env=first).exit_code == 0
    own = run("users", "passwd", "ada", extra_env={"SURVEY_PASSWORD": ""},
              input=f"initial passphrase at install\n{ADMIN_PW}\n{ADMIN_PW}\n")  # fmt: skip
    assert own.exit_code == 0, own.stderr
    added = as_admin(
        "users", "add", "olive", "--role", "officer", input="set by ada 2026 spring\n" * 2
    )
    assert added.exit_code == 0, added.stderr
    assert [(n, u["roles"]) for n, u in listed(run).items()] == [
        ("ada", ["admin"]),
        ("olive", ["officer"]),
    ]
    assert (
        as_admin("users", "roles", "olive", "--role", "officer", "--role", "analyst").exit_code == 0
    )
    refused = as_admin("users", "roles", "ada", "--role", "admin", "--role", "officer")
    assert refused.exit_code == 2 and listed(run)["ada"]["roles"] == ["admin"]
    assert as_admin("users", "disable", "olive").exit_code == 0
    assert listed(run)["olive"]["disabled"] is True
    assert as_admin("users", "enable", "olive").exit_code == 0
    reset = as_admin("users", "passwd", "olive", "--reset", input="reset by ada 2026 summer\n" * 2)
    assert reset.exit_code == 0, reset.stderr
    changed = run("users", "passwd", "olive", extra_env={"SURVEY_PASSWORD": ""},
                  input=f"reset by ada 2026 summer\n{OLIVE_PW}\n{OLIVE_PW}\n")  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    olive_key = listed(run)["olive"]["key"]
    assert listed(run)["olive"]["key_confirmed"] is False
    # Ada created and reset Olive's account, and an admin is no manager: she cannot vouch.
    refused = as_admin("users", "confirm-key", "olive", olive_key)
    assert refused.exit_code == 2 and "Only a manager" in refused.stderr

    # The first manager, created by Ada; her key confirmed at the key ceremony.
    start = "initial passphrase for the manager"
    made = as_admin("users", "add", "mia", "--role", "manager", input=f"{start}\n" * 2)
    assert made.exit_code == 0, made.stderr
    provisional = listed(run)["mia"]["key"]
    early = run("--user", "mia", "users", "confirm-key", "mia", provisional, "--bootstrap",
                extra_env={"SURVEY_PASSWORD": start})  # fmt: skip
    assert early.exit_code == 1 and "passwd mia" in early.stderr  # her own password first
    run("users", "passwd", "mia", extra_env={"SURVEY_PASSWORD": ""},
        input=f"{start}\n{MIA_PW}\n{MIA_PW}\n")  # fmt: skip
    mia_key = listed(run)["mia"]["key"]
    unconfirmed = as_mia("users", "confirm-key", "olive", olive_key)
    assert unconfirmed.exit_code == 2 and "own key must be confirmed" in unconfirmed.stderr
    by_other = as_admin("users", "confirm-key", "mia", mia_key, "--bootstrap")
    assert by_other.exit_code == 2  # the holder herself, with her password
    ceremony = as_mia("users", "confirm-key", "mia", mia_key, "--bootstrap")
    assert ceremony.exit_code == 0, ceremony.stderr
    again = as_mia("users", "confirm-key", "mia", mia_key, "--bootstrap")
    assert again.exit_code == 2 and "has been held" in again.stderr
    wrong = as_mia("users", "confirm-key", "olive", "AAAA-BBBB")
    assert wrong.exit_code == 1
    ok = as_mia("users", "confirm-key", "olive", olive_key)
    assert ok.exit_code == 0, ok.stderr
    assert listed(run)["olive"]["key_confirmed"] is True

    out = tmp_path / "staff-keys.json"
    sheet = tmp_path / "key-sheet.pdf"
    assert as_admin("users", "keys").exit_code == 2  # --export or --sheet
    made = as_admin("users", "keys", "--export", str(out), "--sheet", str(sheet))
    assert made.exit_code == 0, made.stderr
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert {k["user"] for k in exported} == {"ada", "olive", "mia"}
    assert sum(1 for k in exported if k["user"] == "olive") == 3  # created, reset, own change
    active = {k["user"]: k for k in exported if k["active"]}
    assert active["olive"]["confirmed_by"] == "mia" and active["olive"]["confirmed_at"]
    assert active["mia"]["bootstrap"] and active["mia"]["confirmed_by"] is None
    assert not active["ada"]["confirmed"] and active["ada"]["roles"] == ["admin"]
    text = pdf_text(sheet)
    assert text.count("鍵確認書") == 3  # one page per person
    for name, key in (("olive", olive_key), ("mia", mia_key)):
        assert name in text and key in text
    assert "責任者（manager）" in text and "担当者（officer）" in text
    assert "鍵の確認式で確認" in text and "責任者 mia が確認" in text and "未確認" in text
    assert "氏名（自署）" in text and "印" in text and "審査会" in text
    assert as_admin("users", "keys", "--sheet", str(sheet)).exit_code == 2  # never overwritten

    log = audit_log(db)
    for expected in (
        ("user:ada", "user.add"), ("user:ada", "user.roles"), ("user:ada", "user.disable"),
        ("user:ada", "user.enable"), ("user:ada", "user.reset"), ("user:mia", "user.key_confirm"),
        ("user:mia", "user.key_bootstrap"), ("user:ada", "file.staff_keys"),
        ("user:ada", "file.staff_key_sheet"),
    ):  # fmt: skip
        assert expected in log, expected


def pdf_text(path: Path) -> str:
    from tests.conftest import require_program

    found = subprocess.run(["which", "pdftotext"], capture_output=True).returncode == 0
    require_program("pdftotext (poppler-utils)", found)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode()


def test_a_locked_or_unknown_user_is_answered_like_a_wrong_password(  # type: ignore[no-untyped-def]
    run, db: Database, tmp_path: Path
) -> None:
    first = {"SURVEY_PASSWORD": OLIVE_PW}
    assert run("users", "add", "olive", "--role", "officer", extra_env=first).exit_code == 0
    run("users", "passwd", "olive", extra_env={"SURVEY_PASSWORD": ""},
        input=f"{OLIVE_PW}\n{MIA_PW}\n{MIA_PW}\n")  # fmt: skip

    def as_olive(password: str, user: str = "olive"):  # type: ignore[no-untyped-def]
        out = str(tmp_path / f"keys-{len(list(tmp_path.iterdir()))}.json")
        return run("--user", user, "users", "keys", "--export", out,
                   extra_env={"SURVEY_PASSWORD": password})  # fmt: skip

    wrong = [as_olive("not her password") for _ in range(5)]
    locked = as_olive(MIA_PW)  # her password, but the account is locked
    unknown = as_olive(MIA_PW, user="nobody")
    assert {r.exit_code for r in [*wrong, locked, unknown]} == {1}
    assert wrong[0].stderr == locked.stderr == unknown.stderr
    assert "Wrong user name or password" in locked.stderr
    assert not any(tmp_path.glob("keys-*.json"))
    assert ("user:olive", "login.locked") in audit_log(db)  # the log still tells


def test_the_user_password_is_checked_for_read_only_commands_too(  # type: ignore[no-untyped-def]
    run, db: Database
) -> None:
    first = {"SURVEY_PASSWORD": OLIVE_PW}
    assert run("users", "add", "olive", "--role", "officer", extra_env=first).exit_code == 0
    run("users", "passwd", "olive", extra_env={"SURVEY_PASSWORD": ""},
        input=f"{OLIVE_PW}\n{MIA_PW}\n{MIA_PW}\n")  # fmt: skip
    wrong = {"SURVEY_PASSWORD": "not her password"}
    for command in (("users", "list", "--json"), ("audit", "head"), ("audit", "verify")):
        refused = run("--user", "olive", *command, extra_env=wrong)
        assert refused.exit_code == 1 and refused.stdout == "", command
        assert "Wrong user name or password" in refused.stderr
    unknown = run("--user", "nobody", "users", "list", extra_env={"SURVEY_PASSWORD": MIA_PW})
    assert unknown.exit_code == 1 and unknown.stdout == ""
    ok = run("--user", "olive", "users", "list", "--json", extra_env={"SURVEY_PASSWORD": MIA_PW})
    assert ok.exit_code == 0 and json.loads(ok.stdout)[0]["name"] == "olive"
    # --help asks for nothing and touches no database.
    helped = run("--user", "olive", "audit", "head", "--help", extra_env={"SURVEY_PASSWORD": ""})
    assert helped.exit_code == 0 and "Usage" in helped.stdout
    log = audit_log(db)
    assert log.count(("user:olive", "login.failed")) == 3 and ("unknown", "login.failed") in log
    assert ("user:olive", "login.ok") in log
