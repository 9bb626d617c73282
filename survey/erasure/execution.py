"""Executing a signed erasure, and the manager's confirmation of it.

Everything that can refuse is checked before anything is destroyed: the performer (an
officer whose password opens their attested key), both approvals (two people, each still
allowed to sign, over exactly the current inventory), the PostgreSQL owner connection. The
request is then marked ``executing`` and the steps run in the order that protects most if
one is interrupted: the roster key first (crypto-erasure: from then on every copy of the
roster and the seed is unreadable), the rows, the tracked files, the database's free space;
then the leak check, then the performed-by signature, stored with the ``erasure.execute``
audit entry whose head the certificate carries. An interrupted execution is resumed by
running it again (each step is idempotent; the certificate says it was resumed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from survey import audit
from survey.accounts import get_user
from survey.crypto import KeyMissingError
from survey.db import transaction
from survey.erasure import allowlist, certificate, destroy, inventory, leakcheck, requests
from survey.erasure.labels import CHECKLIST_BY_SCOPE
from survey.erasure.requests import ErasureRefused
from survey.erasure.scan import Needle
from survey.erasure.verify import parse_canonical, verify_certificate
from survey.errors import UsageError
from survey.models import Draw, ErasureRequest, Study
from survey.roster import load_roster
from survey.settings import Settings

Progress = Callable[[str], None]
Clock = Callable[[], datetime]


def _quiet(_line: str) -> None:
    return None


def _needles(session: Session, settings: Settings, study: Study) -> list[Needle] | None:
    """The roster's names and addresses, read before destruction (None: it is unreadable)."""
    draw = session.exec(select(Draw).where(col(Draw.study_id) == study.id)).first()
    if draw is None or draw.id is None:
        return []
    try:
        return leakcheck.roster_needles(load_roster(session, settings, study.name, draw.id))
    except KeyMissingError:
        return None


def _prepare(
    engine: Engine,
    settings: Settings,
    request_id: str,
    performer: str,
    password: str,
    checklist: list[str],
    now: datetime,
) -> tuple[ErasureRequest, Study, bytes, bool, list[Needle] | None]:
    with transaction(engine) as session:
        row = requests.get_request(session, request_id)
        if row.status in ("executed", "confirmed"):
            raise ErasureRefused(
                "この消去はすでに実施されています（2度は実施できません）。",
                "This erasure has been executed already; it cannot be executed twice.",
            )
        unknown = [c for c in checklist if c not in CHECKLIST_BY_SCOPE[row.scope]]
        if unknown:
            raise UsageError(
                f"確認項目が違います: {', '.join(unknown)}",
                f"Unknown checklist items: {', '.join(unknown)}",
            )
        user = requests.require_signer(session, get_user(session, performer), "officer")
        _key, seed = requests.open_key(session, user, password)
        requests.checked_approvals(session, row)
        resumed = row.status == "executing"
        if not resumed:
            requests.check_current(session, settings, row)
        study = requests.study_of(session, row)
        destroy.check_owner(settings, engine, inventory.affected_tables(row.scope))
        needles = _needles(session, settings, study) if row.scope == "personal" else []
        row.status, row.executed_by, row.executed_at = "executing", user.id, now
        session.add(row)
    return row, study, seed, resumed, needles


