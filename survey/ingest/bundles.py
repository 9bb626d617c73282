"""Export bundles: how sealed answers leave the collector for the office.

A bundle is a file of ``{id, cohort, form, version, day, sealed}`` records (never code
hashes), in an order unrelated to arrival, with a sequence number, the SHA-256 of the previous
bundle and an Ed25519 signature by the collector's bundle-signing key. The file crosses an air
gap or a sanitising gateway; the office never talks to the collector.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from survey.crypto import (
    SignatureError,
    keyed_hash,
    load_or_create_key,
    sign,
    signing_fingerprint,
    verify_key_of,
    verify_signature,
)
from survey.errors import DataError, UsageError
from survey.files import write_new
from survey.ingest.intake import today_in_tokyo
from survey.models import BundleExport, SealedResponse, Study
from survey.settings import Settings

BUNDLE_FORMAT = "survey-bundle/v1"
SIGNING_KEY_FILE = "bundle-signing.key"
GENESIS = "0" * 64


def signing_key_path(settings: Settings, study: str) -> Path:
    return settings.study_key_dir(study) / SIGNING_KEY_FILE


def signing_seed(settings: Settings, study: str) -> tuple[bytes, bool]:
    """The collector's bundle-signing key (created on first use); True if just created."""
    path = signing_key_path(settings, study)
    existed = path.exists()
    return load_or_create_key(path), not existed


def canonical(body: dict[str, Any]) -> bytes:
    """The signed bytes: compact, sorted, ASCII-only JSON of the bundle body."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


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


def _record(r: SealedResponse) -> dict[str, Any]:
    return {
        "id": r.id,
        "cohort": r.cohort,
        "form": r.form_id,
        "version": r.version,
        "day": r.day.isoformat(),
        "sealed": base64.b64encode(r.sealed).decode(),
    }


def _document(
    seed: bytes, study: Study, sequence: int, previous: str, day: date, rows: list[SealedResponse]
) -> tuple[bytes, str]:
    # A keyed pseudo-random order: unrelated to arrival, yet the same bundle can be rebuilt
    # byte for byte (``--again``) if the file is lost on its way to the office.
    rows = sorted(rows, key=lambda r: keyed_hash(seed, r.id.encode()))
    body = {
        "format": BUNDLE_FORMAT,
        "study": study.name,
        "sequence": sequence,
        "previous": previous,
        "created_on": day.isoformat(),
        "collector_key": base64.b64encode(verify_key_of(seed)).decode(),
        "records": [_record(r) for r in rows],
    }
    signed = canonical(body)
    digest = hashlib.sha256(signed).hexdigest()
    signature = base64.b64encode(sign(seed, signed)).decode()
    doc = {"bundle": body, "sha256": digest, "signature": signature}
    return (json.dumps(doc, ensure_ascii=True, indent=1) + "\n").encode(), digest


def export_bundle(
    session: Session, settings: Settings, study: Study, out: Path, again: int | None = None
) -> BundleReport | None:
    """Write the answers not yet exported (or bundle ``again`` once more); None if none."""
    if out.exists():
        raise UsageError(f"{out} はすでにあります。", f"{out} already exists; not overwritten.")
    seed, _created = signing_seed(settings, study.name)
    assert study.id is not None
    query = select(SealedResponse).where(SealedResponse.study_id == study.id)
    if again is not None:
        record = session.exec(
            select(BundleExport).where(
                BundleExport.study_id == study.id, BundleExport.sequence == again
            )
        ).first()
        if record is None:
            raise UsageError(f"束 {again} はありません。", f"No bundle number {again}.")
        rows = list(session.exec(query.where(SealedResponse.bundle == again)).all())
        data, digest = _document(seed, study, again, record.previous, record.created_on, rows)
        if digest != record.sha256:
            raise DataError(
                f"束 {again} を同じ内容で作り直せません（署名鍵が変わった可能性があります）。",
                f"Bundle {again} cannot be rebuilt identically (was the signing key changed?).",
            )
        write_new(out, data)
        return BundleReport(
            study.name, again, len(rows), digest, record.previous, out, _signer(seed)
        )
    rows = list(session.exec(query.where(col(SealedResponse.bundle).is_(None))).all())
    if not rows:
        return None
    last = session.exec(
        select(BundleExport)
        .where(BundleExport.study_id == study.id)
        .order_by(col(BundleExport.sequence).desc())
    ).first()
    sequence = (last.sequence + 1) if last else 1
    previous = last.sha256 if last else GENESIS
    day = today_in_tokyo()
    data, digest = _document(seed, study, sequence, previous, day, rows)
    write_new(out, data)
    try:
        for r in rows:
            r.bundle = sequence
            session.add(r)
        session.add(
            BundleExport(
                study_id=study.id,
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
    return BundleReport(study.name, sequence, len(rows), digest, previous, out, _signer(seed))


def _signer(seed: bytes) -> str:
    return signing_fingerprint(verify_key_of(seed))


def pending_count(session: Session, study: Study) -> int:
    return int(
        session.exec(
            select(func.count()).where(
                SealedResponse.study_id == study.id, col(SealedResponse.bundle).is_(None)
            )
        ).one()
    )


class BundleError(DataError):
    """A bundle file that is not a valid, correctly signed bundle."""


def read_bundle(data: bytes, trusted: list[bytes]) -> dict[str, Any]:
    """The body of a bundle signed by one of the ``trusted`` collector keys; else BundleError."""
    try:
        doc = json.loads(data)
        body = doc["bundle"]
        if body.get("format") != BUNDLE_FORMAT:
            raise ValueError("format")
        signature = base64.b64decode(doc["signature"], validate=True)
        signer = base64.b64decode(body["collector_key"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleError("回答の束の形式ではありません。", "Not an answer bundle.") from exc
    if signer not in trusted:
        raise BundleError(
            "信頼されていない回収サーバーの束です（survey bundle trust で登録してください）。",
            "The bundle is signed by a collector key that is not trusted "
            "(register it with `survey bundle trust`).",
        )
    signed = canonical(body)
    try:
        verify_signature(signer, signed, signature)
    except SignatureError as exc:
        raise BundleError(exc.ja, exc.en) from exc
    if hashlib.sha256(signed).hexdigest() != doc.get("sha256"):
        raise BundleError("束のハッシュが一致しません。", "The bundle's hash does not match.")
    return dict(body)


def compact_storage(engine: Engine) -> None:
    """Rewrite the collector's database so its physical order no longer follows arrival.

    Sealed answers are larger than a page: their overflow pages are appended at the end of
    the file as answers arrive, and the WAL keeps frames in commit order, so a copy of the file
    would show the order of submissions despite the random ids. VACUUM rebuilds every table in
    key order (the random ids) and the WAL is then truncated. Run after each export (it is
    what ``survey bundle export`` does) or nightly. PostgreSQL: see deploy/README.md.
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
