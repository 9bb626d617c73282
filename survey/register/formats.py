"""Files handed in as a register that are no CSV at all: said to be what they are."""

from __future__ import annotations

from survey.errors import DataError

# What a file that is no CSV at all usually turns out to be (its first bytes).
_NOT_CSV = (
    (b"\x89PNG\r\n\x1a\n", "PNG 画像", "a PNG image"),
    (b"\xff\xd8\xff", "JPEG 画像", "a JPEG image"),
    (b"GIF8", "GIF 画像", "a GIF image"),
    (b"%PDF", "PDF", "a PDF"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "Excel（.xls）などの Office 文書",
        "an old Office file (.xls)",
    ),
    (b"\x1f\x8b", "gzip 圧縮ファイル", "a gzip file"),
    (b"\xff\xfe", "UTF-16 のテキスト（Excel の「Unicode テキスト」）", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 のテキスト", "UTF-16 text"),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")


def refuse_other_formats(data: bytes) -> None:
    """A file that is no CSV at all (an image, a ZIP, a workbook) is said to be what it is,
    with the format the register is read in, rather than as an unreadable byte on line 3."""
    kind: tuple[str, str] | None = None
    for magic, ja, en in _NOT_CSV:
        if data.startswith(magic):
            kind = (ja, en)
            break
    if kind is None and data.startswith(_ZIP):
        head = data[:65536]
        if b"xl/" in head:
            kind = ("Excel のブック（.xlsx）", "an Excel workbook (.xlsx)")
        elif b"word/" in head:
            kind = ("Word 文書（.docx）", "a Word document (.docx)")
        else:
            kind = ("ZIP 圧縮ファイル", "a ZIP archive")
    if kind is None and b"\x00" in data[:4096]:
        kind = ("文字のファイルではないもの", "not a text file")
    if kind is None:
        return
    raise DataError(
        f"このファイルは CSV ではありません（{kind[0]}のようです）。住民基本台帳は CSV"
        "（文字コード CP932〔Shift_JIS〕または UTF-8、1行目に見出し）で読み込みます。"
        "表計算ソフトのファイルなら「CSV（コンマ区切り）」で保存し直してください"
        "（見本: survey register synth --out 見本.csv）。",
        f"This file is not a CSV (it looks like {kind[1]}). The register is read as CSV "
        "(CP932/Shift_JIS or UTF-8, a header row first): save a spreadsheet as "
        '"CSV (comma delimited)" (a sample: survey register synth --out sample.csv).',
    )
