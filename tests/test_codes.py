"""Access-code format: the Damm check over GF(32) and forgiving input."""

import random
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.codes import (
    TABLE,
    CodeFormatError,
    check_symbol,
    display,
    is_valid,
    new_code,
    normalize,
)
from survey.crypto import CROCKFORD


def test_table_is_a_latin_square() -> None:
    for row in TABLE:
        assert sorted(row) == list(range(32))
    for col in range(32):
        assert sorted(TABLE[r][col] for r in range(32)) == list(range(32))


def test_table_is_weakly_totally_anti_symmetric() -> None:
    for c, x, y in product(range(32), repeat=3):
        if x != y:
            assert TABLE[TABLE[c][x]][y] != TABLE[TABLE[c][y]][x]


def test_every_single_substitution_and_adjacent_swap_is_caught() -> None:
    rng = random.Random(2026)
    for _ in range(1500):
        data = "".join(rng.choice(CROCKFORD) for _ in range(12))
        code = data + check_symbol(data)
        assert is_valid(code)
        for i, wrong in product(range(13), CROCKFORD):
            if wrong != code[i]:
                assert not is_valid(code[:i] + wrong + code[i + 1 :])
        for i in range(12):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert not is_valid(swapped)


def test_new_codes_are_valid_unique_and_use_the_whole_alphabet() -> None:
    codes = [new_code() for _ in range(20_000)]
    assert len(set(codes)) == len(codes)
    assert all(is_valid(c) for c in codes)
    first = {c[0] for c in codes}
    assert first == set(CROCKFORD)


@given(st.data())
def test_forgiving_input(data: st.DataObject) -> None:
    code = new_code()
    shown = display(code)
    variant = data.draw(
        st.sampled_from(
            [
                shown,
                shown.lower(),
                shown.replace("-", " "),
                code,
                " " + shown + " ",
                shown.translate(
                    str.maketrans(
                        "0123456789ABCDEFGHJKMNPQRSTVWXYZ-",
                        "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＶＷＸＹＺ－",
                    )
                ),
                shown.replace("1", "I"),
                shown.replace("1", "l"),
                shown.replace("0", "O"),
                shown.replace("0", "o"),
                shown.replace("-", "ー"),
                shown.replace("-", "―"),
            ]
        )
    )
    assert normalize(variant) == code


@pytest.mark.parametrize("text", ["", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQ", "ABCD-EFGH-JKMU-0"])
def test_malformed_codes(text: str) -> None:
    with pytest.raises(CodeFormatError):
        normalize(text)


def test_typo_gives_a_japanese_message() -> None:
    code = new_code()
    typo = code[:3] + ("0" if code[3] != "0" else "1") + code[4:]
    with pytest.raises(CodeFormatError) as info:
        normalize(typo)
    assert "誤り" in info.value.ja


def test_display_format() -> None:
    assert display("ABCDEFGHJKMNP") == "ABCD-EFGH-JKMN-P"
