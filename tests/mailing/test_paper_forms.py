"""`survey paper forms`: the blank master, and booklets with codes issued once (hashes only
stored, the file tracked for erasure)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import segno
from sqlmodel import Session, create_engine, select

from mailing.slips import code_url
from survey.codes import code_hash_key, normalize
from survey.crypto import code_hash
from survey.erasure.inventory import compute
from survey.models import AccessCode, AuditEntry, FormVersion, Study, TrackedFile
from survey.settings import load_settings
from tests.forms.test_paper import stream_list
from tests.mailing.conftest import PUBLIC_URL, pdf_pages

SAMPLE = 20  # junior_high and high_school in the drawn fixture's allocation


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def booklet_codes(pdf: Path, per: int) -> list[str]:
    pages = pdf_pages(pdf)
    assert len(pages) % per == 0
    out = []
    for start in range(0, len(pages), per):
        m = re.search(r"アクセスコード([0-9A-Z]{13})確認用", flat(pages[start]))
        assert m, pages[start][:300]
        out.append(m.group(1))
    return out


def test_blank_master_issues_nothing(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "general.pdf"
    result = drawn("paper", "forms", "--cohort", "general", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"] == {"general": 1} and report["with_codes"] is False
    assert report["pages_per_booklet"] % 4 == 0
    assert len(pdf_pages(out)) == report["pages_per_booklet"]
    boxes = json.loads(out.with_suffix(".boxes.json").read_text(encoding="utf-8"))
    assert boxes["booklets"] == 1 and any(b["kind"] == "qr" for b in boxes["boxes"])
    plain = drawn("paper", "forms", "--cohort", "infant_guardian", "--out", str(tmp_path / "i.pdf"))
    assert plain.exit_code == 0, plain.stderr
    assert "infant_guardian: 1 冊" in plain.stdout and "blank master" in plain.stdout
    settings = load_settings()
    with Session(create_engine(settings.database_url)) as session:
        assert session.exec(select(AccessCode)).all() == []
        assert session.exec(select(TrackedFile)).all() == []


def test_with_codes_once_per_cohort(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "junior_high.pdf"
    args = ("paper", "forms", "--cohort", "junior_high", "--with-codes", "--json")
    result = drawn(*args, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"] == {"junior_high": SAMPLE}
    per = report["pages_per_booklet"]
    codes = booklet_codes(out, per)
    assert len(codes) == len(set(codes)) == SAMPLE
    boxes = json.loads(out.with_suffix(".boxes.json").read_text(encoding="utf-8"))
    assert boxes["booklets"] == SAMPLE and boxes["pages_per_booklet"] == per
    # Paper only: no QR code, so no link that could carry the code.
    assert not any(b["kind"] == "qr" for b in boxes["boxes"])
    assert all(c not in out.with_suffix(".boxes.json").read_text() for c in codes)

    settings = load_settings()
    key = code_hash_key(settings, "default")
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        stored = {row.hash: row for row in session.exec(select(AccessCode)).all()}
        assert len(stored) == SAMPLE
        for code in codes:
            row = stored[code_hash(key, normalize(code))]
            assert row.cohort == "junior_high" and not row.used
        tracked = session.exec(select(TrackedFile)).all()
        assert [(t.kind, Path(t.path)) for t in tracked] == [
            ("paper_forms", out.resolve()),
            ("paper_forms", out.with_suffix(".boxes.json").resolve()),
        ]
        for t in tracked:
            assert hashlib.sha256(Path(t.path).read_bytes()).hexdigest() == t.sha256
        frozen = session.exec(select(FormVersion)).all()
        assert [(f.cohort, f.form_id) for f in frozen] == [("junior_high", "junior_high")]
        actions = [e.action for e in session.exec(select(AuditEntry)).all()]
        assert "file.paper_forms" in actions
        study = session.exec(select(Study)).one()
        inventory = compute(session, settings, study, "personal", "r", "a")
        assert [f["kind"] for f in inventory["files"]] == ["paper_forms", "paper_forms"]
        assert all(f["present"] and f["unchanged"] for f in inventory["files"])
    # The plaintext codes exist only in the one print file: not in the database.
    raw = b"".join(p.read_bytes() for p in settings.data_dir.glob("survey.sqlite3*"))
    assert all(c.encode() not in raw for c in codes)

    again = drawn(*args, "--out", str(tmp_path / "again.pdf"))
    assert again.exit_code != 0
    assert "発行済み" in again.stderr
    assert not (tmp_path / "again.pdf").exists()
    assert not (tmp_path / "again.boxes.json").exists()
    with Session(engine) as session:
        assert len(session.exec(select(AccessCode)).all()) == SAMPLE


def test_with_codes_web_cohort_links_each_code(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A web-enabled cohort's booklets differ in the QR code too (its link holds the code),
    and the cover carries the key's fingerprint."""
    out = tmp_path / "high_school.pdf"
    result = drawn(
        "paper", "forms", "--cohort", "high_school", "--with-codes", "--json", "--out", str(out)
    )
    assert result.exit_code == 0, result.stderr
    per = json.loads(result.stdout)["pages_per_booklet"]
    pages = pdf_pages(out)
    fingerprint = drawn("keys", "show", "--json")
    assert json.loads(fingerprint.stdout)["fingerprint"] in pages[0]
    codes = booklet_codes(out, per)
    assert len(codes) == SAMPLE
    # Each booklet's QR code is the one of its own code's link: a booklet's own drawing (the
    # shared pages are form XObjects) has exactly as many dark runs as that link's QR code.
    pages_drawn = [s for s in stream_list(out) if b"/FormXob" in s and b" Do" in s]
    assert len(pages_drawn) == SAMPLE * per
    for b, code in enumerate(codes):
        own = b"".join(pages_drawn[b * per : (b + 1) * per])
        assert len(re.findall(rb" re\b", own)) == dark_runs(code_url(PUBLIC_URL, code))
    assert dark_runs(code_url(PUBLIC_URL, codes[0])) != dark_runs(PUBLIC_URL)


