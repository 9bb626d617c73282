"""The dataset: its columns and codes, counts equal to accepted answers, no free text, the
canary answer nowhere but in the office database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session, select

from survey.collector.intake import Intake
from survey.errors import DataError
from survey.forms.loader import load_forms
from survey.ingest import dataset
from survey.ingest.decryption import decrypt_responses
from survey.models import Draw, Response
from tests.conftest import Issued
from tests.helpers import CANARY, STUDY_PRIVATE_KEY, STUDY_PUBLIC_KEY, carry_to_office, seal


def answered(intake: Intake, issued: Issued, tmp_path: Path) -> None:
    """Four general, two high-school web answers, carried to the office and decrypted."""
    plan = [("general", {"sex": 1, "ideation_ever": 1, "ideation_recent": 2, "opinion": CANARY})]
    plan += [("general", {"sex": 2, "k6_1": 4, "ideation_ever": 2})] * 3
    plan += [("high_school", {"grade": 1, "st_stress": [1, 3]}), ("high_school", {"grade": 1})]
    used: dict[str, int] = {}
    for cohort, answers in plan:
        code = issued.codes[cohort][used.setdefault(cohort, 0)]
        used[cohort] += 1
        intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, answers))
    assert carry_to_office(issued.db.engine, issued.settings, tmp_path / "b.json") == 6
    decrypt_responses(issued.db.engine, "default", STUDY_PRIVATE_KEY)


def test_columns_codes_and_counts(intake: Intake, issued: Issued, tmp_path: Path) -> None:
    answered(intake, issued, tmp_path)
    report = dataset.build(issued.db.engine, "default")
    assert report.rows == 6
    assert report.counts == {"general": {"web": 4}, "high_school": {"web": 2}}
    out = tmp_path / "dataset.csv"
    dataset.export(issued.db.engine, "default", out)
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    header = raw.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:6] == ["response_id", "cohort", "channel", "form", "version", "week"]
    assert header == dataset.columns(load_forms())  # exactly one header row, the known columns
    assert "opinion" not in header and "opinion_answered" in header
    assert CANARY not in raw.decode("utf-8-sig")
    general = [r for r in table if r["cohort"] == "general"]
    high = [r for r in table if r["cohort"] == "high_school"]
    assert sorted(r["opinion_answered"] for r in general) == ["0", "0", "0", "1"]
    assert all(r["sex"] in ("1", "2") and r["ideation_coping"] in ("-1", "-9") for r in general)
    assert all(r["occupation"] == "" for r in high)  # not on that form: empty, not -1
    # A multiple choice not on the form is empty too, never the text "nan" (it was, in the
    # dataset and in every file made from it: dataset.sav, the microdata).
    assert all(r["st_stress"] == "" for r in general)
    assert sorted(r["st_stress"] for r in high) == ["-9", "1 3"]
    assert all(r["sex"] == "-9" for r in high)  # on it, and left blank
    assert all(r["grade"] == "1" for r in high) and all(r["grade"] == "" for r in general)
    # Derived: the K6 total needs all six items (missing here), ideation within the past year.
    assert all(int(r["k6_total"]) < 0 for r in general)
    assert sorted(r["ideation_past_year"] for r in general) == ["0", "0", "0", "0"]
    assert [r["response_id"] for r in table] == sorted(r["response_id"] for r in table)


def test_parquet_and_a_build_that_no_longer_matches(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    answered(intake, issued, tmp_path)
    with pytest.raises(DataError, match="dataset build"):
        dataset.export(issued.db.engine, "default", tmp_path / "never-built.csv")
    dataset.build(issued.db.engine, "default")
    dataset.export(issued.db.engine, "default", tmp_path / "d.parquet")
    df = pd.read_parquet(tmp_path / "d.parquet")
    assert len(df) == 6 and str(df["sex"].dtype) == "Int64"
    with Session(issued.db.engine) as session:  # an answer changes after the build
        response = session.exec(select(Response)).first()
        assert response is not None
        response.answers = {**response.answers, "sex": 3}
        session.add(response)
        session.commit()
    with pytest.raises(DataError, match="dataset build"):
        dataset.export(issued.db.engine, "default", tmp_path / "stale.csv")


@pytest.mark.sqlite_only  # the SQLite file itself: the canary must be in it (the free-text table)
def test_the_canary_answer_is_only_in_the_office_database(  # type: ignore[no-untyped-def]
    intake: Intake, issued: Issued, tmp_path: Path, run
) -> None:
    answered(intake, issued, tmp_path)
    assert run("dataset", "build").exit_code == 0
    out = issued.settings.data_dir / "exports" / "dataset.csv"
    assert run("dataset", "export", "--out", str(out), "--json").exit_code == 0
    needle = CANARY.encode()
    holding = [
        p.name
        for folder in (issued.settings.data_dir, issued.settings.key_dir, tmp_path)
        for p in folder.rglob("*")
        if p.is_file() and needle in p.read_bytes()
    ]
    assert set(holding) <= {"survey.sqlite3", "survey.sqlite3-wal"} and holding
    result = run("audit", "verify", "--json")
    assert CANARY not in result.stdout
    assert json.loads(result.stdout)["ok"]


def test_weights_sum_to_each_cohorts_population(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    answered(intake, issued, tmp_path)
    dataset.build(issued.db.engine, "default")
    out = tmp_path / "weighted.csv"
    dataset.export(issued.db.engine, "default", out, weights=True)
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert list(df.columns[-2:]) == ["weight", "fpc"]
    with Session(issued.db.engine) as session:
        draw = session.exec(select(Draw)).one()
    for cohort, rows in df.groupby("cohort"):
        population = draw.frame[cohort] - draw.removed.get(cohort, 0)
        # Nothing undeliverable yet: w_h = N'_h / r_h, so a cohort's weights add up to N'_h.
        assert rows["weight"].sum() == pytest.approx(population)
        assert (rows["fpc"] == population).all()
        assert rows["weight"].nunique() == 1
    assert "weight" not in pd.read_csv(_plain(issued, tmp_path), encoding="utf-8-sig").columns


def _plain(issued: Issued, tmp_path: Path) -> Path:
    out = tmp_path / "plain.csv"
    dataset.export(issued.db.engine, "default", out)
    return out
