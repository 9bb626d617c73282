"""The ``survey`` command as an officer uses it: exit codes, JSON, bilingual errors."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from survey.cli.main import cli
from survey.cohorts import COHORTS
from tests.conftest import SMALL_ALLOCATION, Row


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # Walk through list_commands/get_command, not group.commands: the top-level group loads
    # each command's module only when asked, so .commands alone misses all of them.
    out = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            out += all_commands(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


@pytest.mark.parametrize("path", all_commands(cli), ids=lambda p: " ".join(p) or "survey")
def test_help_everywhere(run, path: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "survey"
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "survey" in result.stdout


def test_usage_errors_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    assert run("sample", "--no-such-option").exit_code == 2
    result = run("study", "create", "Bad Name!", "--as-of", "2026-04-01")
    assert result.exit_code == 2
    assert "調査名" in result.stderr and "ASCII slug" in result.stderr
    assert run("study", "create", "x" * 33, "--as-of", "2026-04-01").exit_code == 2
    assert run("study", "create", "ok", "--as-of", "平成31年5月1日").exit_code == 2
    assert run("study", "set", "general_min_age=20").exit_code == 2  # no study yet


def test_study_create_set_show(run) -> None:  # type: ignore[no-untyped-def]
    assert (
        run(
            "study",
            "create",
            "shiki2026",
            "--as-of",
            "2026-04-01",
            "--fieldwork-start",
            "2026-06-01",
            "--fieldwork-end",
            "2026-07-31",
        ).exit_code
        == 0
    )
    result = run(
        "study", "set", "general_min_age=20", "infant_frame=checkup", "checkup_ages=4,18,36"
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(run("study", "show", "--json").stdout)
    assert shown["study"] == "shiki2026"
    settings = shown["settings"]
    assert settings["general_min_age"] == 20
    assert settings["infant_frame"] == "checkup"
    assert settings["fieldwork_end"] == "2026-07-31"
    assert settings["web_cohorts"] == ["elementary_guardian", "high_school", "general"]
    assert any(line["number"] == "0570-064-556" for line in settings["crisis_lines"])
    text = run("study", "show").stdout
    assert "* suppression_threshold = 10" in text  # default marked
    assert "  general_min_age = 20" in text
    for bad in (
        "nokey=1",
        "general_min_age=zero",
        "infant_frame=sometimes",
        "draw_order=general",
        "web_cohorts=aliens",
        "fieldwork_start=2026-08-01",
        "crisis_lines=[1]",
        "general_min_age",
    ):
        result = run("study", "set", bad)
        assert result.exit_code == 2, bad
        assert "Error:" in result.stderr and "エラー:" in result.stderr


def test_first_draw_creates_the_default_study(run, synth_register: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        SMALL_ALLOCATION,
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("frame", "removed", "sample", "no_frame", "seed", "register_sha256"):
        assert key in data
    assert data["study"] == "default"
    assert sum(data["sample"].values()) == 130
    # The seed is personal data (with the register it rebuilds the sample): never printed.
    assert data["seed"] is None and len(data["seed_sha256"]) == 64
    # Drawing again is refused; verification succeeds.
    again = run("sample", "--register", str(synth_register), "--as-of", "2026-04-01")
    assert again.exit_code == 1
    assert "--verify" in again.stderr
    verified = run("sample", "--verify", "--register", str(synth_register), "--json")
    assert verified.exit_code == 0
    assert json.loads(verified.stdout)["verified"] is True
    shown = json.loads(run("sample", "show", "--json").stdout)
    assert shown["selection_sha256"] == data["selection_sha256"]


def test_verify_with_a_resorted_register_passes_with_a_note(  # type: ignore[no-untyped-def]
    run, synth_register: Path, tmp_path: Path
) -> None:
    from tests.sampling.test_service import resorted

    args = ("--as-of", "2026-04-01", "--allocation", SMALL_ALLOCATION)
    assert run("sample", "--register", str(synth_register), *args).exit_code == 0
    shuffled = resorted(synth_register, tmp_path / "resorted.csv")
    result = run("sample", "--verify", "--register", str(shuffled))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "一致しました" in lines[0] and "matches the record" in lines[0]
    note = [line for line in lines if "not byte-identical" in line]
    assert len(note) == 1 and "SHA-256" in note[0] and "台帳ファイル" in note[0]
    data = json.loads(run("sample", "--verify", "--register", str(shuffled), "--json").stdout)
    assert data["verified"] is True and data["register_matches"] is False
    assert data["differences"] == []


def test_verify_with_another_register_fails(run, synth_register: Path, register_file) -> None:  # type: ignore[no-untyped-def]
    run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        "general=10",
    )
    other = register_file([Row("1", "H", "1980-01-01")])
    result = run("sample", "--verify", "--register", str(other))
    assert result.exit_code == 1
    assert "一致しません" in result.stderr


def test_bad_register_lists_every_row_and_draws_nothing(run, register_file) -> None:  # type: ignore[no-untyped-def]
    path = register_file(
        [
            Row("1", "H", "1980-01-01", name="秘密　花子"),
            Row("2", "H", "令和元年4月30日", name="秘密　花子"),
            Row("3", "H", "1980-01-01", sex="?", name="秘密　花子"),
        ]
    )
    result = run(
        "sample", "--register", str(path), "--as-of", "2026-04-01", "--allocation", "general=1"
    )
    assert result.exit_code == 1
    assert "3行目 生年月日 「令和元年4月30日」" in result.stderr
    assert "line 4, sex" in result.stderr
    assert "秘密" not in result.stderr + result.stdout
    assert "2 error(s)" in result.stderr
    # Nothing was kept, not even the default study the draw would have created.
    assert json.loads(run("study", "list", "--json").stdout) == []


def test_allocation_too_large_exits_1(run, synth_register: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        "junior_high=100000",
    )
    assert result.exit_code == 1
    assert "junior_high" in result.stderr


def test_several_studies_need_study_option(run, synth_register: Path) -> None:  # type: ignore[no-untyped-def]
    run("study", "create", "a", "--as-of", "2026-04-01")
    run("study", "create", "b", "--as-of", "2026-06-01")
    result = run("sample", "--register", str(synth_register), "--allocation", "general=5")
    assert result.exit_code == 2
    assert "--study" in result.stderr
    ok = run(
        "sample",
        "--study",
        "b",
        "--register",
        str(synth_register),
        "--allocation",
        "general=5",
        "--json",
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout)["as_of"] == "2026-06-01"
    env_ok = run("sample", "show", "--json", extra_env={"SURVEY_STUDY": "b"})
    assert json.loads(env_ok.stdout)["study"] == "b"
    mismatch = run(
        "sample", "--study", "a", "--register", str(synth_register), "--as-of", "2026-05-01"
    )
    assert mismatch.exit_code == 2


def test_commit_then_reveal_from_the_cli(run, synth_register: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    committed = run("sample", "commit", "--as-of", "2026-04-01", "--json")
    assert committed.exit_code == 0, committed.stderr
    digest = json.loads(committed.stdout)["seed_sha256"]
    result = run(
        "sample", "--register", str(synth_register), "--committed", "--allocation", "general=5"
    )
    assert result.exit_code == 0, result.stderr
    # The seed is not printed: the verifier gets it as a tracked file.
    assert "survey sample seed" in result.stdout
    assert f"seed SHA-256: {digest}" in result.stdout
    out = tmp_path / "handover" / "seed.json"
    handed = run("sample", "seed", "--out", str(out))
    assert handed.exit_code == 0, handed.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "survey-draw-seed/v1" and doc["committed"] is True
    # What the README tells the verifier to run: printf %s SEED | xxd -r -p | sha256sum
    assert hashlib.sha256(bytes.fromhex(doc["seed"])).hexdigest() == digest == doc["seed_sha256"]
    assert doc["seed"] not in result.stdout + result.stderr + handed.stdout + handed.stderr
    shown = json.loads(run("sample", "show", "--json").stdout)
    assert shown["seed"] is None and shown["selection_sha256"] == doc["selection_sha256"]
    # Never overwritten; the existing file stays.
    again = run("sample", "seed", "--out", str(out))
    assert again.exit_code == 2 and out.exists()
    from sqlmodel import select

    from survey.db import Database
    from survey.models import AuditEntry, TrackedFile
    from survey.settings import load_settings

    database = Database(load_settings())
    try:
        with database.session(write=False) as session:
            tracked = session.exec(select(TrackedFile)).all()
            actions = [e.action for e in session.exec(select(AuditEntry))]
    finally:
        database.dispose()
    assert [(t.kind, Path(t.path)) for t in tracked] == [("draw_seed", out.resolve())]
    assert tracked[0].sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert actions.count("file.draw_seed") == 1


def test_the_summary_never_shows_the_seed(run, synth_register: Path) -> None:  # type: ignore[no-untyped-def]
    seed = "5e" * 32
    args = ("--register", str(synth_register), "--as-of", "2026-04-01", "--allocation", "general=5")
    result = run("sample", *args, "--seed", seed)
    assert result.exit_code == 0, result.stderr
    shown = run("sample", "show")
    for out in (result.stdout, result.stderr, shown.stdout, run("sample", "show", "--json").stdout):
        assert seed not in out


def test_verify_after_erasure_says_the_draw_cannot_be_reproduced(  # type: ignore[no-untyped-def]
    run, synth_register: Path, env: dict[str, str]
) -> None:
    args = ("--register", str(synth_register))
    assert run("sample", *args, "--as-of", "2026-04-01", "--allocation", "general=5").exit_code == 0
    assert run("sample", "--verify", *args).exit_code == 0  # before erasure: as always
    (Path(env["SURVEY_KEY_DIR"]) / "default" / "roster.key").unlink()  # crypto-erasure
    for result in (run("sample", "--verify", *args), run("sample", "--verify", *args, "--json")):
        assert result.exit_code == 1
        assert "もう再現できません" in result.stderr
        assert "can no longer be reproduced" in result.stderr
    assert (
        run("sample", "seed", "--out", str(Path(env["SURVEY_DATA_DIR"]) / "s.json")).exit_code == 1
    )


def test_roster_export(run, synth_register: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        SMALL_ALLOCATION,
    )
    out = tmp_path / "roster.csv"
    result = run("roster", "export", "--csv", str(out))
    assert result.exit_code == 0, result.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert (
        lines[0]
        == "cohort,cohort_label,addressee,child,postal_code,address,building,checkup,checkup_month"
    )
    assert len(lines) == 131
    guardian = next(line for line in lines if line.startswith("infant_guardian"))
    assert "様 保護者様" in guardian and ",353-000" in guardian


def test_characters_outside_cp932_reach_the_roster_export(
    run, register_file, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = register_file(
        [Row("1", "H", "1980-01-01", name="𠮷田　太郎", address="埼玉県志木市本町1丁目1番")]
    )
    assert (
        run(
            "sample", "--register", str(path), "--as-of", "2026-04-01", "--allocation", "general=1"
        ).exit_code
        == 0
    )
    out = tmp_path / "roster.csv"
    run("roster", "export", "--csv", str(out))
    assert "𠮷田　太郎 様" in out.read_text(encoding="utf-8-sig")


def test_register_synth_is_deterministic(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert run("register", "synth", "--out", str(a), "--people", "3000").exit_code == 0
    run("register", "synth", "--out", str(b), "--people", "3000")
    run("register", "synth", "--out", str(c), "--people", "3000", "--seed", "2")
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


@pytest.mark.slow
def test_demo_no_serve(run, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = run("demo", "--no-serve", extra_env={"SURVEY_KEY_PASSPHRASE": ""})
    assert result.exit_code == 0, result.stderr
    assert "3,250" in result.stdout
    assert re.search(r"fingerprint: [0-9A-Z]{4}(-[0-9A-Z]{4}){7}", result.stdout)
    assert re.search(r"passphrase, shown once: [0-9A-Z]{5}(-[0-9A-Z]{5}){4}", result.stdout)
    demo_dir = Path(env["SURVEY_DATA_DIR"]) / "demo"
    for name in ("code-slips.pdf", "codes.csv", "labels.pdf", "labels-vendor.csv", "postcards.pdf"):
        assert (demo_dir / name).stat().st_size > 0 and str(demo_dir / name) in result.stdout
    # End to end: the simulated web answers were carried in a bundle, decrypted, and built
    # into the dataset (all 423, nothing quarantined) with the paper keyed twice, of every
    # cohort, and the one envelope answered on both channels counted once.
    assert "復号 / decrypted: 423（保留 quarantined 0）" in result.stdout
    assert "重複 duplicates 1" in result.stdout
    text = (demo_dir / "dataset.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.startswith("response_id,cohort,channel")
    assert sum(r["channel"] == "web" for r in rows) == 423
    assert {r["cohort"] for r in rows if r["channel"] == "paper"} == set(COHORTS)
    assert f"（{len(rows):,} 行 rows）" in result.stdout
    tries = re.findall(r"http://127\.0\.0\.1:8000/#code=([0-9A-Z-]{16})", result.stdout)
    assert len(tries) == 9  # three each for the three web-enabled cohorts
    codes_csv = (demo_dir / "codes.csv").read_text(encoding="utf-8")
    assert all(code in codes_csv for code in tries)
    accounts = re.findall(r"^  (officer|manager|analyst|admin) +(\S+)$", result.stdout, re.M)
    assert [role for role, _ in accounts] == ["officer", "manager", "analyst", "admin"]
    from sqlmodel import Session, select

    from survey.db import Database
    from survey.models import SealedResponse, TrackedFile
    from survey.settings import load_settings

    db = Database(load_settings(env))
    with Session(db.engine) as session:
        answers = session.exec(select(SealedResponse)).all()
        tracked = {Path(t.path) for t in session.exec(select(TrackedFile)).all()}
    db.dispose()
    # Plaintext codes only in tracked files (erasure destroys them): nowhere else in the data
    # or key folders, the database included.
    issued = set(re.findall(r"^[a-z_]+,([0-9A-Z-]{16})", codes_csv, re.M))
    assert len(issued) > 3250
    shape = re.compile(rb"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]")
    holding = {
        path
        for folder in (env["SURVEY_DATA_DIR"], env["SURVEY_KEY_DIR"])
        for path in Path(folder).rglob("*")
        if path.is_file() and issued & {m.decode() for m in shape.findall(path.read_bytes())}
    }
    assert holding and holding <= tracked, holding - tracked
    # 35 % of 500 elementary guardians, 12 % of 500 high-school students, 15 % of 1,250 adults
    assert len(answers) == 175 + 60 + 188
    assert len({a.day for a in answers}) >= 15  # spread over the fieldwork
    assert {a.cohort for a in answers} == {"elementary_guardian", "high_school", "general"}
    again = run("demo", "--no-serve", "--port", "8123")
    assert again.exit_code == 0 and "3,250" in again.stdout
    assert re.findall(r"#code=([0-9A-Z-]{16})", again.stdout) == tries  # still unused
    # The links are for the address served, whatever the slips were printed with.
    assert re.findall(r"http://127\.0\.0\.1:8123/#code=([0-9A-Z-]{16})", again.stdout) == tries
    assert re.findall(r"^  (officer|manager|analyst|admin) +(\S+)$", again.stdout, re.M) == accounts


@pytest.mark.postgres
def test_draw_on_postgresql(pg_bare_env: dict[str, str], synth_register: Path) -> None:
    exe = Path(sys.executable).parent / "survey"
    pg_env = pg_bare_env
    refused = subprocess.run(
        [str(exe), "sample", "show"],
        capture_output=True,
        text=True,
        env={**os.environ, **pg_env},
        check=False,
    )
    # On PostgreSQL commands never migrate: the owner runs `survey db upgrade` first.
    assert refused.returncode == 1 and "survey db upgrade" in refused.stderr
    upgraded = subprocess.run(
        [str(exe), "db", "upgrade"], env={**os.environ, **pg_env}, check=False
    )
    assert upgraded.returncode == 0
    result = subprocess.run(
        [
            str(exe),
            "sample",
            "--register",
            str(synth_register),
            "--as-of",
            "2026-04-01",
            "--allocation",
            SMALL_ALLOCATION,
            "--json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **pg_env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sum(json.loads(result.stdout)["sample"].values()) == 130
    verify = subprocess.run(
        [str(exe), "sample", "--verify", "--register", str(synth_register)],
        capture_output=True,
        text=True,
        env={**os.environ, **pg_env},
        check=False,
    )
    assert verify.returncode == 0, verify.stderr


def test_roster_export_never_overwrites_and_is_owner_only(
    run, synth_register: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        "general=5",
    )
    important = tmp_path / "important.txt"
    important.write_text("keep me")
    result = run("roster", "export", "--csv", str(important))
    assert result.exit_code == 2 and important.read_text() == "keep me"
    out = tmp_path / "roster.csv"
    assert run("roster", "export", "--csv", str(out)).exit_code == 0
    assert out.stat().st_mode & 0o077 == 0


def test_unexpected_errors_show_no_data(
    run, synth_register: Path, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import survey.cli.sample

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("志木　花子 埼玉県志木市本町1丁目")

    run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        "general=5",
    )
    monkeypatch.setattr(survey.cli.sample, "load_roster", boom)
    result = run("roster", "export", "--csv", str(tmp_path / "never.csv"))
    assert result.exit_code == 1
    assert "RuntimeError" in result.stderr and "志木" not in result.stderr + result.stdout
    assert not (tmp_path / "never.csv").exists()


def test_verify_refuses_options_it_would_ignore(run, synth_register: Path) -> None:  # type: ignore[no-untyped-def]
    for extra in (["--as-of", "2020-01-01"], ["--allocation", "general=2"], ["--seed", "00" * 32]):
        result = run("sample", "--verify", "--register", str(synth_register), *extra)
        assert result.exit_code == 2 and "--verify" in result.stderr


def test_malformed_names_allocations_and_urls_are_usage_errors(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("study", "create", "nl\n", "--as-of", "2026-04-01").exit_code == 2
    for bad in ("general=²", "general=1,general=2", "general=-1"):
        result = run("sample", "--register", str(tmp_path / "x.csv"), "--allocation", bad)
        assert result.exit_code == 2, bad
    for url in ("survey.city.example", "https://x.example/?a=1", "https://x.example/#top"):
        result = run("study", "list", extra_env={"SURVEY_PUBLIC_URL": url})
        assert result.exit_code == 2 and "SURVEY_PUBLIC_URL" in result.stderr, url


def test_setting_errors_keep_english_out_of_the_japanese_line(run) -> None:  # type: ignore[no-untyped-def]
    assert run("study", "create", "s", "--as-of", "2026-04-01").exit_code == 0
    result = run("study", "set", "general_min_age=abc")
    assert result.exit_code == 2
    ja = next(line for line in result.stderr.splitlines() if line.startswith("エラー"))
    assert "general_min_age" in ja and "not a whole number" not in ja
    # Plain words on the English line too, never Python's own ("invalid literal for int()").
    assert "not a whole number: 'abc'" in result.stderr
    assert "invalid literal" not in result.stderr and "int()" not in result.stderr
