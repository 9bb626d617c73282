"""The vectorised first pass gives the row-by-row reader's result, exactly."""

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.errors import DataError
from survey.register import fastread
from survey.register.reader import Register, RegisterError, read_register
from tests.conftest import HEADERS_JA

SHIKI = ["上宗岡", "中宗岡", "下宗岡", "本町", "幸町", "館", "柏町", "宗岡"]

# Values each column takes in the fuzzed registers: plain ones, and every kind of trouble
# the plain checks must hand to the row-by-row check (blanks, full-width forms, formulas).
CHOICES = {
    "resident_id": ["{n}", "{n}", "{n}", "Ｒ{n}", " {n}", "{n}\u3000", "", "x y{n}", "7"],
    "household_id": ["H1", "H2", "Ｈ１", " H3 ", "", "h\u00a0"],
    "name": ["志木　太郎", "髙橋　一郎", "", " 花子", "=1+1", "@x", "\u3000次郎", "-志木"],
    "name_kana": ["シキ　タロウ", "", "+1", " カナ"],
    "birth_date": [
        "1980-01-01",
        "1990/4/1",
        "昭和57年3月3日",
        "H30.10.10",
        "R1.4.30",
        "平成31年5月1日",
        "1980-02-30",
        "1867-12-31",
        "",
        " 2010-04-01 ",
        "２０１０／４／１",
        "bad",
    ],
    "sex": ["男", "女", "1", "2", "男性", "X", "", " 女", "２"],
    "relation": ["世帯主", "", "=x"],
    "postal_code": ["353-0004", "3530004", "〒353-0004", "35-30002", "", " 353-0004", "1"],
    "address": [
        "埼玉県志木市本町1丁目1番1号",
        "志木市中宗岡1-2-3",
        "東京都世田谷区太子堂四丁目1番",
        "",
        " 埼玉県志木市館二丁目5番",
        "@SUM(1)",
        "埼玉県志木市宗岡",
    ],
    "building": ["", "パークハイツ志木101号室", "=1+1", " ハイツ"],
}


def fuzzed(rng: random.Random, rows: int, bad: float) -> list[str]:
    lines = [",".join(HEADERS_JA)]
    for n in range(rows):
        if rng.random() < bad:
            cells = [rng.choice(v).format(n=n) for v in CHOICES.values()]
        else:
            cells = [v[0].format(n=n) for v in CHOICES.values()]
            cells[0] = rng.choice(["{n}", "{n}", "Ｒ{n}"]).format(n=n)
        shape = rng.random()
        if shape < 0.02 * bad * 10:
            cells = cells[: rng.randint(1, 9)]  # too few fields
        elif shape < 0.04 * bad * 10:
            cells.append(rng.choice(["", "", "x", " "]))  # a surplus field
        line = ",".join(cells)
        if rng.random() < 0.02:
            lines.append(rng.choice(["", ",,,,,,,,,", " , ", "\u3000"]))  # blank lines
        lines.append(line)
    return lines


def both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    def outcome() -> object:
        try:
            register = read_register(data, SHIKI)
        except RegisterError as exc:
            return [str(e) for e in exc.errors]
        except DataError as exc:
            return ("DataError", exc.en)
        return [tuple(p) for p in register.persons]

    fast = outcome()
    with monkeypatch.context() as m:
        m.setattr(fastread, "read", lambda *a, **k: None)
        slow = outcome()
    return fast, slow


@pytest.mark.parametrize("seed", range(12))
def test_fuzzed_registers_read_alike(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    bad = [0.0, 0.01, 0.3][seed % 3]
    lines = fuzzed(rng, 400, bad)
    encoding = ["utf-8", "cp932", "utf-8-sig"][seed % 3 if seed < 9 else 1]
    eol = "\r\n" if seed % 2 else "\n"
    text = eol.join(lines) + (eol if seed % 4 else "")
    data = text.encode(encoding, errors="replace")
    assert fastread.read(data, SHIKI) is not None  # the vectorised path did run
    fast, slow = both(data, monkeypatch)
    assert fast == slow


def test_several_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastread, "_CHUNK", 2000)  # many chunks, lines cut at their ends
    lines = fuzzed(random.Random(99), 600, 0.05)
    data = ("\r\n".join(lines) + "\r\n").encode("cp932", errors="replace")
    fast, slow = both(data, monkeypatch)
    assert fast == slow
    lines = fuzzed(random.Random(98), 600, 0.0)
    data = ("\r\n".join(lines) + "\r\n").encode("cp932", errors="replace")
    fast, slow = both(data, monkeypatch)
    assert isinstance(fast, list) and fast and fast == slow


def test_a_bad_byte_in_a_later_chunk_leaves_the_file_to_the_row_by_row_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fastread, "_CHUNK", 2000)  # the bad chunk is parsed ahead, in a thread
    lines = fuzzed(random.Random(7), 600, 0.0)
    data = ("\r\n".join(lines) + "\r\n").encode("cp932", errors="replace") + b"\x82\xff\r\n"
    assert fastread.read(data, SHIKI) is None
    with pytest.raises(DataError):
        read_register(data, SHIKI)


def test_drawn_rows_are_read_from_their_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = fuzzed(random.Random(5), 300, 0.0)
    lines[1] += ",,"  # trailing commas on one row
    data = ("\r\n".join(lines) + "\r\n").encode("cp932", errors="replace")
    fast = read_register(data, SHIKI)
    assert fast.one_line_records is not None
    wanted = [p.line for p in fast.persons[::7]]
    monkeypatch.setattr(fastread, "read", lambda *a, **k: None)
    slow = read_register(data, SHIKI)
    assert slow.one_line_records is None
    assert fast.residents(wanted) == slow.residents(wanted)


def test_files_the_vectorised_path_leaves_to_the_row_by_row_reader() -> None:
    header = ",".join(HEADERS_JA)
    row = "1,H,志木　太郎,,1980-01-01,男,,353-0004,本町1,"
    for data in (
        f'{header}\r\n"1",H,志木,,1980-01-01,男,,353-0004,本町1,\r\n'.encode(),  # quotes
        f"{header}\r{row}\r".encode(),  # bare CR line ends
        f"{header}\r\n{row}\r\n{row}\r{row}\r\n".encode(),  # one bare CR among CRLF
        f"{header}\r\n{row}\r".encode(),  # a CR as the last byte
        f"{header}\r\n{row}\x00\r\n".encode(),  # NUL
        f"{header}\r\n".encode() + b"\x82\xff\r\n",  # an undecodable byte
        b"",
    ):
        assert fastread.read(data, SHIKI) is None


@given(st.lists(st.sampled_from([b"a", b"\r", b"\n", b"\r\n"]), max_size=30).map(b"".join))
def test_a_bare_cr_is_one_without_its_lf(data: bytes) -> None:
    assert fastread._bare_cr(data) == (data.count(b"\r") != data.count(b"\r\n"))


def test_python_whitespace_list_is_what_strip_removes() -> None:
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == fastread.PY_WHITESPACE


def test_synthetic_register_takes_the_vectorised_path(synth_register: Path) -> None:
    register = read_register(synth_register, SHIKI)
    assert isinstance(register, Register) and register.one_line_records is not None


@pytest.mark.parametrize("block", [1, 3, 7, 1 << 24])
def test_line_starts_in_blocks(block: int) -> None:
    from survey.register.reader import _line_starts

    data = b"ab\r\ncd\n\nefg\r\nh"
    expected = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]
    assert _line_starts(data, block).tolist() == expected
