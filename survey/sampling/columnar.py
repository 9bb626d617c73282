"""The draw over columns (:class:`~survey.register.persons.Persons`): the same units, frames,
cells and household types as the row-by-row definition in :mod:`survey.sampling.draw`.

What depends on the birth date alone (frame, no-frame, check-up, age band) is judged once per
distinct date and spread to the rows by index; cells are counted as integer keys; the keyed
ranks are the same BLAKE2b values, computed for exactly the units the row-by-row draw ranks,
in the same order, so ties (should two ranks ever be equal) fall the same way.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from survey.cohorts import COHORT_LABELS, GUARDIAN_COHORTS
from survey.errors import DataError
from survey.register.persons import Persons
from survey.register.reader import SEX_LABELS
from survey.sampling.cohorts import (
    Checkup,
    FrameRules,
    age_band,
    age_on,
    child_cohort,
    in_no_frame,
    person_cohort,
)
from survey.sampling.draw import HOUSEHOLD_CELL, DrawnUnit, DrawResult, _rank, _ranker

Cell = tuple[str, str, str, str]


@dataclass(slots=True)
class ColumnFrames:
    persons: Persons
    person_rows: dict[str, np.ndarray]  # person cohort -> its rows, in row order
    child_rows: dict[str, tuple[np.ndarray, list[Checkup | None]]]  # guardian cohort
    no_frame: int
    band: np.ndarray  # index into bands, per row
    bands: list[str]


def column_frames(persons: Persons, rules: FrameRules, cohorts: Sequence[str]) -> ColumnFrames:
    days, per_row = np.unique(persons.birth, return_inverse=True)
    births = [date.fromordinal(int(d)) for d in days]
    people = [c for c in cohorts if c not in GUARDIAN_COHORTS]
    guardians = [c for c in cohorts if c in GUARDIAN_COHORTS]
    code = {c: i for i, c in enumerate(people)}
    gcode = {c: i for i, c in enumerate(guardians)}
    p_of = np.full(len(days), -1, dtype=np.int16)
    g_of = np.full(len(days), -1, dtype=np.int16)
    no_frame = np.zeros(len(days), dtype=bool)
    checkup: list[Checkup | None] = [None] * len(days)
    band_names: dict[str, int] = {}
    band = np.zeros(len(days), dtype=np.int16)
    for i, b in enumerate(births):
        cohort = person_cohort(b, rules)
        if cohort is not None:
            p_of[i] = code[cohort]  # a KeyError for a cohort missing from the order, as before
        else:
            no_frame[i] = in_no_frame(b, rules)
        child = child_cohort(b, rules)
        if child is not None:
            g_of[i] = gcode[child[0]]
            checkup[i] = child[1]
        band[i] = band_names.setdefault(age_band(age_on(b, rules.as_of)), len(band_names))
    row_p, row_g = p_of[per_row], g_of[per_row]
    child_rows = {}
    for c, i in gcode.items():
        rows = np.flatnonzero(row_g == i)
        child_rows[c] = (rows, [checkup[k] for k in per_row[rows].tolist()])
    return ColumnFrames(
        persons,
        {c: np.flatnonzero(row_p == i) for c, i in code.items()},
        child_rows,
        int(np.count_nonzero((row_p < 0) & no_frame[per_row])),
        band[per_row],
        list(band_names),
    )


def draw_columns(
    frames: ColumnFrames,
    allocation: dict[str, int],
    order: Sequence[str],
    seed: bytes,
    progress: Callable[[str], None] | None = None,
) -> DrawResult:
    persons = frames.persons
    drawn_persons: set[str] = set()
    touched_households: set[int] = set()  # households (codes) holding anyone drawn so far
    result = DrawResult({}, {}, {}, frames.no_frame, [], {})
    too_large: list[str] = []
    # One integer per (sex, age band, district): cells are counted with NumPy.
    n_district, n_band = len(persons.districts), len(frames.bands)
    cell_key = (persons.sex.astype(np.int64) * n_band + frames.band) * n_district + persons.district
    for cohort in order:
        if progress is not None:
            progress(cohort)
        n = allocation.get(cohort, 0)
        if cohort in GUARDIAN_COHORTS:
            cells, removed_cells, eligible = _households(
                frames, cohort, n, seed, touched_households, drawn_persons, result
            )
        else:
            rows = frames.person_rows[cohort]
            cells = _count(cohort, cell_key[rows], persons, frames)
            if drawn_persons:
                rids = persons.resident_id.take(pa.array(rows)).to_pylist()
                taken = np.array([r in drawn_persons for r in rids], dtype=bool)
                removed_cells = _count(cohort, cell_key[rows[taken]], persons, frames)
                rows = rows[~taken]
                del rids
            else:
                removed_cells = {}
            result.frame[cohort] = len(frames.person_rows[cohort])
            rank = _ranker(seed, cohort)
            chosen = heapq.nsmallest(min(n, len(rows)), _ranked(rank, persons, rows))
            for _, k in chosen:
                p = persons.person(int(rows[k]))
                result.units.append(DrawnUnit(cohort, p.resident_id, p))
                drawn_persons.add(p.resident_id)
                touched_households.add(int(persons.household[rows[k]]))
            eligible = len(rows)
        result.removed[cohort] = result.frame[cohort] - eligible
        result.sample[cohort] = min(n, eligible)
        if n > eligible:
            too_large.append(f"{cohort}（{COHORT_LABELS[cohort]}）: n={n} > N'={eligible}")
        for cell, count in cells.items():
            result.cells[cell] = [count, removed_cells.get(cell, 0)]
    if too_large:
        raise DataError(
            "割当数が抽出枠の大きさを超えています: " + "; ".join(too_large),
            "Allocation larger than the available frame N'_h: " + "; ".join(too_large),
        )
    return result


def _ranked(
    rank: Callable[[str], bytes], persons: Persons, rows: np.ndarray, block: int = 65536
) -> Iterator[tuple[bytes, int]]:
    """(rank, position in ``rows``) in row order; ids become Python strings a block at a
    time, so a million-person frame never holds a million of them at once."""
    for start in range(0, len(rows), block):
        ids = persons.resident_id.take(pa.array(rows[start : start + block])).to_pylist()
        yield from zip(map(rank, ids), range(start, start + len(ids)), strict=True)


def _count(
    cohort: str, keys: np.ndarray, persons: Persons, frames: ColumnFrames
) -> dict[Cell, int]:
    """Units per (cohort, sex, age band, district), in the order cells first occur."""
    values, first, counts = np.unique(keys, return_index=True, return_counts=True)
    n_district, n_band = len(persons.districts), len(frames.bands)
    out: dict[Cell, int] = {}
    for k in np.argsort(first, kind="stable").tolist():
        rest, district = divmod(int(values[k]), n_district)
        sex, band = divmod(rest, n_band)
        cell = (cohort, SEX_LABELS[sex], frames.bands[band], persons.districts[district])
        out[cell] = int(counts[k])
    return out


def _households(
    frames: ColumnFrames,
    cohort: str,
    n: int,
    seed: bytes,
    touched_households: set[int],
    drawn_persons: set[str],
    result: DrawResult,
) -> tuple[dict[Cell, int], dict[Cell, int], int]:
    persons = frames.persons
    rows, checkups = frames.child_rows[cohort]
    codes = persons.household[rows]
    # Households in the order their first child appears (the row-by-row dict's order), each
    # with its first child by line (ties: the earlier row), as min() over its children.
    found, first_seen = np.unique(codes, return_index=True)
    by_seen = np.argsort(first_seen, kind="stable")
    households = found[by_seen]
    by_line = np.lexsort((np.arange(len(rows)), persons.line[rows], codes))
    group_start = np.unique(codes[by_line], return_index=True)[1]
    first_child = rows[by_line[group_start]][by_seen]
    touched = np.fromiter(touched_households, dtype=np.int64, count=len(touched_households))
    left_out = np.isin(households, touched)
    district = persons.district[first_child]
    cells: dict[Cell, int] = {}
    removed: dict[Cell, int] = {}
    for d, out in ((district, cells), (district[left_out], removed)):
        values, first, counts = np.unique(d, return_index=True, return_counts=True)
        for k in np.argsort(first, kind="stable").tolist():
            name = persons.districts[int(values[k])]
            out[(cohort, HOUSEHOLD_CELL, HOUSEHOLD_CELL, name)] = int(counts[k])
    # A household holding anyone drawn earlier, in any cohort, is left out: one household
    # should not receive two questionnaires.
    eligible: list[str] = persons.household_names.take(pa.array(households[~left_out])).to_pylist()
    result.frame[cohort] = len(households)
    chosen = heapq.nsmallest(min(n, len(eligible)), eligible, key=_ranker(seed, cohort))
    code_of = dict(zip(eligible, households[~left_out].tolist(), strict=True))
    # Each household's children: one slice of a stable sort, in row order as a scan finds them.
    grouped = np.argsort(codes, kind="stable")
    sorted_codes = codes[grouped]
    for hid in chosen:
        # The child is chosen at random too, with its own keyed rank, so the choice is
        # reproducible and independent of the register's row order.
        code = code_of[hid]
        start, stop = np.searchsorted(sorted_codes, [code, code + 1])
        mine = grouped[start:stop].tolist()
        row, checkup = min(
            [(int(rows[k]), checkups[k]) for k in mine],
            key=lambda c: _rank(seed, cohort + ":child", hid, persons.resident_id[c[0]].as_py()),
        )
        child = persons.person(row)
        result.units.append(DrawnUnit(cohort, hid, child, checkup))
        touched_households.add(code_of[hid])
        drawn_persons.add(child.resident_id)
    return cells, removed, len(eligible)


def household_types(
    frames: ColumnFrames, order: Sequence[str], result: DrawResult
) -> list[dict[str, Any]]:
    """As :func:`survey.sampling.households.household_types`, over columns."""
    persons = frames.persons
    n_households = len(persons.household_names)
    members: dict[str, np.ndarray] = {
        c: np.bincount(persons.household[rows], minlength=n_households)
        for c, rows in frames.person_rows.items()
    }
    in_frame: dict[str, np.ndarray] = {}
    for c, (rows, _) in frames.child_rows.items():
        mask = np.zeros(n_households, dtype=np.int64)
        mask[persons.household[rows]] = 1
        in_frame[c] = mask
    # The drawn units' households as codes: their rows found by line (rows are in line order).
    lines = np.array([u.person.line for u in result.units], dtype=np.int64)
    at = np.searchsorted(persons.line, lines)
    if not np.array_equal(persons.line[np.minimum(at, len(persons.line) - 1)], lines):
        raise ValueError("a drawn unit is not in the frames' persons")
    unit_household = persons.household[at]
    unit_cohort = np.array([u.cohort for u in result.units], dtype=object)
    touched_before: dict[str, np.ndarray] = {}
    for position, cohort in enumerate(order):
        drawn_before = np.isin(unit_cohort, list(order[:position]))
        touched_before[cohort] = np.unique(unit_household[drawn_before])
    out: list[dict[str, Any]] = []
    for position, cohort in enumerate(order):
        if cohort not in GUARDIAN_COHORTS:
            continue
        earlier = list(order[:position])
        households = np.flatnonzero(in_frame[cohort])
        if not len(households):
            continue
        left_out = np.isin(households, touched_before[cohort])
        columns = [(members[c] if c in members else in_frame[c])[households] for c in earlier]
        if columns:
            types, inverse, counts = _unique_rows(columns)
            removed = np.bincount(inverse, weights=left_out, minlength=len(types))
        else:  # the first cohort drawn: one type, no earlier frame
            types, counts, removed = [()], np.array([len(households)]), np.array([left_out.sum()])
        for k, key in enumerate(types):
            out.append(
                {
                    "cohort": cohort,
                    "members": {c: int(v) for c, v in zip(earlier, key, strict=True)},
                    "households": int(counts[k]),
                    "removed": int(removed[k]),
                }
            )
    return out


def _unique_rows(columns: list[np.ndarray]) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray]:
    """``np.unique(np.stack(columns, axis=1), axis=0, ...)``: the distinct rows (sorted), each
    row's index among them and their counts, a few times faster: each row is packed into one
    integer, the columns its digits in base ``base``, the first most significant, so the
    integers sort as the rows do."""
    base = max(int(c.max(initial=0)) for c in columns) + 1
    if base ** len(columns) >= 2**62:  # would overflow int64: the row-wise way
        found, inverse, counts = np.unique(
            np.stack(columns, axis=1), axis=0, return_inverse=True, return_counts=True
        )
        return [tuple(r) for r in found.tolist()], inverse.reshape(-1), counts
    packed = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        packed = packed * base + column
    keys, inverse, counts = np.unique(packed, return_inverse=True, return_counts=True)
    rows = []
    for key in keys.tolist():
        digits = []
        for _ in columns:
            key, digit = divmod(key, base)
            digits.append(digit)
        rows.append(tuple(reversed(digits)))
    return rows, inverse.reshape(-1), counts
