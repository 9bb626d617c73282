"""Access-code slips: the only place plaintext codes ever exist.

A4 sheets of 2 × 4 slips (105 × 74.25 mm) with cut marks, one slip per envelope. Each carries
the code, the cohort, the study-key fingerprint and the crisis lines; slips of web-enabled
cohorts add the web address and a QR code whose URL holds the code in the fragment only
(``#code=``), which browsers never send to a server. Slips are grouped by cohort (a batch
per cohort, behind a header sheet) and shuffled within it, independently of the labels, so
slips and envelopes are paired at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import segno
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.fonts import FontSet
from mailing.layouts import PAGE_H, PAGE_W
from mailing.pdf import cut_marks, draw_lines, header_sheet, new_canvas
from survey.access_codes import IssuedCode
from survey.codes import display
from survey.cohorts import COHORT_LABELS
from survey.spreadsheet import writer as csv_writer

COLS, ROWS = 2, 4
SLIP_W, SLIP_H = PAGE_W / COLS, PAGE_H / ROWS
QR_SIZE = 24 * mm


def code_url(public_url: str, code: str) -> str:
    return f"{public_url.rstrip('/')}/#code={display(code)}"


def _qr(canvas: Canvas, url: str, x: float, y: float) -> float:
    """A QR code (error correction M) as one vector path, dark runs merged row by row.

    Returns the module size: the caller keeps a quiet zone of four modules clear around it.
    """
    matrix = segno.make_qr(url, error="m", boost_error=False).matrix
    module = QR_SIZE / len(matrix)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        top = y + QR_SIZE - (r + 1) * module
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + start * module, top, (c - start) * module, module)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
    return module


def _slip(
    canvas: Canvas,
    fonts: FontSet,
    code: IssuedCode,
    x: float,
    y: float,
    web: bool,
    public_url: str,
    fingerprint: str,
    crisis: str,
) -> None:
    pad = 6 * mm
    text_w = SLIP_W - 2 * pad - (QR_SIZE + 3 * mm if web else 0)
    top = y + SLIP_H - pad
    fonts.draw(
        canvas, x + pad, top - 9, f"アクセスコード（1回限り）　{COHORT_LABELS[code.cohort]}", 9
    )
    shown = display(code.code)
    fonts.draw(canvas, x + pad, top - 30, shown, fonts.fit(shown, 19, text_w, 12))
    if web:
        lines = [
            ("スマートフォンやパソコンから回答できます（QRコードからも）:", 7.5),
            (public_url, 8.5),
        ]
        qr_bottom = top - QR_SIZE - 2
        module = _qr(canvas, code_url(public_url, code.code), x + SLIP_W - pad - QR_SIZE, qr_bottom)
    else:
        lines = [
            ("この番号を紙の調査票の所定の欄に記入してください。", 7.5),
            ("集計の重複を防ぐためのもので、回答者を特定するものではありません。", 7.0),
        ]
    y_text = draw_lines(canvas, fonts, x + pad, top - 36, lines, text_w, 1.3)
    if web:
        # The full-width lines below start under the QR code's quiet zone (4 modules), which
        # scanners need; text running under the code makes it unreadable for some phones.
        y_text = min(y_text, qr_bottom - 4 * module)
    y_text = draw_lines(
        canvas,
        fonts,
        x + pad,
        y_text - 2,
        [(f"調査の鍵の指紋: {fingerprint}", 6.5)],
        SLIP_W - 2 * pad,
    )
    draw_lines(canvas, fonts, x + pad, y_text - 2, [(crisis, 6.5)], SLIP_W - 2 * pad, 1.25)


def write_slips(
    path: Path,
    codes: Sequence[IssuedCode],
    fonts: FontSet,
    web_cohorts: Sequence[str],
    public_url: str,
    fingerprint: str,
    study_settings: dict[str, Any],
) -> int:
    canvas = new_canvas(path, "アクセスコード票", fonts)
    crisis = "相談窓口: " + "／".join(
        f"{c['name']} {c['number']}" for c in study_settings.get("crisis_lines", [])
    )
    xs = [i * SLIP_W for i in range(1, COLS)]
    ys = [i * SLIP_H for i in range(1, ROWS)]
    per_page = COLS * ROWS
    for cohort in dict.fromkeys(c.cohort for c in codes):
        batch = [c for c in codes if c.cohort == cohort]
        web = cohort in web_cohorts
        header_sheet(
            canvas,
            fonts,
            "アクセスコード票",
            [
                f"対象: {COHORT_LABELS[cohort]}（{cohort}）",
                f"枚数: {len(batch):,} 枚（A4 1枚に{per_page}票、{-(-len(batch) // per_page)} 枚）",
                f"回答方法: {'Web または紙' if web else '紙のみ'}",
                "封入: 宛名ラベルとは無関係に、どの封筒に入れても構いません。",
                "この票のコードは平文ではここにしかありません。配布後、残部は消去手続で廃棄してください。",
            ],
            confidential=False,
        )
        for i, code in enumerate(batch):
            slot = i % per_page
            if i and slot == 0:
                canvas.showPage()
            if slot == 0:
                cut_marks(canvas, xs, ys)
            col, row = slot % COLS, slot // COLS
            x, y = col * SLIP_W, PAGE_H - (row + 1) * SLIP_H
            _slip(canvas, fonts, code, x, y, web, public_url, fingerprint, crisis)
        canvas.showPage()
    canvas.save()
    return len(codes)


def write_codes_csv(path: Path, codes: Sequence[IssuedCode]) -> int:
    """For a variable-data printer: cohort and code only, in the slips' order."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(["cohort", "code"])
        for code in codes:
            writer.writerow([code.cohort, display(code.code)])
    return len(codes)
