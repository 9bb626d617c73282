"""The whole erasure on a small drawn study: request, two signatures, execution, leak check,
certificate, confirmation, offline verification; the audit entries and the anchored head."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlmodel import Session, col, select

from survey import audit
from survey.models import AuditEntry, RosterUnit, TrackedFile
from tests.erasure.conftest import MANAGER, OFFICER, Erasable


def test_a_personal_erasure_from_request_to_verified_certificate(erasable: Erasable) -> None:
    request_id = erasable.signed()
    cert = erasable.tmp / "cert.json"
    result = erasable.execute(request_id, cert, "--checked", "spare_labels_slips")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(cert.read_bytes())
    assert doc["stage"] == "executed" and doc["verification"]["passed"], doc["verification"]
    database = doc["execution"]["database"]
    if database["backend"] == "postgresql":  # each table rewritten: a new relfilenode
        assert {t["table"] for t in database["tables"]} == {
            "roster_unit",
            "draw",
            "seed_commitment",
        }
        assert all(t["relfilenode_before"] != t["relfilenode_after"] for t in database["tables"])
    else:
        assert database["wal_bytes_after"] == 0 and database["free_pages_after"] == 0
    with Session(erasable.db.engine) as session:
        assert session.exec(select(RosterUnit)).first() is None
        files = session.exec(select(TrackedFile)).all()
    assert files and not any(Path(f.path).exists() for f in files)
    cert2 = erasable.tmp / "cert2.json"
    result = erasable.as_user(MANAGER, "erasure", "confirm", request_id, "--out", str(cert2))
    assert result.exit_code == 0, result.stderr
    keys = erasable.tmp / "keys.json"
    assert erasable.as_user(MANAGER, "users", "keys", "--export", str(keys)).exit_code == 0
    result = erasable.run("erasure", "verify", str(cert2), "--trusted-keys", str(keys))
    assert result.exit_code == 0, result.stderr
    assert "確認済み" in result.stdout
    result = erasable.run("erasure", "verify", str(cert))
    assert result.exit_code == 0 and "署名は有効、署名者は未確認" in result.stdout
    with Session(erasable.db.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))]
        execute = session.exec(
            select(AuditEntry).where(AuditEntry.action == "erasure.execute")
        ).one()
        assert audit.verify(session).ok
    assert [a for a in actions if a.startswith("erasure.")] == [
        "erasure.request", "erasure.sign", "erasure.sign", "erasure.execute", "erasure.confirm",
    ]  # fmt: skip
    assert doc["audit_head"] == f"{execute.seq}:{execute.hash}"
    assert OFFICER in doc["performed_by"]["signer"]


def test_a_copy_left_in_the_data_folder_is_found_and_blocks_the_confirmation(
    erasable: Erasable,
) -> None:
    roster = (erasable.tmp / "print" / "roster.csv").read_text(encoding="utf-8-sig")
    stray = erasable.settings.data_dir / "notes" / "copy.txt"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(roster.encode("utf-16"))  # a copy the system never wrote
    request_id = erasable.signed()
    cert = erasable.tmp / "cert.json"
    assert erasable.execute(request_id, cert).exit_code == 0
    verification = json.loads(cert.read_bytes())["verification"]
    assert not verification["passed"]
    places = {h["place"] for h in verification["name_scan"]["hits"]}
    assert places == {"notes/copy.txt"}
    assert {h["kind"] for h in verification["name_scan"]["hits"]} >= {"name", "address"}
    assert verification["left_in_data_folder"]["unlisted"] == ["notes/copy.txt"]
    assert verification["canary"]["passed"]
    text = cert.read_text(encoding="utf-8")  # where, never what: no address is on it
    addresses = [row["address"] for row in csv.DictReader(io.StringIO(roster))]
    assert addresses and not any(a in text for a in addresses)
    cert2 = erasable.tmp / "cert2.json"
    result = erasable.as_user(MANAGER, "erasure", "confirm", request_id, "--out", str(cert2))
    assert result.exit_code == 1 and "allow_list" in result.stderr
    stray.unlink()
    result = erasable.as_user(MANAGER, "erasure", "confirm", request_id, "--out", str(cert2))
    assert result.exit_code == 0, result.stderr
    confirmed = json.loads(cert2.read_bytes())["confirmation"]
    assert confirmed["execution_leak_check_passed"] is False
