"""Mailing batches: which cohort's envelopes go out how, and in which order.

One ordering serves labels, postcards and the vendor file, so that a postcard batch lines up
with its label batch:
- post (郵送): by postcode, then address;
- checkup (乳幼児健診で手渡し, with ``infant_frame=checkup``): by check-up month and check-up,
  then address;
- school (学校経由): by address.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from survey.cohorts import COHORT_LABELS, COHORTS
from survey.roster import RosterRecord

DISTRIBUTION_LABELS = {
    "post": "郵送",
    "school": "学校経由で配布",
    "checkup": "乳幼児健診で手渡し",
}
ORDER_LABELS = {
    "post": "郵便番号・住所順",
    "school": "住所順",
    "checkup": "健診月・健診別、住所順",
}
_NUMBER = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[Any, ...]:
    """``本町2丁目`` before ``本町10丁目``: digit runs compare as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in _NUMBER.split(text))


def distribution(cohort: str, settings: dict[str, Any]) -> str:
    if cohort == "infant_guardian" and settings.get("infant_frame") == "checkup":
        return "checkup"
    if cohort in settings.get("school_cohorts", ()):
        return "school"
    return "post"


def _checkup_months(r: RosterRecord) -> int:
    digits = "".join(ch for ch in r.checkup if ch.isdigit())
    return int(digits) if digits else 0


def sort_key(method: str, r: RosterRecord) -> tuple[Any, ...]:
    address = (natural_key(r.address), natural_key(r.building))
    if method == "checkup":
        return (r.checkup_month, _checkup_months(r), r.postal_code, *address)
    if method == "school":
        return address
    return (r.postal_code, *address)


@dataclass(frozen=True, slots=True)
class Batch:
    cohort: str
    method: str
    records: tuple[RosterRecord, ...]

    @property
    def label(self) -> str:
        return COHORT_LABELS[self.cohort]

    @property
    def method_label(self) -> str:
        return DISTRIBUTION_LABELS[self.method]

    @property
    def order_label(self) -> str:
        return ORDER_LABELS[self.method]

    def groups(self) -> list[tuple[str, int]]:
        """Sub-batches worth a line on the header sheet (check-up and month)."""
        if self.method != "checkup":
            return []
        # In the labels' own order (month, then check-up age as a number: 4, 18, 36 months),
        # so the header sheet lists the sub-batches as the labels come off the printer.
        counts: Counter[str] = Counter()
        order: dict[str, tuple[str, int]] = {}
        for r in self.records:
            name = f"{r.checkup_month} {r.checkup}"
            counts[name] += 1
            order.setdefault(name, (r.checkup_month, _checkup_months(r)))
        return sorted(counts.items(), key=lambda item: order[item[0]])


def batches(
    records: Sequence[RosterRecord], settings: dict[str, Any], cohort: str | None = None
) -> list[Batch]:
    """Batches in cohort order (the study's five cohorts), each sorted for its distribution."""
    out = []
    for c in COHORTS:
        if cohort is not None and c != cohort:
            continue
        mine = [r for r in records if r.cohort == c]
        if not mine:
            continue
        method = distribution(c, settings)
        out.append(Batch(c, method, tuple(sorted(mine, key=lambda r: sort_key(method, r)))))
    return out
