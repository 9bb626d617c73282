"""Benchmark the print files for one study (3,250 units) against plain reportlab.

Baseline: the same number of labels drawn with bare ``canvas.drawString`` calls in the same
embedded font (IPAex Gothic) on 12-up sheets, i.e. what reportlab costs before any of our
layout work (fitting, wrapping, font fallback, batch headers). Then our label sheets,
postcards and code slips (with a QR code per web slip) for the same roster. Each step runs in
this process, one after another; wall time is the median of ``--repeat`` runs.

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

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.batches import batches
from mailing.fonts import FontSet
from mailing.labels import write_label_sheets
from mailing.layouts import get_layout
from mailing.postcards import write_postcards
from mailing.slips import write_slips
from survey.access_codes import generate
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


def baseline(path: Path, records: list[RosterRecord], fonts: FontSet) -> None:
    layout = get_layout("a4-12")
    canvas = Canvas(str(path), invariant=1, initialFontName=fonts.main)  # type: ignore[arg-type]
    boxes = layout.boxes()
    for i, r in enumerate(records):
        if i and i % layout.per_sheet == 0:
            canvas.showPage()
        x, y, _w, h = boxes[i % layout.per_sheet]
        canvas.setFont(fonts.main, 9)
        canvas.drawString(x + 4 * mm, y + h - 8 * mm, f"〒{r.postal_code} {r.address}")
        canvas.setFont(fonts.main, 14)
        canvas.drawString(x + 8 * mm, y + 10 * mm, f"{r.name} 様")
    canvas.showPage()
    canvas.save()


def timed(step: Callable[[Path], object], repeat: int, folder: Path) -> tuple[float, int]:
    times, size = [], 0
    for i in range(repeat):
        path = folder / f"out-{time.perf_counter_ns()}-{i}.pdf"
        start = time.perf_counter()
        step(path)
        times.append(time.perf_counter() - start)
        size = path.stat().st_size
    return statistics.median(times), size


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
    steps: dict[str, Callable[[Path], object]] = {
        "reportlab drawString, 12-up (baseline)": lambda p: baseline(p, records, fonts),
        "label sheets a4-12 (batches, fitting, fallback)": lambda p: write_label_sheets(
            p, found, get_layout("a4-12"), fonts
        ),
        "postcards (hagaki, two sides each, QR on web cohorts' message side)": lambda p: (
            write_postcards(p, found, None, fonts, SETTINGS, web, "https://survey.city.example.jp")
        ),
        f"code slips ({len(codes):,}, QR on web slips)": lambda p: write_slips(
            p, codes, fonts, web, "https://survey.city.example.jp", "ABCD-" * 7 + "ABCD", SETTINGS
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        rows = [(name, *timed(step, args.repeat, Path(tmp))) for name, step in steps.items()]
    base = rows[0][1]
    print(f"{args.units:,} units, median of {args.repeat} runs\n")
    print("| step | median wall s | PDF MB | relative to baseline |")
    print("|---|---:|---:|---:|")
    for name, seconds, size in rows:
        print(f"| {name} | {seconds:.2f} | {size / 2**20:.1f} | {seconds / base:.1f}× |")


if __name__ == "__main__":
    main()
