"""The register's error report pinned in full: every bad row, its line, column, reason and
the value where one may be shown, in the order the officer reads them.

Recorded from the row-by-row reader before it was vectorised (issue 17); a faster reader
must produce the same report, byte for byte (``tests/golden/register-errors.txt``).
"""

from pathlib import Path

import pytest

from survey.register.reader import RegisterError, read_register
from tests.conftest import Row

GOLDEN = Path(__file__).parent.parent / "golden" / "register-errors.txt"
SHIKI = ["上宗岡", "中宗岡", "下宗岡", "本町", "幸町", "館", "柏町"]


def bad_rows() -> list[Row | list[str]]:
    good = [Row(f"G{i}", f"HG{i}", "1980-01-01") for i in range(3)]
    return [
        *good,
        Row("1", "H1", "平成31年5月1日"),  # outside its era
        Row("2", "H1", "R1.4.30"),  # before Reiwa began
        Row("3", "H1", "1980-02-30"),  # no such day
        Row("4", "H1", "1867-12-31"),  # before Meiji
        Row("5", "H1", "昭和元年12月24日"),  # before Showa began
        Row("6", "H1", ""),  # empty date
        Row("7", "H1", "いつか"),  # unreadable
        Row("8", "H1", "1980-01-01", sex="X"),
        Row("9", "H1", "1980-01-01", sex=""),
        Row("10", "H1", "1980-01-01", postal_code="35-30002"),
        Row("11", "H1", "1980-01-01", postal_code=""),
        Row("G1", "H2", "1980-01-01"),  # duplicate of a good row
        Row("Ｇ２", "H2", "1980-01-01"),  # duplicate in full-width form
        Row("12", "", "1980-01-01", name="", address=""),  # three empty required fields
        Row("", "H2", "bad", sex="?", postal_code="1"),  # every check fails at once
        Row("13", "H3", "1980-01-01", name="=1+1", building="@x"),  # formulas
        ["14", "H3", "志木　一"],  # too few fields
        ["15", "H3", "x", "", "1980-01-01", "男", "", "3530004", "本町1", "", "surplus"],
        ["1", "H3", "x"],  # too few fields and a duplicate id
        Row("16", "H4", " 1980-01-01 ", sex=" 女 ", postal_code=" 353-0004 "),  # fine
        Row("17", "H4", "１９８０／１／１", sex="２", postal_code="〒３５３－０００４"),  # fine
        Row("18", "H4", "S55.12.26", sex="男性"),  # fine
        Row("19", "H4", "1980-01-01", sex="男", relation="=not checked"),  # fine
        Row("20", "H4", "R1.5.1"),  # fine
        Row("21", "H4", "H元.1.8"),  # fine
        Row("22", "H4", "H1.1.7"),  # Showa's last day written as Heisei
    ]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_error_report_is_pinned(register_file, encoding: str) -> None:  # type: ignore[no-untyped-def]
    path = register_file(bad_rows(), encoding=encoding)
    with pytest.raises(RegisterError) as info:
        read_register(path, SHIKI)
    report = "\n".join(str(e) for e in info.value.errors) + "\n"
    assert report == GOLDEN.read_text(encoding="utf-8")
    assert str(info.value).startswith(f"住民基本台帳ファイルに誤りが {len(info.value.errors)} 件")


def test_error_report_of_a_quoted_file_with_a_multiline_field(tmp_path: Path) -> None:
    header = "住民コード,世帯番号,氏名,氏名カナ,生年月日,性別,続柄,郵便番号,住所,方書"
    body = [
        '"1","H1","志木　太郎","","1980-01-01","男","","353-0004","本町1",""',
        '"2","H1","志木\r\n花子","","bad","女","","353-0004","本町1",""',
        '"3","H1","志木　次郎","","1980-01-01","X","","353-0004","本町1",""',
        '"1","H2","志木　三郎","","1980-01-01","男","","353-0004","本町1",""',
    ]
    path = tmp_path / "quoted.csv"
    path.write_bytes(("\r\n".join([header, *body]) + "\r\n").encode("cp932"))
    with pytest.raises(RegisterError) as info:
        read_register(path, SHIKI)
    assert [(e.line, e.column) for e in info.value.errors] == [
        (3, "birth_date"),
        (5, "sex"),
        (6, "resident_id"),
    ]
