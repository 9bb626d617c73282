"""Every figure of ../shared/reference/r-survey/R-OUTPUTS.md, at its printed precision."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from survey.analysis import Design


def published(r_survey: Path) -> list[tuple[str, str, str, str]]:
    """(id, R call, quantity, printed value) of every row of the table."""
    rows = []
    for line in (r_survey / "R-OUTPUTS.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[A-D]\d+", cells[0]):
            rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def printed_precision(value: float, text: str) -> None:
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(value - float(text)) <= 0.5 * 10**-decimals * (1 + 1e-9), (value, text)


def figures(
    apipop: pd.DataFrame, dstrat: Design, dsrs: Design
) -> dict[tuple[str, str], Callable[[], float]]:
    t197 = stats.t.ppf(0.975, dstrat.df)
    api99 = dstrat.mean("api99").loc["api99"]
    out: dict[tuple[str, str], Callable[[], float]] = {
        ("A1", "value"): lambda: apipop["api00"].mean(),
        ("A2", "value"): lambda: apipop["enroll"].sum(),
        ("A3", "mean"): lambda: dstrat.mean("api00").loc["api00", "estimate"],
        ("A3", "SE"): lambda: dstrat.mean("api00").loc["api00", "se"],
        ("A4", "total"): lambda: dstrat.total("enroll").loc["enroll", "estimate"],
        ("A4", "SE"): lambda: dstrat.total("enroll").loc["enroll", "se"],
        ("B1", "total"): lambda: dstrat.total("api.stu").loc["api.stu", "estimate"],
        ("B1", "SE"): lambda: dstrat.total("api.stu").loc["api.stu", "se"],
        ("D1", "mean"): lambda: dstrat.mean("api_diff").loc["api_diff", "estimate"],
        ("D1", "SE"): lambda: dstrat.mean("api_diff").loc["api_diff", "se"],
        ("D1", "2.5 %"): lambda: dstrat.mean("api_diff").loc["api_diff", "ci_low"],
        ("D1", "97.5 %"): lambda: dstrat.mean("api_diff").loc["api_diff", "ci_high"],
        ("D3", "2.5 %"): lambda: api99["ci_low"],
        ("D3", "97.5 %"): lambda: api99["ci_high"],
        ("D3 df", "2.5 %"): lambda: api99["estimate"] - t197 * api99["se"],
        ("D3 df", "97.5 %"): lambda: api99["estimate"] + t197 * api99["se"],
        ("D3", "mean"): lambda: api99["estimate"],
        ("D5", "mean"): lambda: dstrat.mean("api99_700").loc[True, "estimate"],
        ("D5", "se"): lambda: dstrat.mean("api99_700").loc[True, "se"],
    }
    for s in "EHM":
        totals = dstrat.by("stype").total("diff_up")
        for flag in (False, True):
            out[("D2", f"{s} {str(flag).upper()} total")] = lambda s=s, flag=flag, t=totals: t.loc[
                (s, flag), "estimate"
            ]
        out[("D2", f"{s} se (FALSE=TRUE)")] = lambda s=s, t=totals: t.loc[(s, True), "se"]
        props = dstrat.by("stype").proportion("awards")
        for a in ("No", "Yes"):
            out[("D9", f"{s} awards{a} prop")] = lambda s=s, a=a, p=props: p.loc[(s, a), "estimate"]
            joint = dstrat.proportion("stype_awards").loc[f"{s}.{a}"]
            out[("D12", f"{s}.{a} prop")] = lambda j=joint: j["estimate"]
            out[("D12", f"{s}.{a} prop_se")] = lambda j=joint: j["se"]
        out[("D9", f"{s} prop_se")] = lambda s=s, p=props: p.loc[(s, "Yes"), "se"]
    for a in ("No", "Yes"):
        share = dstrat.proportion("awards").loc[a]
        out[("D6", f"awards{a} %")] = lambda s=share: 100 * s["estimate"]
        out[("D6", f"awards{a} % se")] = lambda s=share: 100 * s["se"]
        out[("D10", f"awards{a} mean")] = lambda a=a: dsrs.mean("awards").loc[a, "estimate"]
        out[("D10", f"awards{a} SE")] = lambda a=a: dsrs.mean("awards").loc[a, "se"]
        out[("D11", f"awards{a} total")] = lambda a=a: dsrs.total("awards").loc[a, "estimate"]
        out[("D11", f"awards{a} SE")] = lambda a=a: dsrs.total("awards").loc[a, "se"]
    by700 = dstrat.by("api99_700").mean("api00")
    for flag in (False, True):
        out[("D7", f"{flag} mean")] = lambda f=flag: by700.loc[f, "estimate"]
        out[("D7", f"{flag} se")] = lambda f=flag: by700.loc[f, "se"]
    for var in ("api00", "api99", "api.stu"):
        out[("D8", f"{var} mean")] = lambda v=var: dstrat.mean(v).loc[v, "estimate"]
        out[("D8", f"{var} se")] = lambda v=var: dstrat.mean(v).loc[v, "se"]
    return out


def test_every_published_figure(r_survey: Path, dstrat: Design, dsrs: Design) -> None:
    apipop = pd.read_csv(r_survey / "apipop.csv")
    table = figures(apipop, dstrat, dsrs)
    rows = published(r_survey)
    assert len(rows) >= 70
    for ident, call, quantity, value in rows:
        key = (f"{ident} df" if "df=degf" in call else ident, quantity)
        assert key in table, f"no computation for {key}"
        printed_precision(float(table[key]()), value)


def test_dropping_rows_outside_a_domain_would_give_other_ses(apistrat: pd.DataFrame) -> None:
    """The note of R-OUTPUTS: D7 over the full design is 7.88/7.15; dropped rows give
    7.93/7.20. The engine must give the former."""
    full = Design(apistrat, "stype", "pw", "fpc").by("api99_700").mean("api00")
    assert round(full.loc[False, "se"], 2) == 7.88 and round(full.loc[True, "se"], 2) == 7.15
    high = apistrat[apistrat["api99_700"]]
    dropped = Design(high, "stype", "pw", "fpc").mean("api00").loc["api00", "se"]
    assert round(dropped, 2) == 7.20


@pytest.mark.parametrize("column", ["pw", None])
def test_weights_from_fpc_as_r(apistrat: pd.DataFrame, column: str | None) -> None:
    """Without weights R derives N_h/n_h from the fpc: the same figures (pw is N_h/n_h
    rounded to float32, about 1e-8 relative)."""
    d = Design(apistrat, "stype", column, "fpc").mean("api00")
    assert d.loc["api00", "estimate"] == pytest.approx(662.287363, rel=1e-8)
    assert d.loc["api00", "se"] == pytest.approx(9.408941, rel=1e-6)
