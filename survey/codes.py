"""One-time access codes: format, check symbol and forgiving input.

A code is 60 random bits in Crockford base32 (12 symbols) plus one check symbol, printed
``XXXX-XXXX-XXXX-C``. The check symbol is computed with the Damm algorithm over a quasigroup
of order 32 built on GF(32):

    x ∘ y = a·x + y   (multiplication and addition in GF(2^5), a = 2, i.e. the element "x")

For fixed x the map y ↦ a·x + y is a bijection and so is x ↦ a·x + y (a ≠ 0): the table is a
Latin square, so any single wrong symbol changes the result. (c∘x)∘y = a²c + a·x + y and
(c∘y)∘x = a²c + a·y + x are equal only when (a+1)(x+y) = 0, i.e. x = y since a ≠ 1: the
quasigroup is weakly totally anti-symmetric, so any swap of two different neighbours
(the check symbol included) changes the result. The check symbol c makes the final interim
zero: a·interim + c = 0, i.e. c = a·interim in characteristic 2.

This module is shared by both sides: the browser repeats the same check (the collector's
JavaScript) so typos are caught before any request.
"""

from __future__ import annotations

import secrets
import unicodedata

from survey.crypto import CROCKFORD, load_or_create_key, read_key_file
from survey.errors import DataError
from survey.settings import Settings

# The study's code-hash key (BLAKE2b key of the stored code hashes), in SURVEY_KEY_DIR/<study>/:
# the office and the collector each hold a copy, never the database.
CODE_HASH_KEY_FILE = "code-hash.key"

DATA_SYMBOLS = 12  # 60 bits
_GF32_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)
_A = 2
_VALUE = {ch: i for i, ch in enumerate(CROCKFORD)}
# Crockford's decoding rules: I and L read as 1, O as 0; lower case accepted.
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})


class CodeFormatError(DataError):
    """Not an access code (wrong length, a symbol outside the alphabet, or a bad check)."""


def _gf_mul(x: int, y: int) -> int:
    result = 0
    while y:
        if y & 1:
            result ^= x
        y >>= 1
        x <<= 1
        if x & 0b100000:
            x ^= _GF32_POLY
    return result


# The quasigroup table, 32 × 32: TABLE[x][y] = a·x + y.
TABLE: tuple[tuple[int, ...], ...] = tuple(
    tuple(_gf_mul(_A, x) ^ y for y in range(32)) for x in range(32)
)


def damm_interim(values: list[int]) -> int:
    interim = 0
    for v in values:
        interim = TABLE[interim][v]
    return interim


def check_symbol(data: str) -> str:
    """The check symbol for the data symbols ``data`` (canonical, no hyphens)."""
    return CROCKFORD[_gf_mul(_A, damm_interim([_VALUE[ch] for ch in data]))]


def is_valid(canonical: str) -> bool:
    return len(canonical) == DATA_SYMBOLS + 1 and damm_interim([_VALUE[c] for c in canonical]) == 0


def new_code() -> str:
    """A fresh canonical code (13 symbols) from the operating system's CSPRNG."""
    value = secrets.randbits(DATA_SYMBOLS * 5)
    data = "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(DATA_SYMBOLS)))
    return data + check_symbol(data)


def display(canonical: str) -> str:
    """``XXXX-XXXX-XXXX-C`` for print."""
    c = canonical
    return f"{c[0:4]}-{c[4:8]}-{c[8:12]}-{c[12]}"


def normalize(text: str) -> str:
    """Forgiving input: full-width forms, lower case, spaces, hyphens, I/L→1, O→0.

    Returns the canonical 13-symbol form or raises :class:`CodeFormatError`.
    """
    s = unicodedata.normalize("NFKC", text).upper().translate(_ALIASES)
    s = "".join(ch for ch in s if not ch.isspace() and ch not in "-‐‑‒–—―−ーｰ_")
    if len(s) != DATA_SYMBOLS + 1 or any(ch not in _VALUE for ch in s):
        raise CodeFormatError(
            "アクセスコードは 4-4-4-1 の13文字です。", "An access code has 13 symbols (4-4-4-1)."
        )
    if not is_valid(s):
        raise CodeFormatError(
            "アクセスコードに誤りがあります。もう一度ご確認ください。",
            "The access code has a typo (check symbol mismatch).",
        )
    return s


def code_hash_key(settings: Settings, study: str, create: bool = False) -> bytes:
    path = settings.study_key_dir(study) / CODE_HASH_KEY_FILE
    return load_or_create_key(path) if create else read_key_file(path)
