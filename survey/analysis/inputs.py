"""What the analysis reads from the office database: the dataset as last built, its design,
the draw's records and the fieldwork counts (read once, in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session, select

from survey.analysis.design import Design
from survey.analysis.opinions import Published, published
from survey.analysis.study import study_design
from survey.analysis.weights import CohortCounts, study_counts
from survey.cohorts import COHORT_LABELS, GUARDIAN_COHORTS
from survey.fieldwork import Fieldwork, fieldwork
from survey.forms.loader import Form, current_forms, load_forms
from survey.ingest import dataset
from survey.models import Draw, Study
from survey.study import effective_settings


@dataclass(slots=True)
class Inputs:
    study: str
    df: pd.DataFrame
    design: Design
    counts: list[CohortCounts]
    draw: Draw | None
    fieldwork: Fieldwork
    forms: dict[str, Form]
    threshold: int
    sha256: str
    opinions: Published | None = None  # coded counts and approved excerpts


def load(session: Session, study: Study) -> Inputs:
    df, report = dataset.current(session, study)
    counts = study_counts(session, study)
    draw = session.exec(select(Draw).where(Draw.study_id == study.id)).first()
    design = study_design(df, counts, draw)
    threshold = int(effective_settings(study)["suppression_threshold"])
    return Inputs(
        study.name,
        df,
        design,
        counts,
        draw,
        fieldwork(session, study),
        current_forms(load_forms()),
        threshold,
        report.sha256,
        published(session, study, threshold),
    )


# --- the exempt tables: the sample design and the response rates -------------------------


def design_table(inputs: Inputs) -> pd.DataFrame:
    """Cohort, unit, N_h, m_h (removed by earlier draws), N'_h, n_h, undeliverable, valid
    responses by channel, response rate and weight: from the draw's records, exact."""
    channel = inputs.df.groupby(["cohort", "channel"]).size()
    draw = inputs.draw
    rows: list[dict[str, Any]] = []
    for c in inputs.counts:
        frame = int(draw.frame.get(c.cohort, 0)) if draw else c.frame
        removed = int(draw.removed.get(c.cohort, 0)) if draw else 0
        web = int(channel.get((c.cohort, "web"), 0))
        paper = int(channel.get((c.cohort, "paper"), 0))
        eligible = c.sampled - c.undeliverable
        rows.append(
            {
                "対象": COHORT_LABELS.get(c.cohort, c.cohort),
                "抽出単位": "世帯" if c.cohort in GUARDIAN_COHORTS else "個人",
                "N_h（枠）": frame,
                "m_h（先の抽出で除外）": removed,
                "N'_h": c.frame,
                "n_h（抽出数）": c.sampled,
                "不達・対象外": c.undeliverable,
                "有効回答（Web）": web,
                "有効回答（紙）": paper,
                "有効回答（計）": c.responses,
                "回答率": c.responses / eligible if eligible > 0 else None,
                "重み w_h": c.weight,
            }
        )
    return pd.DataFrame(rows)


def rates_table(inputs: Inputs) -> pd.DataFrame:
    """The response-rate table exactly as survey/fieldwork.py computes it (not recomputed)."""
    work = inputs.fieldwork
    rows = []
    for r in [*work.rates, work.overall]:
        rows.append(
            {
                "対象": r.label,
                "抽出数": r.sampled,
                "不達": r.undeliverable,
                "配布数": r.eligible,
                "紙": r.paper,
                "Web": r.web,
                "回収数": r.total,
                "回収率": r.rate,
            }
        )
    return pd.DataFrame(rows)
