"""Database engine: durability settings verified on every connection, schema via Alembic.

SQLite is the default (one file under the data folder). Every connection gets WAL,
``synchronous=FULL``, foreign keys, ``secure_delete`` and a busy timeout, and each is read
back: a connection that did not take them is refused rather than silently used.
PostgreSQL (``SURVEY_DATABASE_URL``) must run with ``fsync`` on and
``synchronous_commit`` not off.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, event
from sqlmodel import Session, create_engine

from survey.errors import DataError
from survey.settings import Settings

# pragma -> value expected when read back. journal_mode answers in lower case.
SQLITE_PRAGMAS: dict[str, tuple[str, str]] = {
    "journal_mode": ("WAL", "wal"),
    "synchronous": ("FULL", "2"),
    "foreign_keys": ("ON", "1"),
    # Deleted roster rows and erased data are overwritten with zeros, not left in free pages.
    "secure_delete": ("ON", "1"),
}


class DatabaseSettingsError(DataError):
    """A connection lacks a durability or safety setting we rely on."""


def _sqlite_configurer(busy_timeout_ms: int) -> Any:
    pragmas = {**SQLITE_PRAGMAS, "busy_timeout": (str(busy_timeout_ms), str(busy_timeout_ms))}

    def configure(dbapi_conn: Any, _record: Any) -> None:
        _configure_sqlite(dbapi_conn, pragmas)

    return configure


def _configure_sqlite(dbapi_conn: Any, pragmas: dict[str, tuple[str, str]]) -> None:
    # pysqlite's own implicit BEGIN is switched off: transactions start in _begin_sqlite, so
    # a caller can ask for BEGIN IMMEDIATE (take the write lock before reading, as the intake
    # does to consume a code exactly once).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        for name, (value, _expected) in pragmas.items():
            cur.execute(f"PRAGMA {name}={value}")
        for name, (_value, expected) in pragmas.items():
            got = str(cur.execute(f"PRAGMA {name}").fetchone()[0]).lower()
            if got != expected.lower():
                raise DatabaseSettingsError(
                    f"SQLite の設定 {name} が {expected} になりません（{got}）。",
                    f"SQLite setting {name} did not take (expected {expected}, got {got}).",
                )
    finally:
        cur.close()


def _begin_sqlite(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    assert mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _verify_postgresql(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("SHOW fsync")
        fsync = str(cur.fetchone()[0])
        cur.execute("SHOW synchronous_commit")
        sync_commit = str(cur.fetchone()[0])
    finally:
        cur.close()
    dbapi_conn.rollback()
    if fsync != "on" or sync_commit == "off":
        raise DatabaseSettingsError(
            f"PostgreSQL は fsync=on, synchronous_commit≠off で動かしてください"
            f"（fsync={fsync}, synchronous_commit={sync_commit}）。",
            f"PostgreSQL must run with fsync=on and synchronous_commit not off "
            f"(fsync={fsync}, synchronous_commit={sync_commit}).",
        )


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.database_url,
            connect_args={
                "timeout": settings.busy_timeout_ms / 1000,
                "check_same_thread": False,
            },
            # Statement parameters can be names and addresses: never in an error message.
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_configurer(settings.busy_timeout_ms))
        event.listen(engine, "begin", _begin_sqlite)
    else:
        engine = create_engine(settings.database_url, pool_pre_ping=True, hide_parameters=True)
        event.listen(engine, "connect", _verify_postgresql)
    return engine


@dataclass(frozen=True, slots=True)
class Schema:
    """One side's tables and their own Alembic history."""

    name: str
    package: str  # holds migrations/ (env.py, versions/)
    version_table: str
    command: str  # the command that upgrades it


SCHEMAS: dict[str, Schema] = {
    "office": Schema("office", "survey", "alembic_version", "survey db upgrade"),
    # The collector's tables have a history of their own, so a collector database holds them
    # only, and the office's migrations are never even loaded on a collector.
    "collector": Schema(
        "collector",
        "survey.collector",
        "alembic_version_collector",
        "survey-collector db upgrade",
    ),
}
BOTH = ("office", "collector")


