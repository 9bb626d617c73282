"""The address block of a label or postcard: the one print helper that needs the roster."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.fonts import FontSet
from survey.postal import postal_display
from survey.roster import RosterRecord


def draw_address_block(
    canvas: Canvas,
    fonts: FontSet,
    record: RosterRecord,
    box: tuple[float, float, float, float],
    scale: float = 1.0,
    tag: str = "",
) -> None:
    """An envelope label: postcode, address, building on its own line, the addressee larger."""
    x, y, w, h = box
    pad = 4 * mm * scale
    inner = w - 2 * pad
    top = y + h - pad
    small = 9.0 * scale
    y_line = top - small
    lines = [(x + pad, y_line, f"〒{postal_display(record.postal_code)}", small)]
    for text in (record.address, record.building):
        if not text:
            continue
        size = fonts.fit(text, 10.0 * scale, inner, 7.0 * scale)
        for part in fonts.wrap(text, size, inner):
            y_line -= size * 1.3
            lines.append((x + pad, y_line, part, size))
    name = record.addressee
    size = fonts.fit(name, 14.0 * scale, inner - 4 * mm * scale, 8.0 * scale)
    name_y = max(y + pad + 2 * mm * scale, min(y_line - size * 1.8, y + h * 0.28))
    lines.append((x + pad + 4 * mm * scale, name_y, name, size))
    if tag:
        tag_size = 5.5 * scale
        lines.append((x + w - pad - fonts.width(tag, tag_size), y + 2 * mm, tag, tag_size))
    fonts.draw_all(canvas, lines)
