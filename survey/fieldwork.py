"""Response rates during fieldwork: per cohort, overall, cumulative by day.

Web answers are counted by cohort and day from the sealed answers the office holds (the
collector's table in one-process mode; bundle import adds imported answers in a split
deployment). Paper sheets and undeliverable returns come from the receipt log
(:mod:`survey.ingest.receipts`). The figures are exact and reveal nothing beyond
cohort and day.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlmodel import Session, col, func, select

from survey.cohorts import COHORT_LABELS, COHORTS
from survey.ingest import receipts
from survey.models import Draw, SealedResponse, Study
from survey.spreadsheet import DictWriter
from survey.study import effective_settings


@dataclass(frozen=True, slots=True)
class CohortRate:
    cohort: str
    label: str
    sampled: int
    undeliverable: int
    paper: int
    web: int

    @property
    def total(self) -> int:
        return self.paper + self.web

    @property
    def eligible(self) -> int:
        # Envelopes returned as undeliverable never reached anyone: not in the denominator.
        return self.sampled - self.undeliverable

    @property
    def rate(self) -> float | None:
        return self.total / self.eligible if self.eligible > 0 else None


def web_counts_by_day(session: Session, study: Study) -> dict[str, dict[date, int]]:
    query = (
        select(col(SealedResponse.cohort), col(SealedResponse.day), func.count())
        .where(SealedResponse.study_id == study.id)
        .group_by(col(SealedResponse.cohort), col(SealedResponse.day))
    )
    rows = session.exec(query).all()
    out: dict[str, dict[date, int]] = defaultdict(dict)
    for cohort, day, n in rows:
        out[cohort][day] = int(n)
    return out


def paper_counts_by_day(session: Session, study: Study) -> dict[str, dict[date, int]]:
    """Sheets with answers logged in the receipt log, by cohort and day of arrival."""
    return receipts.returned_by_day(session, study)


def undeliverable_counts(session: Session, study: Study) -> dict[str, int]:
    """Envelopes that reached no one, or no one eligible (the receipt log, with a reason)."""
    return receipts.undeliverable(session, study)


@dataclass(frozen=True, slots=True)
class Fieldwork:
    study: str
    rates: list[CohortRate]
    web_by_day: dict[str, dict[date, int]]
    paper_by_day: dict[str, dict[date, int]]
    targets: dict[str, float]
    start: date | None
    end: date | None

    @property
    def overall(self) -> CohortRate:
        return CohortRate(
            "overall",
            "全体",
            sum(r.sampled for r in self.rates),
            sum(r.undeliverable for r in self.rates),
            sum(r.paper for r in self.rates),
            sum(r.web for r in self.rates),
        )

    @property
    def last_day(self) -> date | None:
        days = [d for src in (self.web_by_day, self.paper_by_day) for c in src.values() for d in c]
        return max(days) if days else None

    def cumulative(self, cohort: str) -> list[tuple[date, int]]:
        """Cumulative answers (web and paper) per day, from fieldwork start (or the first day
        with any) to the last day any cohort has answers."""
        per_day: dict[date, int] = defaultdict(int)
        for source in (self.web_by_day, self.paper_by_day):
            for day, n in source.get(cohort, {}).items():
                per_day[day] += n
        if not per_day:
            return []
        first, last = min(per_day), max(max(per_day), self.last_day or max(per_day))
        if self.start is not None:
            first = min(first, self.start)
        out, running, day = [], 0, first
        while day <= last:
            running += per_day.get(day, 0)
            out.append((day, running))
            day += timedelta(days=1)
        return out


def fieldwork(session: Session, study: Study) -> Fieldwork:
    values = effective_settings(study)
    draw = session.exec(select(Draw).where(Draw.study_id == study.id)).first()
    sample = draw.sample if draw else {}
    web = web_counts_by_day(session, study)
    paper = paper_counts_by_day(session, study)
    undeliverable = undeliverable_counts(session, study)
    rates = [
        CohortRate(
            cohort,
            COHORT_LABELS[cohort],
            int(sample.get(cohort, 0)),
            undeliverable.get(cohort, 0),
            sum(paper.get(cohort, {}).values()),
            sum(web.get(cohort, {}).values()),
        )
        for cohort in COHORTS
        if sample.get(cohort, 0) or web.get(cohort)
    ]

    def day(key: str) -> date | None:
        return date.fromisoformat(values[key]) if values.get(key) else None

    return Fieldwork(
        study.name,
        rates,
        web,
        paper,
        dict(values.get("response_targets") or {}),
        day("fieldwork_start"),
        day("fieldwork_end"),
    )


CSV_COLUMNS = [
    "cohort",
    "cohort_label",
    "sampled",
    "undeliverable",
    "eligible",
    "paper",
    "web",
    "total",
    "response_rate",
]


def row(r: CohortRate) -> dict[str, Any]:
    return {
        "cohort": r.cohort,
        "cohort_label": r.label,
        "sampled": r.sampled,
        "undeliverable": r.undeliverable,
        "eligible": r.eligible,
        "paper": r.paper,
        "web": r.web,
        "total": r.total,
        "response_rate": "" if r.rate is None else f"{r.rate:.4f}",
    }


def rates_csv(work: Fieldwork) -> bytes:
    """The dashboard table as CSV (UTF-8 with BOM, so Excel reads the Japanese labels)."""
    buf = io.StringIO()
    writer = DictWriter(buf, fieldnames=CSV_COLUMNS)  # formula-like text stays text
    writer.writeheader()
    for r in [*work.rates, work.overall]:
        writer.writerow(row(r))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


@cache
def _japanese_font() -> Any:
    from matplotlib.font_manager import FontProperties

    from mailing.fonts import gothic_path

    return FontProperties(fname=str(gothic_path()))  # IPAex Gothic, embedded in the PNG


def chart_png(work: Fieldwork) -> bytes:
    """Cumulative response rate by day per cohort, with target lines (Japanese labels).

    Drawn on a Figure of its own (no pyplot, no global rcParams): requests render charts in
    worker threads at the same time.
    """
    from matplotlib import dates as mdates
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    font = _japanese_font()
    fig = Figure(figsize=(8, 4.5), dpi=110)
    ax = fig.subplots()
    colors = rcParams["axes.prop_cycle"].by_key()["color"]
    top, seen_days = 100.0, []
    for i, r in enumerate(work.rates):
        color = colors[i % len(colors)]
        points = work.cumulative(r.cohort)
        if points and r.eligible > 0:
            days = [d for d, _ in points]
            values = [100 * n / r.eligible for _, n in points]
            seen_days += days
            top = max(top, *values)  # spare codes can take a cohort past 100 %
            ax.step(
                days,  # type: ignore[arg-type]
                values,
                where="post",
                color=color,
                label=r.label,
                marker="o",
                markersize=2.5,
            )
        target = work.targets.get(r.cohort)
        if target is not None:
            ax.axhline(100 * target, color=color, linestyle="--", linewidth=1)
    ax.set_ylabel("回答率（%）", fontproperties=font)
    ax.set_xlabel("日付", fontproperties=font)
    ax.set_ylim(0, top * 1.02)
    ax.set_title(f"累積回答率（{work.study}）", fontproperties=font)
    first = work.start or (min(seen_days) if seen_days else None)
    last = work.end or (max(seen_days) if seen_days else None)
    if first and last:
        pad = timedelta(days=1)
        ax.set_xlim(first - pad, max(last, first + pad) + pad)  # type: ignore[arg-type]
        step = max(1, ((last - first).days + 2) // 10)
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=step))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m/%d"))  # type: ignore[no-untyped-call]
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", prop=font)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
