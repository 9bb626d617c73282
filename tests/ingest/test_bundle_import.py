"""Bundle import on the office: trust, signature, the chain per collector, recognised records."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from survey.bundles import GENESIS, BundleError, canonical, document, signing_seed
from survey.codes import code_hash_key, normalize
from survey.collector.export import export_bundle
from survey.collector.intake import Intake
from survey.crypto import code_hash, sign
from survey.ingest.bundle_import import import_bundle
from survey.models import AccessCode, BundleImport, SealedResponse, Study, TrustedCollector
from tests.conftest import Issued
from tests.helpers import STUDY_PUBLIC_KEY, seal


def answer(intake: Intake, codes: list[str]) -> None:
    for code in codes:
        intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": 1}))


def export(issued: Issued, out: Path) -> Path:
    with Session(issued.db.engine) as session:
        assert export_bundle(session, issued.settings, "default", out) is not None
        session.commit()
    return out


def office_import(issued: Issued, path: Path | bytes):  # type: ignore[no-untyped-def]
    data = path if isinstance(path, bytes) else path.read_bytes()
    with Session(issued.db.engine) as session:
        study = session.exec(select(Study).where(Study.name == "default")).one()
        report = import_bundle(session, study, data)
        session.commit()
    return report


def held(issued: Issued) -> int:
    with Session(issued.db.engine) as session:
        return len(session.exec(select(SealedResponse)).all())


def forged(issued: Issued, sequence: int, previous: str, study: str = "default") -> bytes:
    """A bundle signed with the collector's real key but holding other records."""
    seed, _ = signing_seed(issued.settings, "default")
    record = {
        "id": "ab" * 16,
        "cohort": "general",
        "form": "general",
        "version": 1,
        "day": "2026-06-02",
        "sealed": base64.b64encode(b"\x01" * (8192 + 48)).decode(),
    }
    data, _digest = document(seed, study, sequence, previous, date(2026, 6, 2), [record], [])
    return data


