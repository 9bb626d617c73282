"""Click's own messages in Japanese and English like every other error; files that are no
CSV at all said to be what they are."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

# (arguments, exit code, the Japanese line, a part of the English line)
CASES = [
    (
        ["sample", "--register", "{tmp}/nope.csv"],
        2,
        "エラー: ファイル {tmp}/nope.csv が見つかりません（--register）。",
        "File '{tmp}/nope.csv' does not exist.",
    ),
    (["nosuch"], 2, "エラー: nosuch というコマンドはありません。", "No such command 'nosuch'."),
    (
        ["serve", "--port", "abc"],
        2,
        "エラー: --port には1〜65535の整数を指定してください。",
        "'abc' is not a valid integer range.",
    ),
    (["serve", "--port", "0"], 2, "エラー: --port の値 0 は範囲外です（1〜65535）。", "0 is not"),
    (
        ["labels", "--out", "{tmp}/l.pdf", "--layout", "a4-99"],
        2,
        "エラー: --layout は a4-10、a4-12、a4-21、a4-24 のいずれかです（a4-99）。",
        "'a4-99' is not one of",
    ),
    (
        ["codes", "--out", "{tmp}/s.pdf", "--additional", "x"],
        2,
        "エラー: --additional には整数を指定してください。",
        "'x' is not a valid integer.",
    ),
    (
        ["codes", "--bogus"],
        2,
        "エラー: --bogus というオプションはありません。 --out のことですか。",
        "No such option '--bogus'. Did you mean '--out'?",
    ),
    (["study", "set"], 2, "エラー: KEY=VALUE... を指定してください。", "Missing argument"),
    (["sample", "--register"], 2, "エラー: --register には値が必要です。", "requires an argument"),
    (
        ["study", "create", "s", "--as-of", "2026-02-30"],
        2,
        "エラー: --as-of: 存在しない日付です（2026-02-30）",
        "no such date: 2026-02-30",
    ),
    (["study", "list", "extra"], 2, "エラー: 余分な引数があります（extra）。", "extra argument"),
]


def test_clicks_errors_in_japanese_and_english(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("study", "create", "default", "--as-of", "2026-04-01").exit_code == 0
    for args, code, ja, en in CASES:
        result = run(*[a.format(tmp=tmp_path) for a in args])
        assert result.exit_code == code, (args, result.stderr)
        lines = result.stderr.splitlines()
        assert ja.format(tmp=tmp_path) in lines, (args, result.stderr)
        english = next(line for line in lines if line.startswith("Error: "))
        assert en.format(tmp=tmp_path) in english, (args, english)
        # The Japanese line holds no English message, and nobody sees Python's internals.
        assert "Invalid value" not in "".join(line for line in lines if "エラー" in line)
        for internal in ("Traceback", "invalid literal", "int()", "<IntRange"):
            assert internal not in result.stderr, (args, internal)
        assert "--help" in lines[-1]


def test_the_collector_command_speaks_both_languages_too(run_collector) -> None:  # type: ignore[no-untyped-def]
    result = run_collector("serve", "--port", "x")
    assert result.exit_code == 2
    assert "エラー: --port には1〜65535の整数を指定してください。" in result.stderr.splitlines()
    assert "serve --help" in result.stderr.splitlines()[-1]  # (CliRunner names it "cli")


def _xlsx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    return path


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("register.csv", "住民コード\n")
    return path


@pytest.mark.parametrize(
    ("name", "make", "kind_ja", "kind_en"),
    [
        (
            "photo.png",
            lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
            "PNG 画像",
            "PNG",
        ),
        ("register.xlsx", _xlsx, "Excel のブック（.xlsx）", "Excel workbook"),
        ("register.zip", _zip, "ZIP 圧縮ファイル", "ZIP archive"),
        ("register.txt", lambda p: p.write_bytes("住民".encode("utf-16")), "UTF-16", "UTF-16"),
    ],
)
def test_a_file_that_is_no_csv_is_said_to_be_what_it_is(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, name: str, make, kind_ja: str, kind_en: str
) -> None:
    path = tmp_path / name
    make(path)
    result = run("sample", "--register", str(path), "--as-of", "2026-04-01")
    assert result.exit_code == 1
    assert f"CSV ではありません（{kind_ja}" in result.stderr and kind_en in result.stderr
    # The formats the register is read in, and where to see one.
    assert "CP932" in result.stderr and "UTF-8" in result.stderr
    assert "survey register synth" in result.stderr
    assert "読めないバイト" not in result.stderr and "unreadable byte" not in result.stderr
