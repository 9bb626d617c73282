"""Issuing access codes: plaintext only in memory and in the one print file, hashes stored.

Codes come from the operating system's CSPRNG (never from the draw seed), one per sampled unit
plus spares, per cohort. They are stored as keyed hashes with their cohort; nothing links a
code to a roster unit, and the order of insertion and of print is random.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, func, select

from survey.codes import code_hash_key, new_code
from survey.crypto import code_hash
from survey.errors import DataError, UsageError
from survey.models import AccessCode, CodeBatch, Study
from survey.settings import Settings


@dataclass(frozen=True, slots=True)
class IssuedCode:
    cohort: str
    code: str  # canonical, 13 symbols


def parse_spares(text: str, sample: int) -> int:
    """``2%`` of the cohort's sample (rounded up) or an absolute count."""
    text = text.strip()
    bad = UsageError(
        "--spares は0以上の数か百分率（例 2%）です。",
        "--spares is a non-negative count or percentage (e.g. 2%).",
    )
    try:
        if text.endswith("%"):
            percent = float(text[:-1])
            if not math.isfinite(percent) or percent < 0 or percent > 1000:
                raise bad
            return math.ceil(sample * percent / 100)
        value = int(text)
    except ValueError as exc:
        raise bad from exc
    if value < 0:
        raise bad
    return value


def existing_counts(session: Session, study: Study) -> dict[str, int]:
    rows = session.exec(
        select(AccessCode.cohort, func.count())
        .where(AccessCode.study_id == study.id)
        .group_by(AccessCode.cohort)
    ).all()
    return {cohort: int(n) for cohort, n in rows}


def next_batch(session: Session, study: Study) -> int:
    return int(session.exec(select(func.count()).where(CodeBatch.study_id == study.id)).one()) + 1


def claim_batch(session: Session, study: Study, counts: dict[str, int]) -> CodeBatch:
    """Record this run's batch. Two runs that read the same batch number cannot both commit:
    the unique (study, batch) index refuses the second."""
    assert study.id is not None
    number = next_batch(session, study)
    batch = CodeBatch(study_id=study.id, batch=number, counts=counts, issued_on=date.today())
    session.add(batch)
    try:
        session.flush()
    except (IntegrityError, OperationalError) as exc:
        raise DataError(
            "同時に別のコード発行が行われました。結果を確認してから、やり直してください。",
            "Another `survey codes` ran at the same time; check its result before retrying.",
        ) from exc
    return batch


def generate(counts: dict[str, int]) -> list[IssuedCode]:
    """Fresh unique codes per cohort, shuffled within each cohort with the system CSPRNG."""
    issued: list[IssuedCode] = []
    seen: set[str] = set()
    rng = secrets.SystemRandom()
    for cohort, n in counts.items():
        batch: list[IssuedCode] = []
        while len(batch) < n:
            code = new_code()
            if (
                code not in seen
            ):  # 60 bits: a repeat is practically impossible, but cheap to rule out
                seen.add(code)
                batch.append(IssuedCode(cohort, code))
        rng.shuffle(batch)
        issued.extend(batch)
    return issued


def store(
    session: Session, settings: Settings, study: Study, codes: list[IssuedCode]
) -> Counter[str]:
    key = code_hash_key(settings, study.name, create=True)
    assert study.id is not None
    shuffled = list(codes)
    # Insert in an order unrelated to generation and print order.
    secrets.SystemRandom().shuffle(shuffled)
    for c in shuffled:
        session.add(AccessCode(hash=code_hash(key, c.code), study_id=study.id, cohort=c.cohort))
    session.flush()
    return Counter(c.cohort for c in codes)


def unused(session: Session, settings: Settings, study: Study, codes: list[str]) -> list[str]:
    """Those of ``codes`` (any accepted spelling) that exist and are not used yet."""
    from survey.codes import CodeFormatError, normalize

    key = code_hash_key(settings, study.name)
    out = []
    for text in codes:
        try:
            digest = code_hash(key, normalize(text))
        except CodeFormatError:
            continue
        row = session.get(AccessCode, digest)
        if row is not None and row.study_id == study.id and not row.used:
            out.append(text)
    return out
