"""Sampling service: commit a seed, draw a study's sample, verify a past draw.

The register is read, validated and drawn from in memory; what is stored is its SHA-256,
the aggregate frame counts, the parameters needed to re-run the draw, and the encrypted
roster of drawn units. Undrawn residents leave no row behind.

The seed is personal data and is stored only sealed (:mod:`survey.sampling.seed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

import survey
from survey.cohorts import COHORTS
from survey.crypto import new_seed, sha256_hex
from survey.errors import DataError, UsageError
from survey.models import Draw, FrameCount, SeedCommitment, Study
from survey.register.persons import Persons
from survey.register.reader import Register, read_register
from survey.roster import RosterRecord, store_roster
from survey.sampling.cohorts import DEFAULT_ALLOCATION
from survey.sampling.columnar import ColumnFrames, column_frames
from survey.sampling.draw import ALGORITHM, DrawResult, draw
from survey.sampling.households import household_types
from survey.sampling.seed import open_seed, seal_seed
from survey.settings import Settings
from survey.study import effective_settings, frame_rules

Progress = Callable[[str, int, int], None]


def parse_allocation(text: str | None) -> dict[str, int]:
    """``infant_guardian=500,general=1250``; unlisted cohorts get 0. None gives the default."""
    if text is None:
        return dict(DEFAULT_ALLOCATION)
    allocation = {c: 0 for c in COHORTS}
    seen: set[str] = set()
    for item in filter(None, (p.strip() for p in text.split(","))):
        cohort, sep, n = (part.strip() for part in item.partition("="))
        # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
        if not sep or cohort not in COHORTS or not (n.isascii() and n.isdigit()):
            raise UsageError(
                f"割当は cohort=数 の形です（cohort は {', '.join(COHORTS)}）: {item}",
                f"Allocation items are cohort=N with cohort one of {', '.join(COHORTS)}: {item!r}",
            )
        if cohort in seen:
            raise UsageError(
                f"割当で {cohort} が2回指定されています。", f"{cohort} is given twice."
            )
        seen.add(cohort)
        allocation[cohort] = int(n)
    return allocation


def parse_seed(text: str) -> bytes:
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise UsageError(
            "--seed は 256 ビット（16進数64桁）です。", "--seed must be 256 bits (64 hex digits)."
        )
    return seed


# --- commit-then-reveal ------------------------------------------------------------------


def commit_seed(session: Session, settings: Settings, study: Study) -> str:
    """Store a fresh seed for the study and return its SHA-256 for publication."""
    if _existing_draw(session, study) is not None:
        raise DataError("この調査はすでに抽出済みです。", "This study has already been drawn.")
    seed = new_seed()
    digest = sha256_hex(seed)
    assert study.id is not None
    for old in session.exec(
        select(SeedCommitment).where(
            SeedCommitment.study_id == study.id, col(SeedCommitment.used).is_(False)
        )
    ).all():
        session.delete(old)  # a new commitment replaces an unused one
    session.add(
        SeedCommitment(
            study_id=study.id,
            seed_sealed=seal_seed(settings, study.name, seed),
            seed_sha256=digest,
            created_on=date.today(),
        )
    )
    return digest


def _open_commitment(session: Session, study: Study) -> SeedCommitment:
    """The study's committed seed not yet used."""
    commitment = session.exec(
        select(SeedCommitment).where(
            SeedCommitment.study_id == study.id, col(SeedCommitment.used).is_(False)
        )
    ).first()
    if commitment is None:
        raise DataError(
            "公開済みのシードがありません。先に survey sample commit を実行してください。",
            "No committed seed: run `survey sample commit` first.",
        )
    return commitment


# --- the draw ----------------------------------------------------------------------------


@dataclass(slots=True)
class DrawReport:
    study: str
    draw: Draw
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        d = self.draw
        return {
            "study": self.study,
            "as_of": d.as_of.isoformat(),
            "frame": d.frame,
            "removed": d.removed,
            "available": {c: d.frame[c] - d.removed[c] for c in d.frame},
            "sample": d.sample,
            "no_frame": d.no_frame,
            # Never the seed itself: with the register it rebuilds the sample (personal data).
            # `survey sample seed --out FILE` hands it to the verifier as a tracked file.
            "seed": None,
            "seed_sha256": d.seed_sha256,
            "committed": d.committed,
            "register_sha256": d.register_sha256,
            "register_rows": d.register_rows,
            "selection_sha256": d.selection_sha256,
            "algorithm": d.algorithm,
            "code_version": d.code_version,
            "warnings": self.warnings,
        }

    def audit_object(self) -> dict[str, Any]:
        """What the audit log keeps of a draw: figures and hashes, never a resident's data."""
        d = self.draw
        return {
            "study": self.study,
            "as_of": d.as_of.isoformat(),
            "register_sha256": d.register_sha256,
            "register_rows": d.register_rows,
            "selection_sha256": d.selection_sha256,
            "sample": d.sample,
        }


