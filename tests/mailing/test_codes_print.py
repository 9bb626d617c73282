"""`survey codes`: slips, the optional CSV, hash-only storage, no reprint."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from sqlmodel import Session, create_engine, select

from survey.codes import code_hash_key, normalize
from survey.crypto import code_hash
from survey.models import AccessCode, TrackedFile
from survey.settings import load_settings
from tests.mailing.conftest import PUBLIC_URL, fonts_embedded, pdf_pages


def read_codes(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [(row["cohort"], row["code"]) for row in csv.DictReader(fh)]


def spearman(a: list[int], b: list[int]) -> float:
    n = len(a)
    d2 = sum((x - y) ** 2 for x, y in zip(a, b, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_codes_per_cohort_with_spares(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = drawn(
        "codes",
        "--out",
        str(tmp_path / "slips.pdf"),
        "--csv",
        str(tmp_path / "codes.csv"),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    # 20 per guardian/student cohort + ceil(2%) = 1 spare; general 50 + 1.
    assert report["counts"] == {
        "infant_guardian": 21,
        "elementary_guardian": 21,
        "junior_high": 21,
        "high_school": 21,
        "general": 51,
    }
    assert report["spares"]["general"] == math.ceil(50 * 0.02)
    codes = read_codes(tmp_path / "codes.csv")
    assert len(codes) == len({c for _, c in codes}) == 135
    assert all(normalize(code) for _, code in codes)


def test_only_keyed_hashes_are_stored(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drawn("codes", "--out", str(tmp_path / "slips.pdf"), "--csv", str(tmp_path / "codes.csv"))
    settings = load_settings()
    codes = read_codes(tmp_path / "codes.csv")
    raw = b"".join(p.read_bytes() for p in settings.data_dir.glob("survey.sqlite3*"))
    for _cohort, code in codes:
        assert code.encode() not in raw and normalize(code).encode() not in raw
    key = code_hash_key(settings, "default")
    assert settings.data_dir not in (settings.key_dir / "default").parents
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        stored = {row.hash: row for row in session.exec(select(AccessCode)).all()}
        tracked = session.exec(select(TrackedFile)).all()
    assert len(stored) == len(codes)
    for cohort, code in codes:
        row = stored[code_hash(key, normalize(code))]
        assert row.cohort == cohort and not row.used
    assert {t.kind for t in tracked} == {"code_slips", "code_csv"}
    import hashlib

    for t in tracked:
        assert hashlib.sha256(Path(t.path).read_bytes()).hexdigest() == t.sha256
        assert Path(t.path).stat().st_size == t.size


def test_print_order_is_unrelated_to_storage_order(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drawn("sample", "show")
    drawn(
        "codes",
        "--out",
        str(tmp_path / "slips.pdf"),
        "--csv",
        str(tmp_path / "codes.csv"),
        "--spares",
        "600",
    )
    settings = load_settings()
    codes = [normalize(c) for _, c in read_codes(tmp_path / "codes.csv")]
    # The PDF prints exactly the CSV's order.
    pdf_codes = [
        normalize(w)
        for page in pdf_pages(tmp_path / "slips.pdf")
        for w in page.split()
        if len(w) == 16 and w.count("-") == 3
    ]
    assert pdf_codes == codes
    key = code_hash_key(settings, "default")
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        # Physical order of the table (no ORDER BY): on SQLite a WITHOUT ROWID table by hash.
        table_order = [row.hash for row in session.exec(select(AccessCode)).all()]
    position = {h: i for i, h in enumerate(table_order)}
    print_rank = list(range(len(codes)))
    table_rank = [position[code_hash(key, c)] for c in codes]
    # ~3,130 codes: |rho| > 0.1 would be about 5.6 standard deviations from 0.
    assert abs(spearman(print_rank, table_rank)) < 0.1


def test_slips_content(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drawn("codes", "--out", str(tmp_path / "slips.pdf"), "--csv", str(tmp_path / "codes.csv"))
    fingerprint = json.loads(drawn("keys", "show", "--json").stdout)["fingerprint"]
    pages = pdf_pages(tmp_path / "slips.pdf")
    headers = [p for p in pages if "バッチ見出し" in p]
    assert len(headers) == 5
    slips = [p for p in pages if "バッチ見出し" not in p]
    web = [p for p in slips if "一般市民" in p or "高校生" in p]
    paper = [p for p in slips if "中学生" in p or "乳幼児" in p]
    assert web and paper
    assert all(PUBLIC_URL in p for p in web)
    assert all("http" not in p and "所定の欄" in p for p in paper)
    assert all(fingerprint in p and "0570-064-556" in p for p in slips)
    assert all(emb == "yes" for _name, emb in fonts_embedded(tmp_path / "slips.pdf"))


def test_qr_url_keeps_the_code_in_the_fragment() -> None:
    from mailing.slips import code_url

    url = code_url(PUBLIC_URL + "/", "ABCDEFGHJKMNP")
    assert url == f"{PUBLIC_URL}/#code=ABCD-EFGH-JKMN-P"
    assert "?" not in url and url.index("#") < url.index("ABCD")


def test_no_reprint_but_additional_spares(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert drawn("codes", "--out", str(tmp_path / "a.pdf")).exit_code == 0
    again = drawn("codes", "--out", str(tmp_path / "b.pdf"))
    assert again.exit_code == 1
    assert "--additional" in again.stderr and "再印刷" in again.stderr
    assert not (tmp_path / "b.pdf").exists()
    more = drawn("codes", "--out", str(tmp_path / "c.pdf"), "--additional", "3", "--json")
    assert more.exit_code == 0, more.stderr
    assert json.loads(more.stdout)["counts"] == dict.fromkeys(
        ["infant_guardian", "elementary_guardian", "junior_high", "high_school", "general"], 3
    )


def test_refusals(run, drawn, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SURVEY_PUBLIC_URL")
    result = drawn("codes", "--out", str(tmp_path / "a.pdf"))
    assert result.exit_code == 2 and "SURVEY_PUBLIC_URL" in result.stderr
    assert not (tmp_path / "a.pdf").exists()
    existing = tmp_path / "exists.pdf"
    existing.write_bytes(b"x")
    monkeypatch.setenv("SURVEY_PUBLIC_URL", PUBLIC_URL)
    assert drawn("codes", "--out", str(existing)).exit_code == 2
    assert existing.read_bytes() == b"x"


def test_printing_refuses_without_a_study_key(run, synth_register: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        "general=5",
    )
    result = run(
        "codes", "--out", str(tmp_path / "slips.pdf"), extra_env={"SURVEY_PUBLIC_URL": PUBLIC_URL}
    )
    assert result.exit_code == 1 and "keys generate" in result.stderr
    assert not (tmp_path / "slips.pdf").exists()


def test_codes_freeze_the_form_versions(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    import yaml

    from survey.forms.loader import current_forms, definitions_dir, load_forms
    from survey.forms.versions import check_frozen
    from survey.models import FormVersion

    drawn("codes", "--out", str(tmp_path / "slips.pdf"))
    settings = load_settings()
    engine = create_engine(settings.database_url)
    current = current_forms(load_forms())
    with Session(engine) as session:
        frozen = {r.cohort: r for r in session.exec(select(FormVersion)).all()}
        assert {c: (r.form_id, r.version, r.sha256) for c, r in frozen.items()} == {
            c: (f.id, f.version, f.sha256) for c, f in current.items()
        }
        # Editing a question of a frozen version (here in a shared module) is refused.
        defs = tmp_path / "defs"
        shutil.copytree(definitions_dir(), defs)
        k6 = defs / "modules" / "k6.yaml"
        data = yaml.safe_load(k6.read_text(encoding="utf-8"))
        data["items"][0]["rows"][0]["text"]["ja"] = "いらいらしましたか"
        k6.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        found = check_frozen(session, load_forms(defs))
        # The newest versions (v2) were frozen: each is refused, asking for a version 3.
        assert len(found) == 5 and all("version: 3" in p for p in found)
        # A removed version the codes use is reported too.
        (defs / "general.v2.yaml").unlink()
        assert any(
            "general v2" in p and "missing" in p for p in check_frozen(session, load_forms(defs))
        )
    assert drawn("forms", "check").exit_code == 0
    broken = drawn("forms", "check", "--dir", str(defs))
    assert broken.exit_code == 1 and "version: 3" in broken.stderr


def test_additional_needs_codes_issued_first_and_spares_are_validated(
    drawn, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first = drawn("codes", "--out", str(tmp_path / "a.pdf"), "--additional", "5")
    assert first.exit_code == 2 and "--additional" in first.stderr
    assert not (tmp_path / "a.pdf").exists()
    for bad in ("-50%", "inf%", "nan%", "x", "-1"):
        result = drawn("codes", "--out", str(tmp_path / "a.pdf"), "--spares", bad)
        assert result.exit_code == 2, bad
    engine = create_engine(load_settings().database_url)
    with Session(engine) as session:
        assert session.exec(select(AccessCode)).all() == []


def test_generation_order_is_not_print_order(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Codes are shuffled after generation: print position tells nothing about generation."""
    from survey import access_codes
    from survey.codes import check_symbol

    counter = iter(range(10**6))

    def sequential() -> str:
        data = f"{next(counter):012d}"
        return data + check_symbol(data)

    monkeypatch.setattr(access_codes, "new_code", sequential)
    codes = access_codes.generate({"general": 3000})
    generated_rank = [int(c.code[:12]) for c in codes]
    assert abs(spearman(list(range(3000)), generated_rank)) < 0.1


