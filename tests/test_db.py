"""Database: durability settings on every connection, migrations match the models, PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect, text
from sqlmodel import SQLModel

from survey.collector.models import CollectorTable
from survey.db import (
    BOTH,
    SCHEMAS,
    SQLITE_PRAGMAS,
    Database,
    DatabaseSettingsError,
    SchemaNotCurrent,
    alembic_config,
    check_current,
    make_engine,
    upgrade,
)
from survey.settings import Settings, load_settings


def schema_diff(engine: Engine) -> dict[str, list[object]]:
    """What autogenerate would change, per side: each side's migrations match its models."""
    out: dict[str, list[object]] = {}
    for schema, metadata in (("office", SQLModel.metadata), ("collector", CollectorTable.metadata)):

        def mine(name: str | None, type_: str, _parent: object, md: MetaData = metadata) -> bool:
            return type_ != "table" or name in md.tables

        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={"version_table": SCHEMAS[schema].version_table, "include_name": mine},
            )
            out[schema] = list(compare_metadata(context, metadata))
    return out


NO_DIFF = {"office": [], "collector": []}


@pytest.mark.sqlite_only  # the SQLite file itself
def test_every_sqlite_connection_is_configured(db: Database) -> None:
    connections = [db.engine.raw_connection() for _ in range(3)]
    try:
        for raw in connections:
            cur = raw.cursor()
            for name, (_value, expected) in SQLITE_PRAGMAS.items():
                got = str(cur.execute(f"PRAGMA {name}").fetchone()[0]).lower()
                assert got == expected.lower(), name
            busy = cur.execute("PRAGMA busy_timeout").fetchone()[0]
            assert busy == db.settings.busy_timeout_ms == 10_000
    finally:
        for raw in connections:
            raw.close()


@pytest.mark.sqlite_only  # the SQLite file itself
def test_a_connection_that_cannot_take_wal_is_refused(settings: Settings) -> None:
    # An in-memory database cannot use WAL: the read-back check must notice.
    memory = Settings(settings.data_dir, settings.key_dir, "sqlite:///:memory:", None)
    engine = make_engine(memory)
    with pytest.raises(DatabaseSettingsError, match="journal_mode"):
        engine.connect()


def test_migrations_build_the_schema_and_autogenerate_finds_no_difference(db: Database) -> None:
    assert schema_diff(db.engine) == NO_DIFF
    tables = set(inspect(db.engine).get_table_names())
    assert {"study", "draw", "frame_count", "roster_unit", "seed_commitment"} <= tables
    assert {"collector_study", "collector_code", "collector_response"} <= tables


def test_downgrade_and_upgrade_again(db: Database) -> None:
    for schema, table in (("office", "study"), ("collector", "collector_study")):
        cfg = alembic_config(db.engine, schema)
        command.downgrade(cfg, "base")
        assert table not in inspect(db.engine).get_table_names()
        command.upgrade(cfg, "head")
    assert schema_diff(db.engine) == NO_DIFF


@pytest.mark.sqlite_only  # the SQLite file itself
def test_servers_refuse_a_schema_that_is_not_current(settings: Settings) -> None:
    engine = make_engine(settings)
    upgrade(engine, "office")  # the office's tables only: the collector's are missing
    with pytest.raises(SchemaNotCurrent, match="survey-collector db upgrade"):
        check_current(engine, BOTH)
    check_current(engine, ("office",))
    command.downgrade(alembic_config(engine, "office"), "-1")
    with pytest.raises(SchemaNotCurrent, match="survey db upgrade"):
        check_current(engine, ("office",))
    with pytest.raises(SchemaNotCurrent):
        Database(settings, migrate=False)
    engine.dispose()


@pytest.mark.sqlite_only  # the SQLite file itself
def test_database_lives_in_the_data_folder(db: Database, settings: Settings) -> None:
    assert (settings.data_dir / "survey.sqlite3").exists()


@pytest.mark.postgres
def test_postgresql_schema_and_settings(pg_env: dict[str, str]) -> None:
    database = Database(load_settings())
    try:
        assert schema_diff(database.engine) == NO_DIFF
        with database.engine.connect() as conn:
            assert conn.execute(text("SHOW fsync")).scalar() == "on"
    finally:
        database.dispose()


@pytest.mark.postgres
def test_postgresql_without_synchronous_commit_is_refused(pg_env: dict[str, str]) -> None:
    url = pg_env["SURVEY_DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    settings = load_settings()
    admin = make_engine(settings)
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        conn.commit()
    admin.dispose()
    engine = make_engine(settings)
    with pytest.raises(DatabaseSettingsError, match="synchronous_commit"):
        engine.connect()
    engine.dispose()
