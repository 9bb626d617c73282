"""`survey labels` and `survey postcards`: content, order, fonts, geometry, vendor CSV."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from reportlab.lib.units import mm

from mailing.batches import natural_key
from mailing.fonts import mj_path
from mailing.layouts import LAYOUTS, PAGE_H, PAGE_W, get_layout
from survey.errors import UsageError
from tests.conftest import Row, require_program
from tests.mailing.conftest import fonts_embedded, pdf_pages, pdf_text, poppler

ARTIFACTS = Path(os.environ.get("SURVEY_TEST_ARTIFACTS", "build/test-artifacts"))


def squeeze(text: str) -> str:
    """Without any whitespace: pdftotext -layout renders the full-width space as a gap."""
    return re.sub(r"\s+", "", text)


def roster(run, tmp_path: Path) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    out = tmp_path / "roster.csv"
    assert run("roster", "export", "--csv", str(out)).exit_code == 0
    with out.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_every_drawn_name_is_on_the_labels(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "labels.pdf"
    result = drawn("labels", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    text = squeeze(pdf_text(out))
    for unit in roster(drawn, tmp_path):
        name = squeeze(unit["addressee"])
        if all(ord(ch) <= 0xFFFF for ch in name):  # non-BMP names: checked by rendering below
            assert name in text, unit["cohort"]
        if unit["cohort"].endswith("guardian"):
            assert name.endswith("様保護者様")
    assert all(emb == "yes" for _n, emb in fonts_embedded(out))
    assert json.loads(result.stdout)["total"] == 130


def test_batches_start_on_a_new_sheet_behind_a_header(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "labels.pdf"
    drawn("labels", "--out", str(out), "--layout", "a4-24")
    pages = pdf_pages(out)
    headers = [i for i, p in enumerate(pages) if "バッチ見出し" in p]
    # 20 units per small cohort fit one 24-up sheet; general (50) needs 3 sheets.
    assert headers == [0, 2, 4, 6, 8]
    assert len(pages) == 12
    assert "乳幼児の保護者" in pages[0] and "件数: 20 件" in pages[0]
    assert "学校経由" in pages[2]  # elementary guardians go through schools
    assert "一般市民" in pages[8] and "3 枚" in pages[8]
    assert all("バッチ見出し" not in p for p in pages[9:])


def test_vendor_csv_order_and_encodings(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cp = tmp_path / "vendor.csv"
    result = drawn("labels", "--csv", str(cp))
    assert result.exit_code == 0, result.stderr
    with cp.open(encoding="cp932") as fh:
        ja = list(csv.DictReader(fh))
    # Japanese headers by default, the cohort as the labels print it and each label's tag.
    assert list(ja[0]) == ["区分", "連番", "郵便番号", "住所", "方書", "宛名"]
    assert [r["連番"] for r in ja if r["区分"] == "乳幼児"] == [f"乳幼児 {i}" for i in range(1, 21)]
    assert {r["区分"] for r in ja} == {"乳幼児", "小学生保護者", "中学生", "高校生", "一般"}
    labels = tmp_path / "labels.pdf"
    assert drawn("labels", "--out", str(labels)).exit_code == 0
    tags = r"(?<!\S)(乳幼児|小学生保護者|中学生|高校生|一般) (\d+)(?=\s)"
    printed = re.findall(tags, pdf_text(labels))
    assert [f"{c} {n}" for c, n in printed] == [r["連番"] for r in ja]  # envelope ↔ label
    en = tmp_path / "vendor-en.csv"
    assert drawn("labels", "--csv", str(en), "--headers", "en").exit_code == 0
    with en.open(encoding="cp932") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["cohort", "postal_code", "address", "building", "addressee"]
    assert [r["address"] for r in rows] == [r["住所"] for r in ja]
    assert len(rows) == 130
    cohorts = [r["cohort"] for r in rows]
    assert cohorts == sorted(
        cohorts,
        key=[
            "infant_guardian",
            "elementary_guardian",
            "junior_high",
            "high_school",
            "general",
        ].index,
    )
    for cohort in ("general", "junior_high"):  # postal batches: postcode, then address
        keys = [
            (r["postal_code"], natural_key(r["address"])) for r in rows if r["cohort"] == cohort
        ]
        assert keys == sorted(keys)
    school = [natural_key(r["address"]) for r in rows if r["cohort"] == "elementary_guardian"]
    assert school == sorted(school)
    utf = tmp_path / "vendor-utf8.csv"
    drawn("labels", "--csv", str(utf), "--encoding", "utf-8-sig")
    assert utf.read_bytes().startswith(b"\xef\xbb\xbf")


def test_vendor_csv_reports_characters_cp932_cannot_hold(
    run, register_file, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = register_file(
        [
            Row("1", "H", "1980-01-01", name="𠮷田　太郎"),
            Row("2", "H2", "1980-01-01", name="髙橋　﨑子"),
        ]
    )
    run("sample", "--register", str(path), "--as-of", "2026-04-01", "--allocation", "general=2")
    out = tmp_path / "vendor.csv"
    result = run("labels", "--csv", str(out))
    assert result.exit_code == 0
    assert "U+20BB7" in result.stderr and "太郎" not in result.stderr
    text = out.read_bytes().decode("cp932")
    assert "〓田　太郎 様" in text and "髙橋　﨑子 様" in text


def test_cp932_only_and_outside_jis_names_render(run, register_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    require_program("IPAmj明朝 (fonts-ipamj-mincho)", mj_path() is not None)
    path = register_file(
        [
            # 𠮷田 has the lowest postcode: the first label on the sheet (the crop below).
            Row("1", "H", "1980-01-01", name="𠮷田　太郎", postal_code="353-0001"),
            Row("2", "H2", "1980-01-01", name="髙橋　﨑子", postal_code="353-0004"),
        ]
    )
    run("sample", "--register", str(path), "--as-of", "2026-04-01", "--allocation", "general=2")
    out = tmp_path / "labels.pdf"
    result = run("labels", "--out", str(out))
    assert result.exit_code == 0 and "〓" not in result.stderr
    assert "髙橋﨑子様" in squeeze(pdf_text(out))
    fonts = dict(fonts_embedded(out))
    assert any("IPAmjMincho" in name for name in fonts) and set(fonts.values()) == {"yes"}
    # 𠮷 (outside the BMP) is checked by rendering: its glyph must be drawn, not the 〓 mark.
    from PIL import Image

    def render(pdf: Path, stem: str) -> Image.Image:
        poppler(
            "pdftoppm", "-r", "150", "-f", "2", "-l", "2", "-png", str(pdf), str(tmp_path / stem)
        )
        return Image.open(next(tmp_path.glob(f"{stem}*.png"))).convert("L")

    real = render(out, "real")
    from mailing.batches import Batch
    from mailing.fonts import FontSet
    from mailing.labels import write_label_sheets
    from survey.roster import RosterRecord

    fonts_set = FontSet.load()
    record = RosterRecord(
        "general", "1", "1", "〓田　太郎", "", "3530001", "埼玉県志木市本町1丁目1番1号", ""
    )
    marked = tmp_path / "marked.pdf"
    write_label_sheets(
        marked, [Batch("general", "post", (record,))], get_layout("a4-12"), fonts_set
    )
    geta = render(marked, "geta")
    box = [
        int(v * 150 / 72) for v in (18.6 * mm, 21.6 * mm, (18.6 + 86.4) * mm, (21.6 + 42.3) * mm)
    ]
    a, b = real.crop(tuple(box)), geta.crop(tuple(box))
    assert a.getextrema()[0] < 128  # something dark is drawn in the first label
    diff = sum(1 for p, q in zip(a.tobytes(), b.tobytes(), strict=True) if abs(p - q) > 64)
    assert diff > 20  # the glyph for 𠮷 differs from the 〓 mark


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_geometry(name: str) -> None:
    layout = LAYOUTS[name]
    boxes = layout.boxes()
    assert len(boxes) == layout.cols * layout.rows
    for x, y, w, h in boxes:
        assert x >= 0 and x + w <= PAGE_W + 0.01 and y >= 0 and y + h <= PAGE_H + 0.01
        assert abs(w - layout.width * mm) < 1e-6 and abs(h - layout.height * mm) < 1e-6
    # Row-major from the top-left corner.
    assert boxes[0][1] > boxes[-1][1] and boxes[0][0] < boxes[layout.cols - 1][0]
    first_top = PAGE_H - boxes[0][1] - boxes[0][3]
    assert abs(first_top - layout.top * mm) < 1e-6 and abs(boxes[0][0] - layout.left * mm) < 1e-6


def test_margins_are_configurable_but_must_fit() -> None:
    moved = get_layout("a4-12", top=10.0, left=5.0)
    assert moved.top == 10.0 and moved.left == 5.0
    with pytest.raises(UsageError):
        get_layout("a4-12", top=60.0)
    with pytest.raises(UsageError):
        get_layout("nonsense")


def test_one_sheet_of_each_layout_as_png(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Artifacts for a person to look at: build/test-artifacts/labels-<layout>.png."""
    require_program("pdftoppm", shutil.which("pdftoppm") is not None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in sorted(LAYOUTS):
        out = tmp_path / f"{name}.pdf"
        assert (
            drawn("labels", "--out", str(out), "--layout", name, "--cohort", "general").exit_code
            == 0
        )
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "60",
                "-f",
                "2",
                "-l",
                "2",
                "-png",
                "-singlefile",
                str(out),
                str(ARTIFACTS / f"labels-{name}"),
            ],
            check=True,
        )
        assert (ARTIFACTS / f"labels-{name}.png").stat().st_size > 5000


