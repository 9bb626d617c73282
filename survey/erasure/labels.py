"""What each scope, table, file kind and key is called, in Japanese first (no database).

One home for the words the command line, the office pages, the certificate and its PDF use,
so the manager reviews in Japanese exactly what the certificate records.
"""

from __future__ import annotations

SCOPES: dict[str, tuple[str, str]] = {
    "personal": (
        "個人情報（名簿、名簿鍵、抽出シード、個人情報・アクセスコードを含むファイル）",
        "personal data (roster, roster key, draw seed, files with personal data or codes)",
    ),
    "responses": (
        "回答（Web の回答、回答の束、紙の入力内容、データセット。報告書の公表後）",
        "answers (web answers, bundles, keyed paper, the dataset; once the report is out)",
    ),
    "collector-keys": (
        "回収の鍵（コード照合鍵、回答の束の署名鍵）",
        "collector keys (the code-hash key and the bundle-signing key)",
    ),
}

TABLES: dict[str, str] = {
    "roster_unit": "抽出名簿（氏名・住所などを暗号化したもの）",
    "draw.seed_sealed": "抽出の記録にある抽出シード（暗号化）",
    "seed_commitment.seed_sealed": "公開済みシードの本体（暗号化）",
    "paper_entry": "紙の調査票の入力内容（二重入力・業者入力）",
    "paper_receipt.code_hash": "受付記録にある使用コードのハッシュ",
    "paper_receipt.response_id": "受付記録と回答の対応",
    "free_text": "自由記述の回答",
    "edit_log": "回答の編集記録",
    "response": "受け付けた回答（データセットの行）",
    "quarantine": "保留中の回答",
    "sealed_response": "暗号化された Web 回答（事務局）",
    "bundle_import": "取り込んだ回答の束の記録",
    "dataset_build": "データセットの作成記録",
    "collector_response": "暗号化された Web 回答（同じデータベースの回収用の表）",
}

FILE_KINDS: dict[str, str] = {
    "code_slips": "コード票（PDF・アクセスコード）",
    "code_csv": "コード一覧（CSV・アクセスコード）",
    "paper_forms": "コード入りの調査票（PDF・アクセスコード）",
    "labels": "宛名ラベル（PDF）",
    "postcards": "お礼・督促はがき（PDF）",
    "vendor_csv": "印刷業者向けの宛名 CSV",
    "roster_csv": "名簿の書き出し（CSV）",
    "draw_seed": "検証者に渡した抽出シードのファイル",
    "register": "住民基本台帳の写し（デモの架空の市）",
}

KEYS: dict[str, str] = {
    "roster.key": "名簿鍵（名簿と抽出シードを暗号化している鍵）",
    "code-hash.key": "コード照合鍵（アクセスコードのハッシュの鍵）",
    "bundle-signing.key": "回答の束の署名鍵（回収側）",
}

# Kept on purpose: the analysis and the design table need them; none names a person.
KEPT: dict[str, list[tuple[str, str]]] = {
    "personal": [
        ("frame_count", "母集団の集計（対象×性別×年齢×地区ごとの件数だけ）"),
        ("draw", "抽出の記録（割当、標本数、選択の SHA-256、シードのコミットメント）"),
        ("access_code", "アクセスコードのハッシュ（対象と使用済みの印だけ、人とは結びつかない）"),
        ("tracked_file", "ファイルの記録（場所・大きさ・SHA-256 だけ、中身は残らない）"),
        ("answers", "匿名の回答とデータセット、分析結果"),
        ("audit_entry", "監査ログ（個人情報は含まない）"),
    ],
    "responses": [
        ("draw", "抽出の記録と母集団の集計"),
        ("analysis", "分析結果（公表した集計表・報告書）"),
        ("audit_entry", "監査ログ"),
    ],
    "collector-keys": [
        ("access_code", "アクセスコードのハッシュ（鍵がなければ照合できない）"),
        ("trusted_collector", "回収サーバーの署名鍵の公開鍵（過去の束の検証用）"),
        ("audit_entry", "監査ログ"),
    ],
}

# What the certificate says is out of its reach, per item (Japanese, English).
NOT_COVERED: dict[str, tuple[str, str]] = {
    "backups": (
        "バックアップ（データフォルダやデータベースの写し）は消去の対象外です。名簿と抽出シードは、"
        "バックアップの中でも名簿鍵なしには読めません（暗号消去）。",
        "Backups (copies of the data folder or the database) are outside this erasure; the "
        "roster and the seed in them cannot be read without the destroyed roster key.",
    ),
    "database_copies": (
        "アーカイブ済みの WAL、レプリカ、スナップショットなど、このデータベースの外にある写しは"
        "対象外です。",
        "Archived WAL, replicas and snapshots outside this database are outside its reach.",
    ),
    "media": (
        "SSD やジャーナリング・ファイルシステムでは、ファイルの上書き・削除は「削除」であり、"
        "記録媒体の「消去（サニタイズ）」ではありません。名簿そのものは暗号消去で守られています。",
        "On an SSD or a journaling file system, overwriting and deleting a file is deletion, "
        "not sanitisation; the roster itself is protected by crypto-erasure.",
    ),
    "handed_out": (
        "システムの外に持ち出されたファイル（職員の PC へのダウンロード、印刷業者への受け渡し。"
        "監査ログから下に一覧）は対象外です。",
        "Files taken out of the system (downloads to staff PCs, files given to the printing "
        "vendor; listed below from the audit log) are outside its reach.",
    ),
    "vendor": (
        "印刷業者の手元の控えとデータは対象外です（業者の廃棄証明で確かめます）。",
        "The printing vendor's copies and data are outside its reach (see the vendor's "
        "confirmation).",
    ),
    "paper": (
        "紙の封筒・宛名ラベル・コード票は対象外です（物理的な廃棄は下のチェックリスト）。",
        "Paper envelopes, labels and code slips are outside its reach (the checklist below).",
    ),
    "collector_host": (
        "別のホストで動く回収サーバーのデータベースと鍵は対象外です（そのホストで消去します）。",
        "A collector on another host keeps its own database and keys (erase them there).",
    ),
}

NOT_COVERED_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "personal": ("backups", "database_copies", "media", "handed_out", "vendor", "paper"),
    "responses": ("backups", "database_copies", "media", "handed_out", "collector_host"),
    "collector-keys": ("backups", "media", "handed_out", "collector_host"),
}

# Physical items the performer attests to, one by one (personal data only).
CHECKLIST: dict[str, str] = {
    "undeliverable_envelopes": "宛先不明で戻った封筒（宛名ラベル付き）を廃棄した",
    "spare_labels_slips": "使わなかった宛名ラベル・コード票（予備を含む）を廃棄した",
    "vendor_copies": "印刷業者の控え・データの廃棄を確かめた（業者の廃棄証明）",
    "printouts": "名簿・ラベルなどの試し刷りや作業用の印刷物を廃棄した",
}

CHECKLIST_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "personal": tuple(CHECKLIST),
    "responses": (),
    "collector-keys": (),
}

STAGES: dict[str, tuple[str, str]] = {
    "executed": ("実施済み（責任者の確認待ち）", "executed (awaiting the manager's confirmation)"),
    "confirmed": ("実施済み・責任者が確認済み", "executed and confirmed by the manager"),
}
ROLE_NAMES: dict[str, str] = {
    "officer": "担当者",
    "manager": "責任者",
    "performed-by": "実施者（担当者）",
    "verified-by": "確認者（責任者）",
}
