"""The collector's own tables: all a public server holds, and nothing about a person.

They live in their own SQLAlchemy registry and their own Alembic history (version table
``alembic_version_collector``), so a collector database holds these tables only; in
one-process mode (demo, small sites) the office's database holds them beside its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class CollectorTable(SQLModel, registry=registry()):
    """Base of the collector's tables: a metadata of their own, apart from the office's."""


class CollectorStudy(CollectorTable, table=True):
    """The study this collector serves, as the office's collector file installed it."""

    __tablename__ = "collector_study"

    name: str = Field(primary_key=True, max_length=32)
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    fingerprint: str = Field(max_length=64)
    # What the public pages and the intake need: title, crisis lines, web cohorts, the
    # fieldwork window, the office's contact (survey.public.PUBLIC_SETTINGS).
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The frozen form versions: [{"form", "version", "cohort", "sha256"}].
    forms: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    installed_on: date
    # Raised by every import: a running server reads the study again when it changes.
    revision: int = 1


class CollectorCode(CollectorTable, table=True):
    """An access code as its keyed hash, with its cohort and a used flag: no time, no link.

    On SQLite the table has no rowid, so its physical order is that of the random hashes.
    """

    __tablename__ = "collector_code"
    __table_args__ = {"sqlite_with_rowid": False}

    hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    study: str = Field(foreign_key="collector_study.name", index=True, max_length=32)
    cohort: str = Field(max_length=32)
    used: bool = False
    # The export bundle that reported its consumption to the office (None: not yet; 0: the
    # office marked it used itself, e.g. a paper sheet, so it is never reported as a web use),
    # so that ``--again N`` rebuilds bundle N exactly. No time, no link to an answer.
    bundle: int | None = Field(default=None, index=True)


class CollectorResponse(CollectorTable, table=True):
    """A sealed web answer and the day it came (Asia/Tokyo), nothing else.

    The id is a random UUIDv4 and, on SQLite, the table has no rowid: physical order follows
    the random ids, not arrival. No time finer than the day, no address, no agent.
    """

    __tablename__ = "collector_response"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=32)
    study: str = Field(foreign_key="collector_study.name", index=True, max_length=32)
    cohort: str = Field(max_length=32)
    form_id: str = Field(max_length=32)
    version: int
    day: date
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Unique: the same sealed bytes cannot be stored twice (a replay).
    sealed_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    # Sequence number of the export bundle that carried it (None: not exported yet).
    bundle: int | None = Field(default=None, index=True)


class CollectorBundle(CollectorTable, table=True):
    """An export bundle this collector wrote: its place in the chain, never its contents."""

    __tablename__ = "collector_bundle"
    __table_args__ = (UniqueConstraint("study", "sequence", name="uq_collector_bundle_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    study: str = Field(foreign_key="collector_study.name", index=True, max_length=32)
    sequence: int
    sha256: str = Field(max_length=64)
    previous: str = Field(max_length=64)
    records: int
    created_on: date


class CollectorSigner(CollectorTable, table=True):
    """The public half of the collector's bundle-signing key (the seed stays in the key folder).

    Recorded so that a changed or replaced key file is noticed before a bundle is signed.
    """

    __tablename__ = "collector_signer"

    study: str = Field(primary_key=True, foreign_key="collector_study.name", max_length=32)
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    fingerprint: str = Field(max_length=64)
    created_on: date
