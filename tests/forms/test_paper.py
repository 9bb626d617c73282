"""The printed questionnaire from the definitions: every text, the skip logic as printed, the
crisis lines after the ideation section, the booklet's pages, fonts and type size, the box
map against the PDF; a golden extracted text of one cohort, PNGs of every cohort's pages.

Regenerate the golden file after an intended change with
``SURVEY_UPDATE_GOLDEN=1 pytest tests/forms/test_paper.py`` and review the diff like code.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import pytest

from mailing.fonts import FontSet
from survey.cohorts import COHORTS
from survey.forms.items import kind
from survey.forms.loader import Form, current_forms, load_forms
from survey.forms.logic import visible
from survey.forms.paper.render import map_path, write_booklets
from survey.forms.schema import Item
from survey.study import DEFAULT_CRISIS_LINES
from tests.mailing.conftest import PUBLIC_URL, pdf_pages, pdf_text, poppler
from tests.mailing.test_golden import ARTIFACTS, FINGERPRINT, compare

SETTINGS = {
    "web_cohorts": ["elementary_guardian", "high_school", "general"],
    "fieldwork_end": "2026-07-31",
    "crisis_lines": DEFAULT_CRISIS_LINES,
    "organisation": "志木市",
    "section": "健康政策課",
    "office_phone": "048-473-1111",
    "office_hours": "平日 8時30分〜17時15分",
}
ALL = load_forms()
FORMS = current_forms(ALL)
VERSIONS = sorted(ALL)  # every version: a study may have frozen an older one
STANDARD_14 = ("Helvetica", "Times", "Courier", "Symbol", "ZapfDingbats")


def render(path: Path, form: Form, codes: list[str] | None = None) -> dict[str, object]:
    web = form.cohort in SETTINGS["web_cohorts"]
    return write_booklets(
        path, form, FontSet.load(), SETTINGS, web, PUBLIC_URL, FINGERPRINT if web else None, codes
    )


@pytest.fixture(scope="module")
def booklets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("paper")
    out = {}
    for cohort in COHORTS:
        out[cohort] = folder / f"{cohort}.pdf"
        render(out[cohort], FORMS[cohort])
    return out


@pytest.fixture(scope="module")
def every_version(
    booklets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, int], Path]:
    folder = tmp_path_factory.mktemp("versions")
    out = {}
    for key, form in ALL.items():
        if FORMS[form.cohort] is form:
            out[key] = booklets[form.cohort]
        else:
            out[key] = folder / f"{form.id}.v{form.version}.pdf"
            render(out[key], form)
    return out


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def texts(item: Item) -> list[str]:
    out = [item.text.ja, *(o.label.ja for o in item.options or ())]
    out += [r.text.ja for r in item.rows or ()]
    return out + ([item.note.ja] if item.note else [])


@pytest.mark.parametrize("key", VERSIONS, ids=lambda k: f"{k[0]}.v{k[1]}")
def test_every_question_and_option_text_is_printed(
    every_version: dict[tuple[str, int], Path], key: tuple[str, int]
) -> None:
    """Through pdftotext -layout. A grid's rows and scale labels share lines with the boxes
    and the neighbouring columns there, so those are also looked for in content order
    (-raw), where each is one run; everything else must read whole in the layout text."""
    pdf, form, cohort = every_version[key], ALL[key], key
    layout = flat(pdf_text(pdf))
    raw = flat(poppler("pdftotext", "-raw", str(pdf), "-"))
    for item in form.items():
        for text in texts(item):
            target = raw if item.type == "grid" and text != item.text.ja else layout
            assert flat(text) in target, (cohort, item.id, text)
    assert flat(form.source.title.ja) in layout
    for section in form.sections:
        assert flat(section.title.ja) in layout
    # Analysis labels of derived variables are never on the paper.
    labels = [d.label.ja for d in form.derived] + [
        b.label.ja for d in form.derived for b in d.bands or ()
    ]
    printed = {flat(t) for item in form.items() for t in texts(item)}
    for label in labels:
        if flat(label) not in printed:
            assert flat(label) not in layout, (cohort, label)


def numbered(pages: list[str]) -> list[tuple[str, str]]:
    """The printed question numbers with the first line of their question: [(問N, text)]."""
    out = []
    for page in pages:
        for line in page.splitlines():
            m = re.match(r"\s*(問\d+(?:-\d+)?)\s+(.+)", line)
            if m:
                out.append((m.group(1), flat(m.group(2))))
    return out


def at_question(lines: list[str], item: Item) -> int:
    """The line where the question's text starts."""
    return next(i for i, ln in enumerate(lines) if flat(item.text.ja)[:12] in flat(ln))


def number_of(item: Item, numbers: list[tuple[str, str]]) -> str:
    text = flat(item.text.ja)
    found = [n for n, line in numbers if text.startswith(line) or line.startswith(text)]
    assert len(found) == 1, (item.id, found)
    return found[0]


