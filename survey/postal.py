"""Japanese postcodes (郵便番号): how a register writes them and how labels print them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_POSTAL_DASHES = re.compile(r"[-‐‑–—−ーｰ]")
# NNN-NNNN or seven digits. The hyphen anywhere else ("35-30002") is not how anyone writes a
# postcode but a typo, which may be a wrong digit too: an error, not a silent repair.
_POSTAL = re.compile(r"([0-9]{3})-?([0-9]{4})")


@lru_cache(maxsize=4096)
def parse_postal(value: str) -> str | None:
    """The seven digits of a postcode written ``NNN-NNNN`` or as seven digits, forgiving 〒,
    full-width digits and the various dashes; None for anything else."""
    text = unicodedata.normalize("NFKC", value).replace("〒", "").strip()
    match = _POSTAL.fullmatch(_POSTAL_DASHES.sub("-", text))
    return match.group(1) + match.group(2) if match else None


def postal_display(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"