def dark_runs(url: str) -> int:
    runs = 0
    for row in segno.make_qr(url, error="m", boost_error=False).matrix:
        runs += sum(1 for i, v in enumerate(row) if v and (i == 0 or not row[i - 1]))
    return runs


def test_code_slips_after_booklets_with_codes(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The paper-only cohorts' booklets carry their codes; `survey codes` then issues the
    other cohorts' slips (only theirs), once; and booklets with codes are refused for a
    cohort whose codes are on slips."""
    out = tmp_path / "jh.pdf"
    first = drawn("paper", "forms", "--cohort", "junior_high", "--with-codes", "--out", str(out))
    assert first.exit_code == 0, first.stderr
    result = drawn("codes", "--out", str(tmp_path / "slips.pdf"), "--json")
    assert result.exit_code == 0, result.stderr
    counts = json.loads(result.stdout)["counts"]
    assert "junior_high" not in counts and set(counts) == {
        "infant_guardian",
        "elementary_guardian",
        "high_school",
        "general",
    }
    again = drawn("codes", "--out", str(tmp_path / "slips2.pdf"))
    assert again.exit_code != 0 and "発行済み" in again.stderr
    late = drawn(
        "paper", "forms", "--cohort", "general", "--with-codes", "--out", str(tmp_path / "g.pdf")
    )
    assert late.exit_code != 0 and "発行済み" in late.stderr
    settings = load_settings()
    with Session(create_engine(settings.database_url)) as session:
        rows = session.exec(select(AccessCode)).all()
    issued = {c: sum(1 for r in rows if r.cohort == c) for c in {r.cohort for r in rows}}
    assert issued == {**counts, "junior_high": SAMPLE}
