"""Japanese fonts for print, always embedded.

IPAex Gothic (from the ``matplotlib-fontja`` package, so no system font is needed) draws the
text. Register names may hold characters outside JIS (e.g. 𠮷): IPAmj明朝 (Debian
``fonts-ipamj-mincho``), made for the characters of resident registers, draws them when it is
installed. A character no available font has is printed as 〓 (geta, the Japanese printer's
mark for a missing glyph) and reported, so the label is still produced and corrected by hand.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

# Line breaking: a run of these stays on one line (numbers with their unit, Latin words,
# addresses of web pages); a space between is a place to break.
_TOKENS = re.compile(r"[!-~０-９Ａ-Ｚａ-ｚ]+[時分秒日月年円人件枚歳]?|\s+|.", re.DOTALL)
NO_LINE_START = frozenset(
    "、。，．）」』】〕〉》’”！？!?：；ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ・…"
)
NO_LINE_END = frozenset("（「『【〔〈《‘“")

GOTHIC = "IPAexGothic"
MJ = "IPAmjMincho"
MISSING_MARK = "〓"
IPAMJ_PATHS = (
    "/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
    "/usr/share/fonts/opentype/ipamj/ipamjm.ttf",
)


def gothic_path() -> Path:
    return Path(str(resources.files("matplotlib_fontja") / "fonts" / "ipaexg.ttf"))


def mj_path() -> Path | None:
    from survey.settings import load_settings

    candidates = [load_settings().ipamj_font or "", *IPAMJ_PATHS]
    return next((Path(p) for p in candidates if p and Path(p).is_file()), None)


def _register(name: str, path: Path) -> TTFont:
    try:
        registered = pdfmetrics.getFont(name)
        assert isinstance(registered, TTFont)
        return registered
    except KeyError:
        font = TTFont(name, str(path))  # TTFont embeds a subset of the glyphs used
        pdfmetrics.registerFont(font)
        return font


@dataclass
class FontSet:
    """Draws text with per-character fallback and remembers characters it could not draw."""

    fonts: list[tuple[str, frozenset[int]]]
    missing: Counter[str] = field(default_factory=Counter)
    _cache: dict[str, tuple[str, str, float]] = field(default_factory=dict, repr=False)
    # Per character already looked up: its width at size 1, and whether the main font draws
    # it as itself (then a text of such characters is one run, with no per-character work).
    _widths: dict[str, float] = field(default_factory=dict, repr=False)
    _plain: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def load(cls) -> FontSet:
        fonts = [(GOTHIC, frozenset(_register(GOTHIC, gothic_path()).face.charToGlyph))]
        mj = mj_path()
        if mj is not None:
            fonts.append((MJ, frozenset(_register(MJ, mj).face.charToGlyph)))
        return cls(fonts)

    @property
    def main(self) -> str:
        return self.fonts[0][0]

    @property
    def has_mj(self) -> bool:
        return any(name == MJ for name, _ in self.fonts)

    def _glyph(self, ch: str) -> tuple[str, str, float]:
        """(font, character to draw, width at size 1) for one character, cached."""
        cached = self._cache.get(ch)
        if cached is None:
            font = next((name for name, cmap in self.fonts if ord(ch) in cmap), None)
            drawn = ch
            if font is None:
                font, drawn = self.fonts[0][0], MISSING_MARK
            cached = (font, drawn, pdfmetrics.stringWidth(drawn, font, 1.0))
            self._cache[ch] = cached
            self._widths[ch] = cached[2]
            if font == self.fonts[0][0] and drawn == ch:
                self._plain.add(ch)
        return cached

    def runs(self, text: str) -> list[tuple[str, str]]:
        """Split ``text`` into (font, text) runs; unknown characters become 〓 in the main font."""
        if self._plain.issuperset(text):
            return [(self.fonts[0][0], text)] if text else []
        out: list[tuple[str, str]] = []
        for ch in text:
            font, drawn, _ = self._glyph(ch)
            if drawn != ch:
                self.missing[ch] += 1
            if out and out[-1][0] == font:
                out[-1] = (font, out[-1][1] + drawn)
            else:
                out.append((font, drawn))
        return out

    def width(self, text: str, size: float) -> float:
        try:
            return size * sum(map(self._widths.__getitem__, text))
        except KeyError:  # a character seen for the first time
            return size * sum(self._glyph(ch)[2] for ch in text)

    def draw(self, canvas: Canvas, x: float, y: float, text: str, size: float) -> float:
        """Draw at baseline (x, y); return the width drawn."""
        start = x
        for font, chunk in self.runs(text):
            canvas.setFont(font, size)
            canvas.drawString(x, y, chunk)
            x += pdfmetrics.stringWidth(chunk, font, size)
        return x - start

    def draw_all(self, canvas: Canvas, items: list[tuple[float, float, str, float]]) -> None:
        """Draw (x, y, text, size) items, each as :meth:`draw` would, in one text object: a
        label's few lines cost one PDF text object instead of one each."""
        text_object = canvas.beginText()
        current: tuple[str, float] | None = None
        for x, y, text, size in items:
            runs = self.runs(text)
            for i, (font, chunk) in enumerate(runs):
                if current != (font, size):
                    text_object.setFont(font, size)
                    current = (font, size)
                text_object.setTextOrigin(x, y)
                text_object.textOut(chunk)
                if i + 1 < len(runs):  # only a following run needs to know where this ends
                    x += pdfmetrics.stringWidth(chunk, font, size)
        canvas.drawText(text_object)

    def fit(self, text: str, size: float, max_width: float, min_size: float) -> float:
        """The largest size not above ``size`` at which ``text`` fits ``max_width``."""
        width = self.width(text, size)
        if width <= max_width:
            return size
        return max(min_size, size * max_width / width)

    def wrap(self, text: str, size: float, max_width: float) -> list[str]:
        """Break ``text`` into lines that fit, as Japanese typesetting does.

        Japanese text breaks between characters, but never inside a run of digits or Latin
        letters (a phone number, a date's 31, a web address), at spaces there; a closing mark
        (、。）」 and small kana) never starts a line and an opening one (（「) never ends one
        (禁則). Only a run wider than the whole line is split, as a last resort.
        """
        if self.width(text, size) <= max_width:
            # What the token loop gives for a text that fits (every prefix fits too: the
            # widths are non-negative and summed in the same order), without its n² widths.
            return [text.rstrip()] if text.strip() else []
        return self._wrap_tokens(text, size, max_width)

    def _wrap_tokens(self, text: str, size: float, max_width: float) -> list[str]:
        lines: list[str] = []
        current = ""
        for token in _TOKENS.findall(text):
            if not current or self.width(current + token, size) <= max_width:
                # A space that starts a wrapped line goes; one that starts the text (an
                # indent) stays.
                current = current + token if current or not (lines and token.isspace()) else ""
            elif token.isspace():  # a break at a space: the space goes
                lines.append(current.rstrip())
                current = ""
            else:
                carry = ""
                # A closing mark may not start the line: characters before it come along.
                while (carry or token)[0] in NO_LINE_START and len(current) > 1:
                    carry, current = current[-1] + carry, current[:-1]
                while len(current) > 1 and current[-1] in NO_LINE_END:
                    carry, current = current[-1] + carry, current[:-1]
                lines.append(current.rstrip())
                current = carry + token
            while len(current) > 1 and self.width(current, size) > max_width:
                cut = len(current) - 1  # a run longer than the line: split where it must
                while cut > 1 and self.width(current[:cut], size) > max_width:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        if current.strip():
            lines.append(current.rstrip())
        return lines

    def missing_report(self) -> list[str]:
        return [f"U+{ord(ch):04X} {ch} ×{n}" for ch, n in sorted(self.missing.items())]


def warn_missing(fonts: FontSet) -> list[str]:
    """Bilingual warning lines for characters printed as 〓 (the characters, never the names)."""
    report = fonts.missing_report()
    if not report:
        return []
    hint = "" if fonts.has_mj else "（IPAmj明朝 fonts-ipamj-mincho を入れると描ける場合があります）"
    return [
        "警告: 次の文字を描けるフォントがないため〓で印字しました。"
        f"手書きで修正してください{hint}:",
        "Warning: no available font has these characters; printed as 〓 for hand correction:",
        *report,
    ]