def _refuse_if_drawn(session: Session, study: Study) -> None:
    if _existing_draw(session, study) is not None:
        raise DataError(
            f"調査 {study.name} はすでに抽出済みです（確認は --verify）。",
            f"Study {study.name!r} has already been drawn (check it with --verify).",
        )


def _existing_draw(session: Session, study: Study) -> Draw | None:
    return session.exec(select(Draw).where(Draw.study_id == study.id)).first()


def _run(
    register: Register,
    as_of: date,
    recorded: dict[str, Any],
    allocation: dict[str, int],
    seed: bytes,
    progress: Progress | None,
) -> tuple[DrawResult, ColumnFrames]:
    rules = frame_rules(recorded, as_of)
    if rules.infant_frame == "checkup" and (
        rules.fieldwork_start is None or rules.fieldwork_end is None
    ):
        raise UsageError(
            "infant_frame=checkup には fieldwork_start と fieldwork_end が必要です。",
            "infant_frame=checkup needs fieldwork_start and fieldwork_end.",
        )
    order = list(recorded["draw_order"])
    steps = len(order)

    def step(cohort: str) -> None:
        if progress is not None:
            progress(f"抽出 draw: {cohort}", order.index(cohort), steps)

    frames = column_frames(Persons.of(register.persons), rules, order)
    result = draw(frames.persons, rules, allocation, order, seed, step, frames)
    if progress is not None:
        progress("抽出 draw", steps, steps)
    return result, frames


@dataclass(slots=True)
class DrawPlan:
    """A draw computed in memory (register read, frames built, units drawn), not yet stored."""

    study: str
    as_of: date
    allocation: dict[str, int]
    seed: bytes
    commitment_id: int | None  # the committed seed this draw reveals, if any
    recorded: dict[str, Any]  # the settings the draw used
    register_sha256: str
    register_rows: int
    result: DrawResult
    records: list[RosterRecord]
    warnings: list[str]
    # Guardian households per type (members in earlier frames) and how many were left out.
    household_types: list[dict[str, Any]] = field(default_factory=list)


def plan_draw(
    session: Session,
    settings: Settings,
    study: Study,
    register_path: Path | bytes,
    as_of: date,
    allocation: dict[str, int],
    seed: bytes | None = None,
    committed: bool = False,
    progress: Progress | None = None,
) -> DrawPlan:
    """Read the register and draw, holding no write lock (a read session is enough): on a
    municipal register this takes seconds, which the intake must not wait for."""
    _refuse_if_drawn(session, study)
    commitment_id = None
    if committed:
        if seed is not None:
            raise UsageError(
                "--seed と --committed は同時に使えません。",
                "--seed and --committed exclude each other.",
            )
        commitment = _open_commitment(session, study)
        commitment_id = commitment.id
        seed = open_seed(settings, study.name, commitment.seed_sealed, commitment.seed_sha256)
    elif seed is None:
        seed = new_seed()
    recorded = effective_settings(study)
    recorded["as_of"] = as_of.isoformat()
    register = read_register(register_path, recorded["districts"], _reader_progress(progress))
    result, frames = _run(register, as_of, recorded, allocation, seed, progress)
    types = household_types(
        frames.persons, frame_rules(recorded, as_of), list(recorded["draw_order"]), result, frames
    )
    # Full rows for the drawn units only (from their own lines where records are lines).
    full = register.residents([u.person.line for u in result.units])
    records = [
        RosterRecord.from_resident(u.cohort, u.unit_id, full[u.person.line], u.checkup)
        for u in result.units
    ]
    later = frames.persons.born_after(as_of)
    warnings = []
    if later:
        warnings.append(
            f"基準日 {as_of} より後に生まれた {later} 人はどの枠にも入りません"
            f" / {later} resident(s) born after {as_of} are in no frame"
        )
    return DrawPlan(
        study.name,
        as_of,
        allocation,
        seed,
        commitment_id,
        recorded,
        register.sha256,
        len(register.persons),
        result,
        records,
        warnings,
        types,
    )


