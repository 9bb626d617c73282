"""Export bundles on the collector: sealed answers not yet exported, signed, in the chain.

The file format is :mod:`survey.bundles`. Records are in a keyed pseudo-random order
unrelated to arrival, so ``--again N`` can rebuild bundle N byte for byte if the file is lost
on its way to the office. After each export the SQLite file is compacted
(:func:`compact_storage`), so its physical layout no longer shows the order answers came in.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from survey.bundles import GENESIS, document, signing_seed
from survey.collector.intake import today_in_tokyo
from survey.collector.models import (
    CollectorBundle,
    CollectorCode,
    CollectorResponse,
    CollectorSigner,
)
from survey.crypto import keyed_hash, signing_fingerprint, verify_key_of, write_new
from survey.errors import DataError, UsageError
from survey.settings import Settings


@dataclass(frozen=True, slots=True)
class BundleReport:
    study: str
    sequence: int
    records: int
    sha256: str
    previous: str
    path: Path
    signer: str  # fingerprint of the collector's signing key

    def as_json(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "sequence": self.sequence,
            "records": self.records,
            "sha256": self.sha256,
            "previous": self.previous,
            "file": str(self.path),
            "signer": self.signer,
        }


def _record(r: CollectorResponse) -> dict[str, Any]:
    return {
        "id": r.id,
        "cohort": r.cohort,
        "form": r.form_id,
        "version": r.version,
        "day": r.day.isoformat(),
        "sealed": base64.b64encode(r.sealed).decode(),
    }


def _document(
    seed: bytes,
    study: str,
    sequence: int,
    previous: str,
    day: date,
    rows: list[CollectorResponse],
    consumed: list[CollectorCode],
) -> tuple[bytes, str]:
    # A keyed pseudo-random order: unrelated to arrival, yet reproducible for ``--again``.
    rows = sorted(rows, key=lambda r: keyed_hash(seed, r.id.encode()))
    records = [_record(r) for r in rows]
    return document(seed, study, sequence, previous, day, records, [c.hash for c in consumed])


def _consumed(session: Session, study: str, bundle: int | None) -> list[CollectorCode]:
    """Codes used on the web and reported in bundle ``bundle`` (None: not reported yet)."""
    query = select(CollectorCode).where(
        CollectorCode.study == study, col(CollectorCode.used).is_(True)
    )
    if bundle is None:
        query = query.where(col(CollectorCode.bundle).is_(None))
    else:
        query = query.where(CollectorCode.bundle == bundle)
    return list(session.exec(query).all())


def signer_seed(session: Session, settings: Settings, study: str) -> bytes:
    """The bundle-signing seed, checked against the public key recorded at installation."""
    seed, _created = signing_seed(settings, study)
    public = verify_key_of(seed)
    record = session.get(CollectorSigner, study)
    if record is None:
        session.add(
            CollectorSigner(
                study=study,
                public_key=public,
                fingerprint=signing_fingerprint(public),
                created_on=date.today(),
            )
        )
        session.flush()
    elif record.public_key != public:
        # The office trusts the recorded key: bundles signed by another would be refused there.
        raise DataError(
            "束の署名鍵ファイルが設定時のものと違います（鍵フォルダを確認してください）。",
            "The bundle-signing key file differs from the one recorded at installation "
            "(check the key folder).",
        )
    return seed


def export_bundle(
    session: Session, settings: Settings, study: str, out: Path, again: int | None = None
) -> BundleReport | None:
    """Write the answers not yet exported (or bundle ``again`` once more); None if none."""
    if out.exists():
        raise UsageError(f"{out} はすでにあります。", f"{out} already exists; not overwritten.")
    seed = signer_seed(session, settings, study)
    signer = signing_fingerprint(verify_key_of(seed))
    query = select(CollectorResponse).where(CollectorResponse.study == study)
    if again is not None:
        record = session.exec(
            select(CollectorBundle).where(
                CollectorBundle.study == study, CollectorBundle.sequence == again
            )
        ).first()
        if record is None:
            raise UsageError(f"束 {again} はありません。", f"No bundle number {again}.")
        rows = list(session.exec(query.where(CollectorResponse.bundle == again)).all())
        consumed = _consumed(session, study, again)
        data, digest = _document(
            seed, study, again, record.previous, record.created_on, rows, consumed
        )
        if digest != record.sha256:
            raise DataError(
                f"束 {again} を同じ内容で作り直せません（署名鍵が変わった可能性があります）。",
                f"Bundle {again} cannot be rebuilt identically (was the signing key changed?).",
            )
        write_new(out, data)
        return BundleReport(study, again, len(rows), digest, record.previous, out, signer)
    rows = list(session.exec(query.where(col(CollectorResponse.bundle).is_(None))).all())
    consumed = _consumed(session, study, None)
    if not rows and not consumed:
        return None
    last = session.exec(
        select(CollectorBundle)
        .where(CollectorBundle.study == study)
        .order_by(col(CollectorBundle.sequence).desc())
    ).first()
    sequence = (last.sequence + 1) if last else 1
    previous = last.sha256 if last else GENESIS
    day = today_in_tokyo()
    data, digest = _document(seed, study, sequence, previous, day, rows, consumed)
    write_new(out, data)
    try:
        for item in (*rows, *consumed):
            item.bundle = sequence
            session.add(item)
        session.add(
            CollectorBundle(
                study=study,
                sequence=sequence,
                sha256=digest,
                previous=previous,
                records=len(rows),
                created_on=day,
            )
        )
        session.flush()
    except BaseException:
        out.unlink(missing_ok=True)  # a file the database does not know of must not travel
        raise
    return BundleReport(study, sequence, len(rows), digest, previous, out, signer)


def pending_count(session: Session, study: str) -> int:
    return int(
        session.exec(
            select(func.count()).where(
                CollectorResponse.study == study, col(CollectorResponse.bundle).is_(None)
            )
        ).one()
    )


def compact_storage(engine: Engine) -> None:
    """Rewrite the collector's database so its physical order no longer follows arrival.

    Sealed answers are larger than a page: their overflow pages are appended at the end of
    the file as answers arrive, and the WAL keeps frames in commit order, so a copy of the file
    would show the order of submissions despite the random ids. VACUUM rebuilds every table in
    key order (the random ids) and the WAL is then truncated. Run after each export (it is
    what ``survey-collector bundle export`` does) or nightly. PostgreSQL: see deploy/README.md.
    """
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside any transaction: VACUUM cannot run inside one
    try:
        cursor = raw.cursor()
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
