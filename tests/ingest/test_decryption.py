"""Decryption on the office: accepted answers, edits, quarantine, the cap, the key never kept."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.public
import pytest
from sqlmodel import Session, select

from survey.collector.intake import Intake
from survey.crypto import KdfLimits, wrap_private_key
from survey.decrypt import unwrap_private_key
from survey.errors import DataError
from survey.forms.loader import Form
from survey.ingest.decryption import CapExceeded, decrypt_responses
from survey.models import (
    EditLog,
    FreeText,
    Quarantine,
    Response,
    SealedResponse,
)
from tests.conftest import Issued
from tests.helpers import CANARY, STUDY_PRIVATE_KEY, STUDY_PUBLIC_KEY, carry_to_office, seal

FAST = KdfLimits(1, 8192)  # a throwaway key file for tests: the real one uses SENSITIVE


def submit(intake: Intake, code: str, answers: dict[str, Any], study: str = "default") -> Form:
    form = intake.check(code).form
    intake.submit(code, seal(STUDY_PUBLIC_KEY, form, answers, study))
    return form


def sealed_raw(form: Form, doc: dict[str, Any]) -> str:
    """A payload as an attacker might build it (any JSON), sealed at the form's size."""
    data = json.dumps(doc).encode()
    padded = nacl.bindings.sodium_pad(data, form.padded_size)
    box = nacl.public.SealedBox(nacl.public.PublicKey(STUDY_PUBLIC_KEY))
    return base64.b64encode(bytes(box.encrypt(padded))).decode()


def carry(issued: Issued, tmp_path: Path, name: str = "b.json") -> None:
    assert carry_to_office(issued.db.engine, issued.settings, tmp_path / name) > 0


def rows(issued: Issued, model: Any) -> list[Any]:
    with Session(issued.db.engine) as session:
        return list(session.exec(select(model)).all())