def test_two_code_runs_at_the_same_time_cannot_both_issue(drawn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from survey import access_codes
    from survey.db import Database
    from survey.errors import DataError
    from survey.models import Study

    db = Database(load_settings())
    try:
        with Session(db.engine) as a, Session(db.engine) as b:
            access_codes.claim_batch(a, a.exec(select(Study)).one(), {"general": 1})
            a.commit()
            # B read the batch count before A committed: it also thinks batch 1 is next.
            monkeypatch.setattr(access_codes, "next_batch", lambda session, study: 1)
            with pytest.raises(DataError, match="same time"):
                access_codes.claim_batch(b, b.exec(select(Study)).one(), {"general": 1})
    finally:
        db.dispose()


def test_the_qr_code_keeps_its_quiet_zone(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Rendered at 300 dpi, nothing dark lies within four modules of a slip's QR code."""
    from PIL import Image
    from reportlab.lib.units import mm

    from mailing.slips import QR_SIZE, SLIP_H, SLIP_W
    from tests.mailing.conftest import poppler

    out = tmp_path / "slips.pdf"
    assert drawn("codes", "--out", str(out)).exit_code == 0
    page = next(i for i, text in enumerate(pdf_pages(out), 1) if PUBLIC_URL in text)
    poppler(
        "pdftoppm",
        "-r",
        "300",
        "-f",
        str(page),
        "-l",
        str(page),
        "-png",
        str(out),
        str(tmp_path / "p"),
    )
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    scale = 300 / 72
    pad, module = 6 * mm, QR_SIZE / 33  # version 4 at most for these URLs: 33 modules
    qr_left, qr_top = SLIP_W - pad - QR_SIZE, pad  # from the slip's top-left corner
    quiet = 3.5 * module

    def dark(x0: float, y0: float, x1: float, y1: float) -> int:
        box = tuple(round(v * scale) for v in (x0, y0, x1, y1))
        return sum(1 for v in image.crop(box).get_flattened_data() if v < 128)

    assert dark(qr_left, qr_top, qr_left + QR_SIZE, qr_top + QR_SIZE) > 1000  # the code is there
    # The code box and the web address run beside the code (left of its quiet zone).
    below = dark(qr_left - quiet, qr_top + QR_SIZE + 1, SLIP_W - pad, qr_top + QR_SIZE + quiet)
    left = dark(qr_left - quiet, qr_top, qr_left - 1, qr_top + QR_SIZE + quiet)
    above = dark(qr_left - quiet, 0.5 * mm, SLIP_W - pad, qr_top - 1)
    assert below == 0 and left == 0 and above == 0
    assert qr_top + QR_SIZE + quiet < SLIP_H


def test_codes_do_not_depend_on_the_draw_seed(run, synth_register: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two studies drawn with the same seed get unrelated codes (the OS CSPRNG, not the seed)."""
    import base64

    from tests.conftest import SMALL_ALLOCATION
    from tests.helpers import STUDY_PUBLIC_KEY

    issued = []
    for name in ("a", "b"):
        env = {"SURVEY_PUBLIC_URL": PUBLIC_URL}
        assert run("study", "create", name, "--as-of", "2026-04-01").exit_code == 0
        args = [
            "--register",
            str(synth_register),
            "--allocation",
            SMALL_ALLOCATION,
            "--seed",
            "ab" * 32,
        ]
        assert run("sample", "--study", name, *args).exit_code == 0
        key = base64.b64encode(STUDY_PUBLIC_KEY).decode()
        assert run("keys", "set-public", key, "--study", name).exit_code == 0
        csv_path = tmp_path / f"{name}.csv"
        result = run(
            "codes",
            "--study",
            name,
            "--out",
            str(tmp_path / f"{name}.pdf"),
            "--csv",
            str(csv_path),
            extra_env=env,
        )
        assert result.exit_code == 0, result.stderr
        issued.append({code for _, code in read_codes(csv_path)})
    assert issued[0] and not issued[0] & issued[1]


def test_every_print_file_is_tracked_with_size_and_hash(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    files = {
        "codes": ["codes", "--out", str(tmp_path / "s.pdf"), "--csv", str(tmp_path / "c.csv")],
        "labels": ["labels", "--out", str(tmp_path / "l.pdf"), "--csv", str(tmp_path / "v.csv")],
        "postcards": ["postcards", "--out", str(tmp_path / "p.pdf")],
        "roster": ["roster", "export", "--csv", str(tmp_path / "r.csv")],
    }
    for args in files.values():
        result = drawn(*args)
        assert result.exit_code == 0, result.stderr
    with Session(create_engine(load_settings().database_url)) as session:
        tracked = {Path(t.path).name: t for t in session.exec(select(TrackedFile))}
    assert set(tracked) == {"s.pdf", "c.csv", "l.pdf", "v.csv", "p.pdf", "r.csv"}
    for name, row in tracked.items():
        data = (tmp_path / name).read_bytes()
        assert row.size == len(data) and row.sha256 == hashlib.sha256(data).hexdigest()


def test_every_web_slip_carries_a_qr_code_that_decodes_to_its_own_code(  # type: ignore[no-untyped-def]
    drawn, tmp_path: Path
) -> None:
    """Rendered and decoded with an independent reader (ZXing): each web-enabled cohort's slip
    scans to SURVEY_PUBLIC_URL/#code=its code; paper-only slips have no QR code at all."""
    import zxingcpp
    from PIL import Image

    from tests.mailing.conftest import poppler

    out, codes_csv = tmp_path / "slips.pdf", tmp_path / "codes.csv"
    assert drawn("codes", "--out", str(out), "--csv", str(codes_csv)).exit_code == 0
    poppler("pdftoppm", "-r", "120", "-gray", "-png", str(out), str(tmp_path / "page"))
    found = []
    for png in sorted(tmp_path.glob("page*.png")):
        found += [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    web = {"elementary_guardian", "high_school", "general"}
    expected = sorted(
        f"{PUBLIC_URL}/#code={c}" for cohort, c in read_codes(codes_csv) if cohort in web
    )
    assert sorted(found) == expected


def test_the_codes_csv_keeps_formula_like_cells_as_text(tmp_path: Path) -> None:
    from mailing.slips import write_codes_csv
    from survey.access_codes import IssuedCode

    # Real codes are Crockford symbols; the writer still goes through the shared escaping.
    out = tmp_path / "codes.csv"
    write_codes_csv(out, [IssuedCode("=cmd|' /C calc'!A0", "ABCDEFGHJKMNP")])
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["cohort", "code"], ["'=cmd|' /C calc'!A0", "ABCD-EFGH-JKMN-P"]]
