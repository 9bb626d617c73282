"""The slips' QR codes: the affine shortcut gives segno's symbol with the study's mask."""

import numpy as np
import segno

from mailing.qrcodes import QrPattern
from survey.access_codes import generate
from survey.codes import display

PREFIX = "https://survey.city.example.jp/#code="


def segno_modules(url: str, mask: int) -> np.ndarray:
    return np.array(segno.make_qr(url, error="m", boost_error=False, mask=mask).matrix)


def test_every_code_gets_segnos_symbol_with_the_fixed_mask() -> None:
    codes = [display(c.code) for c in generate({"general": 60})]
    pattern = QrPattern(PREFIX, codes[0])
    assert pattern.mask == segno.make_qr(PREFIX + codes[0], error="m", boost_error=False).mask
    for code in codes:
        assert (pattern.modules(PREFIX + code) == segno_modules(PREFIX + code, pattern.mask)).all()


def test_urls_of_another_shape_go_to_segno() -> None:
    pattern = QrPattern(PREFIX, "ABCD-EFGH-JKMN-P")
    for url in (
        PREFIX + "ABC",
        "https://other.example/#code=ABCD-EFGH-JKMN-P",
        PREFIX + "ÄBCD-EFGH-JKMN-P",
    ):
        assert (pattern.modules(url) == segno_modules(url, pattern.mask)).all()
