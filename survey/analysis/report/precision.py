"""標本誤差早見表: the sampling error of a percentage, from the design of each cohort."""

from __future__ import annotations

import math
from dataclasses import dataclass

PERCENTAGES = (10, 20, 30, 40, 50)
Z = 1.96  # the 95 % level the tables' intervals use


def margin(frame: int, n: int, pct: float) -> float:
    """±1.96·√((N'−n)/(N'−1)·p(1−p)/n) in percentage points.

    Simple random sampling within the cohort (its stratum) with the finite population
    correction of the frame left after earlier draws (N'), as each cohort is drawn."""
    p = pct / 100
    fpc = (frame - n) / (frame - 1) if frame > 1 else 0.0
    return 100 * Z * math.sqrt(max(fpc, 0.0) * p * (1 - p) / n)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    frame: int  # N'
    n: int  # the cohort's valid responses: the base of its percentages
    margins: tuple[float, ...]  # per PERCENTAGES


def quick_reference(cohorts: list[tuple[str, int, int]]) -> list[Row]:
    """(label, N', n) per cohort → its row; cohorts without responses have none."""
    return [
        Row(label, frame, n, tuple(margin(frame, n, p) for p in PERCENTAGES))
        for label, frame, n in cohorts
        if n > 0
    ]
