"""Benchmark the print files for one study (3,250 units) against plain reportlab.

Each print file has its own baseline: the same pages with the same variable texts drawn with
bare ``canvas.drawString`` in the same embedded font (IPAex Gothic), i.e. what reportlab costs
before any of our layout work (fitting, wrapping, font fallback, batch headers, QR encoding):

- labels: 12-up A4 sheets, per label the postcode line, the address, the addressee and the
  label tag (the four texts our labels print);
- postcards: two hagaki pages per card, the constant parts as one form per side and cohort
  (drawn once, as our writer does), per card the postcode, address and addressee;
- code slips: 2 × 2 A6 slips per A4 sheet with the cut marks, the constant parts as forms
  placed per slip, per slip the code box, the title and the code, and for web slips the QR
  code as one path whose modules were encoded by segno *before* the clock starts (so the
  baseline pays no QR encoding at all; our writer does).

The issue's first figures were all against one baseline, two texts per label on 12-up
sheets; it runs first, as the reference of the last column. A postcard run has 24 times its
pages, so that column says how much larger the file is as much as how much work we add.
Every step runs in this process, the steps taking turns (one run of each per round); wall
and CPU time are medians of ``--repeat`` runs.

Usage: ``.venv/bin/python bench/print_benchmark.py [--units 3250] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.batches import batches
from mailing.fonts import FontSet
from mailing.labels import SHORT_COHORT, write_label_sheets
from mailing.layouts import get_layout
from mailing.postcards import HAGAKI, message, write_postcards
from mailing.slips import (
    ANONYMOUS,
    FINGERPRINT_WEB,
    SLIP_H,
    SLIP_W,
    WEB_LINE,
    code_url,
    write_slips,
)
from survey.access_codes import IssuedCode, generate
from survey.codes import display
from survey.postal import postal_display
from survey.public import crisis_lines
from survey.register.names import DISTRICTS, FAMILY_NAMES, MALE_GIVEN
from survey.roster import RosterRecord
from survey.sampling.cohorts import DEFAULT_ALLOCATION
from survey.study import DEFAULT_CRISIS_LINES

SETTINGS = {
    "crisis_lines": DEFAULT_CRISIS_LINES,
    "school_cohorts": ["elementary_guardian"],
    "fieldwork_end": "2026-07-31",
}


def roster(units: int) -> list[RosterRecord]:
    rng = random.Random(1)
    cohorts = [c for c, n in DEFAULT_ALLOCATION.items() for _ in range(n)]
    out = []
    for i in range(units):
        district, postal, _, _ = rng.choice(DISTRICTS)
        name = f"{rng.choice(FAMILY_NAMES)[0]}　{rng.choice(MALE_GIVEN)[0]}"
        block = f"{rng.randint(1, 6)}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号"
        address = f"埼玉県志木市{district}{block}"
        out.append(
            RosterRecord(cohorts[i % len(cohorts)], str(i), str(i), name, "", postal, address, "")
        )
    return out


def _canvas(path: Path, fonts: FontSet, pagesize: tuple[float, float] = A4) -> Canvas:
    # The same PDF settings as mailing.pdf.new_canvas: invariant, compressed pages.
    return Canvas(
        str(path),
        pagesize=pagesize,
        invariant=1,
        pageCompression=1,
        initialFontName=fonts.main,  # type: ignore[arg-type]
    )


def _text(canvas: Canvas, font: str, x: float, y: float, text: str, size: float) -> None:
    canvas.setFont(font, size)
    canvas.drawString(x, y, text)


def baseline(path: Path, records: list[RosterRecord], fonts: FontSet) -> None:
    layout = get_layout("a4-12")
    canvas = _canvas(path, fonts)
    boxes = layout.boxes()
    for i, r in enumerate(records):
        if i and i % layout.per_sheet == 0:
            canvas.showPage()
        x, y, w, h = boxes[i % layout.per_sheet]
        _text(
            canvas, fonts.main, x + 4 * mm, y + h - 8 * mm, f"〒{postal_display(r.postal_code)}", 9
        )
        _text(canvas, fonts.main, x + 4 * mm, y + h - 13 * mm, r.address, 10)
        _text(canvas, fonts.main, x + 8 * mm, y + 10 * mm, r.addressee, 14)
        canvas.setFont(fonts.main, 5.5)
        canvas.drawRightString(x + w - 4 * mm, y + 2 * mm, f"{SHORT_COHORT[r.cohort]} {i + 1}")
    canvas.showPage()
    canvas.save()


def first_baseline(path: Path, records: list[RosterRecord], fonts: FontSet) -> None:
    """The issue's first baseline, kept as the reference of its figures: two texts per label
    (the address with its postcode, and the name), 12-up."""
    layout = get_layout("a4-12")
    canvas = _canvas(path, fonts)
    boxes = layout.boxes()
    for i, r in enumerate(records):
        if i and i % layout.per_sheet == 0:
            canvas.showPage()
        x, y, _w, h = boxes[i % layout.per_sheet]
        _text(canvas, fonts.main, x + 4 * mm, y + h - 8 * mm, f"〒{r.postal_code} {r.address}", 9)
        _text(canvas, fonts.main, x + 8 * mm, y + 10 * mm, f"{r.name} 様", 14)
    canvas.showPage()
    canvas.save()


def postcard_baseline(
    path: Path, records: list[RosterRecord], fonts: FontSet, web: list[str], url: str
) -> None:
    canvas = _canvas(path, fonts, HAGAKI)
    main = fonts.main
    canvas.beginForm("front")
    canvas.rect(8 * mm, HAGAKI[1] - 28 * mm, 20 * mm, 20 * mm)
    _text(canvas, main, 10 * mm, HAGAKI[1] - 16 * mm, "料金後納", 9)
    _text(canvas, main, 8 * mm, 14 * mm, "差出人　志木市役所", 8)
    canvas.endForm()
    for cohort in dict.fromkeys(r.cohort for r in records):
        canvas.beginForm(f"back-{cohort}")
        y = HAGAKI[1] - 12 * mm
        for text in message(SETTINGS):
            _text(canvas, main, 6 * mm, y, text, 9)
            y -= 12
        if cohort in web:
            _qr_path(canvas, _matrix(url), HAGAKI[0] - 26 * mm, y - 20 * mm, 20 * mm)
        for line in crisis_lines(SETTINGS["crisis_lines"]):
            _text(canvas, main, 6 * mm, y - 30 * mm, f"{line['name']}　{line['number']}", 9)
            y -= 12
        canvas.endForm()
    for r in records:
        canvas.doForm("front")
        _text(canvas, main, 13 * mm, HAGAKI[1] - 45 * mm, f"〒{postal_display(r.postal_code)}", 12)
        _text(canvas, main, 13 * mm, HAGAKI[1] - 52 * mm, r.address, 13)
        _text(canvas, main, 18 * mm, HAGAKI[1] - 80 * mm, r.addressee, 18)
        canvas.showPage()
        canvas.doForm(f"back-{r.cohort}")
        canvas.showPage()
    canvas.save()


def _matrix(url: str, mask: int | None = None) -> np.ndarray:
    return np.array(segno.make_qr(url, error="m", boost_error=False, mask=mask).matrix)


def _qr_path(canvas: Canvas, matrix: np.ndarray, x: float, y: float, size: float) -> None:
    """The dark modules as one path, one rectangle per dark run of a row."""
    module = size / len(matrix)
    path = canvas.beginPath()
    for r, row in enumerate(matrix.tolist()):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(
                    x + start * module, y + size - (r + 1) * module, (c - start) * module, module
                )
            c += 1
    canvas.drawPath(path, stroke=0, fill=1)


def slip_qr_paths(codes: list[IssuedCode], web: list[str], url: str) -> dict[str, str]:
    """Each web slip's QR code as PDF path operators in module units, one rectangle per dark
    run of a row, with one mask for all (segno's choice for the first): made before the
    clock starts, so the baseline pays for none of it."""
    urls = {c.code: code_url(url, c.code) for c in codes if c.cohort in web}
    mask = segno.make_qr(next(iter(urls.values())), error="m", boost_error=False).mask
    out = {}
    for code, address in urls.items():
        matrix = _matrix(address, mask).tolist()
        n = len(matrix)
        runs = []
        for r, row in enumerate(matrix):
            c = 0
            while c < n:
                if row[c]:
                    start = c
                    while c < n and row[c]:
                        c += 1
                    runs.append(f"{start} {n - 1 - r} {c - start} 1 re")
                c += 1
        out[code] = f"{26 * mm / n} {' '.join(runs)} f"
    return out


def slip_baseline(
    path: Path, codes: list[IssuedCode], fonts: FontSet, web: list[str], paths: dict[str, str]
) -> None:
    canvas = _canvas(path, fonts)
    main = fonts.main
    pad, qr = 6 * mm, 26 * mm
    forms = {
        "foot": [f"{x['name']}　{x['number']}" for x in crisis_lines(SETTINGS["crisis_lines"])],
        "hint": ["紙で回答する場合は、調査票の表紙にこのコードを書いてください。"],
        "web": [WEB_LINE, "https://survey.city.example.jp"],
        "key": ["鍵の指紋　" + "ABCD-" * 7 + "ABCD", FINGERPRINT_WEB],
        "anonymous": [ANONYMOUS],
    }
    for name, lines in forms.items():
        canvas.beginForm(name, -pad, -SLIP_H, SLIP_W, SLIP_H)
        for i, text in enumerate(lines):
            _text(canvas, main, 0, -12 * (i + 1), text, 9)
        canvas.endForm()
    for i, code in enumerate(codes):
        slot = i % 4
        if i and slot == 0:
            canvas.showPage()
        if slot == 0:
            canvas.setLineWidth(0.3)
            for x in (SLIP_W,):
                canvas.line(x, 0, x, 4 * mm)
                canvas.line(x, A4[1] - 4 * mm, x, A4[1])
            for y in (SLIP_H,):
                canvas.line(0, y, 4 * mm, y)
                canvas.line(A4[0] - 4 * mm, y, A4[0], y)
            canvas.line(SLIP_W - 1.5 * mm, SLIP_H, SLIP_W + 1.5 * mm, SLIP_H)
            canvas.line(SLIP_W, SLIP_H - 1.5 * mm, SLIP_W, SLIP_H + 1.5 * mm)
        x, y = (slot % 2) * SLIP_W, A4[1] - (slot // 2 + 1) * SLIP_H
        top = y + SLIP_H - pad
        is_web = code.cohort in web
        for name, dy in (
            ("foot", 60 * mm),
            ("hint", 30),
            ("web", 70),
            ("key", 110),
            ("anonymous", 150),
        )[: 5 if is_web else 4]:
            canvas.saveState()
            canvas.translate(x + pad, top - dy)
            canvas.doForm(name)
            canvas.restoreState()
        canvas.roundRect(x + pad, top - 60, SLIP_W - 2 * pad - qr, 45, 1.5 * mm)
        _text(canvas, main, x + pad, top - 10.5, f"アクセスコード（1回限り）　{code.cohort}", 10.5)
        _text(canvas, main, x + pad + 3 * mm, top - 35, display(code.code), 20)
        if is_web:
            module, ops = paths[code.code].split(" ", 1)
            canvas.addLiteral(
                f"q {module} 0 0 {module} {x + SLIP_W - pad - qr} {top - qr} cm {ops} Q"
            )
    canvas.showPage()
    canvas.save()


def timed(
    steps: dict[str, tuple[str, Callable[[Path], object]]], repeat: int, folder: Path
) -> dict[str, tuple[float, float, int]]:
    """(median wall s, median CPU s, PDF bytes) per step. The steps take turns, one run of
    each per round, so a load that another job puts on the shared machine for a while falls
    on a baseline and on the file measured against it alike; the process CPU time beside
    the wall time shows what the load did."""
    walls: dict[str, list[float]] = {name: [] for name in steps}
    cpus: dict[str, list[float]] = {name: [] for name in steps}
    sizes: dict[str, int] = {}
    for i in range(repeat):
        for name, (_, step) in steps.items():
            path = folder / f"out-{time.perf_counter_ns()}-{i}.pdf"
            wall, cpu = time.perf_counter(), time.process_time()
            step(path)
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
            sizes[name] = path.stat().st_size
            path.unlink()
    return {
        name: (statistics.median(walls[name]), statistics.median(cpus[name]), sizes[name])
        for name in steps
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3250)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    records = roster(args.units)
    fonts = FontSet.load()
    found = batches(records, SETTINGS)
    counts = {c: n + -(-n * 2 // 100) for c, n in DEFAULT_ALLOCATION.items()}
    codes = generate(counts)
    web = ["elementary_guardian", "high_school", "general"]
    url = "https://survey.city.example.jp"
    in_order = [r for batch in found for r in batch.records]  # what the postcards print
    paths = slip_qr_paths(codes, web, url)
    steps: dict[str, tuple[str, Callable[[Path], object]]] = {
        "the issue's first baseline: two texts per label, 12-up (reference)": (
            "reference",
            lambda p: first_baseline(p, records, fonts),
        ),
        "labels: bare reportlab, the same four texts per label, 12-up (baseline)": (
            "labels",
            lambda p: baseline(p, records, fonts),
        ),
        "label sheets a4-12 (batches, fitting, fallback)": (
            "labels",
            lambda p: write_label_sheets(p, found, get_layout("a4-12"), fonts),
        ),
        "postcards: bare reportlab, the same pages, constant sides as forms (baseline)": (
            "postcards",
            lambda p: postcard_baseline(p, in_order, fonts, web, url),
        ),
        "postcards (hagaki, two sides each, QR on web cohorts' message side)": (
            "postcards",
            lambda p: write_postcards(p, found, None, fonts, SETTINGS, web, url),
        ),
        "slips: bare reportlab, the same slips, constant parts as forms, QR encoded beforehand"
        " (baseline)": (
            "slips",
            lambda p: slip_baseline(p, codes, fonts, web, paths),
        ),
        f"code slips ({len(codes):,}, QR on web slips)": (
            "slips",
            lambda p: write_slips(p, codes, fonts, web, url, "ABCD-" * 7 + "ABCD", SETTINGS),
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        measured = timed(steps, args.repeat, Path(tmp))
    bases: dict[str, tuple[float, float]] = {}
    first = next(iter(measured.values()))
    print(f"{args.units:,} units, median of {args.repeat} runs (the steps taking turns)\n")
    print(
        "| step | median wall s (CPU s) | PDF MB | relative to its baseline, wall (CPU)"
        " | relative to the issue's first baseline, wall |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, (group, _) in steps.items():
        wall, cpu, size = measured[name]
        base = bases.setdefault(group, (wall, cpu))  # each group's first step: its baseline
        print(
            f"| {name} | {wall:.2f} ({cpu:.2f}) | {size / 2**20:.1f} "
            f"| {wall / base[0]:.1f}× ({cpu / base[1]:.1f}×) | {wall / first[0]:.1f}× |"
        )


if __name__ == "__main__":
    main()
