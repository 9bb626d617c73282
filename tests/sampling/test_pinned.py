"""The draw pinned on the synthetic register: what a faster reader or draw must not change.

The digests below were recorded from the row-by-row reader and draw before they were
vectorised (issue 17). Any change to which units are drawn, which child, the frame counts,
the household types or the roster's full rows changes one of them.
"""

import hashlib
import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

from survey.db import Database
from survey.register.reader import read_register
from survey.sampling.service import parse_allocation, plan_draw
from survey.settings import Settings
from survey.study import create_study
from tests.conftest import SMALL_ALLOCATION

D = date(2026, 4, 1)
SEED = bytes.fromhex("ab" * 32)
SHIKI = ["上宗岡", "中宗岡", "下宗岡", "本町", "幸町", "館", "柏町", "宗岡"]

SELECTION = "52a0ae8928aee7035ca27500270bb5c9595d4fe4fc0b4f5ae5bf40751c212d54"
FIGURES = "e5337a0bdb2ebb950d20d20430c6f9fd939e2f32bdcc42111dd90c09fc3b652b"
RECORDS = "2f4e834a2165c62923bcccfb33be7cf7398da5944003a2a91a970e2cb6394926"
PERSONS = "56877938dd3fb9916319930b515bb1070465b77fe3087843c418ee42e463c9a4"


def _digest(value: object) -> str:
    return hashlib.sha256(
        json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()


def test_persons_read_from_the_synthetic_register_are_pinned(synth_register: Path) -> None:
    register = read_register(synth_register, SHIKI)
    persons = sorted(tuple(p) for p in register.persons)
    assert len(persons) == 6000
    assert _digest(persons) == PERSONS


def test_draw_on_the_synthetic_register_is_pinned(
    db: Database, settings: Settings, synth_register: Path
) -> None:
    with db.session() as session:
        study = create_study(session, "pinned", [("as_of", D.isoformat())])
        plan = plan_draw(
            session, settings, study, synth_register, D, parse_allocation(SMALL_ALLOCATION), SEED
        )
    result = plan.result
    figures = {
        "frame": result.frame,
        "removed": result.removed,
        "sample": result.sample,
        "no_frame": result.no_frame,
        "cells": sorted([*k, *v] for k, v in result.cells.items()),
        "household_types": plan.household_types,
        "register_rows": plan.register_rows,
        "warnings": plan.warnings,
    }
    records = sorted(json.dumps(asdict(r), ensure_ascii=False) for r in plan.records)
    assert (result.selection_sha256, _digest(figures), _digest(records)) == (
        SELECTION,
        FIGURES,
        RECORDS,
    )
