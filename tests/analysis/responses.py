"""A demo-like dataset without a database: the demo's simulated answers of every cohort,
accepted as the office accepts them (validation, skip logic, derived variables) and framed
as ``survey dataset build`` frames them."""

from __future__ import annotations

import random
from datetime import date

import pandas as pd

from survey.analysis.inputs import Inputs
from survey.analysis.study import study_design
from survey.analysis.weights import CohortCounts
from survey.cohorts import COHORT_LABELS
from survey.fieldwork import CohortRate, Fieldwork
from survey.forms.loader import current_forms, load_forms
from survey.ingest.accept import accept_answers
from survey.ingest.dataset import frame_of
from survey.models import Response, Study
from survey.simulate import random_answers

# The demo's answers per cohort (web and paper together), its frame and sample sizes.
DEMO = {
    "infant_guardian": (1500, 400, 200),
    "elementary_guardian": (2600, 400, 230),
    "junior_high": (1700, 400, 80),
    "high_school": (1800, 400, 80),
    "general": (61000, 1650, 540),
}


def dataset(sizes: dict[str, int] | None = None, seed: int = 3) -> pd.DataFrame:
    rng = random.Random(seed)
    forms = current_forms(load_forms())
    study = Study(id=1, name="demo", created_on=date(2026, 6, 1))
    responses: list[Response] = []
    for cohort, n in (sizes or {c: r for c, (_, _, r) in DEMO.items()}).items():
        form = forms[cohort]
        for _ in range(n):
            channel = rng.choice(["web", "paper"])
            out = accept_answers(
                study, cohort, channel, date(2026, 6, 8), form, random_answers(form, rng)
            )
            assert out.response is not None
            out.response.id = f"{rng.getrandbits(128):032x}"  # reproducible (uuid4 is not)
            responses.append(out.response)
    responses.sort(key=lambda r: r.id)
    return frame_of(responses)


def counts(df: pd.DataFrame) -> list[CohortCounts]:
    present = df["cohort"].value_counts()
    return [CohortCounts(c, N, n, 0, int(present.get(c, 0))) for c, (N, n, _) in DEMO.items()]


def inputs(df: pd.DataFrame, threshold: int = 10) -> Inputs:
    """survey.analysis.inputs.Inputs as load() builds them from a study's database, for the
    rows of :func:`dataset` (no draw: no household factor; the fieldwork from the counts)."""
    by_channel = df.groupby(["cohort", "channel"]).size()
    rates = [
        CohortRate(
            c.cohort,
            COHORT_LABELS[c.cohort],
            c.sampled,
            c.undeliverable,
            int(by_channel.get((c.cohort, "paper"), 0)),
            int(by_channel.get((c.cohort, "web"), 0)),
        )
        for c in counts(df)
    ]
    work = Fieldwork("demo", rates, {}, {}, {}, None, None)
    forms = current_forms(load_forms())
    design = study_design(df, counts(df), None)
    return Inputs("demo", df, design, counts(df), None, work, forms, threshold, "test")
