"""The certificate as a Japanese A4 PDF (fonts embedded), rendered from its JSON bytes.

Laid out after the sample certificate of sanitization in NIST SP 800-88: what was erased,
how, when, the verification method and its results, who performed and who verified it, and
what the erasure did not cover, with the attested checklist of physical items. The JSON file
is the certificate; the PDF is its reading copy, and says how to verify the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.fonts import FontSet
from mailing.pdf import new_canvas
from survey.erasure import labels, present

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
BOTTOM = 18 * mm
WHERE = {
    "office_download": "事務局の画面からダウンロード",
    "written_by_command": "コマンドで書き出し",
}


class Writer:
    """A flowing page: headings, paragraphs and two-column rows, breaking pages as needed."""

    def __init__(self, canvas: Canvas, fonts: FontSet, footer: str) -> None:
        self.canvas, self.fonts, self.footer = canvas, fonts, footer
        self.page = 1
        self.y = A4[1] - MARGIN

    def _room(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self._finish_page()
            self.canvas.showPage()
            self.page += 1
            self.y = A4[1] - MARGIN

    def _finish_page(self) -> None:
        text = f"{self.footer}　{self.page} ページ"
        self.fonts.draw(self.canvas, MARGIN, 10 * mm, text, 7.5)

    def close(self) -> None:
        self._finish_page()
        self.canvas.showPage()

    def text(self, text: str, size: float = 9.5, indent: float = 0, gap: float = 1.4) -> None:
        for line in self.fonts.wrap(text, size, WIDTH - indent) or [""]:
            self._room(size * gap)
            self.y -= size * gap
            self.fonts.draw(self.canvas, MARGIN + indent, self.y, line, size)

    def heading(self, text: str) -> None:
        self._room(14 * mm)
        self.y -= 4 * mm
        self.text(text, 12)
        self.canvas.setLineWidth(0.5)
        self.canvas.line(MARGIN, self.y - 1.5 * mm, MARGIN + WIDTH, self.y - 1.5 * mm)
        self.y -= 3 * mm

    def row(self, label: str, value: str, size: float = 9.5, label_width: float = 42 * mm) -> None:
        lines = self.fonts.wrap(value, size, WIDTH - label_width) or [""]
        self._room(size * 1.45)
        top = self.y
        self.y -= size * 1.45
        self.fonts.draw(self.canvas, MARGIN, self.y, label, size)
        self.y = top
        for line in lines:
            self._room(size * 1.45)
            self.y -= size * 1.45
            self.fonts.draw(self.canvas, MARGIN + label_width, self.y, line, size)


def _signer(w: Writer, label: str, part: dict[str, Any] | None, moment: str) -> None:
    if not part:
        w.row(label, "（確認待ち）")
        return
    w.row(label, f"{part['signer']}　{present.when(moment)}")
    w.row("", f"署名鍵の指紋 {part['fingerprint']}", 9)


def _what(w: Writer, doc: dict[str, Any]) -> None:
    request, inventory = doc["request"], doc["inventory"]
    w.heading("1. 対象（消去したもの）")
    w.row("調査", request["study"])
    w.row("範囲", labels.SCOPES[request["scope"]][0])
    w.row("依頼", f"{request['requested_by']}（担当者）　{present.when(request['requested_at'])}")
    w.row("依頼番号", request["id"])
    w.row("対象の一覧", f"SHA-256 {doc['inventory_sha256']}")
    w.row("依頼の監査記録", inventory["anchor"])
    for r in present.tables(inventory):
        erased = doc["execution"]["rows"].get(r.name, 0)
        w.row("表", f"{r.label}（{r.name}）: 一覧 {r.value} 行、消去 {erased:,} 行・{r.note}", 9)
    for r in present.keys(inventory):
        w.row("鍵", f"{r.label}（{r.name}）: 依頼の時点で{r.value}", 9)
    for r in present.files(inventory, None):
        w.row("ファイル", f"{r.label}: {r.name}（{r.value}、{r.note}）", 8.5)
    if not inventory["files"] and not inventory["keys"] and not inventory["tables"]:
        w.row("", "（対象なし）")
    vendor = inventory.get("vendor_confirmation")
    if vendor:
        w.row("業者の廃棄証明", f"{vendor['name']}（SHA-256 {vendor['sha256']}）", 9)


def _how(w: Writer, doc: dict[str, Any]) -> None:
    execution = doc["execution"]
    w.heading("2. 方法と日時")
    names = {
        "keys": "鍵",
        "rows": "行",
        "files": "ファイル",
        "database": "データベース",
        "nist": "区分",
    }
    for key, text in doc["method"].items():
        w.row(names.get(key, key), text, 9)
    w.row("開始", present.when(execution["started_at"]))
    resumed = "・中断のあと再開" if execution["resumed"] else ""
    w.row("終了", present.when(execution["finished_at"]) + resumed)
    database = execution["database"]
    if database["backend"] == "postgresql":
        for t in database["tables"]:
            state = "書き直し済み" if t["rewritten"] else "書き直されていない"
            w.row(
                "VACUUM FULL",
                f"{t['table']}: relfilenode {t['relfilenode_before']} → "
                f"{t['relfilenode_after']}（{state}）",
                9,
            )
    else:
        secure = "有効" if database["secure_delete"] else "無効"
        w.row(
            "VACUUM",
            f"WAL {database['wal_bytes_after']} バイト、空きページ "
            f"{database['free_pages_after']}、secure_delete {secure}",
            9,
        )


def _checked(w: Writer, doc: dict[str, Any]) -> None:
    verification = doc["verification"]
    w.heading("3. 確認の方法と結果（漏れの確認。証明ではなく確認です）")
    w.row("結果", "問題なし" if verification["passed"] else "問題あり（下記）")
    for line in present.check_lines(verification["checks"]):
        w.text(line, 9, indent=4 * mm)
    scan = verification["name_scan"]
    if scan.get("performed"):
        w.row(
            "氏名・住所の照合",
            f"照合した文字列 {scan['needles']:,} 件"
            f"（短すぎて除いたもの {scan['needles_too_short']}）、"
            f"走査した場所 {scan['places_scanned']:,}、見つかった数 "
            f"{sum(h['count'] for h in scan['hits'])}",
            9,
        )
        for h in scan["hits"]:
            w.text(
                f"見つかった場所: {h['place']}（{h['form']}、{h['kind']}、{h['count']} 件）",
                8.5,
                4 * mm,
            )
        for u in scan["unread"]:
            w.text(f"読めなかったファイル: {u}", 8.5, 4 * mm)
    else:
        w.row("氏名・住所の照合", scan.get("reason", "行っていません"), 9)
    canary = verification["canary"]
    w.row("カナリア", f"仕込んだ形式 {', '.join(canary['planted']) or '—'}、見つかった形式 "
          f"{', '.join(canary['found']) or '—'}", 9)  # fmt: skip
    left = verification["left_in_data_folder"]
    kinds = sorted({a["kind"] for a in left["allowed"]})
    w.row("残るファイル", f"{len(left['allowed'])} 個（{', '.join(kinds) or 'なし'}）、一覧外 "
          f"{len(left['unlisted'])} 個", 9)  # fmt: skip
    for u in left["unlisted"]:
        w.text(f"一覧外のファイル: {u}", 8.5, 4 * mm)


def _not_covered(w: Writer, doc: dict[str, Any]) -> None:
    w.heading("4. 対象外（この消去が届かないもの）")
    for item in doc["not_covered"]:
        w.text(f"・{item['ja']}", 9)
    handed = doc["handed_out"]
    w.text(f"システムの外に出たファイル（監査ログより、{len(handed)} 件）:", 9.5)
    for h in handed:
        files = "、".join(h["files"]) or "—"
        at = present.when(h["at"]).removesuffix("（日本時間）")
        w.text(f"{at}　{h['actor']}　{h['action']}　{files}（{WHERE[h['where']]}）", 8.5, 4 * mm)
    if doc["checklist"]:
        w.heading("5. 物理的な廃棄（実施者の申告）")
        for item in doc["checklist"]:
            w.text(f"［{'済' if item['attested'] else '未'}］ {item['ja']}", 9.5, 2 * mm)


def _signatures(w: Writer, doc: dict[str, Any]) -> None:
    w.heading("6. 署名")
    for a in doc["approvals"]:
        _signer(w, f"承認（{labels.ROLE_NAMES[a['role']]}）", a, a["signed_at"])
    _signer(w, "実施者（担当者）", doc.get("performed_by"), doc["execution"]["finished_at"])
    confirmation = doc.get("confirmation") or {}
    _signer(w, "確認者（責任者）", doc.get("verified_by"), confirmation.get("confirmed_at", ""))
    if confirmation:
        w.text("確認の時点の再確認:", 9)
        for line in present.check_lines(confirmation["recheck"]):
            w.text(line, 9, indent=4 * mm)
    w.heading("7. この証明書の検証")
    w.text(
        "正本は JSON ファイル（RFC 8785 の正規形）です。この PDF はその写しです。"
        "survey erasure verify 証明書.json --trusted-keys 職員の鍵.json で、データベースなしに"
        "署名と内容を検証できます。署名者の指紋は、審査会が保管する鍵確認書と照合してください。",
        9,
    )
    w.row("監査ログの先頭", doc["audit_head"], 9)


def render(target: Path | BinaryIO, data: bytes) -> None:
    doc = json.loads(data)
    fonts = FontSet.load()
    canvas = new_canvas(target, doc["title"], fonts)
    stage_ja = labels.STAGES[doc["stage"]][0]
    w = Writer(canvas, fonts, f"消去証明書　依頼番号 {doc['request']['id']}　{stage_ja}")
    w.text(doc["title"], 20, gap=1.2)
    w.text("NIST SP 800-88 の消去証明書（Certificate of Sanitization）にならう", 9)
    w.text(f"段階: {stage_ja}", 11)
    _what(w, doc)
    _how(w, doc)
    _checked(w, doc)
    _not_covered(w, doc)
    _signatures(w, doc)
    w.close()
    canvas.save()


def write_certificate_pdf(path: Path, data: bytes) -> None:
    render(path, data)
