"""Shared data of the analysis tests: R's api data (../shared/reference/r-survey) and the
synthetic five-cohort study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from survey.analysis import Design

REPO = Path(__file__).resolve().parents[2]
R_SURVEY = REPO.parent / "shared" / "reference" / "r-survey"


@pytest.fixture(scope="session")
def r_survey() -> Path:
    if not (R_SURVEY / "apistrat.csv").is_file():
        from tests.conftest import require_program

        require_program(f"the R survey reference data ({R_SURVEY})", False)
    return R_SURVEY


@pytest.fixture(scope="session")
def apistrat(r_survey: Path) -> pd.DataFrame:
    data = pd.read_csv(r_survey / "apistrat.csv")
    data["api_diff"] = data["api00"] - data["api99"]
    data["diff_up"] = data["api_diff"] >= 0
    data["api99_700"] = data["api99"] > 700
    data["stype_awards"] = data["stype"] + "." + data["awards"]
    return data


@pytest.fixture(scope="session")
def dstrat(apistrat: pd.DataFrame) -> Design:
    return Design(apistrat, strata="stype", weights="pw", fpc="fpc")


@pytest.fixture(scope="session")
def dsrs(r_survey: Path) -> Design:
    return Design(pd.read_csv(r_survey / "apisrs.csv"), strata=None, weights=None, fpc="fpc")
