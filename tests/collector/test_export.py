"""Export bundles: signed, chained, shuffled records of sealed answers and nothing else."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from survey.bundles import GENESIS, BundleError, read_bundle, signing_seed
from survey.collector.export import compact_storage, export_bundle
from survey.collector.intake import Intake
from survey.collector.models import CollectorResponse
from survey.crypto import verify_key_of
from tests.conftest import Issued
from tests.helpers import STUDY_PUBLIC_KEY, open_sealed, seal


def submit(intake: Intake, codes: list[str]) -> None:
    for i, code in enumerate(codes):
        intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": i % 2 + 1}))


def export(issued: Issued, out: Path, again: int | None = None):  # type: ignore[no-untyped-def]
    with Session(issued.db.engine) as session:
        report = export_bundle(session, issued.settings, "default", out, again)
        session.commit()
    return report


def collector_key(issued: Issued) -> bytes:
    return verify_key_of(signing_seed(issued.settings, "default")[0])


def test_bundles_chain_sign_and_carry_only_the_record_fields(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    submit(intake, issued.codes["general"][:6])
    first = export(issued, tmp_path / "b1.json")
    assert first is not None and (first.sequence, first.records, first.previous) == (1, 6, GENESIS)
    assert export(issued, tmp_path / "empty.json") is None  # nothing new: no file
    assert not (tmp_path / "empty.json").exists()
    submit(intake, issued.codes["high_school"][:3])
    second = export(issued, tmp_path / "b2.json")
    assert second is not None and second.sequence == 2 and second.previous == first.sha256

    data = (tmp_path / "b2.json").read_bytes()
    body = read_bundle(data, [collector_key(issued)])
    assert body["sequence"] == 2 and body["previous"] == first.sha256
    assert {tuple(sorted(r)) for r in body["records"]} == {
        ("cohort", "day", "form", "id", "sealed", "version")
    }
    with Session(issued.db.engine) as session:
        hashes = [r.sealed_hash for r in session.exec(select(CollectorResponse)).all()]
    for digest in hashes:  # no code hashes, no sealed hashes: nothing to link back with
        assert base64.b64encode(digest) not in data and digest.hex().encode() not in data
    for record in body["records"]:
        sealed = base64.b64decode(record["sealed"])
        assert open_sealed(sealed, 4096)["cohort"] == record["cohort"] == "high_school"


def test_a_bundle_is_rebuilt_byte_for_byte(intake: Intake, issued: Issued, tmp_path: Path) -> None:
    submit(intake, issued.codes["general"][:5])
    report = export(issued, tmp_path / "b1.json")
    assert report is not None
    again = export(issued, tmp_path / "b1-again.json", again=1)
    assert again is not None and again.sha256 == report.sha256
    assert (tmp_path / "b1.json").read_bytes() == (tmp_path / "b1-again.json").read_bytes()


def test_altered_or_foreign_bundles_are_refused(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    submit(intake, issued.codes["general"][:3])
    export(issued, tmp_path / "b1.json")
    data = (tmp_path / "b1.json").read_bytes()
    key = collector_key(issued)
    with pytest.raises(BundleError, match="trusted"):
        read_bundle(data, [bytes(32)])
    doc = json.loads(data)
    doc["bundle"]["records"][0]["day"] = "2020-01-01"
    with pytest.raises(BundleError):
        read_bundle(json.dumps(doc).encode(), [key])
    doc = json.loads(data)
    doc["bundle"]["records"].pop()
    with pytest.raises(BundleError):
        read_bundle(json.dumps(doc).encode(), [key])
    with pytest.raises(BundleError):
        read_bundle(b"not json", [key])


def test_record_order_is_not_arrival_order(intake: Intake, issued: Issued, tmp_path: Path) -> None:
    codes = issued.codes["general"][:40]
    submit(intake, codes)
    export(issued, tmp_path / "b1.json")
    body = read_bundle((tmp_path / "b1.json").read_bytes(), [collector_key(issued)])
    opened = [open_sealed(base64.b64decode(r["sealed"]), 8192) for r in body["records"]]
    sexes = [o["answers"]["sex"] for o in opened]
    # Answers alternated 1, 2, 1, 2 ... on arrival; a bundle in arrival order would too.
    assert sexes != [i % 2 + 1 for i in range(40)]


def arrival_rank_correlation(issued: Issued, sealed: list[bytes]) -> float:
    """Spearman's rho between arrival order and where each answer's bytes lie in the file."""
    data = b"".join(
        p.read_bytes() for p in sorted(issued.settings.data_dir.glob("survey.sqlite3*"))
    )
    offsets = [data.rfind(s[-64:]) for s in sealed]
    assert all(o >= 0 for o in offsets)
    ranks = {o: r for r, o in enumerate(sorted(offsets))}
    n = len(sealed)
    d2 = sum((i - ranks[o]) ** 2 for i, o in enumerate(offsets))
    return 1 - 6 * d2 / (n * (n * n - 1))


@pytest.mark.sqlite_only  # the SQLite file itself
def test_after_an_export_the_file_no_longer_shows_arrival_order(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    sealed = []
    for code in issued.codes["general"][:50]:
        body = seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": 1})
        intake.submit(code, body)
        sealed.append(base64.b64decode(body))
    with issued.db.engine.connect() as conn:  # let the WAL reach the main file first
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert arrival_rank_correlation(issued, sealed) > 0.9  # what a copy of the file would show
    export(issued, tmp_path / "b1.json")
    compact_storage(issued.db.engine)
    assert abs(arrival_rank_correlation(issued, sealed)) < 0.6
