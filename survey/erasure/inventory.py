"""What an erasure covers: rows per table, tracked files, keys; one home for each scope.

The inventory is computed when the request is made (anchored to its ``erasure.request`` audit
entry), again at each signature and at execution: if anything in scope changed (a row, a
file's bytes, a key), its digest changes and the request can no longer be signed or executed.
Each target knows how it is counted and how it is erased, so what is listed is what goes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.sql import Delete, Update
from sqlmodel import Session, col

from survey.bundles import signing_key_path
from survey.codes import CODE_HASH_KEY_FILE
from survey.collector.models import CollectorResponse
from survey.erasure.labels import KEPT, SCOPES
from survey.erasure.signing import INVENTORY_FORMAT
from survey.errors import UsageError
from survey.files import tracked
from survey.models import (
    BundleImport,
    DatasetBuild,
    Draw,
    EditLog,
    FreeText,
    OpinionCoding,
    PaperEntry,
    PaperReceipt,
    Quarantine,
    Response,
    RosterUnit,
    SealedResponse,
    SeedCommitment,
    Study,
)
from survey.roster import roster_key_path
from survey.settings import Settings


@dataclass(frozen=True, slots=True)
class Target:
    """Rows (or one column of rows) of one table that a scope erases."""

    name: str  # as listed: a table, or table.column for a column set to NULL
    table: str  # the physical table (rewritten afterwards)
    model: Any
    where: Callable[[Study], Any]
    column: str | None = None  # None: the rows are deleted

    def count(self, session: Session, study: Study) -> int:
        query = select(func.count()).select_from(self.model).where(self.where(study))
        if self.column is not None:
            query = query.where(getattr(self.model, self.column).is_not(None))
        return int(session.execute(query).scalar_one())

    def erase(self, session: Session, study: Study) -> int:
        statement: Delete | Update
        if self.column is None:
            statement = delete(self.model).where(self.where(study))
        else:
            column = getattr(self.model, self.column)
            statement = (
                update(self.model)
                .where(self.where(study), column.is_not(None))
                .values({self.column: None})
            )
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _draws(study: Study) -> Any:
    return col(RosterUnit.draw_id).in_(select(col(Draw.id)).where(col(Draw.study_id) == study.id))


def _responses(model: Any) -> Callable[[Study], Any]:
    def where(study: Study) -> Any:
        return col(model.response_id).in_(
            select(col(Response.id)).where(col(Response.study_id) == study.id)
        )

    return where


def _codings(study: Study) -> Any:
    # A redacted excerpt is still derived from the answer: it goes with it.
    return col(OpinionCoding.free_text_id).in_(
        select(col(FreeText.id)).where(_responses(FreeText)(study))
    )


def _receipts(study: Study) -> Any:
    return col(PaperEntry.receipt_id).in_(
        select(col(PaperReceipt.id)).where(col(PaperReceipt.study_id) == study.id)
    )


def _of_study(model: Any) -> Callable[[Study], Any]:
    return lambda study: col(model.study_id) == study.id


TARGETS: dict[str, tuple[Target, ...]] = {
    "personal": (
        Target("roster_unit", "roster_unit", RosterUnit, _draws),
        Target("draw.seed_sealed", "draw", Draw, _of_study(Draw), "seed_sealed"),
        Target(
            "seed_commitment.seed_sealed",
            "seed_commitment",
            SeedCommitment,
            _of_study(SeedCommitment),
            "seed_sealed",
        ),
    ),
    # In the order foreign keys allow deleting them.
    "responses": (
        # Paper: what officers typed goes; the receipts stay (counts of returned and
        # undeliverable mail, for the design table) without their link to a code or an answer.
        Target("paper_entry", "paper_entry", PaperEntry, _receipts),
        Target(
            "paper_receipt.code_hash",
            "paper_receipt",
            PaperReceipt,
            _of_study(PaperReceipt),
            "code_hash",
        ),
        Target(
            "paper_receipt.response_id",
            "paper_receipt",
            PaperReceipt,
            _of_study(PaperReceipt),
            "response_id",
        ),
        Target("opinion_coding", "opinion_coding", OpinionCoding, _codings),
        Target("free_text", "free_text", FreeText, _responses(FreeText)),
        Target("edit_log", "edit_log", EditLog, _responses(EditLog)),
        Target("response", "response", Response, _of_study(Response)),
        Target("quarantine", "quarantine", Quarantine, _of_study(Quarantine)),
        Target("sealed_response", "sealed_response", SealedResponse, _of_study(SealedResponse)),
        Target("bundle_import", "bundle_import", BundleImport, _of_study(BundleImport)),
        Target("dataset_build", "dataset_build", DatasetBuild, _of_study(DatasetBuild)),
        # One-process mode: the collector's own answers sit in this database too.
        Target(
            "collector_response",
            "collector_response",
            CollectorResponse,
            lambda study: col(CollectorResponse.study) == study.name,
        ),
    ),
    "collector-keys": (),
}


def key_paths(settings: Settings, study: str, scope: str) -> list[Path]:
    if scope == "personal":
        return [roster_key_path(settings, study)]
    if scope == "collector-keys":
        return [
            settings.study_key_dir(study) / CODE_HASH_KEY_FILE,
            signing_key_path(settings, study),
        ]
    return []


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise UsageError(
            f"消去の範囲は {', '.join(SCOPES)} のどれかです。",
            f"The erasure scope is one of {', '.join(SCOPES)}.",
        )
    return scope


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, or None when it is not there (or not readable)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _key(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError:
        return {"file": path.name, "path": str(path), "present": False, "id": None}
    # Identifies the key without revealing it (a domain-separated hash of a random key).
    key_id = hashlib.sha256(b"survey-erasure-key\x00" + data).hexdigest()
    return {"file": path.name, "path": str(path), "present": True, "id": key_id}


def compute(
    session: Session,
    settings: Settings,
    study: Study,
    scope: str,
    request_id: str,
    anchor: str,
    vendor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The inventory document (its digest is what the officer and the manager sign)."""
    files = []
    if scope == "personal":
        for row in tracked(session, study):
            current = file_sha256(Path(row.path))
            files.append(
                {
                    "id": row.id,
                    "kind": row.kind,
                    "path": row.path,
                    "size": row.size,
                    "sha256": row.sha256,
                    "present": current is not None,
                    "unchanged": current == row.sha256 if current is not None else None,
                }
            )
    return {
        "format": INVENTORY_FORMAT,
        "request": request_id,
        "study": study.name,
        "scope": scope,
        "anchor": anchor,
        "backend": session.get_bind().dialect.name,
        "tables": [
            {
                "name": t.name,
                "rows": t.count(session, study),
                "action": "null" if t.column else "delete",
            }
            for t in TARGETS[scope]
        ],
        "files": files,
        "keys": [_key(p) for p in key_paths(settings, study.name, scope)],
        "kept": [name for name, _ in KEPT[scope]],
        "vendor_confirmation": vendor,
    }


def affected_tables(scope: str) -> list[str]:
    """The physical tables an erasure of ``scope`` changes (to be rewritten afterwards)."""
    return list(dict.fromkeys(t.table for t in TARGETS[scope]))