def store_draw(session: Session, settings: Settings, study: Study, plan: DrawPlan) -> DrawReport:
    """Record a planned draw, in the caller's (short) write transaction."""
    # Checked again under the write lock: another draw may have been stored meanwhile, or the
    # committed seed used, since the plan was made.
    _refuse_if_drawn(session, study)
    if plan.commitment_id is not None:
        commitment = _open_commitment(session, study)
        if commitment.id != plan.commitment_id:
            raise DataError(
                "抽出中にシードの公表がやり直されました。もう一度抽出してください。",
                "The seed commitment changed during the draw; draw again.",
            )
        commitment.used = True
        session.add(commitment)
    if study.settings.get("as_of") != plan.as_of.isoformat():
        study.settings = {**study.settings, "as_of": plan.as_of.isoformat()}
        session.add(study)
    result = plan.result
    assert study.id is not None
    row = Draw(
        study_id=study.id,
        seed_sealed=seal_seed(settings, study.name, plan.seed),
        seed_sha256=sha256_hex(plan.seed),
        committed=plan.commitment_id is not None,
        register_sha256=plan.register_sha256,
        register_rows=plan.register_rows,
        as_of=plan.as_of,
        allocation=plan.allocation,
        settings=plan.recorded,
        code_version=survey.__version__,
        algorithm=ALGORITHM,
        selection_sha256=result.selection_sha256,
        frame=result.frame,
        removed=result.removed,
        sample=result.sample,
        no_frame=result.no_frame,
        household_types=plan.household_types,
        drawn_on=date.today(),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for (cohort, sex, band, district), (units, removed) in sorted(result.cells.items()):
        session.add(
            FrameCount(
                draw_id=row.id,
                cohort=cohort,
                sex=sex,
                age_band=band,
                district=district,
                units=units,
                removed=removed,
            )
        )
    store_roster(session, settings, study.name, row.id, plan.records)
    return DrawReport(study.name, row, list(plan.warnings))


def draw_study(
    session: Session,
    settings: Settings,
    study: Study,
    register_path: Path | bytes,
    as_of: date,
    allocation: dict[str, int],
    seed: bytes | None = None,
    committed: bool = False,
    progress: Progress | None = None,
) -> DrawReport:
    """Plan and store a draw in one session (scripts and tests; the front doors plan first,
    outside any write transaction, then store)."""
    plan = plan_draw(
        session, settings, study, register_path, as_of, allocation, seed, committed, progress
    )
    return store_draw(session, settings, study, plan)


def _reader_progress(progress: Progress | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress("読込 read", done, total)


# What --verify judges the draw by: the selection digest says exactly which units (and which
# child) were drawn, and it does not depend on the register's row order.
VERIFIED_BY = ("frame", "removed", "sample", "no_frame", "selection_sha256")


@dataclass(slots=True)
class Verification:
    verified: bool
    register_matches: bool
    recorded: DrawReport
    rerun: dict[str, Any]
    differences: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "register_matches": self.register_matches,
            "differences": self.differences,
            "recorded": self.recorded.as_json(),
            "rerun": self.rerun,
        }


def verify_draw(
    session: Session,
    settings: Settings,
    study: Study,
    register_path: Path,
    progress: Progress | None = None,
) -> Verification:
    """Re-run the recorded draw (seed, D, allocation, settings) and compare.

    The draw is verified when the selection, the frames and the sample sizes match. The
    register file's SHA-256 is reported apart (``register_matches``): the same residents in
    another row order give another file hash but the same draw. Raises
    :class:`SeedErasedError` once the roster key (and with it the seed) has been destroyed.
    """
    recorded = get_draw(session, study)
    seed = open_seed(settings, study.name, recorded.seed_sealed, recorded.seed_sha256)
    districts = recorded.settings.get("districts", effective_settings(study)["districts"])
    register = read_register(register_path, districts, _reader_progress(progress))
    rerun: dict[str, Any] = {"register_sha256": register.sha256}
    try:
        result, _ = _run(
            register, recorded.as_of, recorded.settings, recorded.allocation, seed, progress
        )
    except DataError as exc:  # e.g. this register's frames are too small for the allocation
        rerun["error"] = exc.en
        differences = ["error"]
    else:
        rerun |= {key: getattr(result, key) for key in VERIFIED_BY}
        differences = [key for key in VERIFIED_BY if rerun[key] != getattr(recorded, key)]
    return Verification(
        verified=not differences,
        register_matches=register.sha256 == recorded.register_sha256,
        recorded=DrawReport(study.name, recorded),
        rerun=rerun,
        differences=differences,
    )


def get_draw(session: Session, study: Study) -> Draw:
    existing = _existing_draw(session, study)
    if existing is None:
        raise DataError(
            f"調査 {study.name} はまだ抽出していません。",
            f"Study {study.name!r} has not been drawn yet.",
        )
    return existing
