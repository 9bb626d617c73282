"""Files the system writes that hold personal data or plaintext codes.

Each is recorded (path, size, SHA-256) when written, so that erasure can find and destroy
every one of them and the certificate can say which.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from survey.crypto import sha256_hex
from survey.errors import UsageError
from survey.models import Study, TrackedFile

KINDS = (
    "code_slips",
    "code_csv",
    # Printed questionnaires with each booklet's access code (`survey paper forms
    # --with-codes`): the codes' one print file.
    "paper_forms",
    "labels",
    "postcards",
    "vendor_csv",
    "roster_csv",
    "draw_seed",
    # A register extract the system itself wrote (the demo's synthetic city): an upload is
    # drawn from in memory and never written.
    "register",
)


def track(session: Session, study: Study, kind: str, path: Path) -> TrackedFile:
    # Real checks, not asserts: `python -O` strips those, and erasure finds files by kind.
    if kind not in KINDS:
        raise ValueError(f"unknown tracked file kind {kind!r} (one of {', '.join(KINDS)})")
    if study.id is None:
        raise ValueError("the study must be stored before its files are tracked")
    data = path.read_bytes()
    row = TrackedFile(
        study_id=study.id,
        kind=kind,
        path=str(path.resolve()),
        size=len(data),
        sha256=sha256_hex(data),
        created_on=date.today(),
    )
    session.add(row)
    session.flush()
    return row


def tracked(session: Session, study: Study) -> list[TrackedFile]:
    query = select(TrackedFile).where(TrackedFile.study_id == study.id).order_by("id")
    return list(session.exec(query).all())


def fresh_outputs(*paths: Path | None) -> list[Path]:
    """The given output paths, refusing any that exist: a print file is never overwritten."""
    out = [p for p in paths if p is not None]
    for p in out:
        if p.exists():
            raise UsageError(
                f"{p} はすでにあります（上書きしません）。", f"{p} exists; not overwritten."
            )
        p.parent.mkdir(parents=True, exist_ok=True)
    return out


@contextlib.contextmanager
def kept_if_committed(session: Session, paths: list[Path]) -> Iterator[None]:
    """Run the block (e.g. the audit entry of an export), then commit; if either fails, the
    files go: an export, its tracking and its audit entry exist together or not at all."""
    with removed_on_failure(paths):
        yield
        session.commit()


@contextlib.contextmanager
def removed_on_failure(paths: list[Path]) -> Iterator[None]:
    """If anything fails after files were written, delete them: no orphan personal data."""
    try:
        yield
    except BaseException:
        for p in paths:
            p.unlink(missing_ok=True)
        raise