class SchemaNotCurrent(DataError):
    """The database's schema is not at the newest migration: a server refuses to start."""


def alembic_config(
    engine: Engine, schema: str = "office", settings: Settings | None = None
) -> Config:
    spec = SCHEMAS[schema]
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files(spec.package) / "migrations"))
    cfg.set_main_option("version_table", spec.version_table)
    cfg.attributes["engine"] = engine
    # Data migrations may need the installation's settings (e.g. the key folder, to encrypt
    # what was stored in clear); without them a migration reads them from the environment.
    cfg.attributes["settings"] = settings
    return cfg


def run_migrations(context: Any, metadata: MetaData) -> None:
    """What each side's Alembic ``env.py`` runs: on the engine handed over by
    :func:`alembic_config` (or the configured database), with that side's version table."""
    config = context.config
    engine = config.attributes.get("engine")
    if engine is None:  # the alembic command line
        from survey.settings import load_settings

        engine = make_engine(load_settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=config.get_main_option("version_table") or "alembic_version",
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


def upgrade(engine: Engine, schema: str = "office", settings: Settings | None = None) -> None:
    """Bring one side's tables to their newest migration (a no-op when current)."""
    command.upgrade(alembic_config(engine, schema, settings), "head")


def schema_state(engine: Engine, schema: str) -> tuple[set[str], set[str]]:
    """(revisions the database is at, newest revisions of the code) for one side."""
    cfg = alembic_config(engine, schema)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": SCHEMAS[schema].version_table}
        )
        current = set(context.get_current_heads())
    return current, heads


def check_current(engine: Engine, schemas: Sequence[str]) -> None:
    """Refuse a database whose tables are missing or older than this code (servers)."""
    for schema in schemas:
        current, heads = schema_state(engine, schema)
        if current != heads:
            spec = SCHEMAS[schema]
            state = "ありません" if not current else f"古い版です（{', '.join(sorted(current))}）"
            state_en = "missing" if not current else f"at {', '.join(sorted(current))}"
            raise SchemaNotCurrent(
                f"データベースの {spec.name} の表が{state}。データベースの所有者として "
                f"{spec.command} を実行してから起動してください。",
                f"The database's {spec.name} tables are {state_en}, not at "
                f"{', '.join(sorted(heads))}: run `{spec.command}` (as the database owner) "
                "before starting.",
            )


@contextmanager
def transaction(engine: Engine, write: bool = True) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise.

    On SQLite a writing session starts with ``BEGIN IMMEDIATE``: it takes the write lock
    before its first read, so two writers queue instead of one failing when it upgrades from
    reading (what serialises audit-log appends there).
    """
    with engine.connect() as raw:
        conn = raw.execution_options(sqlite_begin="IMMEDIATE") if write else raw
        with Session(bind=conn, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


class Database:
    """One engine per process for the given sides' tables.

    ``migrate`` (default: on SQLite) upgrades their schema on first use, as the command line
    does on a local file; otherwise (servers, PostgreSQL) the schema must already be current,
    upgraded by ``survey db upgrade`` as the database owner.
    """

    def __init__(
        self,
        settings: Settings,
        schemas: Sequence[str] = BOTH,
        migrate: bool | None = None,
    ) -> None:
        self.settings = settings
        self.schemas = tuple(schemas)
        self.engine = make_engine(settings)
        if settings.is_sqlite if migrate is None else migrate:
            for schema in self.schemas:
                upgrade(self.engine, schema, settings)
        else:
            check_current(self.engine, self.schemas)

    def session(self, write: bool = True) -> AbstractContextManager[Session]:
        return transaction(self.engine, write)

    def dispose(self) -> None:
        self.engine.dispose()
