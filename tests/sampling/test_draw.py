import itertools
import random
from datetime import date

import pytest

from survey.errors import DataError
from survey.register.reader import Person
from survey.sampling.cohorts import DEFAULT_DRAW_ORDER, FrameRules
from survey.sampling.draw import build_frames, draw

D = date(2026, 4, 1)
RULES = FrameRules(as_of=D)
SEED = bytes(range(32))
ALL = dict.fromkeys(DEFAULT_DRAW_ORDER, 0)


_lines = itertools.count(2)


def person(rid: str, hid: str, birth: date, sex: int = 1, district: str = "本町") -> Person:
    return Person(next(_lines), rid, hid, birth, sex, district)


def city(households: int = 300, seed: int = 3) -> list[Person]:
    """Households of two adults, some with an infant, a pupil, a teen or all three."""
    rng = random.Random(seed)
    out: list[Person] = []
    n = 0
    for h in range(households):
        hid = f"H{h}"
        members = [date(1985, 5, 5), date(1987, 7, 7)]
        if rng.random() < 0.5:
            members.append(date(2023, rng.randint(1, 12), 1))  # infant
        if rng.random() < 0.5:
            members.append(date(2017, rng.randint(5, 12), 3))  # elementary
        if rng.random() < 0.3:
            members.append(date(2012, rng.randint(5, 12), 9))  # junior high
        if rng.random() < 0.3:
            members.append(date(2009, rng.randint(5, 12), 9))  # high school
        for b in members:
            n += 1
            out.append(Person(n, f"P{n}", hid, b, rng.randint(1, 2), rng.choice(["本町", "館"])))
    return out


def selection(result) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return sorted((u.cohort, u.unit_id, u.person.resident_id) for u in result.units)


def test_selection_does_not_depend_on_row_order() -> None:
    people = city()
    alloc = {
        **ALL,
        "general": 40,
        "junior_high": 10,
        "infant_guardian": 15,
        "elementary_guardian": 15,
    }
    first = draw(people, RULES, alloc, DEFAULT_DRAW_ORDER, SEED)
    shuffled = people[:]
    random.Random(9).shuffle(shuffled)
    renumbered = [p._replace(line=i + 2) for i, p in enumerate(shuffled)]
    second = draw(renumbered, RULES, alloc, DEFAULT_DRAW_ORDER, SEED)
    assert selection(first) == selection(second)
    assert first.selection_sha256 == second.selection_sha256
    other = draw(people, RULES, alloc, DEFAULT_DRAW_ORDER, bytes(32))
    assert selection(other) != selection(first)


def test_sample_sizes_and_frame_counts() -> None:
    people = city()
    frames = build_frames(people, RULES, DEFAULT_DRAW_ORDER)
    alloc = {**ALL, "general": 30, "infant_guardian": 10}
    result = draw(people, RULES, alloc, DEFAULT_DRAW_ORDER, SEED)
    assert result.sample == {**ALL, "general": 30, "infant_guardian": 10}
    assert result.frame["general"] == len(frames.persons["general"]) == 600
    assert result.frame["infant_guardian"] == len(frames.households["infant_guardian"])
    # Cells add up to the frame, and their removed counts to m_h.
    for cohort in DEFAULT_DRAW_ORDER:
        cells = [v for k, v in result.cells.items() if k[0] == cohort]
        assert sum(c[0] for c in cells) == result.frame[cohort]
        assert sum(c[1] for c in cells) == result.removed[cohort]
    assert {k[1] for k in result.cells if k[0] == "general"} == {"男", "女"}
    assert {k[1] for k in result.cells if k[0] == "infant_guardian"} == {"-"}


def test_households_of_earlier_draws_are_left_out_of_guardian_draws() -> None:
    people = city()
    alloc = {
        **ALL,
        "general": 200,
        "junior_high": 20,
        "infant_guardian": 40,
        "elementary_guardian": 40,
    }
    result = draw(people, RULES, alloc, DEFAULT_DRAW_ORDER, SEED)
    by_cohort: dict[str, set[str]] = {}
    household_of = {p.resident_id: p.household_id for p in people}
    for u in result.units:
        hid = u.unit_id if u.cohort.endswith("guardian") else household_of[u.unit_id]
        by_cohort.setdefault(u.cohort, set()).add(hid)
    touched_before_infant = by_cohort["general"] | by_cohort["junior_high"]
    assert not by_cohort["infant_guardian"] & touched_before_infant
    assert not by_cohort["elementary_guardian"] & (
        touched_before_infant | by_cohort["infant_guardian"]
    )
    assert result.removed["infant_guardian"] > 0
    assert result.removed["elementary_guardian"] > 0
    assert result.removed["general"] == 0
    # m_h is exactly the number of frame households touched earlier.
    frames = build_frames(people, RULES, DEFAULT_DRAW_ORDER)
    infant_frame = set(frames.households["infant_guardian"])
    assert result.removed["infant_guardian"] == len(infant_frame & touched_before_infant)


