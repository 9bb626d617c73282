"""The stratified draw itself: pure functions over validated register rows, no database.

Stratified simple random sampling without replacement: within each cohort, every unit gets
the rank BLAKE2b(key=seed, cohort ‖ unit id) and the n_h smallest ranks are drawn. The
result depends only on the seed and the set of units, never on row order, so a re-sorted
copy of the register reproduces the same sample (``survey sample --verify``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from survey.cohorts import GUARDIAN_COHORTS
from survey.crypto import keyed_hash
from survey.register.reader import SEX_LABELS, Person

if TYPE_CHECKING:
    from survey.sampling.columnar import ColumnFrames
from survey.sampling.cohorts import (
    Checkup,
    FrameRules,
    age_band,
    age_on,
    child_cohort,
    in_no_frame,
    person_cohort,
)

ALGORITHM = "stratified-srswor/blake2b-rank/v1"
HOUSEHOLD_CELL = "-"  # sex and age band are not defined for a household unit


@dataclass(frozen=True, slots=True)
class DrawnUnit:
    cohort: str
    unit_id: str  # resident id (person cohorts) or household id (guardian cohorts)
    person: Person  # the drawn person, or the household's chosen child
    checkup: Checkup | None = None


@dataclass(slots=True)
class Frames:
    persons: dict[str, list[Person]] = field(default_factory=dict)
    # cohort -> household id -> eligible children (with the check-up they reach, if any)
    households: dict[str, dict[str, list[tuple[Person, Checkup | None]]]] = field(
        default_factory=dict
    )
    no_frame: int = 0


@dataclass(slots=True)
class DrawResult:
    frame: dict[str, int]
    removed: dict[str, int]
    sample: dict[str, int]
    no_frame: int
    units: list[DrawnUnit]
    # (cohort, sex, age band, district) -> [units in full frame, units removed]
    cells: dict[tuple[str, str, str, str], list[int]]

    @property
    def selection_sha256(self) -> str:
        """A digest of exactly which units were drawn (and which child), for --verify."""
        lines = sorted(f"{u.cohort}\t{u.unit_id}\t{u.person.resident_id}" for u in self.units)
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def build_frames(persons: Iterable[Person], rules: FrameRules, cohorts: Sequence[str]) -> Frames:
    frames = Frames(
        persons={c: [] for c in cohorts if c not in GUARDIAN_COHORTS},
        households={c: {} for c in cohorts if c in GUARDIAN_COHORTS},
    )
    # The frames depend on the birth date alone: judged once per distinct date (a few tens
    # of thousands), not once per resident.
    memo: dict[date, tuple[str | None, bool, tuple[str, Checkup | None] | None]] = {}
    for p in persons:
        kind = memo.get(p.birth_date)
        if kind is None:
            b = p.birth_date
            kind = memo[b] = (
                person_cohort(b, rules),
                in_no_frame(b, rules),
                child_cohort(b, rules),
            )
        cohort, no_frame, child = kind
        if cohort is not None:
            frames.persons[cohort].append(p)
        elif no_frame:
            frames.no_frame += 1
        if child is not None:
            frames.households[child[0]].setdefault(p.household_id, []).append((p, child[1]))
    return frames


def _ranker(seed: bytes, *parts: str) -> Callable[[str], bytes]:
    """``_rank(seed, *parts, last)`` as a function of ``last``: the keyed state of the common
    prefix is computed once and copied (the same bytes, a fraction of the cost)."""
    state = hashlib.blake2b(("\0".join(parts) + "\0").encode(), digest_size=32, key=seed)

    def rank(last: str) -> bytes:
        h = state.copy()
        h.update(last.encode())
        return h.digest()

    return rank


def _rank(seed: bytes, *parts: str) -> bytes:
    # NUL-separated so that ("ab", "c") and ("a", "bc") can never collide.
    return keyed_hash(seed, "\0".join(parts).encode())


def _cell(
    cohort: str, unit: Person, rules: FrameRules, household: bool
) -> tuple[str, str, str, str]:
    if household:
        return (cohort, HOUSEHOLD_CELL, HOUSEHOLD_CELL, unit.district)
    band = age_band(age_on(unit.birth_date, rules.as_of))
    return (cohort, SEX_LABELS[unit.sex], band, unit.district)


def draw(
    persons: Sequence[Person],
    rules: FrameRules,
    allocation: dict[str, int],
    order: Sequence[str],
    seed: bytes,
    progress: Callable[[str], None] | None = None,
    frames: ColumnFrames | None = None,
) -> DrawResult:
    """Draw every cohort in ``order``; raise :class:`DataError` if an allocation exceeds N'_h.

    Within each cohort, in ``order``: a person frame ranks its members not drawn before, a
    guardian frame its households holding nobody drawn before (then one child per chosen
    household, by its own rank); the n smallest ranks are drawn. Computed over columns
    (:mod:`survey.sampling.columnar`); ``frames`` are ``column_frames(...)`` if the caller
    has them already.
    """
    from survey.register.persons import Persons
    from survey.sampling.columnar import column_frames, draw_columns

    if frames is None:
        frames = column_frames(Persons.of(persons), rules, order)
    return draw_columns(frames, allocation, order, seed, progress)
