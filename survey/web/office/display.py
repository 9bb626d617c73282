"""How the office pages say things: roles, audit actions and objects in Japanese, times in
Japan Standard Time. Registered as Jinja filters for every office template; the codes stay
beside the words (a column or a tooltip) for IT staff and for `survey audit`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from survey.accounts import ROLES
from survey.cohorts import COHORT_LABELS

TOKYO = ZoneInfo("Asia/Tokyo")

# What each audit action is, in words (the code is shown beside it).
ACTIONS: dict[str, str] = {
    "login.ok": "ログイン",
    "login.failed": "ログイン失敗",
    "login.locked": "失敗が続いたためアカウントをロック",
    "logout": "ログアウト",
    "reauth.failed": "パスワード再入力の失敗",
    "study.create": "調査の作成",
    "study.set": "調査の設定変更",
    "sample.commit": "抽出の seed の事前公表（コミット）",
    "register.draw": "住民基本台帳からの抽出",
    "register.verify": "抽出の検証",
    "key.generate": "調査鍵の作成",
    "key.install": "調査鍵（公開鍵）の登録",
    "key.use": "調査鍵（秘密鍵）の使用",
    "file.code_slips": "コード票の作成（コード発行）",
    "file.slips": "コード票の作成（コード発行）",
    "file.code_csv": "コード一覧 CSV の作成",
    "file.labels": "宛名ラベル・業者向け CSV の作成",
    "file.vendor": "印刷業者向け CSV の作成",
    "file.postcards": "お礼・督促はがきの作成",
    "file.roster": "名簿の書き出し",
    "file.draw_seed": "抽出の seed の書き出し（検証用）",
    "file.dashboard_csv": "回答状況 CSV のダウンロード",
    "file.collector_export": "回収サーバー用ファイルの書き出し",
    "file.staff_keys": "職員の署名鍵一覧の書き出し",
    "file.staff_key_sheet": "鍵確認書の作成",
    "file.tables": "集計表のダウンロード",
    "file.charts": "グラフのダウンロード",
    "file.analysis": "集計一式の書き出し",
    "file.report": "調査報告書の書き出し",
    "collector.install": "回収サーバーへの調査の設定",
    "bundle.trust": "回収サーバーの鍵を信頼",
    "bundle.import": "Web回答の束の取り込み",
    "user.add": "職員アカウントの追加",
    "user.roles": "役割の変更",
    "user.disable": "アカウントの無効化",
    "user.enable": "アカウントの有効化",
    "user.reset": "パスワードの再設定（管理者）",
    "user.password": "パスワードの変更（本人）",
    "user.key_bootstrap": "最初の責任者の鍵の確認（鍵確認式）",
    "user.key_confirm": "署名鍵の確認",
}
PREFIXES = {
    "file.": "ファイルの書き出し",
    "login.": "ログイン",
    "user.": "職員アカウントの操作",
    "erase": "消去手続",
    "key.": "調査鍵の操作",
}
# Fields of the audit objects, in words.
FIELDS: dict[str, str] = {
    "study": "調査",
    "files": "ファイル",
    "file": "ファイル",
    "counts": "件数",
    "user": "職員",
    "roles": "役割",
    "key": "署名鍵",
    "new_key": "新しい署名鍵",
    "fingerprint": "指紋",
    "for": "操作",
    "via": "経路",
    "installed": "登録",
    "purpose": "目的",
    "codes": "コード",
    "codes_added": "追加したコード",
    "sequence": "束の番号",
    "records": "回答",
    "added": "新規",
    "collector": "回収サーバー",
    "register_sha256": "台帳 SHA-256",
    "seed_sha256": "seed SHA-256",
    "register_rows": "台帳の行数",
    "sample": "標本",
    "as_of": "基準日",
    "settings": "設定",
    "allocation": "配分",
    "selection_sha256": "抽出結果 SHA-256",
    "codes_marked_used": "使用済みにしたコード",
    "bundle_signing_key": "束の署名鍵",
    "bundle_signing_fingerprint": "束の署名鍵の指紋",
    "created": "新規作成",
    "already_imported": "取り込み済み",
    "spares": "予備",
    "layout": "ラベルの種類",
    "total": "合計",
}
VALUES = {"cli": "コマンド", "web": "画面", "verify": "確認"}


def role_label(role: str) -> str:
    return ROLES.get(role, role)


def role_labels(roles: Any) -> str:
    return "、".join(role_label(r) for r in roles or ())


def actor_label(actor: str) -> str:
    """``user:olive`` as olive; a command run without --user names the OS account."""
    kind, _, name = actor.partition(":")
    if kind == "user" and name:
        return name
    if kind == "os" and name:
        return f"{name}（コマンド・OSのユーザー）"
    if actor == "unknown":
        return "（登録のない名前）"
    return actor


def action_label(action: str) -> str:
    if action in ACTIONS:
        return ACTIONS[action]
    prefix = next((p for p in PREFIXES if action.startswith(p)), None)
    return PREFIXES[prefix] if prefix else action


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if key in ("file", "files"):
        # The file's name only: where the data folder is is no business of the browser.
        names = value if isinstance(value, list) else [value]
        return "、".join(PurePath(str(v)).name for v in names)
    if key == "roles" and isinstance(value, list):
        return role_labels(value)
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            name = COHORT_LABELS.get(str(k), FIELDS.get(str(k), str(k)))
            shown = f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else _value(k, v)
            parts.append(f"{name} {shown}")
        return "、".join(parts)
    if isinstance(value, list):
        return "、".join(_value(key, v) for v in value)
    if isinstance(value, int):
        return f"{value:,}"
    if key == "for":
        return action_label(str(value)) if "." in str(value) else str(value)
    return VALUES.get(str(value), str(value))


def audit_fields(obj: Any) -> list[tuple[str, str]]:
    """An audit object as (field, value) pairs in words, in the object's order."""
    if not isinstance(obj, dict):
        return [] if obj in (None, "") else [("内容", str(obj))]
    return [(FIELDS.get(str(k), str(k)), _value(str(k), v)) for k, v in obj.items()]


def jst(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored time (UTC; SQLite hands it back without a zone) as Japan Standard Time."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(TOKYO).strftime(fmt)


FILTERS = {
    "role_label": role_label,
    "role_labels": role_labels,
    "action_label": action_label,
    "actor_label": actor_label,
    "audit_fields": audit_fields,
    "jst": jst,
}