@pytest.mark.parametrize("key", VERSIONS, ids=lambda k: f"{k[0]}.v{k[1]}")
def test_skip_instructions_follow_the_skip_logic(
    every_version: dict[tuple[str, int], Path], key: tuple[str, int]
) -> None:
    """For each option of a one-answer question that others depend on, the printed 「→ 問N
    へ」 names the first later question the web form would show after that answer (none
    where it is the very next one), and every dependent question has its banner."""
    form = ALL[key]
    pages = pdf_pages(every_version[key])
    numbers = numbered(pages)
    lines = [line for page in pages for line in page.splitlines()]
    items = form.items()
    checked = 0
    for pos, item in enumerate(items):
        later = items[pos + 1 :]
        dependants = [i for i in later if i.show_if and item.id in i.show_if.items()]
        if not dependants:
            continue
        if item.type in ("single", "select"):
            start = at_question(lines, item)
            for option in item.options or ():
                answers = {item.id: option.code}
                shown = [i for i in later if visible(i, answers)]
                line = next(
                    ln
                    for ln in lines[start:]
                    if re.search(rf"(?<!\d){option.code}\s+{re.escape(option.label.ja)}", ln)
                )
                arrow = re.search(
                    rf"{re.escape(option.label.ja)}\s*→\s*(問[\d-]+へ|質問はここまでです)", line
                )
                if shown and shown[0] is later[0]:
                    assert arrow is None, (item.id, option.code, line)
                else:
                    assert arrow is not None, (item.id, option.code, line)
                    end = "質問はここまでです"
                    expected = f"{number_of(shown[0], numbers)}へ" if shown else end
                    assert arrow.group(1) == expected, (item.id, option.code, line)
                    checked += 1
        for dep in dependants:
            assert dep.show_if is not None and dep.show_if.item == item.id
            codes = "".join(f"「{c}」" for c in dep.show_if.in_ or ())
            banner = f"【{number_of(item, numbers)}で{codes}"
            at = at_question(lines, dep)
            assert banner in lines[at - 1].replace(" ", ""), (dep.id, lines[at - 1])
            # A question depending on the one just before is its sub-question: 問7-1.
            assert number_of(dep, numbers).startswith(number_of(item, numbers) + "-")
    assert checked >= 1


@pytest.mark.parametrize("cohort", COHORTS)
def test_crisis_lines_follow_the_ideation_section(booklets: dict[str, Path], cohort: str) -> None:
    form = FORMS[cohort]
    text = flat(pdf_text(booklets[cohort]))
    heading = "つらい気持ちのときは、ひとりで抱えずに相談してください"
    for n, section in enumerate(form.sections):
        if not section.crisis_after:
            continue
        last = [i for i in section.items if isinstance(i, Item)][-1]
        end = text.index(flat(last.options[-1].label.ja if last.options else last.text.ja))
        after = text.index(heading, end)
        following = form.sections[n + 1].title.ja if n + 1 < len(form.sections) else None
        if following:
            assert after < text.index(flat(following), end)
        for line in DEFAULT_CRISIS_LINES:
            assert flat(line["number"]) in text[after : after + 600]
    # And on the cover (page 1 or its inside, page 2) and the back page.
    pages = [flat(p) for p in pdf_pages(booklets[cohort])]
    assert heading in pages[0] + pages[1] and heading in pages[-1]


@pytest.mark.parametrize("cohort", COHORTS)
def test_booklet_pages_fonts_and_type(booklets: dict[str, Path], cohort: str) -> None:
    pdf = booklets[cohort]
    pages = pdf_pages(pdf)
    assert len(pages) % 4 == 0 and len(pages) >= 4
    fonts = poppler("pdffonts", str(pdf)).splitlines()[2:]
    assert fonts
    for line in fonts:
        assert line.split()[-5] == "yes", line  # embedded
        assert not any(name in line.split()[0] for name in STANDARD_14), line
    sizes = [float(s) for s in re.findall(rb"/F[0-9+]+ ([0-9.]+) Tf", streams(pdf))]
    assert sizes and min(sizes) >= 11.0
    form = FORMS[cohort]
    for n, page in enumerate(pages, 1):
        foot = [ln for ln in page.splitlines() if ln.strip()][-1]
        assert flat(foot) == f"{form.id}第{form.version}版{n}/{len(pages)}", foot


def streams(pdf: Path) -> bytes:
    return b"\n".join(stream_list(pdf))


def stream_list(pdf: Path) -> list[bytes]:
    """Every content stream of the PDF, decoded (reportlab writes them ASCII85 and Flate)."""
    data = pdf.read_bytes()
    out = []
    for m in re.finditer(rb"stream\r?\n", data):
        chunk = data[m.end() : data.find(b"endstream", m.end())].strip()
        try:
            out.append(zlib.decompress(base64.a85decode(chunk.removesuffix(b"~>"))))
        except (ValueError, zlib.error):
            continue  # a font or another binary stream
    return out


