"""The destructive steps: keys and files overwritten and unlinked, the database compacted.

Overwriting a file in place and syncing it clears it on a plain magnetic disk; on an SSD
(wear levelling) or a journaling or copy-on-write file system old blocks may survive, so for
files this is deletion, not sanitisation, and the certificate says so. What protects the
roster is crypto-erasure: the one roster key is destroyed, and every copy of the roster and
the seed, backups included, stays unreadable.

The database: on SQLite the WAL is checkpointed and truncated, ``VACUUM`` rebuilds the file
(with ``secure_delete`` on, freed pages were zeroed already) and the WAL is truncated again;
on PostgreSQL ``VACUUM FULL`` rewrites each affected table (its ``relfilenode`` must change)
through the owner's connection, ``SURVEY_OWNER_DATABASE_URL``: the application role does not
own the tables and should not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from survey.errors import UsageError
from survey.settings import Settings

CHUNK = 1 << 20


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def shred(path: Path) -> dict[str, Any]:
    """Overwrite ``path`` once with zeros, sync, unlink, sync its folder."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return {"path": str(path), "found": False}
    with path.open("r+b") as fh:
        left = size
        while left > 0:
            step = min(left, CHUNK)
            fh.write(b"\0" * step)
            left -= step
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()
    _sync_dir(path.parent)
    return {"path": str(path), "found": True, "bytes_overwritten": size, "unlinked": True}


def prune_empty(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``root`` while they are empty
    (the office's per-download folders under exports/)."""
    try:
        folder.relative_to(root)
    except ValueError:
        return
    while folder != root:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def sqlite_path(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database).resolve()


def compact_sqlite(engine: Engine) -> dict[str, Any]:
    raw = engine.raw_connection()  # outside any transaction: VACUUM cannot run inside one
    try:
        cursor = raw.cursor()
        before = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.execute("VACUUM")
        after = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        freelist = cursor.execute("PRAGMA freelist_count").fetchone()[0]
        secure = cursor.execute("PRAGMA secure_delete").fetchone()[0]
        cursor.close()
    finally:
        raw.close()
    path = sqlite_path(engine)
    wal = Path(f"{path}-wal") if path else None
    wal_bytes = wal.stat().st_size if wal is not None and wal.exists() else 0
    return {
        "backend": "sqlite",
        "method": "wal_checkpoint(TRUNCATE), VACUUM, wal_checkpoint(TRUNCATE)",
        "secure_delete": bool(secure),
        # busy = 1: a reader kept the checkpoint from completing.
        "checkpoint_busy": [int(before[0]), int(after[0])],
        "wal_bytes_after": wal_bytes,
        "free_pages_after": int(freelist),
        "ok": int(after[0]) == 0 and wal_bytes == 0 and int(freelist) == 0,
    }


def owner_engine(settings: Settings) -> Engine:
    if not settings.owner_database_url:
        raise UsageError(
            "PostgreSQL では消去の仕上げ（VACUUM FULL）に表の所有者の接続が必要です。"
            "SURVEY_OWNER_DATABASE_URL を設定してください。何も消去していません。",
            "On PostgreSQL erasure rewrites the tables (VACUUM FULL) as their owner: set "
            "SURVEY_OWNER_DATABASE_URL. Nothing was erased.",
        )
    return create_engine(
        settings.owner_database_url, isolation_level="AUTOCOMMIT", hide_parameters=True
    )


_SAME_DATABASE = text(
    "SELECT current_database(), pg_postmaster_start_time(), "
    "(SELECT oid FROM pg_database WHERE datname = current_database())"
)
_OWNS = text(
    "SELECT c.relname, pg_get_userbyid(c.relowner) = current_user "
    "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
    "FROM pg_class c WHERE c.oid = to_regclass(:name)"
)
_FILENODES = text(
    "SELECT c.relfilenode, t.relfilenode FROM pg_class c "
    "LEFT JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = to_regclass(:name)"
)


def check_owner(settings: Settings, engine: Engine, tables: list[str]) -> None:
    """Before anything is erased: the owner URL reaches this very database and owns the tables."""
    if engine.dialect.name != "postgresql" or not tables:
        return
    owner = owner_engine(settings)
    try:
        with engine.connect() as app, owner.connect() as own:
            if tuple(app.execute(_SAME_DATABASE).one()) != tuple(own.execute(_SAME_DATABASE).one()):
                raise UsageError(
                    "SURVEY_OWNER_DATABASE_URL が別のデータベースを指しています。",
                    "SURVEY_OWNER_DATABASE_URL points at another database.",
                )
            for name in tables:
                row = own.execute(_OWNS, {"name": name}).first()
                if row is None or not row[1]:
                    raise UsageError(
                        f"SURVEY_OWNER_DATABASE_URL の役割は表 {name} の所有者ではありません。",
                        f"The SURVEY_OWNER_DATABASE_URL role does not own table {name}.",
                    )
    finally:
        owner.dispose()


def compact_postgresql(settings: Settings, tables: list[str]) -> dict[str, Any]:
    owner = owner_engine(settings)
    rewritten = []
    try:
        with owner.connect() as conn:
            for name in tables:
                before = tuple(conn.execute(_FILENODES, {"name": name}).one())
                # The names come from survey.erasure.inventory, never from input.
                conn.execute(text(f'VACUUM FULL "{name}"'))
                after = tuple(conn.execute(_FILENODES, {"name": name}).one())
                rewritten.append(
                    {
                        "table": name,
                        "relfilenode_before": before[0],
                        "relfilenode_after": after[0],
                        "rewritten": before[0] != after[0]
                        and (before[1] is None or before[1] != after[1]),
                    }
                )
    finally:
        owner.dispose()
    return {
        "backend": "postgresql",
        "method": "VACUUM FULL (as the table owner), relfilenode compared before and after",
        "tables": rewritten,
        "ok": all(r["rewritten"] for r in rewritten),
    }


def compact(settings: Settings, engine: Engine, tables: list[str]) -> dict[str, Any]:
    if engine.dialect.name == "sqlite":
        return compact_sqlite(engine)
    return compact_postgresql(settings, tables)
