"""A separate collector: its own database, provisioned from the office, signing bundles the
office trusts and imports."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, select

from survey.codes import code_hash_key, normalize
from survey.collector.intake import CodeUsed, Intake
from survey.crypto import code_hash
from survey.db import Database, make_engine
from survey.models import AccessCode, SealedResponse
from survey.settings import load_settings
from tests.conftest import Issued, new_pg_database
from tests.helpers import STUDY_PUBLIC_KEY, seal

COLLECTOR_TABLES = {
    "alembic_version_collector",
    "collector_study",
    "collector_code",
    "collector_response",
    "collector_bundle",
    "collector_signer",
}


@pytest.fixture
def collector_env(
    tmp_path: Path, env: dict[str, str], request: pytest.FixtureRequest
) -> dict[str, str]:
    """Another host: its own folders and its own, empty database on the same backend."""
    values = {
        "SURVEY_DATA_DIR": str(tmp_path / "collector" / "var"),
        "SURVEY_KEY_DIR": str(tmp_path / "collector" / "keys"),
        "SURVEY_DATABASE_URL": "",
    }
    if env.get("SURVEY_DATABASE_URL"):
        values["SURVEY_DATABASE_URL"] = new_pg_database(request.getfixturevalue("postgres_server"))
    return values


def tables(env: dict[str, str]) -> set[str]:
    engine = make_engine(load_settings(env))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_collector_database_holds_only_collector_tables(  # type: ignore[no-untyped-def]
    run_collector, collector_env: dict[str, str]
) -> None:
    result = run_collector("db", "upgrade", extra_env=collector_env)
    assert result.exit_code == 0, result.stderr
    assert tables(collector_env) == COLLECTOR_TABLES


def test_provision_serve_bundle_trust_and_import(  # type: ignore[no-untyped-def]
    issued: Issued, run, run_collector, collector_env: dict[str, str], tmp_path: Path
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
    assert {"fieldwork_end", "fieldwork_grace_days", "office_phone"} <= set(doc["settings"])

    # The collector host's owner migrates its tables first (on PostgreSQL nothing else does).
    assert run_collector("db", "upgrade", extra_env=collector_env).exit_code == 0
    imported = run_collector("import", str(provision), "--json", extra_env=collector_env)
    assert imported.exit_code == 0, imported.stderr
    report = json.loads(imported.stdout)
    total = sum(len(c) for c in issued.codes.values())
    assert report["created"] and report["codes_added"] == total
    assert tables(collector_env) == COLLECTOR_TABLES  # nothing of the office's

    collector_settings = load_settings(collector_env)
    collector_db = Database(collector_settings, ("collector",))
    try:
        intake = Intake(collector_db.engine, collector_settings, "default")
        code = issued.codes["general"][0]
        intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": 1}))
    finally:
        collector_db.dispose()
    bundle = tmp_path / "bundle-1.json"
    result = run_collector(
        "bundle", "export", "--out", str(bundle), "--json", extra_env=collector_env
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["records"] == 1

    # The office refuses the bundle until it trusts the key the collector printed.
    untrusted = run("bundle", "import", str(bundle))
    assert untrusted.exit_code == 1 and "trusted" in untrusted.stderr
    trusted = run("bundle", "trust", report["bundle_signing_key"], "--json")
    assert trusted.exit_code == 0
    assert json.loads(trusted.stdout)["fingerprint"] == report["bundle_signing_fingerprint"]
    first = run("bundle", "import", str(bundle), "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)[0]["added"] == 1
    with Session(issued.db.engine) as session:
        assert [r.cohort for r in session.exec(select(SealedResponse)).all()] == ["general"]

    # New spares reach the collector by importing again; used codes stay used.
    assert run("codes", "--out", str(tmp_path / "more.pdf"), "--additional", "2").exit_code == 0
    again = tmp_path / "collector-2.json"
    assert run("collector", "export", "--out", str(again)).exit_code == 0
    second = run_collector("import", str(again), "--json", extra_env=collector_env)
    assert json.loads(second.stdout)["codes_added"] == 2 * len(issued.codes)
    assert json.loads(second.stdout)["bundle_signing_key"] == report["bundle_signing_key"]


def test_import_refuses_other_definitions_and_junk(  # type: ignore[no-untyped-def]
    issued: Issued, run, run_collector, collector_env: dict[str, str], tmp_path: Path
) -> None:
    provision = tmp_path / "collector.json"
    assert run("collector", "export", "--out", str(provision)).exit_code == 0
    assert run_collector("db", "upgrade", extra_env=collector_env).exit_code == 0
    doc = json.loads(provision.read_text(encoding="utf-8"))
    doc["forms"][0]["sha256"] = "0" * 64
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc), encoding="utf-8")
    refused = run_collector("import", str(changed), extra_env=collector_env)
    assert refused.exit_code == 1 and "same software release" in refused.stderr

    junk = tmp_path / "junk.json"
    junk.write_text("{}", encoding="utf-8")
    assert run_collector("import", str(junk), extra_env=collector_env).exit_code == 1
    doc = json.loads(provision.read_text(encoding="utf-8"))
    doc["study"] = "../escape"
    bad_name = tmp_path / "bad-name.json"
    bad_name.write_text(json.dumps(doc), encoding="utf-8")
    assert run_collector("import", str(bad_name), extra_env=collector_env).exit_code == 2


def test_trust_refuses_a_malformed_key(issued: Issued, run) -> None:  # type: ignore[no-untyped-def]
    assert run("bundle", "trust", "not-a-key").exit_code == 2


def test_codes_used_on_paper_reach_an_installed_collector(  # type: ignore[no-untyped-def]
    issued: Issued, run, run_collector, collector_env: dict[str, str], tmp_path: Path
) -> None:
    full, update = tmp_path / "collector.json", tmp_path / "update.json"
    assert run("collector", "export", "--out", str(full)).exit_code == 0
    assert run_collector("db", "upgrade", extra_env=collector_env).exit_code == 0
    assert run_collector("import", str(full), extra_env=collector_env).exit_code == 0
    # A sheet came back on paper (the receipt log, later): the office marks its code used.
    paper = issued.codes["general"][0]
    key = code_hash_key(issued.settings, "default")
    with Session(issued.db.engine) as session:
        row = session.get(AccessCode, code_hash(key, normalize(paper)))
        assert row is not None
        row.used, row.channel = True, "paper"
        session.add(row)
        session.commit()
    exported = run("collector", "export", "--update", "--out", str(update), "--json")
    assert exported.exit_code == 0 and json.loads(exported.stdout)["used"] == 1
    doc = json.loads(update.read_text(encoding="utf-8"))
    assert doc["update"] is True and "code_hash_key" not in doc
    imported = run_collector("import", str(update), "--json", extra_env=collector_env)
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["codes_marked_used"] == 1
    settings = load_settings(collector_env)
    database = Database(settings, ("collector",))
    try:
        intake = Intake(database.engine, settings, "default")
        with pytest.raises(CodeUsed):
            intake.check(paper)
        other = issued.codes["general"][1]
        intake.submit(other, seal(STUDY_PUBLIC_KEY, intake.check(other).form, {}))
    finally:
        database.dispose()
    bundle = tmp_path / "b1.json"
    assert (
        run_collector("bundle", "export", "--out", str(bundle), extra_env=collector_env).exit_code
        == 0
    )
    consumed = json.loads(bundle.read_bytes())["bundle"]["consumed"]
    assert consumed == [base64.b64encode(code_hash(key, normalize(other))).decode()]


def test_an_update_needs_an_installed_study(  # type: ignore[no-untyped-def]
    issued: Issued, run, run_collector, collector_env: dict[str, str], tmp_path: Path
) -> None:
    update = tmp_path / "update.json"
    assert run("collector", "export", "--update", "--out", str(update)).exit_code == 0
    assert run_collector("db", "upgrade", extra_env=collector_env).exit_code == 0
    refused = run_collector("import", str(update), extra_env=collector_env)
    assert refused.exit_code == 2 and "without --update" in refused.stderr
