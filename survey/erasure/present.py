"""The inventory and the certificate in Japanese, for the command line, the office pages and
the PDF (one home: the manager reviews the same words the certificate records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from survey.erasure import labels

ACTIONS = {"delete": "行を削除", "null": "値を消去（NULL）"}
CHECKS = {
    "tables_empty": "対象の表に行が残っていない",
    "files_gone": "記録されたファイルがすべてない",
    "keys_gone": "対象の鍵がすべてない",
    "roster_unreadable": "名簿を復号できない（名簿鍵がない）",
    "draw_not_reproducible": "抽出を再現できない（シードが消去された）",
    "database_compacted": "データベースの空き領域を消去した（VACUUM）",
    "name_scan": "データフォルダとデータベースに氏名・住所が見つからない",
    "canary_found": "仕込んだ検査用の架空の氏名・住所（カナリア）が見つかる",
    "allow_list": "データフォルダに残るファイルは個人情報を含まない種類だけ",
    "name_hits_removed": "氏名・住所が見つかったファイルがもうない",
}


TOKYO = ZoneInfo("Asia/Tokyo")


def when(iso: str) -> str:
    """An ISO time of the certificate (UTC) as Japanese staff read it."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S（日本時間）")


def size_text(n: int) -> str:
    for unit, step in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} B"


def shown_path(path: str, data_dir: Path | None) -> str:
    """Inside the data folder: relative to it (office pages never show server paths)."""
    if data_dir is not None:
        try:
            return "データフォルダ/" + str(Path(path).relative_to(data_dir))
        except ValueError:
            return f"（データフォルダの外）{Path(path).name}"
    return path


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    name: str
    value: str
    note: str = ""


def tables(inventory: dict[str, Any]) -> list[Row]:
    return [
        Row(
            labels.TABLES.get(t["name"], t["name"]),
            t["name"],
            f"{t['rows']:,}",
            ACTIONS[t["action"]],
        )
        for t in inventory["tables"]
    ]


def files(inventory: dict[str, Any], data_dir: Path | None) -> list[Row]:
    out = []
    for f in inventory["files"]:
        if not f["present"]:
            state = "すでにない（移動・外部媒体を含む）"
        elif f["unchanged"]:
            state = "あり"
        else:
            state = "あり（記録のあとで内容が変わっている）"
        out.append(
            Row(
                labels.FILE_KINDS.get(f["kind"], f["kind"]),
                shown_path(f["path"], data_dir),
                size_text(f["size"]),
                f"{state}・SHA-256 {f['sha256'][:16]}…",
            )
        )
    return out


def keys(inventory: dict[str, Any]) -> list[Row]:
    return [
        Row(
            labels.KEYS.get(k["file"], k["file"]),
            k["file"],
            "あり" if k["present"] else "すでにない",
        )
        for k in inventory["keys"]
    ]


def kept(scope: str) -> list[str]:
    return [text for _name, text in labels.KEPT[scope]]


def inventory_lines(inventory: dict[str, Any], data_dir: Path | None = None) -> list[str]:
    """The inventory as the command line shows it before a signature."""
    scope_ja, scope_en = labels.SCOPES[inventory["scope"]]
    out = [
        f"消去の範囲 / scope: {scope_ja}",
        f"  ({scope_en})",
        f"調査 study: {inventory['study']}  依頼 request: {inventory['request']}",
        f"監査ログの記録 anchor: {inventory['anchor']}",
        "表 tables:",
    ]
    out += [f"  {r.label}（{r.name}）: {r.value} 行 — {r.note}" for r in tables(inventory)] or [
        "  （なし）"
    ]
    out.append("ファイル files:")
    out += [
        f"  {r.label}: {r.name}（{r.value}、{r.note}）" for r in files(inventory, data_dir)
    ] or ["  （なし）"]
    out.append("鍵 keys:")
    out += [f"  {r.label}: {r.value}" for r in keys(inventory)] or ["  （なし）"]
    vendor = inventory.get("vendor_confirmation")
    if vendor:
        out.append(f"印刷業者の廃棄証明: {vendor['name']}（SHA-256 {vendor['sha256']}）")
    out.append("残すもの（意図的に） kept on purpose:")
    out += [f"  {text}" for text in kept(inventory["scope"])]
    return out


def check_lines(checks: list[dict[str, Any]]) -> list[str]:
    marks = {True: "○", False: "×", None: "－"}
    return [f"{marks[c['passed']]} {CHECKS.get(c['check'], c['check'])}" for c in checks]
