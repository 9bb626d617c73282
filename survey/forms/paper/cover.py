"""The cover, the crisis box and the back page of the printed questionnaire.

The cover says who asks and why, how anonymity is protected (in plain words), how to fill the
form in and return it by the deadline (``fieldwork_end``), where to answer on the web (for
web-enabled cohorts: the address, a QR code, the study key's fingerprint), the crisis lines,
and holds the access code's boxes (13 symbols, the last one the check symbol). Students'
forms speak to them plainly and add a note for their guardians.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib.units import mm

from mailing.blocks import Block as RunBlock
from mailing.blocks import crisis_table, enquiry
from mailing.postcards import WEEKDAYS
from mailing.slips import FINGERPRINT_WEB
from survey.cohorts import STUDENT_COHORTS
from survey.forms.loader import Form
from survey.forms.paper.layout import MIN_SIZE, WIDTH, Block, Box
from survey.public import Contact, crisis_lines

SIZE = MIN_SIZE
HEAD = 12.5
CODE_W, CODE_H, CODE_GROUP_GAP = 8 * mm, 10 * mm, 4 * mm
CODE_GROUPS = (4, 4, 4, 1)  # XXXX-XXXX-XXXX-C, as the slips print it
QR_SIZE = 28 * mm
CRISIS_HEADING = "つらい気持ちのときは、ひとりで抱えずに相談してください"
CRISIS_NOTE = "相談は無料で、名前を言わずにできます。"
LEADING = 1.35


@dataclass(frozen=True, slots=True)
class Cover:
    """What the cover says, from the form and the study settings."""

    form: Form
    values: dict[str, Any]
    web: bool
    public_url: str
    fingerprint: str | None
    with_codes: bool

    @property
    def plain(self) -> bool:
        return self.form.cohort in STUDENT_COHORTS

    @property
    def who(self) -> str:
        return str(self.values.get("organisation") or "市")

    def deadline(self) -> str | None:
        """「2026年7月31日（金）」, or None when ``fieldwork_end`` is not set."""
        end = self.values.get("fieldwork_end")
        if not end:
            return None
        day = date.fromisoformat(str(end))
        return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def heading(block: Block, text: str, size: float = HEAD) -> None:
    block.gap(1.5 * mm)
    block.rect(0, block.height + 0.5 * mm, 1.6 * mm, size * 1.2, 0, fill=0)
    block.text(3.5 * mm, block.height + size * 1.05, text, size)
    block.height += size * 1.5


def from_runs(runs: RunBlock) -> Block:
    block = Block()
    for r in runs.runs:
        block.text(r.dx, r.dy, r.text, r.size)
    block.height = runs.height
    return block


def crisis_box(c: Cover, fonts: Any, prominent: bool) -> Block:
    """The crisis lines in a frame (bold-framed after the ideation questions, as on the web)."""
    pad = 3 * mm
    table = crisis_table(
        fonts, crisis_lines(c.values.get("crisis_lines")), WIDTH - 2 * pad, SIZE, CRISIS_HEADING
    )
    inner = from_runs(table)
    inner.para(fonts, 0, CRISIS_NOTE, SIZE, WIDTH - 2 * pad, LEADING)
    block = Block()
    block.gap(1 * mm)
    top = block.height
    block.rect(
        0,
        top,
        WIDTH,
        inner.height + 2 * pad,
        2.0 if prominent else 0.8,
        fill=0.95 if prominent else None,
    )
    block.place(inner, pad, top + pad)
    block.height = top + inner.height + 2 * pad + 2 * mm
    return block


def ask(c: Cover, fonts: Any) -> Block:
    """Whom to ask, on one line where it fits (the slips' enquiry block otherwise)."""
    contact = Contact.of(c.values)
    line = f"お問い合わせ　{contact.name}　{contact.phone_line()}".strip()
    if contact.given and fonts.width(line, SIZE) <= WIDTH:
        block = Block()
        block.para(fonts, 0, line, SIZE, WIDTH, LEADING)
        return block
    return from_runs(enquiry(fonts, contact, SIZE, WIDTH))


def code_box(c: Cover, fonts: Any) -> Block:
    """「アクセスコード」 and its 13 boxes; the last one (the check symbol) framed apart."""
    block = Block()
    label = "アクセスコード"
    block.text(0, CODE_H * 0.68, label, HEAD)
    x = fonts.width(label, HEAD) + 4 * mm
    index = 0
    for g, n in enumerate(CODE_GROUPS):
        if g:
            block.line(x + 1 * mm, CODE_H / 2, x + CODE_GROUP_GAP - 1 * mm, CODE_H / 2, 1.2)
            x += CODE_GROUP_GAP
        for _ in range(n):
            check = index == sum(CODE_GROUPS) - 1
            # The check symbol's box is drawn heavier: it is what catches a mistyped code.
            block.box("code", None, index, x, 0, CODE_W, CODE_H, 1.8 if check else 0.9)
            x += CODE_W
            index += 1
    block.text(x - CODE_W - 0.5 * mm, CODE_H + SIZE * 1.2, "確認用", SIZE)
    block.height = CODE_H + SIZE * 1.5
    if c.with_codes:
        hint = "この調査票のアクセスコードです（書き写す必要はありません）。"
    else:
        hint = (
            "同封のコード票のアクセスコードを書き写してください。"
            "最後の1文字（太枠）は、書き間違いを見つけるための確認用の文字です。"
        )
    block.para(fonts, 0, hint, SIZE, WIDTH, LEADING)
    block.gap(2 * mm)
    return block


def web_block(c: Cover, fonts: Any) -> Block:
    block = Block()
    text_w = WIDTH - QR_SIZE - 6 * mm
    title = "スマホやパソコンでも答えられます" if c.plain else "インターネットでも回答できます"
    heading(block, title)
    top = block.height
    # The QR code itself is drawn per booklet (it may hold the booklet's code): its place.
    block.boxes.append(Box("qr", None, None, WIDTH - QR_SIZE, top, QR_SIZE, QR_SIZE))
    lines = [
        "スマートフォンやパソコンで右のQRコードを読み取るか、次のアドレスを入力してください。",
    ]
    for text in lines:
        block.para(fonts, 0, text, SIZE, text_w, LEADING)
    block.para(fonts, 0, c.public_url, 12.0, text_w, LEADING)
    if c.with_codes:
        code = "QRコードには、この調査票のアクセスコードが入っています。"
    else:
        code = "表紙のアクセスコード欄のコードを入力すると回答画面が開きます。"
    code += "インターネットで回答した方は、この調査票を返送しないでください。"
    block.para(fonts, 0, code, SIZE, text_w, LEADING)
    if c.fingerprint:
        block.para(fonts, 0, f"鍵の指紋　{c.fingerprint}", SIZE, text_w, LEADING)
        block.para(fonts, 0, FINGERPRINT_WEB, SIZE, text_w, LEADING)
    block.height = max(block.height, top + QR_SIZE) + 2 * mm
    return block


def texts(c: Cover) -> dict[str, str]:
    """The cover's paragraphs, in the students' words where they are the readers."""
    when = c.deadline()
    by = f"{when}までに" if when else "できるだけ早く"
    if c.plain:
        return {
            "purpose": f"{c.who}では、みなさんがなやんだときに相談しやすいまちにするために、"
            "このアンケートを行っています。答えてくれると、とても助かります。",
            "anonymity": "アクセスコードは、同じ人が二回"
            "答えないようにするためだけに使います。コードと名前を結びつける記録はどこにもない"
            f"ので、だれが答えたかは、学校の先生にも家の人にも{c.who}にもわかりません。",
            "fill": "あてはまる番号を○でかこんでください。"
            "「→ 問○へ」とあるときは、その質問へ進んでください。",
            "return": "答え終わったら、このアンケートを返信用の封筒に入れてください。"
            f"記入後は封をして（のりづけして）、{by}ポストに入れてください。",
        }
    return {
        "purpose": f"{c.who}では、自殺対策の計画づくりに役立てるため、市民の皆さまのこころの"
        "健康や、悩みの相談についてのお考えをうかがう調査を行っています。対象の方は住民基本台帳"
        "から無作為に選ばせていただきました。お忙しいところ恐縮ですが、ご協力をお願いいたします。",
        "anonymity": "お名前やご住所を書く欄はありません。アクセスコードは、"
        "同じ方が二度回答しないようにするためだけに使います。コードとお名前・ご住所を結びつける"
        f"記録はどこにもないため、どなたが回答したかは{c.who}にもわかりません。"
        "回答は統計として集計し、個人の回答が外に出ることはありません。",
        "fill": "あてはまる番号を○で囲んでください。「→ 問○へ」とあるときは、その質問へ"
        "お進みください。【 】のある質問は、そこに書かれた"
        "方だけがお答えください。",
        "return": "記入が終わりましたら、この調査票を同封の返信用封筒に入れ、"
        f"{by}ポストに投函してください。",
    }


GUARDIAN_NOTE = (
    "このアンケートは、お子さまご本人に答えていただくものです。お子さまが安心して答えられる"
    "よう、回答をご覧になったり、答え方を指示したりしないでください。記入後は封をして返送する"
    "よう、お声かけをお願いします。"
)


def cover_blocks(c: Cover, fonts: Any) -> list[Block]:
    """The cover, as blocks (it may run onto the inside of the cover); ends with a page break."""
    form, words = c.form, texts(c)
    top = Block()
    title = form.source.title.ja
    size = fonts.fit(title, 18.0, WIDTH, 15.0)  # one line where it can be
    for line in fonts.wrap(title, size, WIDTH):
        top.height += size * 1.4
        top.text(0, top.height - size * 0.35, line, size)
    who = Contact.of(c.values).name
    if who:
        top.para(fonts, 0, who, 12.5, WIDTH)
    top.gap(4 * mm)
    top.add(code_box(c, fonts))
    body = Block()
    heading(body, "調査のお願い" if not c.plain else "このアンケートについて")
    body.para(fonts, 0, words["purpose"], SIZE, WIDTH, LEADING)
    if form.source.intro:
        body.para(fonts, 0, form.source.intro.ja, SIZE, WIDTH, LEADING)
    body.para(fonts, 0, words["anonymity"], SIZE, WIDTH, LEADING)
    heading(body, "記入のしかた" if not c.plain else "答え方")
    body.para(fonts, 0, words["fill"], SIZE, WIDTH, LEADING)
    heading(body, "ご返送のしかた" if not c.plain else "出し方")
    body.para(fonts, 0, words["return"], SIZE, WIDTH, LEADING)
    body.add(ask(c, fonts))
    # The crisis lines come first after the essentials, so they are on the front page
    # whatever follows (a long cover continues on its inside page).
    blocks = [top, body, crisis_box(c, fonts, prominent=False)]
    if c.plain:
        note = Block()
        heading(note, "保護者の方へ")
        note.para(fonts, 0, GUARDIAN_NOTE, SIZE, WIDTH, LEADING)
        blocks.append(note)
    if c.web:
        blocks.append(web_block(c, fonts))
    blocks[-1].page_break_after = True
    return blocks


def back_blocks(c: Cover, fonts: Any) -> list[Block]:
    """The last page: thanks, the return reminder, the crisis lines, whom to ask."""
    words = texts(c)
    block = Block()
    block.gap(10 * mm)
    done = (
        "質問はここまでです。ご協力ありがとうございました。"
        if not c.plain
        else ("質問はここまでです。答えてくれて、ありがとうございました。")
    )
    block.para(fonts, 0, done, 14.0, WIDTH)
    block.gap(3 * mm)
    block.para(fonts, 0, words["return"], SIZE, WIDTH)
    return [block, crisis_box(c, fonts, prominent=True), ask(c, fonts)]
