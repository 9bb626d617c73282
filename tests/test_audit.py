"""The audit log: hash chain, every tamper case, anchors, append-only triggers (no rewrite
through REPLACE or upsert either), serialised appends, and what the CLI records. The database
tests run on SQLite and on the throwaway PostgreSQL cluster."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import rfc8785
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from survey import audit
from survey.db import Database, alembic_config, make_engine
from survey.errors import DataError
from survey.models import AuditEntry
from survey.settings import load_settings


def fill(db: Database, n: int) -> None:
    with db.session() as session:
        for i in range(n):
            audit.append(session, "user:alice", "file.labels", {"study": "s", "n": i})


TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete", "audit_entry_insert_order")


def drop_triggers(engine: Engine, names: tuple[str, ...] = TRIGGERS) -> None:
    """What someone with raw write access to the database file (or the owner) could do."""
    on = " ON audit_entry" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}{on}"))


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


INTO = "INSERT INTO audit_entry (seq, at, actor, action, object, prev, hash) "
# Entry 2 again, by another actor (its stored hash kept: only the database can stop this).
REWRITE_2 = (
    "SELECT seq, at, 'user:mallory', action, object, prev, hash FROM audit_entry WHERE seq = 2"
)
# A well-formed next entry (seq, prev) that reuses entry 2's hash, the other unique column.
NEXT_WITH_HASH_OF_2 = (
    "SELECT (SELECT max(seq) + 1 FROM audit_entry), at, actor, action, object,"
    " (SELECT hash FROM audit_entry ORDER BY seq DESC LIMIT 1), hash FROM audit_entry WHERE seq = 2"
)
UPSERTS = [
    INTO + REWRITE_2 + " ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor",
    INTO + NEXT_WITH_HASH_OF_2 + " ON CONFLICT (hash) DO UPDATE SET actor = 'user:mallory'",
]
# SQLite's REPLACE resolves a conflict by deleting the old row without firing DELETE triggers
# (unless recursive_triggers is on, a per-connection pragma no other client is bound by).
REPLACES = [
    INTO.replace("INSERT", "REPLACE", 1) + REWRITE_2,
    INTO.replace("INSERT", "INSERT OR REPLACE", 1) + NEXT_WITH_HASH_OF_2,
]


def rows(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT seq, at, actor, action, object, prev, hash FROM audit_entry")
        )
        return [tuple(r) for r in found]


def rewrites(db: Database) -> list[str]:
    return UPSERTS + (REPLACES if db.engine.dialect.name == "sqlite" else [])


def test_no_insert_can_rewrite_or_remove_an_entry(db: Database) -> None:
    fill(db, 3)
    before = rows(db)
    for sql in rewrites(db):
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
        assert rows(db) == before, sql
    assert report(db).ok


def test_without_the_insert_trigger_upserts_still_meet_the_update_trigger(
    db: Database,
) -> None:
    """ON CONFLICT DO UPDATE is an UPDATE of the old row, refused by the UPDATE trigger alone;
    REPLACE is a delete and an insert (without the insert-order trigger it rewrites entry 2)."""
    fill(db, 3)
    drop_triggers(db.engine, ("audit_entry_insert_order",))
    before = rows(db)
    for sql in UPSERTS:
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    assert rows(db) == before
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            conn.execute(text(REPLACES[0]))
        assert dict((r[0], r[2]) for r in rows(db))[2] == "user:mallory"


def insert(db: Database, seq: int, prev: str, hash_: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_entry (seq, at, actor, action, object, prev, hash)"
                " SELECT :seq, at, actor, action, object, :prev, :hash FROM audit_entry"
                " WHERE seq = 1"
            ),
            {"seq": seq, "prev": prev, "hash": hash_},
        )


def test_an_insert_must_be_the_next_entry_of_the_chain(db: Database) -> None:
    fill(db, 3)
    head = report(db).head_hash
    for seq, prev in ((5, head), (0, head), (-1, head), (4, audit.GENESIS), (4, "f" * 64)):
        with pytest.raises(DatabaseError, match="append-only"):
            insert(db, seq, prev, "e" * 64)
    assert len(rows(db)) == 3
    insert(db, 4, head, "e" * 64)  # the next entry, linked to the head, is accepted
    assert len(rows(db)) == 4


def test_the_first_entry_is_number_one_after_genesis(db: Database) -> None:
    for seq, prev in ((2, audit.GENESIS), (1, "f" * 64)):
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(
                text(
                    INTO + "VALUES (:seq, '2026-06-01 09:00:00', 'os:x', 'test', '{}', :prev, :h)"
                ),
                {"seq": seq, "prev": prev, "h": "e" * 64},
            )
    fill(db, 1)
    assert report(db).ok and report(db).entries == 1


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ('UPDATE audit_entry SET object = \'{"study": "s", "n": 99}\' WHERE seq = 3', 3),
        ("UPDATE audit_entry SET actor = 'user:mallory' WHERE seq = 2", 2),
        ("DELETE FROM audit_entry WHERE seq = 3", 3),
        # an entry claims the old hash rule, or one that does not exist
        ("UPDATE audit_entry SET hash_version = 1 WHERE seq = 2", 2),
        ("UPDATE audit_entry SET hash_version = 3 WHERE seq = 4", 4),
        # an object that has no canonical form (beyond ±2^53): altered, not a crash
        ("UPDATE audit_entry SET object = '{\"n\": 9007199254740993}' WHERE seq = 5", 5),
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
def test_postgresql_refuses_truncate(pg_env: dict[str, str]) -> None:
    db = Database(load_settings())
    try:
        fill(db, 3)
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_entry"))
        assert report(db).entries == 3
    finally:
        db.dispose()


def stored(db: Database) -> list[AuditEntry]:
    """The entries as read back by a new session (never the objects the writer holds)."""
    with Session(db.engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def test_an_object_with_integer_keys_verifies_as_stored(db: Database) -> None:
    # {2: .., 10: ..} sorted as numbers but as strings once stored ("10" < "2"): the hash of
    # the in-memory object then never matched what was read back.
    obj = {"study": "s", "per_day": {2: 5, 10: 1}, "runs": ({1: "a"}, [3.0, -0.0, 1e21])}
    with db.session() as session:
        audit.append(session, "user:alice", "test.keys", obj)
    assert report(db).ok
    (entry,) = stored(db)
    assert entry.object == {
        "study": "s",
        "per_day": {"2": 5, "10": 1},
        "runs": [{"1": "a"}, [3, 0, 1e21]],
    }


def test_the_hash_covers_the_canonical_json_as_stored(db: Database) -> None:
    """What an offline verifier recomputes: SHA-256 of the RFC 8785 form of the entry."""
    with db.session() as session:
        audit.append(session, "user:alice", "test.canon", {"b": "志木", "a": [1, 2.5, None]})
    (entry,) = stored(db)
    document = {
        "hash_version": 2,
        "seq": 1,
        "at": entry.at.isoformat(),
        "actor": "user:alice",
        "action": "test.canon",
        "object": {"a": [1, 2.5, None], "b": "志木"},
        "prev": audit.GENESIS,
    }
    assert entry.hash_version == 2
    assert entry.hash == hashlib.sha256(rfc8785.dumps(document)).hexdigest()


@pytest.mark.parametrize(
    "obj",
    [
        {1: "a", "1": "b"},  # two keys that would be stored as one
        {(1, 2): "x"},
        {None: 1},
        {1.5: 1},
        {True: 1},
        {"n": float("nan")},
        {"n": 2**53},  # beyond what JSON numbers hold exactly
        {"on": date(2026, 6, 1)},
    ],
)
def test_an_object_json_cannot_keep_is_refused_with_its_action(
    db: Database, obj: dict[object, object]
) -> None:
    with pytest.raises(DataError, match="audit"), db.session() as session:
        audit.append(session, "user:alice", "test.first", {})
        audit.append(session, "user:alice", "test.bad", obj)  # type: ignore[arg-type]
    assert stored(db) == []  # the whole action rolls back


def v1_hash(seq: int, at: datetime, actor: str, action: str, obj: object, prev: str) -> str:
    """The rule of entries written before migration 0007, frozen here."""
    doc = [seq, at.isoformat(), actor, action, obj, prev]
    data = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


@pytest.mark.empty_database
def test_a_chain_anchored_before_hash_version_2_still_verifies(  # type: ignore[no-untyped-def]
    run,
) -> None:
    engine = make_engine(load_settings())
    command.upgrade(alembic_config(engine), "0006")
    columns = [c for c in AuditEntry.__table__.columns if c.name != "hash_version"]  # type: ignore[attr-defined]
    old_table = sa.table("audit_entry", *(sa.column(c.name, c.type) for c in columns))
    prev, at = audit.GENESIS, datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for seq in (1, 2, 3):
            obj = {"study": "s", "files": [f"/var/{seq}.pdf"], "counts": {"general": seq}}
            digest = v1_hash(seq, at, "os:clerk", "file.labels", obj, prev)
            conn.execute(
                sa.insert(old_table).values(
                    seq=seq, at=at, actor="os:clerk", action="file.labels", object=obj,
                    prev=prev, hash=digest,
                )
            )  # fmt: skip
            prev = digest
    engine.dispose()
    anchor = f"3:{prev}"
    db = Database(load_settings(), migrate=True)  # upgrades to head, as `survey db upgrade`
    try:
        fill(db, 2)
        assert [(e.seq, e.hash_version) for e in stored(db)] == [
            (1, 1),
            (2, 1),
            (3, 1),
            (4, 2),
            (5, 2),
        ]
        assert stored(db)[3].prev == prev
        assert report(db, audit.parse_anchor(anchor)).ok
        assert run("audit", "verify", "--expect-head", anchor).exit_code == 0
    finally:
        db.dispose()


def test_a_downgrade_that_would_break_the_chain_is_refused(db: Database) -> None:
    cfg = alembic_config(db.engine)
    command.downgrade(cfg, "0006")  # an empty log: nothing is lost
    command.upgrade(cfg, "head")
    fill(db, 1)
    with pytest.raises(RuntimeError, match="hash rule"):
        command.downgrade(cfg, "0006")
    assert report(db).ok


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
