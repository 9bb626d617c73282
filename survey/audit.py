"""The tamper-evident audit log: append-only, hash-chained, anchored.

Each entry holds the acting user, the action, its object (never answers, never personal data)
and the hash of the previous entry; its own hash covers all of these, as stored: the SHA-256
of the entry's RFC 8785 canonical JSON (hash rule 2; entries written before it keep rule 1).
Appends happen in the transaction of the action they record and are serialised (SQLite: the
one writer lock; PostgreSQL: a transaction-level advisory lock). Triggers refuse UPDATE and
DELETE of entries, and an INSERT that is not the next entry of the chain (so SQLite's REPLACE
cannot rewrite one). Changing, deleting or reordering an entry breaks the chain at that entry;
cutting the tail is found against a head anchored elsewhere (``survey audit head``, the audit
page, erasure certificates).
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import text
from sqlmodel import Session, col, select

from survey.errors import DataError, UsageError
from survey.models import AuditEntry

GENESIS = "0" * 64
HASH_VERSION = 2  # the rule append() hashes new entries by (HASH_RULES)
_PG_LOCK = 0x5355_5256  # "SURV": one advisory lock for the log


def now_utc() -> datetime:
    # Office side only: staff actions are timed to the second (the public side keeps days).
    return datetime.now(UTC).replace(microsecond=0)


def os_actor() -> str:
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return "os:unknown"


def _unstorable() -> DataError:
    # The value itself stays out of the message: whatever it is, it is not for a log line.
    return DataError(
        "監査ログに記録できない値です（キーは文字列か整数、数値は有限で ±2^53 の範囲）。",
        "An audit object must be JSON with string (or integer) keys and finite numbers "
        "within ±2^53 (RFC 8785).",
    )


def _string_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            # An integer key is stored as its decimal string (what JSON storage makes of it
            # anyway), deliberately, before hashing; any other key type, or two keys that
            # would meet as one string ({1: .., "1": ..}), is refused rather than guessed.
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise _unstorable()
            name = key if isinstance(key, str) else str(key)
            if name in out:
                raise _unstorable()
            out[name] = _string_keys(item)
        return out
    if isinstance(value, list | tuple):
        return [_string_keys(item) for item in value]
    return value  # rfc8785 refuses what JSON cannot hold exactly (NaN, ints beyond 2^53, dates)


def stored_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` exactly as the log stores it and reads it back: the parse of its canonical JSON.

    Hashing this, not the caller's object, is what makes an entry verify after storage.
    """
    try:
        canonical = rfc8785.dumps(_string_keys(obj))
    except rfc8785.CanonicalizationError as exc:
        raise _unstorable() from exc
    parsed: dict[str, Any] = json.loads(canonical)
    return parsed


def _hash_v1(
    seq: int, at: datetime, actor: str, action: str, obj: Mapping[str, Any], prev: str
) -> str:
    # Rule 1 hashed the in-memory object (json.dumps, keys sorted as they were): an object with
    # integer keys verified as altered once read back. Kept only for entries written under it.
    doc = [seq, at.isoformat(), actor, action, obj, prev]
    data = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _hash_v2(
    seq: int, at: datetime, actor: str, action: str, obj: Mapping[str, Any], prev: str
) -> str:
    # The rule's number is inside what is hashed: relabelling an entry as rule 1 breaks it.
    doc: dict[str, Any] = {
        "hash_version": 2,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "object": obj,
        "prev": prev,
    }
    return hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


HASH_RULES: dict[int, Callable[[int, datetime, str, str, Mapping[str, Any], str], str]] = {
    1: _hash_v1,
    2: _hash_v2,
}


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    obj: Mapping[str, Any],
    prev: str,
    version: int = HASH_VERSION,
) -> str:
    return HASH_RULES[version](seq, at, actor, action, obj, prev)


def _lock(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def head(session: Session) -> AuditEntry | None:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()


def head_anchor(session: Session) -> str:
    """The head as ``SEQ:HASH`` (``0:`` and GENESIS on an empty log): what ``survey audit
    head`` prints and the audit page shows, to be recorded elsewhere for ``--expect-head``."""
    last = head(session)
    return f"{last.seq}:{last.hash}" if last else f"0:{GENESIS}"


def append(
    session: Session,
    actor: str,
    action: str,
    obj: dict[str, Any] | None = None,
    clock: Callable[[], datetime] = now_utc,
) -> AuditEntry:
    """Add an entry in the caller's transaction (it commits or rolls back with the action)."""
    stored = stored_object(obj or {})  # refused before the lock is taken
    _lock(session)
    last = head(session)
    seq = last.seq + 1 if last else 1
    prev = last.hash if last else GENESIS
    at = clock().replace(microsecond=0)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object=stored,
        prev=prev,
        hash=entry_hash(seq, at, actor, action, stored, prev, HASH_VERSION),
        hash_version=HASH_VERSION,
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


def _recomputed(e: AuditEntry) -> str | None:
    try:
        return entry_hash(e.seq, e.at, e.actor, e.action, e.object, e.prev, e.hash_version)
    except rfc8785.CanonicalizationError:  # a stored object no writer could have hashed
        return None


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
        if e.hash_version not in HASH_RULES:
            return ChainReport(count, last_seq, last_hash, e.seq, "unknown hash rule")
        if _recomputed(e) != e.hash:
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
