"""A personal-data erasure of the whole demo study, once per backend (the demo takes ~30 s):
the leak check finds none of the 3,250 units' names and addresses, finds the canary, the
roster key and the seed are gone, the draw cannot be reproduced, and the anonymous answers
still build into the same dataset and `survey analyze` runs on them."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from survey.db import Database
from survey.models import DatasetBuild
from survey.settings import load_settings

pytestmark = pytest.mark.slow  # long: scheduled first (tests/conftest.py)


def test_a_personal_erasure_of_the_demo_study(  # type: ignore[no-untyped-def]
    run, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env.get("SURVEY_DATABASE_URL", "").startswith("postgresql"):
        env["SURVEY_OWNER_DATABASE_URL"] = env["SURVEY_DATABASE_URL"]  # the superuser owns all
        monkeypatch.setenv("SURVEY_OWNER_DATABASE_URL", env["SURVEY_DATABASE_URL"])
    assert run("demo", "--no-serve", extra_env={"SURVEY_KEY_PASSPHRASE": ""}).exit_code == 0
    data = Path(env["SURVEY_DATA_DIR"])
    passwords = dict(
        line.split("\t") for line in (data / "demo" / "accounts.txt").read_text().splitlines()
    )
    # The city keeps its register: a copy outside the system, to try --verify afterwards.
    city = tmp_path / "city" / "register.csv"
    city.parent.mkdir()
    shutil.copy(data / "demo-register.csv", city)
    with city.open(encoding="cp932") as fh:
        rows = list(csv.reader(fh))
    settings = load_settings()
    db = Database(settings)
    with Session(db.engine) as session:
        before = session.exec(select(DatasetBuild).order_by(col(DatasetBuild.id).desc())).first()
    db.dispose()
    assert before is not None and before.rows > 423  # the 423 web answers and the paper

    def as_user(role: str, *args: str):  # type: ignore[no-untyped-def]
        result = run("--user", role, *args, extra_env={"SURVEY_PASSWORD": passwords[role]})
        assert result.exit_code == 0, result.stderr
        return result

    request_id = json.loads(
        as_user("officer", "erasure", "request", "--study", "demo", "--json").stdout
    )["request"]
    as_user("officer", "erasure", "sign", request_id, "--yes")
    as_user("manager", "erasure", "sign", request_id, "--yes")
    cert, pdf = tmp_path / "cert.json", tmp_path / "cert.pdf"
    as_user("officer", "erasure", "execute", request_id, "--out", str(cert), "--pdf", str(pdf))
    doc = json.loads(cert.read_bytes())
    verification = doc["verification"]
    scan = verification["name_scan"]
    assert verification["passed"], verification
    assert scan["hits"] == [] and scan["unread"] == [] and scan["needles"] > 3250
    assert verification["canary"]["found"] == verification["canary"]["planted"]
    kinds = {a["kind"] for a in verification["left_in_data_folder"]["allowed"]}
    assert kinds >= {"demo_accounts", "analysis", "bundle"}
    assert {f["kind"] for f in doc["inventory"]["files"]} >= {"register", "labels", "code_slips"}
    assert not (data / "demo-register.csv").exists() and not (data / "demo" / "labels.pdf").exists()
    assert not (Path(env["SURVEY_KEY_DIR"]) / "demo" / "roster.key").exists()
    assert pdf.read_bytes().startswith(b"%PDF")
    # Neither the register's names nor its addresses are anywhere in the data folder.
    names = {r[2] for r in rows[1:]}
    for path in data.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".txt", ".json"):
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not any(n in text for n in list(names)[:2000]), path
    # The draw can no longer be reproduced, even with the city's register.
    verify = run("sample", "--verify", "--study", "demo", "--register", str(city))
    assert verify.exit_code == 1 and "can no longer be reproduced" in verify.stderr
    assert "もう再現できません" in verify.stderr
    # The anonymous answers are intact: the same dataset, built and exported again.
    built = json.loads(as_user("analyst", "dataset", "build", "--study", "demo", "--json").stdout)
    assert built["rows"] == before.rows and built["sha256"] == before.sha256
    out = tmp_path / "dataset-after.csv"
    as_user("analyst", "dataset", "export", "--study", "demo", "--out", str(out))
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 1 + before.rows
    # And the analysis still runs on them: every table, disclosure-safe.
    analysed = as_user(
        "analyst", "analyze", "--study", "demo", "--out", str(tmp_path / "out"), "--json"
    )
    assert json.loads(analysed.stdout)["audit_passed"] is True
    cert2, keys = tmp_path / "cert2.json", tmp_path / "keys.json"
    as_user("manager", "erasure", "confirm", request_id, "--out", str(cert2))
    as_user("manager", "users", "keys", "--export", str(keys))
    checked = run("erasure", "verify", str(cert2), "--trusted-keys", str(keys))
    assert checked.exit_code == 0 and "確認済み" in checked.stdout, checked.stderr
    anchored = run("audit", "verify", "--expect-head", doc["audit_head"])
    assert anchored.exit_code == 0, anchored.stderr
