"""Label sheet layouts: one table of dimensions, in millimetres, for A4 sheets.

The printer's template is the authority: margins can be overridden per run
(``--margin-top``, ``--margin-left``) when a stock's sheet differs from the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from survey.errors import UsageError

PAGE_W, PAGE_H = A4  # points


@dataclass(frozen=True, slots=True)
class LabelLayout:
    name: str
    cols: int
    rows: int
    width: float  # label size, mm
    height: float
    top: float  # page edge to the first label, mm
    left: float
    h_pitch: float  # left edge to left edge of neighbouring labels, mm
    v_pitch: float
    description: str

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows

    def with_margins(self, top: float | None, left: float | None) -> LabelLayout:
        return replace(
            self, top=self.top if top is None else top, left=self.left if left is None else left
        )

    def boxes(self) -> list[tuple[float, float, float, float]]:
        """Label rectangles (x, y, w, h) in points, reportlab origin bottom-left, row by row."""
        out = []
        for r in range(self.rows):
            for c in range(self.cols):
                x = (self.left + c * self.h_pitch) * mm
                y_top = PAGE_H - (self.top + r * self.v_pitch) * mm
                out.append((x, y_top - self.height * mm, self.width * mm, self.height * mm))
        return out

    def check(self) -> None:
        right = self.left + (self.cols - 1) * self.h_pitch + self.width
        bottom = self.top + (self.rows - 1) * self.v_pitch + self.height
        if self.left < 0 or self.top < 0 or right > 210.0 + 1e-6 or bottom > 297.0 + 1e-6:
            raise UsageError(
                f"ラベル {self.name} が A4 からはみ出します（余白を確認してください）。",
                f"Layout {self.name} does not fit on A4 with these margins.",
            )


LAYOUTS: dict[str, LabelLayout] = {
    layout.name: layout
    for layout in (
        LabelLayout("a4-12", 2, 6, 86.4, 42.3, 21.6, 18.6, 86.4, 42.3, "A4 12面 2×6 86.4×42.3mm"),
        LabelLayout("a4-24", 3, 8, 66.0, 33.9, 12.9, 6.0, 66.0, 33.9, "A4 24面 3×8 66.0×33.9mm"),
        LabelLayout("a4-21", 3, 7, 70.0, 42.3, 0.45, 0.0, 70.0, 42.3, "A4 21面 3×7 70.0×42.3mm"),
        LabelLayout("a4-10", 2, 5, 86.4, 50.8, 21.5, 18.6, 86.4, 50.8, "A4 10面 2×5 86.4×50.8mm"),
    )
}
DEFAULT_LAYOUT = "a4-12"


def get_layout(name: str, top: float | None = None, left: float | None = None) -> LabelLayout:
    if name not in LAYOUTS:
        raise UsageError(
            f"ラベルの種類は {', '.join(LAYOUTS)} のいずれかです: {name}",
            f"Layout must be one of {', '.join(LAYOUTS)}: {name!r}",
        )
    layout = LAYOUTS[name].with_margins(top, left)
    layout.check()
    return layout
