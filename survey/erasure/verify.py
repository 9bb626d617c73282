"""Offline verification of an erasure certificate: the file, optionally the staff keys file.

Imports nothing that opens a database or reads the data folder (a test runs ``survey
erasure verify`` with neither), so the review board can check a certificate on any machine
with the package installed. Checked: the bytes are exactly their RFC 8785 form, the inventory
digest, both approvals, the performed-by signature and, at the confirmed stage, the
verified-by one, that the officer's side and the manager's side are different people with
different keys; against a trusted keys file (``survey users keys --export``), that each key
belongs to the named signer, holds the needed role and was attested (confirmed under the
rules); each fingerprint is then compared by hand with the signed key sheets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import rfc8785

from survey.crypto import SignatureError
from survey.erasure import labels
from survey.erasure.signing import (
    APPROVAL_ROLES,
    CERTIFICATE_FORMAT,
    INVENTORY_FORMAT,
    PERFORMED_BY,
    VERIFIED_BY,
    canonical,
    check_part,
    digest,
    performed_digest,
    verified_digest,
)
from survey.errors import DataError

UNAUTHENTICATED = "署名は有効、署名者は未確認"
UNAUTHENTICATED_EN = "signatures valid, signers not authenticated"


class CertificateError(DataError):
    """A certificate that is not canonical, not complete, or whose signatures fail."""


@dataclass(frozen=True, slots=True)
class Signer:
    part: str  # officer, manager, performed-by, verified-by
    name: str
    fingerprint: str
    side: str  # the role the signer must hold: officer or manager


@dataclass(slots=True)
class Verification:
    stage: str
    request_id: str
    study: str
    scope: str
    audit_head: str
    signers: list[Signer]
    authenticated: bool  # checked against a trusted keys file
    leak_check_passed: bool | None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "stage": self.stage,
            "request": self.request_id,
            "study": self.study,
            "scope": self.scope,
            "audit_head": self.audit_head,
            "signers_authenticated": self.authenticated,
            "leak_check_passed": self.leak_check_passed,
            "signers": [
                {"part": s.part, "signer": s.name, "fingerprint": s.fingerprint}
                for s in self.signers
            ],
        }

    def lines(self) -> list[str]:
        stage_ja, stage_en = labels.STAGES[self.stage]
        out = [
            f"証明書は有効です / certificate valid: {stage_ja} / {stage_en}",
            f"調査 study {self.study}  範囲 scope {self.scope}  依頼 request {self.request_id}",
            f"監査ログの先頭 audit head: {self.audit_head}",
        ]
        for s in self.signers:
            out.append(f"  {labels.ROLE_NAMES[s.part]:<10} {s.name:<16} {s.fingerprint}")
        if self.authenticated:
            out.append(
                "署名者は信頼する鍵の一覧で確認済み / signers authenticated by the keys file"
            )
            out.append(
                "指紋を審査会が保管する鍵確認書と照合してください / compare with the key sheets"
            )
        else:
            out.append(f"{UNAUTHENTICATED} / {UNAUTHENTICATED_EN}")
        if self.leak_check_passed is False:
            out.append(
                "注意: 証明書の漏れの確認は問題を報告しています / the leak check reported findings"
            )
        return out


def _fail(ja: str, en: str) -> CertificateError:
    return CertificateError(f"証明書を検証できません: {ja}", f"Certificate rejected: {en}")


def parse_canonical(data: bytes) -> dict[str, Any]:
    """The certificate, if ``data`` is exactly its RFC 8785 bytes (no trailing newline)."""
    try:
        doc = json.loads(data.decode("utf-8"))
        again = canonical(doc)
    except (UnicodeDecodeError, ValueError, rfc8785.CanonicalizationError) as exc:
        raise _fail("JSON として読めません。", "not readable JSON.") from exc
    if not isinstance(doc, dict):
        raise _fail("形式が違います。", "not a certificate object.")
    if again != data:
        # Any re-saving (indentation, key order, escapes, a newline added) or a duplicated key.
        raise _fail(
            "正規の形（RFC 8785）のバイト列ではありません（変更されたか、保存し直されています）。",
            "the bytes are not its RFC 8785 canonical form (altered or re-saved).",
        )
    return doc


def _parts(doc: dict[str, Any]) -> tuple[list[Any], str, str]:
    if doc.get("format") != CERTIFICATE_FORMAT:
        raise _fail("証明書の形式ではありません。", "not an erasure certificate.")
    request = doc.get("request")
    inventory = doc.get("inventory")
    if not isinstance(request, dict) or not isinstance(inventory, dict):
        raise _fail("依頼または一覧がありません。", "request or inventory missing.")
    request_id = request.get("id")
    if not isinstance(request_id, str):
        raise _fail("依頼の番号がありません。", "request id missing.")
    if inventory.get("format") != INVENTORY_FORMAT or inventory.get("request") != request_id:
        raise _fail("一覧が依頼と一致しません。", "the inventory is not this request's.")
    if (inventory.get("study"), inventory.get("scope")) != (
        request.get("study"),
        request.get("scope"),
    ):
        raise _fail("一覧の調査・範囲が依頼と一致しません。", "inventory and request disagree.")
    if digest(inventory) != doc.get("inventory_sha256"):
        raise _fail("一覧のハッシュが一致しません。", "the inventory digest does not match.")
    approvals = doc.get("approvals")
    if not isinstance(approvals, list) or len(approvals) != len(APPROVAL_ROLES):
        raise _fail("承認の署名が2つではありません。", "two approvals are required.")
    return approvals, request_id, doc["inventory_sha256"]


def _signatures(doc: dict[str, Any]) -> tuple[str, list[tuple[Signer, dict[str, Any]]]]:
    approvals, request_id, inventory_digest = _parts(doc)
    found: list[tuple[Signer, dict[str, Any]]] = []
    for approval, role in zip(approvals, APPROVAL_ROLES, strict=True):
        if not isinstance(approval, dict) or approval.get("role") != role:
            raise _fail(
                "承認は担当者、責任者の順です。", "approvals are the officer's, then the manager's."
            )
        found.append((_checked(approval, request_id, role, inventory_digest, role), approval))
    stage = doc.get("stage")
    has_confirmation = "verified_by" in doc or "confirmation" in doc
    if stage not in labels.STAGES or "performed_by" not in doc:
        raise _fail("実施者の署名がありません。", "the performed-by signature is missing.")
    if (stage == "confirmed") != has_confirmation or (
        has_confirmation and not ("verified_by" in doc and "confirmation" in doc)
    ):
        raise _fail(
            "段階と署名が一致しません。", "the stage does not match the signatures present."
        )
    part = doc["performed_by"]
    found.append((_checked(part, request_id, PERFORMED_BY, performed_digest(doc), "officer"), part))
    if stage == "confirmed":
        part = doc["verified_by"]
        found.append(
            (_checked(part, request_id, VERIFIED_BY, verified_digest(doc), "manager"), part)
        )
    return str(stage), [(s, p) for s, p in found]


def _checked(part: Any, request_id: str, role: str, document_digest: str, side: str) -> Signer:
    try:
        check_part(part, request_id, role, document_digest)
    except SignatureError as exc:
        name = labels.ROLE_NAMES[role]
        raise _fail(
            f"{name}の署名が正しくありません（{exc.ja}）", f"{role} signature: {exc.en}"
        ) from exc
    return Signer(role, part["signer"], part["fingerprint"], side)


def _two_people(signers: list[Signer]) -> None:
    """The officer's side and the manager's side: different names, different keys."""
    sides: dict[str, set[str]] = {"officer": set(), "manager": set()}
    keys: dict[str, set[str]] = {"officer": set(), "manager": set()}
    for s in signers:
        sides[s.side].add(s.name)
        keys[s.side].add(s.fingerprint)
    if sides["officer"] & sides["manager"] or keys["officer"] & keys["manager"]:
        raise _fail(
            "担当者と責任者が同じ人（または同じ鍵）です。",
            "the officer's and the manager's signatures are by the same person or key.",
        )


def load_trusted_keys(data: bytes) -> list[dict[str, Any]]:
    """The staff keys file written by ``survey users keys --export``."""
    try:
        records = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail("鍵の一覧を読めません。", "the trusted keys file is not readable.") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _fail("鍵の一覧の形式が違います。", "the trusted keys file is not a list of keys.")
    return records


def _authenticate(signer: Signer, public_key: str, trusted: list[dict[str, Any]]) -> None:
    record = next((r for r in trusted if r.get("public_key") == public_key), None)
    name = labels.ROLE_NAMES[signer.part]
    if record is None:
        raise _fail(
            f"{name}（{signer.name}）の鍵は信頼する鍵の一覧にありません。",
            f"the {signer.part} key ({signer.name}) is not in the trusted keys file.",
        )
    roles = record.get("roles") or []
    # "attested": confirmed under the rules; files exported before it existed say "confirmed".
    attested = record.get("attested", record.get("confirmed")) is True
    if record.get("user") != signer.name or record.get("fingerprint") != signer.fingerprint:
        raise _fail(
            f"{name}の鍵は一覧では別の職員のものです。",
            f"the {signer.part} key belongs to another user in the trusted keys file.",
        )
    if not attested:
        raise _fail(
            f"{name}（{signer.name}）の鍵は確認されていません。",
            f"the {signer.part} key ({signer.name}) was never attested (confirmed).",
        )
    if signer.side not in roles or {"officer", "manager"} <= set(roles):
        raise _fail(
            f"{name}（{signer.name}）は一覧で{labels.ROLE_NAMES[signer.side]}の役割を持ちません。",
            f"{signer.name} does not hold the {signer.side} role (alone) in the trusted keys file.",
        )


def verify_certificate(data: bytes, trusted: list[dict[str, Any]] | None = None) -> Verification:
    doc = parse_canonical(data)
    stage, found = _signatures(doc)
    signers = [s for s, _ in found]
    _two_people(signers)
    if trusted is not None:
        for signer, part in found:
            _authenticate(signer, part["public_key"], trusted)
    request = doc["request"]
    verification = doc.get("verification")
    passed = verification.get("passed") if isinstance(verification, dict) else None
    return Verification(
        stage=stage,
        request_id=request["id"],
        study=str(request.get("study")),
        scope=str(request.get("scope")),
        audit_head=str(doc.get("audit_head")),
        signers=signers,
        authenticated=trusted is not None,
        leak_check_passed=passed if isinstance(passed, bool) else None,
    )
