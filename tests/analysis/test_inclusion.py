"""Guardian households' inclusion probabilities: the draw records household types (counts
only), the analysis computes P(left in) per type; r_h and N'_h from what the office holds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import select

from survey.analysis.inclusion import (
    composition_factors,
    household_factors,
    inclusion_table,
    left_in,
)
from survey.analysis.study import study_design
from survey.analysis.weights import study_counts, valid_responses
from survey.db import Database
from survey.models import Draw, Response, SealedResponse
from survey.sampling.service import draw_study, parse_allocation
from survey.settings import Settings
from survey.study import create_study
from tests.analysis import synthetic

D = date(2026, 4, 1)
ALLOCATION = "infant_guardian=60,elementary_guardian=60,junior_high=80,high_school=80,general=300"


@pytest.fixture
def drawn_study(db: Database, settings: Settings, synth_register: Path) -> Draw:
    with db.session() as session:
        study = create_study(session, "s1", [("as_of", D.isoformat())])
        draw_study(
            session,
            settings,
            study,
            synth_register,
            D,
            parse_allocation(ALLOCATION),
            seed=bytes(32),
        )
        session.commit()
    with db.session() as session:
        return session.exec(select(Draw)).one()


def test_the_draw_records_household_types_not_households(drawn_study: Draw) -> None:
    types = drawn_study.household_types
    assert types
    for cohort in ("infant_guardian", "elementary_guardian"):
        mine = [t for t in types if t["cohort"] == cohort]
        assert sum(t["households"] for t in mine) == drawn_study.frame[cohort]
        assert sum(t["removed"] for t in mine) == drawn_study.removed[cohort]
    # Only counts and member numbers: no household id, no register value.
    for t in types:
        assert set(t) == {"cohort", "members", "households", "removed"}
        assert all(isinstance(v, int) for v in t["members"].values())
    assert not any(len(str(v)) >= 8 for t in types for v in t["members"].values())
    json.dumps(types)  # plain JSON
    infant = next(t for t in types if t["cohort"] == "infant_guardian")
    assert list(infant["members"]) == ["general", "junior_high", "high_school"]


def test_more_members_in_earlier_frames_means_less_often_left_in(drawn_study: Draw) -> None:
    table = inclusion_table(drawn_study).reset_index()
    elementary = table[table["cohort"] == "elementary_guardian"]
    assert (elementary["left_in"] <= 1).all()
    d = drawn_study
    one = left_in({"general": 1}, d)
    n, big_n = d.sample["general"], d.frame["general"] - d.removed["general"]
    assert one == pytest.approx(1 - n / big_n)
    assert left_in({"general": 2}, d) == pytest.approx((1 - n / big_n) * (1 - n / (big_n - 1)))
    assert left_in({"general": 2, "junior_high": 1}, d) < left_in({"general": 2}, d)
    # The formula's expected N'_h is close to what the draw left (it is random).
    for cohort, rows in table.groupby("cohort"):
        expected = (rows["households"] * rows["left_in"]).sum()
        left = d.frame[cohort] - d.removed[cohort]
        assert expected == pytest.approx(left, rel=0.1)


def test_composition_factors_by_adults(drawn_study: Draw) -> None:
    factors = composition_factors(drawn_study, "elementary_guardian")
    assert set(factors.index) >= {"1", "2", "?"}
    assert (factors >= 1).all()
    rows = pd.DataFrame(
        {"cohort": ["elementary_guardian"] * 4 + ["general"], "household": [6, 3, 4, -9, 3]}
    )
    applied = household_factors(rows, drawn_study)
    assert applied.iloc[-1] == 1.0  # person cohorts keep their weight
    assert applied.iloc[0] == pytest.approx(factors["1"])
    assert applied.iloc[3] == pytest.approx(factors["?"])


def test_counts_come_from_the_draw_and_the_accepted_responses(
    db: Database, drawn_study: Draw
) -> None:
    with db.session() as session:
        for i in range(7):
            session.add(
                Response(
                    id=f"{i:032x}",
                    study_id=drawn_study.study_id,
                    cohort="general",
                    channel="web" if i % 2 else "paper",
                    form_id="general",
                    version=1,
                    week="2026-W23",
                    answers={},
                    derived={},
                )
            )
        # A sealed answer not yet opened (or quarantined) is not a valid response.
        session.add(
            SealedResponse(
                id="f" * 32,
                study_id=drawn_study.study_id,
                cohort="general",
                form_id="general",
                version=1,
                day=D,
                sealed=b"x" * 8,
                sealed_hash=b"\xff" * 32,
            )
        )
        session.commit()
        from survey.models import Study

        study = session.exec(select(Study)).one()
        assert valid_responses(session, study) == {"general": 7}
        counts = {c.cohort: c for c in study_counts(session, study)}
    general = counts["general"]
    assert general.frame == drawn_study.frame["general"] - drawn_study.removed["general"]
    assert general.sampled == 300 and general.undeliverable == 0 and general.responses == 7
    assert counts["junior_high"].weight is None  # 「回答なし」


def test_study_design_corrects_guardian_weights(drawn_study: Draw) -> None:
    data = synthetic.responses().assign(household=3)
    plain = study_design(data, synthetic.counts())
    corrected = study_design(data, synthetic.counts(), drawn_study)
    guardian = data["cohort"].str.endswith("guardian")
    ratio = corrected.weights / plain.weights
    assert (ratio[~guardian] == 1).all()
    assert (ratio[guardian] > 1).all()


def test_a_draw_without_recorded_types_is_reported(drawn_study: Draw) -> None:
    from survey.errors import DataError

    old = drawn_study.model_copy(update={"household_types": None})
    with pytest.raises(DataError, match="0011"):
        inclusion_table(old)
