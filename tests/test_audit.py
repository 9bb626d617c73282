"""The audit log: hash chain, every tamper case, anchors, append-only triggers, serialised
appends, and what the CLI records."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from survey import audit
from survey.db import Database
from survey.models import AuditEntry
from survey.settings import load_settings


def fill(db: Database, n: int) -> None:
    with db.session() as session:
        for i in range(n):
            audit.append(session, "user:alice", "file.labels", {"study": "s", "n": i})


def drop_triggers(engine: Engine) -> None:
    """What someone with raw write access to the database file could do."""
    with engine.begin() as conn:
        for name in ("audit_entry_no_update", "audit_entry_no_delete"):
            conn.execute(text(f"DROP TRIGGER {name}"))


def report(db: Database, anchor: tuple[int, str] | None = None) -> audit.ChainReport:
    with Session(db.engine) as session:
        return audit.verify(session, anchor)


def test_an_intact_chain_verifies(db: Database) -> None:
    fill(db, 5)
    result = report(db)
    assert result.ok and result.entries == 5 and result.head_seq == 5
    with Session(db.engine) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    assert rows[0].prev == audit.GENESIS
    assert all(b.prev == a.hash for a, b in itertools.pairwise(rows))


def test_triggers_refuse_updates_and_deletes(db: Database) -> None:
    fill(db, 2)
    for sql in ("UPDATE audit_entry SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_entry"):
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    assert report(db).entries == 2


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ('UPDATE audit_entry SET object = \'{"study": "s", "n": 99}\' WHERE seq = 3', 3),
        ("UPDATE audit_entry SET actor = 'user:mallory' WHERE seq = 2", 2),
        ("DELETE FROM audit_entry WHERE seq = 3", 3),
        # reorder: entries 2 and 3 swap places (their content moves, seq stays in order)
        (
            "UPDATE audit_entry SET seq = -2 WHERE seq = 2; "
            "UPDATE audit_entry SET seq = 2 WHERE seq = 3; "
            "UPDATE audit_entry SET seq = 3 WHERE seq = -2",
            2,
        ),
    ],
)
def test_every_tamper_is_found_at_its_entry(db: Database, tamper: str, first_bad: int) -> None:
    fill(db, 6)
    drop_triggers(db.engine)
    with db.engine.begin() as conn:
        for statement in tamper.split(";"):
            conn.execute(text(statement))
    result = report(db)
    assert not result.ok and result.first_bad == first_bad


def test_a_cut_tail_is_found_against_an_anchored_head(db: Database) -> None:
    fill(db, 6)
    anchor = audit.parse_anchor(report(db).head)
    drop_triggers(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq >= 5"))
    assert report(db).ok  # a clean cut leaves a consistent, shorter chain ...
    cut = report(db, anchor)  # ... that the anchor exposes
    assert not cut.ok and cut.first_bad == 6 and "tail" in (cut.reason or "")


def test_concurrent_appends_are_serialised(db: Database) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(15):  # each thread takes its own connection from the pool
                with db.session() as session:
                    audit.append(session, f"user:{name}", "test.append", {"i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = report(db)
    assert result.ok and result.entries == 45


@pytest.mark.postgres
def test_postgresql_triggers_and_serialised_appends(pg_env: dict[str, str]) -> None:
    db = Database(load_settings())
    try:
        fill(db, 3)
        for sql in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"):
            with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(sql))
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_entry"))
        threads = [threading.Thread(target=fill, args=(db, 10)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result = report(db)
        assert result.ok and result.entries == 33
    finally:
        db.dispose()


def test_cli_verify_and_head(run, db: Database) -> None:  # type: ignore[no-untyped-def]
    fill(db, 4)
    head = run("audit", "head")
    assert head.exit_code == 0 and head.stdout.strip().startswith("4:")
    ok = run("audit", "verify", "--expect-head", head.stdout.strip(), "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"]
    drop_triggers(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    cut = run("audit", "verify", "--expect-head", head.stdout.strip())
    assert cut.exit_code == 1 and "4" in cut.stderr
    assert run("audit", "verify", "--expect-head", "nonsense").exit_code == 2


def actions(db: Database) -> list[tuple[str, str, dict[str, object]]]:
    with Session(db.engine) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    return [(r.actor, r.action, dict(r.object)) for r in rows]


def test_cli_actions_are_audited_under_the_os_or_staff_user(  # type: ignore[no-untyped-def]
    drawn, db: Database, tmp_path: Path
) -> None:
    assert drawn("codes", "--out", str(tmp_path / "slips.pdf")).exit_code == 0
    first = {"SURVEY_PASSWORD": "chosen by the admin 2026"}
    assert drawn("users", "add", "olive", "--role", "officer", extra_env=first).exit_code == 0
    early = drawn("--user", "olive", "labels", "--out", str(tmp_path / "l.pdf"), extra_env=first)
    assert early.exit_code == 1 and "passwd olive" in early.stderr  # her own password first
    own = "a long staff password 1"
    changed = drawn(
        "users", "passwd", "olive", extra_env={"SURVEY_PASSWORD": ""},
        input=f"chosen by the admin 2026\n{own}\n{own}\n",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    env = {"SURVEY_PASSWORD": own}
    labels = drawn("--user", "olive", "labels", "--out", str(tmp_path / "l.pdf"), extra_env=env)
    assert labels.exit_code == 0, labels.stderr
    bad = drawn(
        "--user", "olive", "postcards", "--out", str(tmp_path / "p.pdf"),
        extra_env={"SURVEY_PASSWORD": "not her password"},
    )  # fmt: skip
    assert bad.exit_code == 1 and not (tmp_path / "p.pdf").exists()
    log = actions(db)
    kinds = [a for _, a, _ in log]
    assert kinds[:3] == ["register.draw", "key.install", "file.code_slips"]
    assert log[0][0].startswith("os:")
    assert ("user:olive", "login.ok") in [(a, k) for a, k, _ in log]
    assert ("user:olive", "file.labels") in [(a, k) for a, k, _ in log]
    assert kinds[-1] == "login.failed" and "file.postcards" not in kinds
    labels_entry = next(o for _, k, o in log if k == "file.labels")
    assert labels_entry["files"] == [str(tmp_path / "l.pdf")]


def test_audit_objects_hold_no_personal_data(run, register_file, db: Database) -> None:  # type: ignore[no-untyped-def]
    from tests.test_privacy import ALLOCATION, canary_register

    path = canary_register(register_file)
    result = run(
        "sample", "--register", str(path), "--as-of", "2026-04-01", "--allocation", ALLOCATION
    )
    assert result.exit_code == 0, result.stderr
    text_ = json.dumps([o for _, _, o in actions(db)], ensure_ascii=False)
    assert "CANARY" not in text_ and "金糸雀" not in text_ and "カナリア" not in text_


def test_an_export_whose_audit_entry_fails_leaves_nothing(  # type: ignore[no-untyped-def]
    drawn, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export, its tracked file and its audit entry are one transaction."""
    from survey.models import AccessCode, TrackedFile

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("survey.audit.append", broken)
    for args in (
        ["codes", "--out", str(tmp_path / "slips.pdf")],
        ["labels", "--out", str(tmp_path / "labels.pdf")],
        ["postcards", "--out", str(tmp_path / "cards.pdf")],
    ):
        assert drawn(*args).exit_code == 1
    assert list(tmp_path.glob("*.pdf")) == []
    with Session(db.engine) as session:
        assert session.exec(select(TrackedFile)).all() == []
        assert session.exec(select(AccessCode)).all() == []  # no codes issued without a record


def test_an_anchor_taken_on_an_empty_log_stays_valid(run, db: Database) -> None:  # type: ignore[no-untyped-def]
    empty = run("audit", "head").stdout.strip()
    assert empty == f"0:{audit.GENESIS}"
    fill(db, 3)
    assert run("audit", "verify", "--expect-head", empty).exit_code == 0
