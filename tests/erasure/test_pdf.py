"""The certificate PDF: Japanese text with embedded fonts, every section; a golden file of its
text with the variable parts (ids, times, hashes, fingerprints, paths, sizes) fixed.

Regenerate after an intended change with
``SURVEY_UPDATE_GOLDEN=1 pytest tests/erasure/test_pdf.py`` and review the diff like code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from survey.erasure.pdf import write_certificate_pdf
from tests.erasure.conftest import MANAGER, Erasable
from tests.mailing.conftest import fonts_embedded, pdf_text
from tests.mailing.test_golden import compare


def normalised(data: bytes, tmp: Path) -> bytes:
    text = data.decode()
    text = text.replace(str(tmp), "/srv/office")
    text = re.sub(r"\b[0-9a-f]{64}\b", "f" * 64, text)
    text = re.sub(r"\b[0-9a-f]{32}\b", "1" * 32, text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", "2026-06-10T09:00:00+00:00", text)
    text = re.sub(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){7}", "ABCD-" * 7 + "ABCD", text)
    text = re.sub(r'"size":\d+', '"size":1000', text)
    text = re.sub(r'"actor":"os:[^"]*"', '"actor":"os:operator"', text)
    return json.dumps(json.loads(text), ensure_ascii=False).encode()


@pytest.mark.sqlite_only  # the document is the same on both backends but for the method line
def test_the_certificate_pdf(erasable: Erasable) -> None:
    request_id = erasable.signed()
    cert, cert2 = erasable.tmp / "cert.json", erasable.tmp / "cert2.json"
    pdf = erasable.tmp / "cert.pdf"
    assert (
        erasable.execute(request_id, cert, "--checked", "printouts", "--pdf", str(pdf)).exit_code
        == 0
    )
    result = erasable.as_user(MANAGER, "erasure", "confirm", request_id, "--out", str(cert2))
    assert result.exit_code == 0, result.stderr
    text = pdf_text(pdf)
    for heading in (
        "1. 対象",
        "2. 方法と日時",
        "3. 確認の方法と結果",
        "4. 対象外",
        "5. 物理的な廃棄",
        "6. 署名",
    ):
        assert heading in text
    assert "（確認待ち）" in text and "［済］ 名簿・ラベルなどの試し刷り" in text
    assert all(emb == "yes" for _name, emb in fonts_embedded(pdf))
    fixed = erasable.tmp / "fixed.pdf"
    write_certificate_pdf(fixed, normalised(cert2.read_bytes(), erasable.tmp))
    compare("erasure-certificate.txt", pdf_text(fixed))
