"""The production PostgreSQL roles: the application may append to the audit log, never change
or delete entries (privileges, beside the triggers), nor insert anything but the next entry."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from survey import audit
from survey.db import Database
from survey.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "postgresql"


def sql_statements(path: Path) -> list[str]:
    lines = [line for line in path.read_text().splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


@pytest.mark.postgres
def test_the_app_role_cannot_rewrite_the_audit_log(
    pg_bare_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_bare_env["SURVEY_DATABASE_URL"]
    base, dbname = url.rsplit("/", 1)
    admin = base.replace("+psycopg", "")
    with psycopg.connect(f"{admin}/{dbname}", autocommit=True) as conn:
        for statement in sql_statements(DEPLOY / "roles.sql"):
            conn.execute(statement)  # type: ignore[arg-type]
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO survey_owner')  # type: ignore[arg-type]
        conn.execute("GRANT ALL ON SCHEMA public TO survey_owner")
    owner_url = url.replace("postgres@", "survey_owner@")
    monkeypatch.setenv("SURVEY_DATABASE_URL", owner_url)
    Database(load_settings(), migrate=True).dispose()  # the owner runs `survey db upgrade`
    with psycopg.connect(owner_url.replace("+psycopg", ""), autocommit=True) as conn:
        for statement in sql_statements(DEPLOY / "grants.sql"):
            conn.execute(statement)  # type: ignore[arg-type]
    monkeypatch.setenv("SURVEY_DATABASE_URL", url.replace("postgres@", "survey_app@"))
    db = Database(load_settings())
    try:
        with db.session() as session:
            audit.append(session, "user:alice", "test.append", {})
        app = url.replace("postgres@", "survey_app@").replace("+psycopg", "")
        with psycopg.connect(app, autocommit=True) as conn:
            for sql in (
                "UPDATE audit_entry SET actor = 'x'",
                "DELETE FROM audit_entry",
                "TRUNCATE audit_entry",
                "DROP TRIGGER audit_entry_no_update ON audit_entry",
                "DROP TRIGGER audit_entry_insert_order ON audit_entry",
                "INSERT INTO audit_entry SELECT * FROM audit_entry"
                " ON CONFLICT (seq) DO UPDATE SET actor = 'x'",  # needs UPDATE
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)  # type: ignore[arg-type]
            # A temporary table of the same name comes first on the role's search path: the
            # insert-order trigger must still read the real head (here seq 1), not this one.
            conn.execute("CREATE TEMP TABLE audit_entry (seq integer, hash text)")
            conn.execute("INSERT INTO audit_entry VALUES (99, 'fake head')")
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(
                    "INSERT INTO public.audit_entry (seq, at, actor, action, object, prev, hash)"
                    " SELECT 100, at, actor, action, object, 'fake head', 'x'"
                    " FROM public.audit_entry WHERE seq = 1"
                )
        with db.session() as session:
            audit.append(session, "user:alice", "test.append", {})
            assert audit.verify(session).entries == 2
    finally:
        db.dispose()
