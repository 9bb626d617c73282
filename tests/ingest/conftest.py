"""A drawn study with codes issued, and the intake on it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from survey.db import Database
from survey.ingest.intake import Intake
from survey.settings import Settings, load_settings


@dataclass
class Issued:
    """Codes by cohort (plaintext, as the print CSV has them), the database and settings."""

    codes: dict[str, list[str]]
    db: Database
    settings: Settings
    study: str = "default"


@pytest.fixture
def issued(drawn, tmp_path: Path) -> Iterator[Issued]:  # type: ignore[no-untyped-def]
    out = tmp_path / "codes.csv"
    result = drawn("codes", "--out", str(tmp_path / "slips.pdf"), "--csv", str(out))
    assert result.exit_code == 0, result.stderr
    codes: dict[str, list[str]] = {}
    with out.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            codes.setdefault(row["cohort"], []).append(row["code"])
    settings = load_settings()
    db = Database(settings)
    yield Issued(codes, db, settings)
    db.dispose()


@pytest.fixture
def intake(issued: Issued) -> Intake:
    return Intake(issued.db.engine, issued.settings, issued.study)
