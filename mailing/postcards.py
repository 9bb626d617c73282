"""Thank-you/reminder postcards for every sampled unit.

The survey is anonymous, so nobody knows who has answered: the postcard thanks those who
did and reminds the others, and goes to everyone. Layout ``hagaki`` prints on official
postcards (100 × 148 mm): the address on the upper half, the message and crisis lines on the
lower half (the part of the address side the postal rules leave for a message). Any label
layout prints address labels to stick on pre-printed postcards instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm

from mailing.address import draw_address_block
from mailing.batches import Batch
from mailing.fonts import FontSet
from mailing.labels import batch_lines, write_label_sheets
from mailing.layouts import LabelLayout
from mailing.pdf import draw_lines, header_sheet, new_canvas

HAGAKI = (100 * mm, 148 * mm)
HAGAKI_LAYOUT = LabelLayout("hagaki", 1, 1, 100.0, 74.0, 0.0, 0.0, 100.0, 74.0, "はがき 100×148mm")


def message(study_settings: dict[str, Any]) -> list[str]:
    end = study_settings.get("fieldwork_end")
    # Without a fieldwork end there is no date to print (the service warns about it).
    when = (
        f"{date.fromisoformat(end).month}月{date.fromisoformat(end).day}日までに"
        if end
        else "お早めに"
    )
    title = study_settings.get("title") or "こころの健康に関する市民意識調査"
    return [
        f"先日「{title}」の調査票をお送りしました。",
        "すでにご回答くださった方には、心よりお礼申し上げます。"
        f"まだの方は、{when}ご回答くださいますようお願いいたします。",
        "この調査は無記名で、どなたが回答したかは市にも分かりません。"
        "そのため、対象のすべての方にこのはがきをお送りしています。",
    ]


def crisis_text(study_settings: dict[str, Any]) -> list[str]:
    lines = [f"{c['name']} {c['number']}" for c in study_settings.get("crisis_lines", [])]
    return ["つらい気持ちを抱えているときは、ひとりで悩まずご相談ください:", "／".join(lines)]


def write_hagaki(
    path: Path, batches: Sequence[Batch], fonts: FontSet, study_settings: dict[str, Any]
) -> int:
    canvas = new_canvas(path, "お礼・督促はがき", fonts, pagesize=HAGAKI)
    width, height = HAGAKI
    text = [(line, 7.5) for line in message(study_settings)]
    text += [("", 4.0)] + [(line, 6.5) for line in crisis_text(study_settings)]
    count = 0
    for batch in batches:
        header_sheet(canvas, fonts, "お礼・督促はがき", batch_lines(batch, HAGAKI_LAYOUT, "はがき"))
        for record in batch.records:
            draw_address_block(
                canvas,
                fonts,
                record,
                (6 * mm, height / 2, width - 12 * mm, height / 2 - 12 * mm),
                1.15,
            )
            canvas.setLineWidth(0.4)
            canvas.line(6 * mm, height / 2, width - 6 * mm, height / 2)
            draw_lines(canvas, fonts, 8 * mm, height / 2 - 2 * mm, text, width - 16 * mm, 1.4)
            canvas.showPage()
            count += 1
    canvas.save()
    return count


def write_postcards(
    path: Path,
    batches: Sequence[Batch],
    layout: LabelLayout | None,
    fonts: FontSet,
    study_settings: dict[str, Any],
) -> int:
    if layout is None:
        return write_hagaki(path, batches, fonts, study_settings)
    return write_label_sheets(
        path,
        batches,
        layout,
        fonts,
        title="お礼・督促はがき宛名ラベル",
        what="お礼・督促はがき用の宛名ラベル",
    )
