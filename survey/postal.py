"""Japanese postcodes (郵便番号): how a register writes them and how labels print them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_POSTAL_DASHES = re.compile(r"[-‐‑–—−ーｰ]")


@lru_cache(maxsize=4096)
def parse_postal(value: str) -> str | None:
    """The seven digits of a postcode written with or without hyphen, 〒 or full-width digits."""
    digits = _POSTAL_DASHES.sub("", unicodedata.normalize("NFKC", value).replace("〒", "")).strip()
    return digits if len(digits) == 7 and digits.isascii() and digits.isdigit() else None


def postal_display(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"
