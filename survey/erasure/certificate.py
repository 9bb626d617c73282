"""The certificate: what was erased, how, when, what was checked, by whom, what was not covered.

Modelled on the sample certificate of sanitization of NIST SP 800-88 (media, method,
verification, performed by, validated by), adapted to data that lives in a database, files
and keys. It is RFC 8785 canonical JSON, written exactly as those bytes (no trailing
newline). The officer who executed signs it as performed-by; a manager's verified-by
signature makes a second file, the confirmed certificate (the first is never rewritten).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from survey.erasure import labels
from survey.erasure.signing import (
    CERTIFICATE_FORMAT,
    PERFORMED_BY,
    VERIFIED_BY,
    canonical,
    performed_digest,
    signature_part,
    verified_digest,
)
from survey.models import AuditEntry, ErasureRequest, ErasureSignature, StaffKey, StaffUser
from survey.settings import Settings

TITLE = "個人情報等の消去証明書"
TITLE_EN = "Certificate of erasure (after NIST SP 800-88's certificate of sanitization)"

# Exports that took a scope's data out of the system (the audit log's own action names).
EXPORTS: dict[str, tuple[str, ...]] = {
    "personal": (
        "file.code_slips",
        "file.paper_forms",
        "file.slips",
        "file.labels",
        "file.vendor",
        "file.postcards",
        "file.draw_seed",
        "file.roster",
    ),
    # file.analysis: `survey analyze` (and the office's ZIP of it) holds dataset.sav.
    "responses": ("file.dataset", "file.analysis", "bundle.import"),
    "collector-keys": ("file.collector_export",),
}

METHODS: dict[str, str] = {
    "keys": "暗号消去: 鍵ファイルを 0 で1回上書きし fsync、削除（cryptographic erase）",
    "rows": "データベースの行を削除（シードの列は NULL）",
    "files": "記録されたファイルを 0 で1回上書きし fsync、削除",
    "database": "SQLite: WAL の checkpoint(TRUNCATE) と VACUUM（secure_delete 有効） / "
    "PostgreSQL: 表の所有者として VACUUM FULL、relfilenode の変化を確認",
    "nist": "NIST SP 800-88 の Clear（論理的な上書き・削除）と暗号消去",
}


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def handed_out(
    session: Session, settings: Settings, study: str, scope: str
) -> list[dict[str, Any]]:
    """Every export of the scope's data the audit log records: its copies are out of reach."""
    exports = session.exec(
        select(AuditEntry)
        .where(col(AuditEntry.action).in_(EXPORTS[scope]))
        .order_by(col(AuditEntry.seq))
    ).all()
    out = []
    for entry in exports:
        if entry.object.get("study") not in (study, None):
            continue
        names = entry.object.get("files") or [entry.object.get("file")]
        files = [str(n) for n in names if n]
        downloaded = entry.object.get("via") == "office" or any(
            Path(f).is_relative_to(settings.data_dir / "exports") for f in files
        )
        out.append(
            {
                "seq": entry.seq,
                "at": iso(entry.at),
                "actor": entry.actor,
                "action": entry.action,
                "files": [Path(f).name for f in files],
                "where": "office_download" if downloaded else "written_by_command",
            }
        )
    return out


def _approval(session: Session, s: ErasureSignature) -> dict[str, Any]:
    import base64

    user = session.get(StaffUser, s.user_id)
    key = session.get(StaffKey, s.key_id)
    assert user is not None and key is not None
    return {
        "role": s.role,
        "signer": user.name,
        "public_key": base64.b64encode(key.public_key).decode(),
        "fingerprint": key.fingerprint,
        "signed_at": iso(s.signed_at),
        "signature": base64.b64encode(s.signature).decode(),
    }


def build(
    session: Session,
    settings: Settings,
    row: ErasureRequest,
    study: str,
    approvals: list[ErasureSignature],
    execution: dict[str, Any],
    verification: dict[str, Any],
    checklist: list[str],
    audit_head: str,
) -> dict[str, Any]:
    """The certificate before the performed-by signature."""
    requester = session.get(StaffUser, row.requested_by)
    assert requester is not None
    items = labels.CHECKLIST_BY_SCOPE[row.scope]
    return {
        "format": CERTIFICATE_FORMAT,
        "title": TITLE,
        "title_en": TITLE_EN,
        "request": {
            "id": row.id,
            "study": study,
            "scope": row.scope,
            "scope_ja": labels.SCOPES[row.scope][0],
            "requested_by": requester.name,
            "requested_at": iso(row.requested_at),
        },
        "inventory": row.inventory,
        "inventory_sha256": row.inventory_sha256,
        "approvals": [_approval(session, s) for s in approvals],
        "method": METHODS,
        "execution": execution,
        "verification": verification,
        "not_covered": [
            {"item": item, "ja": labels.NOT_COVERED[item][0], "en": labels.NOT_COVERED[item][1]}
            for item in labels.NOT_COVERED_BY_SCOPE[row.scope]
        ],
        "handed_out": handed_out(session, settings, study, row.scope),
        "checklist": [
            {"item": item, "ja": labels.CHECKLIST[item], "attested": item in checklist}
            for item in items
        ],
        "audit_head": audit_head,
    }


def perform(doc: dict[str, Any], seed: bytes, signer: str) -> bytes:
    """Sign as performed-by; the certificate's bytes."""
    doc = {**doc}
    doc["performed_by"] = signature_part(
        seed, doc["request"]["id"], PERFORMED_BY, signer, performed_digest(doc)
    )
    doc["stage"] = "executed"
    return canonical(doc)


def confirm(doc: dict[str, Any], seed: bytes, signer: str, confirmation: dict[str, Any]) -> bytes:
    """Add the confirmation and sign it as verified-by; the confirmed certificate's bytes."""
    doc = {k: v for k, v in doc.items() if k != "stage"}
    doc["confirmation"] = confirmation
    doc["verified_by"] = signature_part(
        seed, doc["request"]["id"], VERIFIED_BY, signer, verified_digest(doc)
    )
    doc["stage"] = "confirmed"
    return canonical(doc)
