"""A separate collector: provisioned from the office, signing bundles the office trusts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from survey.db import Database
from survey.ingest.bundles import read_bundle
from survey.ingest.intake import Intake
from survey.ingest.provision import trusted_keys
from survey.models import Study
from survey.settings import load_settings
from tests.conftest import Issued
from tests.helpers import STUDY_PUBLIC_KEY, seal


@pytest.fixture
def collector_env(tmp_path: Path) -> dict[str, str]:
    return {
        "SURVEY_DATA_DIR": str(tmp_path / "collector" / "var"),
        "SURVEY_KEY_DIR": str(tmp_path / "collector" / "keys"),
    }


def test_provision_serve_bundle_and_trust(  # type: ignore[no-untyped-def]
    issued: Issued, run, collector_env: dict[str, str], tmp_path: Path
) -> None:
    provision = tmp_path / "collector.json"
    exported = run("collector", "export", "--out", str(provision), "--json")
    assert exported.exit_code == 0, exported.stderr
    doc = json.loads(provision.read_text(encoding="utf-8"))
    assert set(doc) == {
        "format", "study", "public_key", "fingerprint", "settings", "forms", "code_hash_key",
        "codes",
    }  # fmt: skip
    assert "roster" not in provision.read_text() and provision.stat().st_mode & 0o077 == 0

    imported = run("collector", "import", str(provision), "--json", extra_env=collector_env)
    assert imported.exit_code == 0, imported.stderr
    report = json.loads(imported.stdout)
    total = sum(len(c) for c in issued.codes.values())
    assert report["created"] and report["codes_added"] == total

    collector_settings = load_settings(collector_env)
    collector_db = Database(collector_settings)
    try:
        intake = Intake(collector_db.engine, collector_settings, "default")
        code = issued.codes["general"][0]
        intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": 1}))
    finally:
        collector_db.dispose()
    bundle = tmp_path / "bundle-1.json"
    result = run("bundle", "export", "--out", str(bundle), "--json", extra_env=collector_env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["records"] == 1

    # The office trusts the key the collector printed, and only then reads its bundles.
    trusted = run("bundle", "trust", report["bundle_signing_key"], "--json")
    assert trusted.exit_code == 0
    assert json.loads(trusted.stdout)["fingerprint"] == report["bundle_signing_fingerprint"]
    with Session(issued.db.engine) as session:
        keys = trusted_keys(session, session.exec(select(Study)).one())
    body = read_bundle(bundle.read_bytes(), keys)
    assert [r["cohort"] for r in body["records"]] == ["general"]

    # New spares reach the collector by importing again; used codes stay used.
    assert run("codes", "--out", str(tmp_path / "more.pdf"), "--additional", "2").exit_code == 0
    again = tmp_path / "collector-2.json"
    assert run("collector", "export", "--out", str(again)).exit_code == 0
    second = run("collector", "import", str(again), "--json", extra_env=collector_env)
    assert json.loads(second.stdout)["codes_added"] == 2 * len(issued.codes)
    assert json.loads(second.stdout)["bundle_signing_key"] == report["bundle_signing_key"]


def test_import_refuses_the_office_database_and_other_definitions(  # type: ignore[no-untyped-def]
    issued: Issued, run, collector_env: dict[str, str], tmp_path: Path
) -> None:
    provision = tmp_path / "collector.json"
    assert run("collector", "export", "--out", str(provision)).exit_code == 0
    same_db = run("collector", "import", str(provision))
    assert same_db.exit_code == 2 and "office" in same_db.stderr

    doc = json.loads(provision.read_text(encoding="utf-8"))
    doc["forms"][0]["sha256"] = "0" * 64
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc), encoding="utf-8")
    refused = run("collector", "import", str(changed), extra_env=collector_env)
    assert refused.exit_code == 1 and "same software release" in refused.stderr

    junk = tmp_path / "junk.json"
    junk.write_text("{}", encoding="utf-8")
    assert run("collector", "import", str(junk), extra_env=collector_env).exit_code == 1


def test_trust_refuses_a_malformed_key(issued: Issued, run) -> None:  # type: ignore[no-untyped-def]
    assert run("bundle", "trust", "not-a-key").exit_code == 2
