"""The engine against the golden file of R's figures (tests/analysis/reference.R), at 1e-6
relative; and the golden file against what the script prints now (when R is installed)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from survey.analysis import Design
from survey.analysis.study import rake_general, study_design
from survey.models import FrameCount
from tests.analysis import synthetic
from tests.conftest import require_program

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "reference.csv"
SCRIPT = HERE / "reference.R"


def read_golden(text: str) -> dict[str, float]:
    return {row["key"]: float(row["value"]) for row in csv.DictReader(text.splitlines())}


def frame_cells() -> list[FrameCount]:
    """Integer sex x age cells with the targets as margins (north-west corner rule)."""
    sex = dict(synthetic.SEX_TARGETS)
    age = dict(synthetic.AGE_TARGETS)
    cells = []
    for s in sex:
        for a in age:
            take = min(sex[s], age[a])
            if take > 0:
                cells.append(
                    FrameCount(
                        draw_id=1,
                        cohort="general",
                        sex=s,
                        age_band=a,
                        district="-",
                        units=int(take),
                        removed=0,
                    )
                )
            sex[s] -= take
            age[a] -= take
    return cells


def split(domain: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in domain.split(";")) if "=" in domain else {}


def _cast(value: str) -> object:
    return int(value) if value.lstrip("-").isdigit() else value


class Engine:
    def __init__(self, dstrat: Design, dsrs: Design) -> None:
        self.api = {"all": dstrat, "srs": dsrs}
        self.api["rake"] = dstrat.rake(
            {
                "stype": pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0}),
                "sch.wide": pd.Series({"No": 1072.0, "Yes": 5122.0}),
            }
        )
        syn = study_design(synthetic.responses(), synthetic.counts())
        self.syn = {"all": syn, "rake": rake_general(syn, frame_cells())}

    def value(self, key: str) -> float:
        block, stat, var, domain, quantity = key.split("|")
        designs = self.api if block == "api" else self.syn
        if stat == "chisq":
            row, col = var.split(":")
            result = designs["all"].chisq(row, col)
            field = {"F": "statistic", "ndf": "ndf", "ddf": "ddf", "p": "p_value"}[quantity]
            return float(getattr(result, field))
        raked = stat.startswith("rake.")
        design = designs["rake" if raked else ("srs" if domain == "srs" else "all")]
        stat = stat.removeprefix("rake.")
        name, _, category = var.partition("=")
        kind = "proportion" if stat == "kg" else stat
        if category and kind != "proportion":
            # R's svymean(~as.numeric(x == category)): the mean of an indicator (NA kept)
            values = design.data[name]
            indicator = (values.astype(str) == category).astype(float)
            design = design.assign(indicator=indicator.where(design.valid(name)))
            name, category = "indicator", ""
        by = split(domain)
        if by:
            table = getattr(design.by(list(by)), kind)(name)
            label: tuple[object, ...] = tuple(_cast(v) for v in by.values())
        else:
            table = getattr(design, kind)(name)
            label = ()
        if category:
            label = (*label, _cast(category))
        row = table.loc[label if len(label) > 1 else (label[0] if label else name)]
        column = {"est": "estimate", "se": "se", "low": "ci_low", "high": "ci_high", "df": "df"}
        return float(row[column[quantity]])


@pytest.fixture(scope="module")
def engine(dstrat: Design, dsrs: Design) -> Engine:
    return Engine(dstrat, dsrs)


def golden_keys() -> Iterator[str]:
    yield from read_golden(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", list(golden_keys()))
def test_engine_matches_r(engine: Engine, key: str) -> None:
    expected = read_golden(GOLDEN.read_text(encoding="utf-8"))[key]
    assert engine.value(key) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_golden_file_is_what_the_r_script_prints(tmp_path: Path, r_survey: Path) -> None:
    rscript = shutil.which("Rscript")
    require_program("Rscript (r-base-core, r-cran-survey)", rscript is not None)
    assert rscript is not None
    synthetic.write(tmp_path)
    run = subprocess.run(
        [rscript, str(SCRIPT), str(r_survey), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    now = read_golden(run.stdout)
    golden = read_golden(GOLDEN.read_text(encoding="utf-8"))
    assert list(now) == list(golden), "the script prints other figures than the golden file"
    for key, value in golden.items():
        # 15 significant digits are printed: allow only the last one to move (libm).
        assert now[key] == pytest.approx(value, rel=1e-12, abs=1e-300), key
