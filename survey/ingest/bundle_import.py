"""Importing export bundles on the office: trust, signature, the chain, then the records.

:func:`survey.bundles.read_bundle` checks the format, that the signer is a trusted collector
key, the signature and the hash. Then the chain, per collector key: sequence numbers follow
without a gap and ``previous`` is the body hash of the bundle before. The same file imported
again changes nothing; another bundle at a sequence number already imported, or a gap, is
refused and nothing is stored. Records the office already holds (one-process mode, or a
record carried twice) are recognised by their sealed bytes, not stored twice. A v2 bundle's
``consumed`` codes are marked used on the web; a code the office never issued refuses the
bundle, and one already used on paper is counted (the same envelope answered twice): the
sheet that used it is set aside as a duplicate, since the web answer wins (which web answer
used the code cannot be known, so only the sheet can be taken out of the dataset).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from survey.bundles import GENESIS, BundleError, canonical, format_version, read_bundle
from survey.cohorts import COHORTS
from survey.crypto import signing_fingerprint
from survey.ingest.keying import set_aside
from survey.ingest.provision import trusted_keys
from survey.models import AccessCode, BundleImport, PaperReceipt, SealedResponse, Study

_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class ImportReport:
    study: str
    collector: str  # fingerprint of the signing key
    sequence: int
    records: int
    added: int
    already: bool  # the same bundle was imported before: nothing changed
    format: int = 2
    consumed: int = 0  # codes reported used on the web
    both_channels: int = 0  # of those, codes already used on paper

    def as_json(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "collector": self.collector,
            "sequence": self.sequence,
            "records": self.records,
            "added": self.added,
            "already_imported": self.already,
            "format": self.format,
            "consumed": self.consumed,
            "both_channels": self.both_channels,
        }


def _refuse(ja: str, en: str) -> BundleError:
    return BundleError(ja, en)


def _record(raw: Any, study: Study) -> SealedResponse:
    try:
        record_id, cohort = str(raw["id"]), str(raw["cohort"])
        form, version = str(raw["form"]), int(raw["version"])
        day = date.fromisoformat(str(raw["day"]))
        sealed = base64.b64decode(str(raw["sealed"]), validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise _refuse("束の回答の形式が正しくありません。", "A record is malformed.") from exc
    if not _ID.fullmatch(record_id) or cohort not in COHORTS or not sealed:
        raise _refuse("束の回答の形式が正しくありません。", "A record is malformed.")
    assert study.id is not None
    return SealedResponse(
        id=record_id,
        study_id=study.id,
        cohort=cohort,
        form_id=form,
        version=version,
        day=day,
        sealed=sealed,
        sealed_hash=hashlib.sha256(sealed).digest(),
    )


def import_bundle(session: Session, study: Study, data: bytes) -> ImportReport:
    """Import one bundle file into the office's sealed answers (in the caller's transaction)."""
    body = read_bundle(data, trusted_keys(session, study))
    if body.get("study") != study.name:
        raise _refuse(
            f"この束は別の調査（{body.get('study')}）のものです。",
            f"This bundle belongs to another study ({body.get('study')!r}).",
        )
    key = base64.b64decode(body["collector_key"])
    fp = signing_fingerprint(key)
    version = format_version(body)
    try:
        sequence, previous = int(body["sequence"]), str(body["previous"])
        records = list(body["records"])
        consumed = [base64.b64decode(str(h), validate=True) for h in body.get("consumed", [])]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise _refuse("束の形式が正しくありません。", "The bundle is malformed.") from exc
    digest = hashlib.sha256(canonical(body)).hexdigest()  # what `previous` refers to
    chain = list(
        session.exec(
            select(BundleImport)
            .where(BundleImport.study_id == study.id, BundleImport.collector_key == key)
            .order_by(col(BundleImport.sequence))
        ).all()
    )
    done = next((b for b in chain if b.sequence == sequence), None)
    if done is not None:
        if done.sha256 == digest:
            return ImportReport(
                study.name, fp, sequence, done.records, 0, True, done.format, done.consumed
            )
        raise _refuse(
            f"束 {sequence} は別の内容ですでに取り込まれています（同じ番号の別の束）。",
            f"Another bundle with sequence {sequence} was already imported from this collector.",
        )
    expected = chain[-1].sequence + 1 if chain else 1
    if sequence != expected:
        raise _refuse(
            f"束の番号が飛んでいます（{expected} を待っていますが {sequence} です）。"
            "先に抜けている束を取り込んでください。",
            f"Bundle {sequence} does not follow: bundle {expected} is next from this collector.",
        )
    if previous != (chain[-1].sha256 if chain else GENESIS):
        raise _refuse(
            f"束 {sequence} の「前の束」が取り込んだ束と一致しません（鎖が切れています）。",
            f"Bundle {sequence}'s previous hash does not match the last imported bundle.",
        )
    assert study.id is not None
    batch = BundleImport(
        study_id=study.id,
        collector_key=key,
        sequence=sequence,
        sha256=digest,
        previous=previous,
        records=len(records),
        added=0,
        format=version,
        consumed=len(consumed),
        imported_on=date.today(),
    )
    session.add(batch)
    session.flush()
    added = 0
    for raw in records:
        row = _record(raw, study)
        held = session.exec(
            select(SealedResponse).where(SealedResponse.sealed_hash == row.sealed_hash)
        ).first() or session.get(SealedResponse, row.id)
        if held is not None:
            if held.sealed_hash != row.sealed_hash or held.id != row.id:
                raise _refuse(
                    "束の回答が、すでにある回答と食い違っています。",
                    "A record conflicts with an answer the office already holds.",
                )
            continue  # held already (one-process mode): recognised, not stored twice
        row.import_id = batch.id
        session.add(row)
        added += 1
    batch.added = added
    session.add(batch)
    both = _mark_consumed(session, study, consumed)
    session.flush()
    return ImportReport(
        study.name, fp, sequence, len(records), added, False, version, len(consumed), both
    )


def _mark_consumed(session: Session, study: Study, hashes: list[bytes]) -> int:
    """Mark the codes a bundle reports used on the web; how many were already used on paper."""
    both = 0
    for digest in hashes:
        code = session.get(AccessCode, digest)
        if code is None or code.study_id != study.id:
            raise _refuse(
                "束に、この事務所が発行していないコードが含まれています。",
                "The bundle reports a code this office never issued.",
            )
        if code.channel == "paper":
            both += 1  # one envelope, two answers: the web answer wins, the sheet goes aside
            sheet = session.exec(
                select(PaperReceipt).where(
                    PaperReceipt.study_id == study.id,
                    PaperReceipt.code_hash == digest,
                    PaperReceipt.state == "accepted",
                )
            ).first()
            if sheet is not None:
                set_aside(session, sheet, "used_on_web")
        code.channel = "web"  # the web answer counts (and counts toward the cap)
        code.used = True
        session.add(code)
    return both