def test_postcards(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drawn("study", "set", "fieldwork_end=2026-07-31")
    out = tmp_path / "postcards.pdf"
    result = drawn("postcards", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    pages = pdf_pages(out)
    headers = [p for p in pages if "バッチ見出し" in p]
    # The header sheets come first (A4 plain paper), then each card's two sides.
    assert len(headers) == 5 and all("バッチ見出し" in p for p in pages[:5])
    cards = pages[5:]
    assert len(cards) == 2 * 130  # everyone, answered or not
    fronts, backs = cards[0::2], cards[1::2]
    assert all("〒353-" in p and "様" in p for p in fronts)
    assert all("7月31日（金）までに" in p and "0570-064-556" in p for p in backs)
    assert all(emb == "yes" for _n, emb in fonts_embedded(out))
    sizes = re.findall(
        r"Page +\d+ size: +([\d.]+ x [\d.]+) pts",
        poppler("pdfinfo", "-f", "1", "-l", str(len(pages)), str(out)),
    )
    assert sizes[:5] == ["595.276 x 841.89"] * 5  # A4
    assert set(sizes[5:]) == {"283.465 x 419.528"}  # 100 × 148 mm
    labels = tmp_path / "postcard-labels.pdf"
    assert drawn("postcards", "--out", str(labels), "--layout", "a4-12").exit_code == 0
    assert "お礼・督促" in pdf_pages(labels)[0]


def test_labels_need_an_output(drawn) -> None:  # type: ignore[no-untyped-def]
    assert drawn("labels").exit_code == 2


def test_a_character_no_font_has_is_marked_and_reported(run, register_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # U+1F338 (a cherry blossom emoji) is in neither IPAex Gothic nor IPAmj明朝.
    path = register_file([Row("1", "H", "1980-01-01", name="桜\U0001f338　花子")])
    run("sample", "--register", str(path), "--as-of", "2026-04-01", "--allocation", "general=1")
    out = tmp_path / "labels.pdf"
    result = run("labels", "--out", str(out))
    assert result.exit_code == 0
    assert (
        "U+1F338" in result.stderr and "花子" not in result.stderr
    )  # the character, never the name
    assert "桜〓花子様" in squeeze(pdf_text(out))


def test_vendor_csv_keeps_formula_like_cells_as_text(run, register_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A leading "-" passes the register import (only = + @ tab CR are refused there): the
    # vendor CSV must still not hand it to Excel as a formula.
    path = register_file(
        [
            Row("1", "H", "1980-01-01", name="-2+3　太郎", building="-1+1号室"),
            Row("2", "H2", "1980-01-01", address="-埼玉県志木市本町1丁目"),
        ]
    )
    run("sample", "--register", str(path), "--as-of", "2026-04-01", "--allocation", "general=2")
    out = tmp_path / "vendor.csv"
    assert run("labels", "--csv", str(out)).exit_code == 0
    with out.open(encoding="cp932", newline="") as fh:
        rows = list(csv.DictReader(fh))
    cells = [v for r in rows for v in r.values()]
    assert "'-2+3　太郎 様" in cells and "'-1+1号室" in cells
    assert "'-埼玉県志木市本町1丁目" in cells
    assert not [v for v in cells if v.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_vendor_csv_writer_escapes_every_text_cell(tmp_path: Path) -> None:
    from mailing.batches import Batch
    from mailing.labels import write_vendor_csv
    from survey.roster import RosterRecord

    hostile = RosterRecord("general", "U", "R", '=HYPERLINK("x")', "", "3530004", "+1+1", "@SUM(1)")
    out = tmp_path / "vendor.csv"
    write_vendor_csv(out, [Batch("general", "post", (hostile,))], headers="en")
    with out.open(encoding="cp932", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == ["general", "353-0004", "'+1+1", "'@SUM(1)", '\'=HYPERLINK("x") 様']
    write_vendor_csv(out, [Batch("general", "post", (hostile,))])
    with out.open(encoding="cp932", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == ["一般", "一般 1", "353-0004", "'+1+1", "'@SUM(1)", '\'=HYPERLINK("x") 様']


def test_a_text_that_fits_wraps_as_the_token_loop_does() -> None:
    import random

    from mailing.fonts import FontSet

    fonts = FontSet.load()
    rng = random.Random(1)
    alphabet = "あいう漢字、。（）「」 　0123456789abcXYZ-ー\n"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        size, width = rng.choice([7.0, 9.0, 10.5]), rng.uniform(10, 300)
        if fonts.width(text, size) <= width:
            assert fonts.wrap(text, size, width) == fonts._wrap_tokens(text, size, width)
