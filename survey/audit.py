"""The tamper-evident audit log: append-only, hash-chained, anchored.

Each entry holds the acting user, the action, its object (never answers, never personal data)
and the hash of the previous entry; its own hash covers all of these. Appends happen in the
transaction of the action they record and are serialised (SQLite: the one writer lock;
PostgreSQL: a transaction-level advisory lock). Triggers refuse UPDATE and DELETE of entries,
and an INSERT that is not the next entry of the chain (so SQLite's REPLACE cannot rewrite one).
Changing, deleting or reordering an entry breaks the chain at that entry; cutting the tail is
found against a head anchored elsewhere (``survey audit head``, erasure certificates).
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from survey.errors import DataError, UsageError
from survey.models import AuditEntry

GENESIS = "0" * 64
_PG_LOCK = 0x5355_5256  # "SURV": one advisory lock for the log


def now_utc() -> datetime:
    # Office side only: staff actions are timed to the second (the public side keeps days).
    return datetime.now(UTC).replace(microsecond=0)


def os_actor() -> str:
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return "os:unknown"


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, obj: dict[str, Any], prev: str
) -> str:
    doc = [seq, at.isoformat(), actor, action, obj, prev]
    data = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _lock(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def head(session: Session) -> AuditEntry | None:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()


def append(
    session: Session,
    actor: str,
    action: str,
    obj: dict[str, Any] | None = None,
    clock: Callable[[], datetime] = now_utc,
) -> AuditEntry:
    """Add an entry in the caller's transaction (it commits or rolls back with the action)."""
    _lock(session)
    last = head(session)
    seq = last.seq + 1 if last else 1
    prev = last.hash if last else GENESIS
    at = clock().replace(microsecond=0)
    obj = dict(obj or {})
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object=obj,
        prev=prev,
        hash=entry_hash(seq, at, actor, action, obj, prev),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    @property
    def head(self) -> str:
        return f"{self.head_seq}:{self.head_hash}"


def parse_anchor(text_: str) -> tuple[int, str]:
    seq, sep, digest = text_.strip().partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise UsageError(
            "--expect-head は SEQ:HASH（例 42:3fa9…、64桁）の形です。",
            "--expect-head is SEQ:HASH (a 64-hex-digit hash).",
        )
    return int(seq), digest.lower()


def verify_chain(
    entries: Iterable[AuditEntry], anchor: tuple[int, str] | None = None
) -> ChainReport:
    """Check every link; name the first bad entry. ``anchor`` is a head recorded earlier."""
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq, last_hash = 0, GENESIS
    seen: dict[int, str] = {}
    for e in entries:
        count += 1
        if e.seq != expected_seq:
            return ChainReport(count, last_seq, last_hash, expected_seq, "missing or reordered")
        if e.prev != prev:
            return ChainReport(count, last_seq, last_hash, e.seq, "previous hash does not match")
        if entry_hash(e.seq, e.at, e.actor, e.action, dict(e.object), e.prev) != e.hash:
            return ChainReport(count, last_seq, last_hash, e.seq, "content altered")
        seen[e.seq] = e.hash
        prev, last_seq, last_hash = e.hash, e.seq, e.hash
        expected_seq += 1
    if anchor is not None:
        seq, digest = anchor
        if seq == 0 and digest == GENESIS:  # anchored while the log was still empty
            return ChainReport(count, last_seq, last_hash, None, None)
        if seq not in seen:
            return ChainReport(count, last_seq, last_hash, seq, "anchored entry missing (tail cut)")
        if seen[seq] != digest:
            return ChainReport(count, last_seq, last_hash, seq, "anchored hash differs")
    return ChainReport(count, last_seq, last_hash, None, None)


def verify(session: Session, anchor: tuple[int, str] | None = None) -> ChainReport:
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    return verify_chain(rows, anchor)


def require_intact(session: Session) -> None:
    report = verify(session)
    if not report.ok:
        raise DataError(
            f"監査ログが改ざんされています（{report.first_bad} 番目）。",
            f"The audit log is broken at entry {report.first_bad}: {report.reason}.",
        )