def test_draw_order_is_respected() -> None:
    people = city()
    alloc = {**ALL, "general": 200, "infant_guardian": 40}
    guardians_first = [
        "infant_guardian",
        "elementary_guardian",
        "general",
        "junior_high",
        "high_school",
    ]
    result = draw(people, RULES, alloc, guardians_first, SEED)
    # Guardian households drawn first lose nothing; persons drawn later are not removed,
    # since the drawn child (an infant) is in no person frame.
    assert result.removed["infant_guardian"] == 0
    assert result.removed["general"] == 0


def test_a_person_drawn_once_is_not_drawn_again() -> None:
    people = city()
    alloc = {**ALL, "general": 600}
    result = draw(people, RULES, alloc, DEFAULT_DRAW_ORDER, SEED)
    ids = [u.person.resident_id for u in result.units]
    assert len(ids) == len(set(ids)) == 600


def test_chosen_child_is_eligible_and_reproducible() -> None:
    people = city()
    alloc = {**ALL, "elementary_guardian": 50}
    a = draw(people, RULES, alloc, DEFAULT_DRAW_ORDER, SEED)
    b = draw(list(reversed(people)), RULES, alloc, DEFAULT_DRAW_ORDER, SEED)
    assert selection(a) == selection(b)
    for u in a.units:
        assert u.person.household_id == u.unit_id
        assert date(2017, 1, 1) < u.person.birth_date < date(2018, 1, 1)


def test_chosen_child_is_random_among_siblings() -> None:
    twins = [person("C1", "H", date(2017, 6, 1)), person("C2", "H", date(2017, 6, 1))]
    chosen = {
        draw(twins, RULES, {**ALL, "elementary_guardian": 1}, DEFAULT_DRAW_ORDER, bytes([s]) * 32)
        .units[0]
        .person.resident_id
        for s in range(20)
    }
    assert chosen == {"C1", "C2"}


def test_allocation_larger_than_available_frame_is_an_error() -> None:
    people = city(households=20)
    with pytest.raises(DataError) as info:
        draw(people, RULES, {**ALL, "general": 41, "junior_high": 999}, DEFAULT_DRAW_ORDER, SEED)
    assert "general" in info.value.en and "junior_high" in info.value.en


def test_no_frame_count_with_minimum_age_20() -> None:
    people = [
        person("A1", "H1", date(2007, 6, 1)),  # 18 on D
        person("A2", "H1", date(2006, 4, 2)),  # 19 on D
        person("A3", "H1", date(2006, 4, 1)),  # 20 on D
        person("A4", "H1", date(2016, 1, 1)),  # elementary pupil: not counted
    ]
    rules = FrameRules(as_of=D, general_min_age=20)
    assert draw(people, rules, ALL, DEFAULT_DRAW_ORDER, SEED).no_frame == 2
    assert draw(people, RULES, ALL, DEFAULT_DRAW_ORDER, SEED).no_frame == 0


def test_srswor_inclusion_is_uniform() -> None:
    """Each unit of a 20-unit frame is drawn with probability n/N = 5/20 (over many seeds)."""
    people = [person(f"G{i}", f"H{i}", date(1980, 1, 1)) for i in range(20)]
    counts = dict.fromkeys((p.resident_id for p in people), 0)
    trials = 2000
    for t in range(trials):
        seed = t.to_bytes(32, "big")
        for u in draw(people, RULES, {**ALL, "general": 5}, DEFAULT_DRAW_ORDER, seed).units:
            counts[u.unit_id] += 1
    # Binomial(2000, 0.25): mean 500, sd ~19.4; 5 sd bounds keep the test stable.
    assert all(400 < c < 600 for c in counts.values()), counts


@pytest.mark.parametrize(
    "order",
    [
        DEFAULT_DRAW_ORDER,
        ("infant_guardian", "elementary_guardian", "general", "junior_high", "high_school"),
    ],
)
def test_household_types_over_columns_match_the_row_by_row_definition(order) -> None:  # type: ignore[no-untyped-def]
    from survey.sampling.households import household_types, household_types_by_rows

    people = city(400, seed=11)
    allocation = dict.fromkeys(order, 30)
    result = draw(people, RULES, allocation, order, SEED)
    assert household_types(people, RULES, order, result) == household_types_by_rows(
        people, RULES, order, result
    )
    frames = build_frames(people, RULES, order)
    assert result.frame == {
        **{c: len(v) for c, v in frames.persons.items()},
        **{c: len(v) for c, v in frames.households.items()},
    }
    assert result.no_frame == frames.no_frame
