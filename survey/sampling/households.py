"""The aggregate the analysis needs for guardian households' inclusion probabilities.

A guardian household holding anyone drawn earlier (in any cohort) is left out of the guardian
draw, so its chance of being sampled depends on how many of its members stand in the earlier
frames. For each guardian cohort the draw records, per household *type* (members in each
earlier person frame; whether the household is in an earlier guardian frame), how many
households the frame holds and how many were left out. Counts per type only: never a
household, never an id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from survey.cohorts import GUARDIAN_COHORTS
from survey.register.reader import Person
from survey.sampling.cohorts import FrameRules
from survey.sampling.draw import DrawResult, Frames, build_frames

if TYPE_CHECKING:
    from survey.sampling.columnar import ColumnFrames


def type_keys(frames: Frames, order: Sequence[str]) -> dict[str, dict[str, tuple[int, ...]]]:
    """Guardian cohort -> household id -> its type: members in each earlier cohort's frame
    (0/1 for an earlier guardian frame), in draw order. In memory only, never stored."""
    members = {
        cohort: Counter(p.household_id for p in frame) for cohort, frame in frames.persons.items()
    }
    out: dict[str, dict[str, tuple[int, ...]]] = {}
    for position, cohort in enumerate(order):
        if cohort in GUARDIAN_COHORTS:
            earlier = order[:position]
            out[cohort] = {
                hid: tuple(
                    members[c][hid] if c in members else int(hid in frames.households[c])
                    for c in earlier
                )
                for hid in frames.households[cohort]
            }
    return out


def household_types(
    persons: Sequence[Person],
    rules: FrameRules,
    order: Sequence[str],
    result: DrawResult,
    frames: ColumnFrames | None = None,
) -> list[dict[str, Any]]:
    """``[{"cohort", "members": {earlier cohort: count}, "households", "removed"}, ...]``;
    ``frames`` are the draw's own (columns), when the caller kept them."""
    from survey.register.persons import Persons
    from survey.sampling import columnar

    if frames is None:
        frames = columnar.column_frames(Persons.of(persons), rules, order)
    return columnar.household_types(frames, order, result)


def household_types_by_rows(
    persons: Sequence[Person], rules: FrameRules, order: Sequence[str], result: DrawResult
) -> list[dict[str, Any]]:
    """The row-by-row definition of :func:`household_types` (tests compare the two)."""
    keys = type_keys(build_frames(persons, rules, order), order)
    touched: set[str] = set()
    touched_before: dict[str, frozenset[str]] = {}
    for cohort in order:
        touched_before[cohort] = frozenset(touched)
        touched.update(u.person.household_id for u in result.units if u.cohort == cohort)
    out: list[dict[str, Any]] = []
    for position, cohort in enumerate(order):
        if cohort not in GUARDIAN_COHORTS:
            continue
        earlier = order[:position]
        households: Counter[tuple[int, ...]] = Counter()
        removed: Counter[tuple[int, ...]] = Counter()
        left_out = touched_before[cohort]
        for hid, key in keys[cohort].items():
            households[key] += 1
            removed[key] += hid in left_out
        for key in sorted(households):
            out.append(
                {
                    "cohort": cohort,
                    "members": dict(zip(earlier, key, strict=True)),
                    "households": households[key],
                    "removed": removed[key],
                }
            )
    return out