def test_with_codes_each_booklet_has_its_code_only_in_the_box(tmp_path: Path) -> None:
    codes = ["7K3MQ9TX2B4RH", "ABCDEFGHJKMNP", "0123456789ABC"]
    pdf = tmp_path / "general.pdf"
    doc = render(pdf, FORMS["general"], codes)
    per = int(doc["pages_per_booklet"])  # type: ignore[call-overload]
    pages = pdf_pages(pdf)
    assert len(pages) == per * len(codes) and doc["booklets"] == len(codes)
    for b, code in enumerate(codes):
        booklet = pages[b * per : (b + 1) * per]
        assert code in flat(booklet[0])
        for page in booklet:
            foot = [ln for ln in page.splitlines() if ln.strip()][-1]
            assert code not in flat(foot) and not re.search(r"[A-Z0-9]{4}-", foot)
            for other in codes:
                if other != code:
                    assert other not in flat(page)
        assert all(code not in flat(p) for p in booklet[1:])


@pytest.mark.parametrize("cohort", ["general", "junior_high"])
def test_box_map_matches_the_pdf(booklets: dict[str, Path], cohort: str) -> None:
    """Every box of the map is on a page of the booklet, and each option box holds its code
    as printed (word positions from pdftotext -bbox)."""
    pdf = booklets[cohort]
    doc = json.loads(map_path(pdf).read_text(encoding="utf-8"))
    assert doc["pages_per_booklet"] == len(pdf_pages(pdf)) and doc["booklets"] == 1
    width, height = doc["page_size"]
    html = poppler("pdftotext", "-bbox", str(pdf), "-")
    words: dict[int, list[tuple[float, float, str]]] = {}
    for n, page in enumerate(html.split("<page ")[1:], 1):
        for m in re.finditer(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page
        ):
            x0, y0, x1, y1 = (float(v) * 25.4 / 72 for v in m.groups()[:4])
            words.setdefault(n, []).append(((x0 + x1) / 2, (y0 + y1) / 2, m.group(5)))
    form = FORMS[cohort]
    variables = {v.id for item in form.items() for v in kind(item).variables(item)}
    options = 0
    for box in doc["boxes"]:
        assert 1 <= box["page"] <= doc["pages_per_booklet"]
        assert box["x"] > 0 and box["x"] + box["w"] < width
        assert box["y"] > 0 and box["y"] + box["h"] < height
        if box["kind"] in ("option", "refusal", "digit", "text"):
            assert box["var"] in variables
        if box["kind"] == "option":
            inside = [
                w
                for x, y, w in words[box["page"]]
                if box["x"] < x < box["x"] + box["w"] and box["y"] < y < box["y"] + box["h"]
            ]
            assert inside == [str(box["code"])], box
            options += 1
    expected = sum(len(v.options) for item in form.items() for v in kind(item).variables(item))
    assert options == expected
    assert [b["code"] for b in doc["boxes"] if b["kind"] == "code"] == list(range(13))


def test_golden_junior_high(booklets: dict[str, Path]) -> None:
    compare("paper-junior_high.txt", pdf_text(booklets["junior_high"]))


def test_pages_as_png(booklets: dict[str, Path]) -> None:
    """Every page of every cohort's booklet, for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for cohort, pdf in booklets.items():
        prefix = ARTIFACTS / f"paper-{cohort}"
        poppler("pdftoppm", "-r", "70", "-png", str(pdf), str(prefix))
        pngs = sorted(ARTIFACTS.glob(f"paper-{cohort}-*.png"))
        assert len(pngs) == len(pdf_pages(pdf))
        assert all(p.stat().st_size > 5000 for p in pngs)


@pytest.mark.parametrize("cohort", COHORTS)
def test_cover_says_what_the_cohort_needs(booklets: dict[str, Path], cohort: str) -> None:
    pages = pdf_pages(booklets[cohort])
    cover = flat(pages[0] + pages[1])  # a long cover continues on its inside page
    assert "アクセスコード" in cover and "確認用" in cover
    assert "志木市健康政策課" in cover and "2026年7月31日（金）までに" in cover
    assert "無作為" in cover or "名前を結びつける記録はどこにもない" in cover
    web = cohort in SETTINGS["web_cohorts"]
    assert (PUBLIC_URL in cover) is web and (FINGERPRINT in cover) is web
    student = cohort in ("junior_high", "high_school")
    assert ("保護者の方へ" in cover) is student and ("記入後は封をして" in cover) is student
    boxes = json.loads(map_path(booklets[cohort]).read_text(encoding="utf-8"))["boxes"]
    assert any(b["kind"] == "qr" for b in boxes) is web
