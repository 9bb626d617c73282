"""The study's design weights, per cohort (stratum) h.

    w_h = N'_h * (n_h - u_h) / (n_h * r_h)

N'_h: the frame after earlier draws (recorded by the draw: frame - removed); n_h: sampled;
u_h: undeliverable or ineligible (the receipt log, a later capability: zero until then);
r_h: valid responses. The finite population correction uses N'_h. A cohort with r_h = 0 has
no weight: it is reported as 「回答なし」 (no responses), never divided by zero.

The weights of a cohort sum to N'_h (n_h - u_h) / n_h, the estimated eligible population,
not to N'_h: raking targets must be scaled to that total (survey.analysis.study).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, select

from survey.cohorts import COHORT_LABELS, COHORTS
from survey.errors import DataError
from survey.fieldwork import undeliverable_counts
from survey.models import Draw, Response, Study

NO_RESPONSES = "回答なし"


@dataclass(frozen=True, slots=True)
class CohortCounts:
    cohort: str
    frame: int  # N'_h
    sampled: int  # n_h
    undeliverable: int  # u_h
    responses: int  # r_h

    @property
    def weight(self) -> float | None:
        if self.responses == 0:
            return None  # 「回答なし」: nothing to weight, and no division by zero
        if self.sampled <= self.undeliverable:
            raise DataError(
                f"{self.cohort}: 不達・対象外が抽出数以上なのに回答があります。",
                f"{self.cohort}: responses although every sampled unit is undeliverable.",
            )
        return self.frame * (self.sampled - self.undeliverable) / (self.sampled * self.responses)

    @property
    def status(self) -> str:
        return NO_RESPONSES if self.responses == 0 else ""


def weights_table(counts: Iterable[CohortCounts]) -> pd.DataFrame:
    """One row per cohort: N', n, u, r, w_h, the fpc and the 「回答なし」 status."""
    rows = [
        {
            "cohort": c.cohort,
            "label": COHORT_LABELS.get(c.cohort, c.cohort),
            "frame": c.frame,
            "sampled": c.sampled,
            "undeliverable": c.undeliverable,
            "responses": c.responses,
            "weight": c.weight,
            "fpc": c.frame,
            "status": c.status,
        }
        for c in counts
    ]
    return pd.DataFrame(rows).set_index("cohort")


def attach_weights(
    df: pd.DataFrame, counts: Iterable[CohortCounts], cohort: str = "cohort"
) -> pd.DataFrame:
    """A copy of the responses with ``weight`` (w_h) and ``N`` (N'_h) columns.

    The rows of each cohort must be its r_h valid responses: a weight computed for another
    number of rows would not add up to the cohort's population.
    """
    by_cohort = {c.cohort: c for c in counts}
    present = df[cohort].value_counts()
    wrong = []
    for name, rows in present.items():
        c = by_cohort.get(str(name))
        if c is None or c.responses != int(rows):
            expected = "?" if c is None else c.responses
            wrong.append(f"{name} ({rows} != r={expected})")
    if wrong:
        raise DataError(
            "回答の行数が有効回答数と一致しません: " + ", ".join(wrong),
            "Rows per cohort differ from the valid responses r_h: " + ", ".join(wrong),
        )
    out = df.copy()
    out["weight"] = out[cohort].map({k: c.weight for k, c in by_cohort.items()}).astype(float)
    out["N"] = out[cohort].map({k: c.frame for k, c in by_cohort.items()}).astype(float)
    return out


# --- what the office holds -----------------------------------------------------------------


def valid_responses(session: Session, study: Study) -> dict[str, int]:
    """r_h: valid responses per cohort: the accepted rows of the dataset, whatever the channel.

    Sealed answers not yet opened, quarantined ones and paper sheets set aside as duplicates
    are not responses the estimates can use, so they are not counted: a weight computed from
    another count would not make the cohort's rows add up to its population.
    """
    rows = session.exec(
        select(Response.cohort, func.count())
        .where(Response.study_id == study.id)
        .group_by(Response.cohort)
    ).all()
    return {str(cohort): int(n) for cohort, n in rows}


def study_counts(session: Session, study: Study) -> list[CohortCounts]:
    """N'_h, n_h, u_h and r_h of every drawn cohort."""
    draw = session.exec(select(Draw).where(Draw.study_id == study.id)).first()
    if draw is None:
        raise DataError(
            f"調査 {study.name} はまだ抽出していません。",
            f"Study {study.name!r} has not been drawn yet.",
        )
    responses = valid_responses(session, study)
    undeliverable = undeliverable_counts(session, study)
    return [
        CohortCounts(
            cohort,
            int(draw.frame[cohort]) - int(draw.removed.get(cohort, 0)),
            int(draw.sample.get(cohort, 0)),
            int(undeliverable.get(cohort, 0)),
            int(responses.get(cohort, 0)),
        )
        for cohort in COHORTS
        if cohort in draw.frame and draw.sample.get(cohort, 0)
    ]