def test_accepted_answers_become_responses_with_new_ids_and_weeks(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    codes = issued.codes["general"][:3]
    for i, code in enumerate(codes):
        submit(intake, code, {"sex": i % 2 + 1, "opinion": f"{CANARY}{i}", "consult": [1, 3]})
    carry(issued, tmp_path)
    report = decrypt_responses(issued.db.engine, "default", STUDY_PRIVATE_KEY)
    assert report.opened == {"general": 3} and not report.quarantined
    responses = rows(issued, Response)
    sealed_ids = {r.id for r in rows(issued, SealedResponse)}
    assert len(responses) == 3 and not {r.id for r in responses} & sealed_ids
    for r in responses:
        assert r.channel == "web" and r.week.startswith("20") and "-W" in r.week
        assert r.answers["opinion"] == 1  # answered: the text is elsewhere
        assert r.answers["consult"] == [1, 3] and r.answers["sex"] in (1, 2)
        assert CANARY not in json.dumps(r.answers, ensure_ascii=False)
        assert r.answers["ideation_coping"] == -1  # the skip logic hid it (no ideation answer)
    texts = sorted(t.text for t in rows(issued, FreeText))
    assert texts == [f"{CANARY}{i}" for i in range(3)]
    assert all(r.opened for r in rows(issued, SealedResponse))
    again = decrypt_responses(issued.db.engine, "default", STUDY_PRIVATE_KEY)
    assert not again.opened and len(rows(issued, Response)) == 3  # nothing opened twice


def test_a_wrong_key_is_refused_and_nothing_is_stored(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    submit(intake, issued.codes["general"][0], {"sex": 1})
    carry(issued, tmp_path)
    with pytest.raises(DataError, match="not study"):
        decrypt_responses(issued.db.engine, "default", nacl.public.PrivateKey.generate())
    assert rows(issued, Response) == [] and rows(issued, Quarantine) == []
    assert not any(r.opened for r in rows(issued, SealedResponse))


def test_bad_answers_are_quarantined_with_their_reason(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    a, b, c, d, e = issued.codes["general"][:5]
    general = submit(intake, a, {"sex": 1})
    intake.submit(b, seal(STUDY_PUBLIC_KEY, general, {"sex": 1}, study="another"))
    doc = {
        "study": "default",
        "cohort": "high_school",
        "form": "general",
        "version": general.version,
    }
    intake.submit(c, sealed_raw(general, {**doc, "answers": {}}))
    doc["cohort"] = "general"
    intake.submit(d, sealed_raw(general, {**doc, "answers": {"sex": 1, "injected": 5}}))
    intake.submit(e, sealed_raw(general, {**doc, "answers": ["not", "an", "object"]}))
    carry(issued, tmp_path)
    with Session(issued.db.engine) as session:  # a byte altered in the office's copy of a
        row = session.exec(select(SealedResponse)).first()  # sealed answer
        assert row is not None
        row.sealed = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
        session.add(row)
        session.commit()
    report = decrypt_responses(issued.db.engine, "default", STUDY_PRIVATE_KEY)
    assert sum(report.opened.values()) + sum(report.quarantined.values()) == 5
    reasons = {q.reason for q in rows(issued, Quarantine)}
    assert {"cannot_open", "other_study", "other_cohort", "unknown_item", "malformed"} >= reasons
    assert len(reasons) >= 4  # the altered one replaced one of the others
    assert {"other_study", "unknown_item"} & reasons
    unknown = [q for q in rows(issued, Quarantine) if q.reason == "unknown_item"]
    assert all(q.detail == "injected" for q in unknown)


def test_invalid_answers_become_minus_8_with_an_edit_log_line(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    code = issued.codes["general"][0]
    submit(intake, code, {"sex": 7, "measures": [1, 2, 3, 4, 5], "ideation_coping": [1]})
    carry(issued, tmp_path)
    decrypt_responses(issued.db.engine, "default", STUDY_PRIVATE_KEY)
    (response,) = rows(issued, Response)
    assert response.answers["sex"] == -8 and response.answers["measures"] == -8
    assert response.answers["ideation_coping"] == -1  # hidden by the skip logic: the skip wins
    edits = {(e.variable, e.value) for e in rows(issued, EditLog)}
    assert edits == {("sex", -8), ("measures", -8), ("ideation_coping", -1)}


def test_more_web_answers_than_web_codes_consumed_stops_the_run(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    submit(intake, issued.codes["general"][0], {"sex": 1})
    carry(issued, tmp_path)
    with Session(issued.db.engine) as session:  # an answer no consumed code accounts for
        (held,) = session.exec(select(SealedResponse)).all()
        session.add(
            SealedResponse(
                id="ab" * 16,
                study_id=held.study_id,
                cohort="general",
                form_id="general",
                version=1,
                day=held.day,
                sealed=held.sealed[::-1],
                sealed_hash=b"\x01" * 32,
                import_id=held.import_id,
            )
        )
        session.commit()
    with pytest.raises(CapExceeded, match="general: 2 > 1"):
        decrypt_responses(issued.db.engine, "default", STUDY_PRIVATE_KEY)
    assert rows(issued, Response) == [] and rows(issued, Quarantine) == []


def test_decrypt_on_the_command_line_with_a_key_file(  # type: ignore[no-untyped-def]
    intake: Intake, issued: Issued, run, tmp_path: Path
) -> None:
    submit(intake, issued.codes["general"][0], {"sex": 2})
    carry(issued, tmp_path)
    key_file = tmp_path / "study-key.json"
    key_file.write_bytes(
        wrap_private_key(bytes(STUDY_PRIVATE_KEY), "correct horse 2026", "x", FAST)
    )
    assert unwrap_private_key(key_file.read_bytes(), "correct horse 2026") is not None
    wrong = run(
        "responses", "decrypt", "--key", str(key_file),
        extra_env={"SURVEY_KEY_PASSPHRASE": "wrong passphrase 2026"},
    )  # fmt: skip
    assert wrong.exit_code == 1 and "passphrase" in wrong.stderr.lower()
    assert rows(issued, Response) == []
    ok = run(
        "responses", "decrypt", "--key", str(key_file), "--json",
        extra_env={"SURVEY_KEY_PASSPHRASE": "correct horse 2026"},
    )  # fmt: skip
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["accepted"] == {"general": 1}
    listing = run("responses", "quarantine", "--json")
    assert listing.exit_code == 0 and json.loads(listing.stdout) == []
