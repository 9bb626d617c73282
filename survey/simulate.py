"""Simulated fieldwork for the demo: plausible web answers, sealed and submitted through the
real intake, arriving over the days of fieldwork.

Answers follow the form's own skip logic; the arrival pattern is front-loaded with a second
wave after the reminder postcards, at roughly the web shares a city sees. The day each
answer is stored with comes from the clock given to the intake, which only the demo and the
tests set. Nothing here is used by a real collector. Paper (:func:`simulate_paper`) goes
through the real receipt log and double-entry keying, as two officers would.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import nacl.bindings
import nacl.public
from sqlalchemy import Engine
from sqlmodel import Session

from survey.collector.intake import Intake
from survey.forms.items import kind
from survey.forms.loader import Form
from survey.forms.logic import visible
from survey.forms.payload import encode
from survey.forms.schema import REFUSED
from survey.settings import Settings

# Share of each web-enabled cohort's sample answering on the web by mid-fieldwork.
WEB_SHARE = {"elementary_guardian": 0.35, "high_school": 0.12, "general": 0.15}


def random_answers(form: Form, rng: random.Random) -> dict[str, Any]:
    """Answers a respondent might give: some items skipped, follow-ups only where shown.

    What an answer looks like is each item type's (``random_answer``); a sensitive item is
    sometimes refused as a whole (every row of a grid).
    """
    answers: dict[str, Any] = {}
    for item in form.items():
        if not visible(item, answers) or rng.random() < 0.07:
            continue
        item_kind = kind(item)
        refused = item.sensitive and rng.random() < 0.05
        for var in item_kind.variables(item):
            value = REFUSED if refused else item_kind.random_answer(var, rng)
            if value is not None:
                answers[var.id] = value
    return answers


def seal_payload(study: str, form: Form, answers: dict[str, Any], public_key: bytes) -> str:
    """What the browser does: the payload padded to the form's size, sealed, base64."""
    padded = nacl.bindings.sodium_pad(encode(study, form, answers), form.padded_size)
    sealed = nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(padded)
    return base64.b64encode(bytes(sealed)).decode()


def arrival_days(n: int, start: date, days: int, rng: random.Random) -> list[date]:
    """``n`` arrival days: most in the first two weeks, a second wave after day 21."""
    out = []
    for _ in range(n):
        if rng.random() < 0.75:
            offset = min(days - 1, int(rng.expovariate(1 / 5)))
        else:
            offset = min(days - 1, 21 + int(rng.expovariate(1 / 3)))
        out.append(start + timedelta(days=offset))
    return sorted(out)


def simulate(
    make_intake: Callable[[Callable[[], date]], Intake],
    codes: dict[str, list[str]],
    sample: dict[str, int],
    public_key: bytes,
    start: date,
    days: int = 28,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Submit simulated answers for each web cohort; returns how many per cohort."""
    rng = random.Random(seed)
    today = [start]
    intake = make_intake(lambda: today[0])
    plan = []
    for cohort, share in WEB_SHARE.items():
        n = min(round(sample.get(cohort, 0) * share), len(codes.get(cohort, [])))
        plan += [
            (day, cohort, codes[cohort][i])
            for i, day in enumerate(arrival_days(n, start, days, rng))
        ]
    plan.sort()
    done: dict[str, int] = {}
    for i, (day, cohort, code) in enumerate(plan):
        today[0] = day
        form = intake.check(code).form
        intake.submit(
            code, seal_payload(intake.study_name, form, random_answers(form, rng), public_key)
        )
        done[cohort] = done.get(cohort, 0) + 1
        if progress is not None:
            progress(i + 1, len(plan))
    return done


# --- paper ---------------------------------------------------------------------------------

# Share of each cohort's sample returning a paper sheet (infant guardians and junior-high
# students have no web option), and of envelopes coming back blank or undeliverable.
PAPER_SHARE = {
    "infant_guardian": 0.5,
    "elementary_guardian": 0.22,
    "junior_high": 0.2,
    "high_school": 0.08,
    "general": 0.18,
}
BLANK_SHARE, UNDELIVERABLE_SHARE = 0.01, 0.015
MISTYPE = 0.03  # share of sheets the second officer keys one field differently


def typed(value: Any) -> str:
    """A raw answer as an officer types it from the sheet."""
    if value == REFUSED:
        return "-"  # the paper key for 「答えたくない」
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


@dataclass
class PaperDone:
    returned: dict[str, int] = field(default_factory=dict)
    reconciled: int = 0
    duplicates: int = 0
    blank: int = 0
    undeliverable: int = 0


def simulate_paper(
    engine: Engine,
    settings: Settings,
    study: str,
    codes: dict[str, list[str]],
    sample: dict[str, int],
    start: date,
    operators: tuple[str, str],
    days: int = 28,
    seed: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> PaperDone:
    """Returned sheets for every cohort, logged and keyed twice (a few disagreements, settled
    by reconciliation), plus blank returns and undeliverable mail. ``codes`` per cohort are
    the codes the sheets carry, in order (a code the web used makes a duplicate)."""
    from survey.ingest import keying, receipts

    rng = random.Random(seed)
    done = PaperDone()
    plan = []
    for cohort, share in PAPER_SHARE.items():
        n = min(round(sample.get(cohort, 0) * share), len(codes.get(cohort, [])))
        for i, day in enumerate(arrival_days(n, start + timedelta(days=3), days - 3, rng)):
            plan.append((day, cohort, codes[cohort][i]))
    plan.sort()
    with Session(engine) as session:
        study_row = receipts.study_named(session, study)
        form_of = {c: keying.form_of(session, study_row, c) for c in PAPER_SHARE}
    for i, (day, cohort, code) in enumerate(plan):
        form = form_of[cohort]
        logged = receipts.log(engine, study, cohort, f"{day:%m月%d日}便", day)
        no = logged.numbers[0]
        values = {k: typed(v) for k, v in random_answers(form, rng).items()}
        keying.enter(engine, settings, study, no, operators[0], keying.Sheet(code, values), day)
        second = dict(values)
        if values and rng.random() < MISTYPE:
            slip = rng.choice(sorted(values))
            second[slip] = "/" if values[slip] != "/" else "1"
        result = keying.enter(
            engine, settings, study, no, operators[1], keying.Sheet(code, second), day
        )
        if result.state == "reconcile":
            # The third look reads the sheet: the first officer had it right.
            decided = {f: values.get(f, "") for f in result.differences}
            result = keying.reconcile(engine, settings, study, no, operators[0], decided)
            done.reconciled += 1
        if result.state == "duplicate":
            done.duplicates += 1
        else:
            done.returned[cohort] = done.returned.get(cohort, 0) + 1
        if progress is not None:
            progress(i + 1, len(plan))
    for cohort, n in sample.items():
        day = start + timedelta(days=7)
        blank = round(n * BLANK_SHARE)
        undeliverable = round(n * UNDELIVERABLE_SHARE)
        if blank:
            receipts.log(engine, study, cohort, "白票", day, blank, receipts.BLANK)
            done.blank += blank
        if undeliverable:
            reason = rng.choice(receipts.REASONS)
            receipts.log(
                engine, study, cohort, "不達", day, undeliverable, receipts.UNDELIVERABLE, reason
            )
            done.undeliverable += undeliverable
    return done
