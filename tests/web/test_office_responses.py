"""The analyst's pages: bundles in, decryption with an uploaded key held in memory only, the
quarantine, the dataset; and the same flow end to end in real Chromium."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser
from sqlmodel import Session, select

from survey.collector.export import export_bundle
from survey.collector.intake import Intake
from survey.crypto import KdfLimits, wrap_private_key
from survey.models import AuditEntry, Response
from survey.web.office import responses
from tests.conftest import Issued
from tests.helpers import (
    CANARY,
    STUDY_PRIVATE_KEY,
    STUDY_PUBLIC_KEY,
    seal,
)
from tests.web.office_helpers import PASSWORD, csrf, log_in, make_staff

Client = TestClient[Litestar]
PHRASE = "analyst key phrase 2026"
BASE_PATH = "/office/studies/default"


def bundles(intake: Intake, issued: Issued, tmp_path: Path, sizes: tuple[int, ...]) -> list[Path]:
    """Web answers in ``len(sizes)`` export bundles (``sizes[i]`` general answers each)."""
    out, used = [], 0
    for i, n in enumerate(sizes, start=1):
        for code in issued.codes["general"][used : used + n]:
            answers = {"sex": 1, "opinion": CANARY}
            intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, answers))
        used += n
        with Session(issued.db.engine) as session:
            export_bundle(session, issued.settings, "default", tmp_path / f"bundle-{i}.json")
            session.commit()
        out.append(tmp_path / f"bundle-{i}.json")
    return out


def key_file(tmp_path: Path) -> bytes:
    data = wrap_private_key(bytes(STUDY_PRIVATE_KEY), PHRASE, "default", KdfLimits(1, 8192))
    (tmp_path / "study-key.json").write_bytes(data)
    return data


def actions(issued: Issued) -> list[str]:
    with Session(issued.db.engine) as session:
        return [e.action for e in session.exec(select(AuditEntry)).all()]


def test_bundles_decryption_quarantine_and_dataset(
    issued: Issued, intake: Intake, office: Client, tmp_path: Path
) -> None:
    make_staff(issued.db, ann=["analyst"])
    log_in(office, "ann")
    first, second = bundles(intake, issued, tmp_path, (3, 2))
    files = [  # uploaded out of order: imported in chain order
        ("bundles", (p.name, p.read_bytes(), "application/json")) for p in (second, first)
    ]
    page = office.post(f"{BASE_PATH}/bundles", data={"csrf_token": csrf(office)}, files=files)
    assert page.status_code == 200
    assert "束 1: 回答 3 件" in page.text and "束 2: 回答 2 件" in page.text
    again = office.post(f"{BASE_PATH}/bundles", data={"csrf_token": csrf(office)}, files=files)
    assert again.text.count("取り込み済み") == 2

    key = key_file(tmp_path)
    token = csrf(office, f"{BASE_PATH}/responses")
    wrong = office.post(
        f"{BASE_PATH}/decrypt",
        data={"csrf_token": token, "password": PASSWORD, "passphrase": "not the phrase"},
        files={"key": ("study-key.json", key, "application/json")},
    )
    assert wrong.status_code == 200 and "パスフレーズが違います" in wrong.text
    with Session(issued.db.engine) as session:
        assert session.exec(select(Response)).all() == []
    token = csrf(office, f"{BASE_PATH}/responses")
    done = office.post(
        f"{BASE_PATH}/decrypt",
        data={"csrf_token": token, "password": PASSWORD, "passphrase": PHRASE},
        files={"key": ("study-key.json", key, "application/json")},
    )
    assert "5 件を回答として受け付けました" in done.text
    # The key file and the private key were never written on the server.
    secret = bytes(STUDY_PRIVATE_KEY)
    for path in issued.settings.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert secret not in content and json.loads(key)["box"].encode() not in content

    built = office.post(f"{BASE_PATH}/dataset/build", data={"csrf_token": csrf(office)})
    assert "データセットを作成しました: 5 行" in built.text
    refused = office.post(
        f"{BASE_PATH}/dataset.csv", data={"csrf_token": csrf(office), "password": "wrong one"}
    )
    assert refused.status_code == 403
    csv_reply = office.post(
        f"{BASE_PATH}/dataset.csv", data={"csrf_token": csrf(office), "password": PASSWORD}
    )
    assert csv_reply.status_code == 200 and "attachment" in csv_reply.headers["content-disposition"]
    text = csv_reply.content.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 5 and CANARY not in text
    assert {"bundle.import", "responses.decrypt", "dataset.build", "file.dataset"} <= set(
        actions(issued)
    )
    quarantined = office.get(f"{BASE_PATH}/quarantine.csv")
    assert quarantined.status_code == 200 and quarantined.content.startswith("\ufeff".encode())


def test_one_decryption_at_a_time(issued: Issued, office: Client, tmp_path: Path) -> None:
    make_staff(issued.db, ann=["analyst"])
    log_in(office, "ann")
    assert responses._decrypting.acquire(blocking=False)
    try:
        reply = office.post(
            f"{BASE_PATH}/decrypt",
            data={"csrf_token": csrf(office), "password": PASSWORD, "passphrase": PHRASE},
            files={"key": ("study-key.json", key_file(tmp_path), "application/json")},
        )
        assert reply.status_code == 400 and "別の復号を実行中" in reply.text
    finally:
        responses._decrypting.release()


@pytest.mark.sqlite_only  # one browser run covers the pages; the database work is tested above
def test_the_analysts_flow_in_chromium(
    browser: Browser, issued: Issued, intake: Intake, live_both: str, tmp_path: Path
) -> None:
    make_staff(issued.db, ann=["analyst"])
    (bundle,) = bundles(intake, issued, tmp_path, (4,))
    key_file(tmp_path)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_both}/office/login")
    page.fill("#username", "ann")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_both}/office/")
    page.click("text=回答データ")
    page.wait_for_url(f"{live_both}{BASE_PATH}/responses")
    page.set_input_files("#bundles", str(bundle))
    page.get_by_role("button", name="取り込む").click()
    page.wait_for_selector("text=束 1: 回答 4 件")
    page.set_input_files("#key", str(tmp_path / "study-key.json"))
    page.fill("#passphrase", PHRASE)
    page.fill("#pw-decrypt", PASSWORD)
    page.get_by_role("button", name="復号する").click()
    page.wait_for_selector("text=4 件を回答として受け付けました", timeout=60_000)
    page.click("text=回答データの画面へ戻る")
    page.get_by_role("button", name="データセットを作成する").click()
    page.wait_for_selector("text=データセットを作成しました: 4 行")
    page.fill("#pw-dataset", PASSWORD)
    with page.expect_download() as info:
        page.get_by_role("button", name="dataset.csv をダウンロード").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text("utf-8-sig"))))
    assert len(rows) == 4 and {r["cohort"] for r in rows} == {"general"}
    context.close()