def execute(
    engine: Engine,
    settings: Settings,
    request_id: str,
    performer: str,
    password: str,
    actor: str,
    checklist: list[str] | None = None,
    clock: Clock = audit.now_utc,
    progress: Progress = _quiet,
) -> bytes:
    """Execute the request; the performed-by certificate's bytes (also stored)."""
    checklist = sorted(set(checklist or []))
    started = clock()
    row, study, seed, resumed, needles = _prepare(
        engine, settings, request_id, performer, password, checklist, started
    )
    doc = row.inventory
    progress("消去を始めます（署名と対象を確認しました）")
    keys = [destroy.shred(Path(k["path"])) for k in doc["keys"]]
    progress(f"鍵を破棄しました: {sum(1 for k in keys if k['found'])} 個")
    with transaction(engine) as session:
        rows = {t.name: t.erase(session, study) for t in inventory.TARGETS[row.scope]}
    progress(f"行を削除しました: {sum(rows.values()):,} 行")
    files = []
    for entry in doc["files"]:
        path = Path(entry["path"])
        result = destroy.shred(path)
        destroy.prune_empty(path.parent, settings.data_dir / "exports")
        files.append({"id": entry["id"], "kind": entry["kind"], **_without_path(result)})
    progress(f"ファイルを削除しました: {sum(1 for f in files if f['found'])} 個")
    compaction = destroy.compact(settings, engine, inventory.affected_tables(row.scope))
    progress("データベースを詰め直しました（空き領域の消去）")
    progress("漏れの確認をしています（データフォルダとデータベースの走査）")
    with Session(engine) as session:
        verification = leakcheck.leak_check(
            session, settings, engine, study, row.scope, doc, needles, compaction
        )
    del needles
    progress("漏れの確認: " + ("問題なし" if verification["passed"] else "問題があります"))
    execution = {
        "performed_by": performer,
        "started_at": certificate.iso(started),
        "finished_at": certificate.iso(clock()),
        "resumed": resumed,
        "keys": [{"file": Path(k["path"]).name, **_without_path(k)} for k in keys],
        "rows": rows,
        "files": files,
        "database": compaction,
    }
    with transaction(engine) as session:
        current = requests.get_request(session, row.id)
        detail = {
            "request": row.id,
            "study": study.name,
            "scope": row.scope,
            "inventory": row.inventory_sha256,
            "rows": sum(rows.values()),
            "files": sum(1 for f in files if f["found"]),
            "keys": sum(1 for k in keys if k["found"]),
            "leak_check_passed": verification["passed"],
            "resumed": resumed,
        }
        audit.append(session, actor, "erasure.execute", detail, clock)
        approvals = requests.signatures(session, current)
        body = certificate.build(
            session,
            settings,
            current,
            study.name,
            approvals,
            execution,
            verification,
            checklist,
            audit.head_anchor(session),
        )
        data = certificate.perform(body, seed, performer)
        current.certificate, current.status = data, "executed"
        session.add(current)
    del seed
    progress("証明書に実施者として署名しました")
    return data


def _without_path(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "path"}


def confirm(
    engine: Engine,
    settings: Settings,
    request_id: str,
    manager: str,
    password: str,
    actor: str,
    clock: Clock = audit.now_utc,
) -> bytes:
    """The manager's verified-by signature: a second certificate (the first stays as it is).

    The state is checked again first (rows, files, keys, roster, draw, what is left in the
    data folder, the files the scan found names in): a confirmation vouches for it now.
    """
    with transaction(engine) as session:
        row = requests.get_request(session, request_id)
        if row.status == "confirmed":
            raise ErasureRefused("この消去は確認済みです。", "This erasure is confirmed already.")
        if row.status != "executed" or row.certificate is None:
            raise ErasureRefused(
                "この消去はまだ実施されていません。", "This erasure has not been executed yet."
            )
        user = requests.require_signer(session, get_user(session, manager), "manager")
        _key, seed = requests.open_key(session, user, password)
        verify_certificate(row.certificate)  # the stored one is intact
        performed = parse_canonical(row.certificate)
        study = requests.study_of(session, row)
        checks = leakcheck.state(session, settings, study, row.scope, row.inventory)
        left = allowlist.leftovers(session, settings, engine, row.scope)
        hit_files = {
            h["place"]
            for h in performed["verification"]["name_scan"].get("hits", [])
            if (settings.data_dir / h["place"]).exists() or h["place"].startswith("table:")
        }
        checks += [
            {"check": "allow_list", "passed": not left["unlisted"]},
            {"check": "name_hits_removed", "passed": not hit_files},
        ]
        failed = [c["check"] for c in checks if c["passed"] is False]
        if failed:
            raise ErasureRefused(
                f"確認できません。消去のあとの状態に問題があります: {', '.join(failed)}",
                f"Cannot confirm: the state after the erasure fails {', '.join(failed)}.",
            )
        confirmation = {
            "confirmed_at": certificate.iso(clock()),
            "recheck": checks,
            "execution_leak_check_passed": performed["verification"]["passed"],
        }
        data = certificate.confirm(performed, seed, manager, confirmation)
        del seed
        row.confirmed_certificate, row.status = data, "confirmed"
        row.confirmed_by, row.confirmed_at = user.id, clock()
        session.add(row)
        audit.append(
            session,
            actor,
            "erasure.confirm",
            {
                "request": row.id,
                "certificate": hashlib.sha256(row.certificate).hexdigest(),
                "confirmed_certificate": hashlib.sha256(data).hexdigest(),
            },
            clock,
        )
    return data
