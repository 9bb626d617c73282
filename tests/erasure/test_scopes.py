"""The answers' and the collector keys' scopes, and an interrupted execution resumed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, func, select

from survey.cli.main import cli
from survey.codes import CODE_HASH_KEY_FILE
from survey.collector.intake import Intake
from survey.collector.models import CollectorResponse
from survey.erasure import destroy
from survey.ingest import keying, receipts
from survey.ingest.keying import Sheet
from survey.models import (
    ErasureRequest,
    PaperEntry,
    PaperReceipt,
    Response,
    SealedResponse,
)
from survey.roster import roster_key_path
from tests.conftest import Issued
from tests.erasure.conftest import MANAGER, OFFICER, Erasable, confirm
from tests.helpers import STUDY_PUBLIC_KEY, carry_to_office, seal
from tests.web.office_helpers import hold_key_ceremony, make_staff


@pytest.fixture
def with_answers(
    issued: Issued, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Erasable:  # type: ignore[no-untyped-def]
    url = env.get("SURVEY_DATABASE_URL", "")
    if url.startswith("postgresql"):
        env["SURVEY_OWNER_DATABASE_URL"] = url
        monkeypatch.setenv("SURVEY_OWNER_DATABASE_URL", url)
    intake = Intake(issued.db.engine, issued.settings, "default")
    for code in issued.codes["general"][:3]:
        intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {}))
    assert (
        carry_to_office(
            issued.db.engine, issued.settings, issued.settings.data_dir / "bundle-0001.json"
        )
        == 3
    )
    # And one paper sheet, keyed twice and accepted.
    (no,) = receipts.log(issued.db.engine, "default", "general", "B1", date(2026, 6, 3)).numbers
    sheet = Sheet(issued.codes["general"][5], {"sex": "2", "opinion": "紙の自由記述"})
    for operator in ("alice", "bob"):
        keying.enter(issued.db.engine, issued.settings, "default", no, operator, sheet)
    make_staff(issued.db, **{MANAGER: ["manager"], OFFICER: ["officer"]})
    hold_key_ceremony(issued.db, MANAGER)
    confirm(issued.db, OFFICER, MANAGER)

    def run(*args: str, extra_env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(
            cli, list(args), env={**env, **(extra_env or {})}, catch_exceptions=False
        )

    return Erasable(run, issued.db, issued.settings, env, tmp_path)


def test_the_answers_scope_empties_every_answer_table(with_answers: Erasable) -> None:
    e = with_answers
    request_id = e.signed("responses")
    cert = e.tmp / "cert.json"
    assert e.execute(request_id, cert).exit_code == 0
    doc = json.loads(cert.read_bytes())
    with Session(e.db.engine) as session:
        for model in (SealedResponse, Response, CollectorResponse, PaperEntry):
            assert session.exec(select(func.count()).select_from(model)).one() == 0
        # The receipt stays (the design table counts it), linked to no code and no answer.
        (sheet,) = session.exec(select(PaperReceipt)).all()
        assert sheet.code_hash is None and sheet.response_id is None
    rows = doc["execution"]["rows"]
    assert rows["sealed_response"] == 3 and rows["collector_response"] == 3
    assert rows["paper_entry"] == 2 and rows["response"] == 1  # the sheet (web: sealed)
    # The bundle in the data folder holds answers: on the allow-list for the personal scope,
    # reported for this one.
    assert doc["verification"]["left_in_data_folder"]["unlisted"] == ["bundle-0001.json"]
    assert not doc["verification"]["passed"]
    assert roster_key_path(e.settings, "default").exists()  # another scope: untouched


def test_the_collector_keys_scope_destroys_both_keys(with_answers: Erasable) -> None:
    e = with_answers
    folder = e.settings.study_key_dir("default")
    assert (folder / CODE_HASH_KEY_FILE).exists() and (folder / "bundle-signing.key").exists()
    request_id = e.signed("collector-keys")
    cert = e.tmp / "cert.json"
    assert e.execute(request_id, cert).exit_code == 0
    doc = json.loads(cert.read_bytes())
    assert [k["file"] for k in doc["execution"]["keys"]] == [
        CODE_HASH_KEY_FILE,
        "bundle-signing.key",
    ]
    assert (
        not (folder / CODE_HASH_KEY_FILE).exists() and not (folder / "bundle-signing.key").exists()
    )
    assert roster_key_path(e.settings, "default").exists()


def test_an_interrupted_execution_resumes_and_says_so(
    erasable: Erasable, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = erasable.signed()

    def power_cut(*_args: object) -> None:
        raise OSError("the machine lost power")

    monkeypatch.setattr(destroy, "compact", power_cut)
    cert = erasable.tmp / "cert.json"
    assert erasable.execute(request_id, cert).exit_code == 1
    assert not roster_key_path(erasable.settings, "default").exists()  # the key went first
    with Session(erasable.db.engine) as session:
        assert session.get(ErasureRequest, request_id).status == "executing"  # type: ignore[union-attr]
    monkeypatch.undo()
    result = erasable.execute(request_id, cert)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(cert.read_bytes())
    assert doc["execution"]["resumed"] and not doc["verification"]["name_scan"]["performed"]
    assert doc["verification"]["checks"][0] == {
        "check": "tables_empty", "passed": True,
        "rows": {"roster_unit": 0, "draw.seed_sealed": 0, "seed_commitment.seed_sealed": 0},
    }  # fmt: skip
