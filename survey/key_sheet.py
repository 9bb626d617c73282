"""The key sheet (鍵確認書): per person, name, roles and signing-key fingerprint, on paper.

One A4 page per staff member, signed and stamped by the holder, by whoever confirmed the key
(the first manager's witness at the key ceremony) and on receipt by the review board, which
keeps it. Software cannot stop one person who controls account creation from inventing
people; these sheets, held outside the system, can: an erasure certificate is verified
offline against the fingerprints on them. Staff names only: no personal data of residents.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlmodel import Session

from mailing.fonts import FontSet
from mailing.pdf import draw_lines, new_canvas
from survey.accounts import ROLES, list_users
from survey.staff_keys import active_key

TITLE = "鍵確認書"


@dataclass(frozen=True)
class SheetEntry:
    name: str
    roles: str
    fingerprint: str
    public_key: str
    created_on: date
    status: str


def entries(session: Session) -> list[SheetEntry]:
    """Every enabled account whose key is its own (provisional keys are about to change)."""
    users = {u.id: u.name for u in list_users(session)}
    out = []
    for user in list_users(session):
        if user.disabled or user.must_change:
            continue
        key = active_key(session, user)
        when = f"{key.confirmed_at:%Y-%m-%d %H:%M} UTC" if key.confirmed_at else ""
        if key.bootstrap:
            status = f"鍵の確認式で確認（{when}）"
        elif key.confirmed:
            status = f"責任者 {users.get(key.confirmed_by, '?')} が確認（{when}）"
        else:
            status = "未確認（責任者の確認待ち）"
        out.append(
            SheetEntry(
                name=user.name,
                roles="、".join(f"{ROLES[r]}（{r}）" for r in user.roles),
                fingerprint=key.fingerprint,
                public_key=base64.b64encode(key.public_key).decode(),
                created_on=key.created_on,
                status=status,
            )
        )
    return out


def write_key_sheet(path: Path, people: Sequence[SheetEntry], issued: date) -> None:
    fonts = FontSet.load()
    canvas = new_canvas(path, TITLE, fonts)
    for number, entry in enumerate(people, 1):
        _page(canvas, fonts, entry, issued, number, len(people))
        canvas.showPage()
    canvas.save()


MARGIN = 20 * mm
WIDTH = A4[0] - 2 * MARGIN


def _page(
    canvas: Canvas, fonts: FontSet, entry: SheetEntry, issued: date, number: int, total: int
) -> None:
    top = A4[1] - 22 * mm
    fonts.draw(canvas, MARGIN, top, TITLE, 24)
    fonts.draw(canvas, MARGIN, top - 8 * mm, "職員の署名鍵（データ消去の署名に使う鍵）", 11)
    corner = f"発行 {issued.isoformat()}　{number} / {total}"
    fonts.draw(canvas, A4[0] - MARGIN - fonts.width(corner, 9), top, corner, 9)
    y = _table(canvas, fonts, entry, top - 16 * mm)
    y = _signature(
        canvas,
        fonts,
        y - 8 * mm,
        "本人",
        "私は、自分でログインした画面（アカウントの画面）に表示された署名鍵の指紋が上記と"
        "一致することを確かめました。この鍵を開くパスワードは私だけが知っています。",
    )
    y = _signature(
        canvas,
        fonts,
        y - 5 * mm,
        "確認者（責任者。最初の責任者の鍵確認式では立会人）",
        "本人であることを身分証で確かめ、本人の画面に表示された指紋を上記と読み合わせました。",
        role_line=True,
    )
    y = _signature(canvas, fonts, y - 5 * mm, "審査会（受領）", "この確認書を受け取りました。")
    notes = [
        "この確認書は審査会が保管します（事務局とシステムの外）。データ消去の証明書の署名は、"
        "ここに記された指紋と照合して検証します。",
        "鍵が変わったとき（パスワードの再設定のあと）は、新しい確認書を作ります。"
        "古い確認書は廃棄せず、保管を続けてください（過去の証明書の検証に使います）。",
    ]
    draw_lines(canvas, fonts, MARGIN, y - 3 * mm, [(n, 8.5) for n in notes], WIDTH)


def _table(canvas: Canvas, fonts: FontSet, entry: SheetEntry, y_top: float) -> float:
    rows: list[tuple[str, str, float]] = [
        ("ユーザー名", entry.name, 14),
        ("役割", entry.roles, 12),
        ("署名鍵の指紋", entry.fingerprint, 15),
        ("公開鍵（Base64）", entry.public_key, 9),
        ("鍵の作成日", entry.created_on.isoformat(), 11),
        ("確認の状態（発行時）", entry.status, 10),
    ]
    label_width = 42 * mm
    height = 11 * mm
    canvas.setLineWidth(0.6)
    y = y_top
    for label, value, size in rows:
        canvas.rect(MARGIN, y - height, WIDTH, height)
        canvas.line(MARGIN + label_width, y, MARGIN + label_width, y - height)
        fonts.draw(canvas, MARGIN + 3 * mm, y - height / 2 - 3.5, label, 10)
        room = WIDTH - label_width - 6 * mm
        fitted = fonts.fit(value, size, room, 6)
        fonts.draw(
            canvas, MARGIN + label_width + 3 * mm, y - height / 2 - fitted / 3, value, fitted
        )
        y -= height
    return y


def _signature(
    canvas: Canvas, fonts: FontSet, y_top: float, who: str, statement: str, role_line: bool = False
) -> float:
    fonts.draw(canvas, MARGIN, y_top - 4 * mm, who, 11)
    y = draw_lines(canvas, fonts, MARGIN, y_top - 5 * mm, [(statement, 9.5)], WIDTH)
    box = 30 * mm if role_line else 24 * mm
    bottom = y - 3 * mm - box
    canvas.setLineWidth(0.6)
    canvas.rect(MARGIN, bottom, WIDTH, box)
    seal = 11 * mm  # a circle 22 mm across: room for a hanko (印, usually 10-15 mm)
    cx, cy = MARGIN + WIDTH - seal - 5 * mm, bottom + box / 2
    canvas.saveState()
    canvas.setDash(2, 2)
    canvas.circle(cx, cy, seal)
    canvas.restoreState()
    fonts.draw(canvas, cx - fonts.width("印", 10) / 2, cy - 3.5, "印", 10)
    fields = ["氏名（自署）", *(["役職"] if role_line else []), "日付"]
    step = box / (len(fields) + 0.2)
    line_end = cx - seal - 6 * mm
    for i, label in enumerate(fields):
        base = bottom + box - step * (i + 1) + 2 * mm
        fonts.draw(canvas, MARGIN + 3 * mm, base, label, 10)
        canvas.line(MARGIN + 30 * mm, base - 1.5 * mm, line_end, base - 1.5 * mm)
    return bottom