def test_the_chain_is_checked_and_the_same_file_is_a_no_op(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    answer(intake, issued.codes["general"][:3])
    first = export(issued, tmp_path / "b1.json")
    answer(intake, issued.codes["general"][3:5])
    second = export(issued, tmp_path / "b2.json")

    with pytest.raises(BundleError, match="does not follow"):  # a gap: 1 is missing
        office_import(issued, second)
    assert held(issued) == 0
    report = office_import(issued, first)
    assert (report.sequence, report.records, report.added, report.already) == (1, 3, 3, False)
    again = office_import(issued, first)
    assert again.already and again.added == 0 and held(issued) == 3
    assert office_import(issued, second).added == 2 and held(issued) == 5

    # Another bundle at a sequence already imported is refused, even signed by the collector.
    digest_1 = json.loads(first.read_bytes())["sha256"]
    with pytest.raises(BundleError, match="Another bundle with sequence 2"):
        office_import(issued, forged(issued, 2, digest_1))
    # The next number, but not chained to the last bundle.
    with pytest.raises(BundleError, match="previous hash"):
        office_import(issued, forged(issued, 3, GENESIS))
    with pytest.raises(BundleError, match="another study"):
        office_import(issued, forged(issued, 3, json.loads(second.read_bytes())["sha256"], "x"))
    assert held(issued) == 5
    with Session(issued.db.engine) as session:
        chain = session.exec(select(BundleImport).order_by(BundleImport.sequence)).all()
        assert [(b.sequence, b.records, b.added) for b in chain] == [(1, 3, 3), (2, 2, 2)]


def test_altered_and_untrusted_bundles_are_refused(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    answer(intake, issued.codes["general"][:2])
    data = export(issued, tmp_path / "b1.json").read_bytes()
    doc = json.loads(data)
    doc["bundle"]["records"][0]["cohort"] = "high_school"
    with pytest.raises(BundleError):
        office_import(issued, json.dumps(doc).encode())
    flipped = bytearray(data)
    at = data.index(b'"sealed": "') + 20
    flipped[at] = ord("A") if flipped[at] != ord("A") else ord("B")
    with pytest.raises(BundleError):
        office_import(issued, bytes(flipped))
    with Session(issued.db.engine) as session:
        for row in session.exec(select(TrustedCollector)).all():
            session.delete(row)
        session.commit()
    with pytest.raises(BundleError, match="not trusted"):
        office_import(issued, data)
    assert held(issued) == 0


def test_records_the_office_already_holds_are_recognised(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    """One-process installations from before the split hold some answers already."""
    answer(intake, issued.codes["general"][:3])
    path = export(issued, tmp_path / "b1.json")
    record = json.loads(path.read_bytes())["bundle"]["records"][0]
    sealed = base64.b64decode(record["sealed"])
    with Session(issued.db.engine) as session:
        study = session.exec(select(Study)).one()
        assert study.id is not None
        session.add(
            SealedResponse(
                id=record["id"],
                study_id=study.id,
                cohort=record["cohort"],
                form_id=record["form"],
                version=record["version"],
                day=date.fromisoformat(record["day"]),
                sealed=sealed,
                sealed_hash=hashlib.sha256(sealed).digest(),
            )
        )
        session.commit()
    report = office_import(issued, path)
    assert (report.records, report.added) == (3, 2) and held(issued) == 3


def test_bundle_import_on_the_command_line(  # type: ignore[no-untyped-def]
    intake: Intake, issued: Issued, run, tmp_path: Path
) -> None:
    answer(intake, issued.codes["general"][:2])
    path = export(issued, tmp_path / "b1.json")
    first = run("bundle", "import", str(path))
    assert first.exit_code == 0, first.stderr
    again = run("bundle", "import", str(path))
    assert again.exit_code == 0 and "取り込み済み" in again.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{}", encoding="utf-8")
    refused = run("bundle", "import", str(broken))
    assert refused.exit_code == 1 and "broken.json" in refused.stderr


def test_v2_bundles_report_consumed_codes_sorted_and_the_office_marks_them(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    codes = issued.codes["general"][:4]
    answer(intake, codes)
    path = export(issued, tmp_path / "b1.json")
    body = json.loads(path.read_bytes())["bundle"]
    assert body["format"] == "survey-bundle/v2"
    consumed = [base64.b64decode(h) for h in body["consumed"]]
    key = code_hash_key(issued.settings, "default")
    assert set(consumed) == {code_hash(key, normalize(c)) for c in codes}
    assert consumed == sorted(consumed)  # by hash, never in answer order
    report = office_import(issued, path)
    assert (report.format, report.consumed, report.both_channels) == (2, 4, 0)
    with Session(issued.db.engine) as session:
        used = {c.hash: c for c in session.exec(select(AccessCode)).all() if c.used}
    assert set(used) == set(consumed) and {c.channel for c in used.values()} == {"web"}
    # Nothing new: no bundle. --again rebuilds bundle 1 with the same consumed list.
    with Session(issued.db.engine) as session:
        assert export_bundle(session, issued.settings, "default", tmp_path / "b2.json") is None
        again = export_bundle(session, issued.settings, "default", tmp_path / "b1a.json", 1)
    assert again is not None and (tmp_path / "b1a.json").read_bytes() == path.read_bytes()


def test_a_bundle_reporting_a_code_never_issued_is_refused(issued: Issued) -> None:
    seed, _ = signing_seed(issued.settings, "default")
    data, _ = document(seed, "default", 1, GENESIS, date(2026, 6, 2), [], [bytes(32)])
    with pytest.raises(BundleError, match="never issued"):
        office_import(issued, data)
    assert held(issued) == 0


def test_v1_bundles_still_import(intake: Intake, issued: Issued, tmp_path: Path) -> None:
    answer(intake, issued.codes["general"][:2])
    body = json.loads(export(issued, tmp_path / "b1.json").read_bytes())["bundle"]
    body["format"] = "survey-bundle/v1"
    del body["consumed"]
    seed, _ = signing_seed(issued.settings, "default")
    signed = canonical(body)
    doc = {
        "bundle": body,
        "sha256": hashlib.sha256(signed).hexdigest(),
        "signature": base64.b64encode(sign(seed, signed)).decode(),
    }
    report = office_import(issued, json.dumps(doc).encode())
    assert (report.format, report.added, report.consumed) == (1, 2, 0)
    with Session(issued.db.engine) as session:
        (row,) = session.exec(select(BundleImport)).all()
    assert row.format == 1
