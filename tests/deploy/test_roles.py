"""The production PostgreSQL roles: the application may append to the audit log, never change
or delete entries (privileges, beside the triggers), nor insert anything but the next entry."""

from __future__ import annotations

import base64
from pathlib import Path

import psycopg
import pytest

from survey import audit
from survey.codes import new_code
from survey.collector.install import PROVISION_FORMAT, import_provision
from survey.collector.intake import Intake
from survey.crypto import code_hash, fingerprint
from survey.db import Database
from survey.forms.loader import current_forms, load_forms
from survey.settings import load_settings
from tests.helpers import STUDY_PUBLIC_KEY, seal

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "postgresql"


def create_roles(conn: psycopg.Connection[object]) -> None:
    """roles.sql, as a superuser; roles belong to the cluster, so another test may have
    created them already."""
    for statement in sql_statements(DEPLOY / "roles.sql"):
        try:
            conn.execute(statement)  # type: ignore[arg-type]
        except psycopg.errors.DuplicateObject:
            continue


def handed_to_the_owner(url: str) -> str:
    """Create the roles, give the database to survey_owner; its URL for the owner."""
    base, dbname = url.rsplit("/", 1)
    with psycopg.connect(f"{base.replace('+psycopg', '')}/{dbname}", autocommit=True) as conn:
        create_roles(conn)
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO survey_owner')  # type: ignore[arg-type]
        conn.execute("GRANT ALL ON SCHEMA public TO survey_owner")
    return url.replace("postgres@", "survey_owner@")


def sql_statements(path: Path) -> list[str]:
    lines = [line for line in path.read_text().splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


@pytest.mark.postgres
def test_the_app_role_cannot_rewrite_the_audit_log(
    pg_bare_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_bare_env["SURVEY_DATABASE_URL"]
    owner_url = handed_to_the_owner(url)
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


@pytest.mark.postgres
def test_the_collectors_app_role_stores_answers_but_deletes_nothing(
    pg_bare_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_bare_env["SURVEY_DATABASE_URL"]
    owner_url = handed_to_the_owner(url)
    monkeypatch.setenv("SURVEY_DATABASE_URL", owner_url)
    # The owner runs `survey-collector db upgrade`, then the collector's grants.
    Database(load_settings(), ("collector",), migrate=True).dispose()
    with psycopg.connect(owner_url.replace("+psycopg", ""), autocommit=True) as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert tables == {
            "alembic_version_collector", "collector_study", "collector_code",
            "collector_response", "collector_bundle", "collector_signer",
        }  # fmt: skip
        for statement in sql_statements(DEPLOY / "collector-grants.sql"):
            conn.execute(statement)  # type: ignore[arg-type]
    app_url = url.replace("postgres@", "survey_app@")
    monkeypatch.setenv("SURVEY_DATABASE_URL", app_url)
    settings = load_settings()
    db = Database(settings, ("collector",))  # checks the schema, migrates nothing
    hash_key = bytes(range(32))
    code = new_code()
    general = current_forms(load_forms())["general"]
    doc = {
        "format": PROVISION_FORMAT,
        "study": "default",
        "public_key": base64.b64encode(STUDY_PUBLIC_KEY).decode(),
        "fingerprint": fingerprint(STUDY_PUBLIC_KEY),
        "settings": {"web_cohorts": ["general"]},
        "forms": [{"form": "general", "version": general.version, "cohort": "general",
                   "sha256": general.sha256}],
        "code_hash_key": base64.b64encode(hash_key).decode(),
        "codes": [{"hash": base64.b64encode(code_hash(hash_key, code)).decode(),
                   "cohort": "general", "used": False}],
    }  # fmt: skip
    try:
        with db.session() as session:
            import_provision(session, settings, doc)
        intake = Intake(db.engine, settings, "default")
        intake.submit(code, seal(STUDY_PUBLIC_KEY, general, {"sex": 1}))
        with psycopg.connect(app_url.replace("+psycopg", ""), autocommit=True) as conn:
            for sql in (
                "DELETE FROM collector_response",
                "DELETE FROM collector_code",
                "TRUNCATE collector_response",
                "UPDATE alembic_version_collector SET version_num = 'x'",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)  # type: ignore[arg-type]
    finally:
        db.dispose()
