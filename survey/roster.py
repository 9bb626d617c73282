"""The drawn roster, encrypted at rest under a per-study roster key.

Each unit is stored as a random id, its cohort, and one secretbox ciphertext of every
personal column. The roster key lives in ``SURVEY_KEY_DIR/<study>/roster.key``: outside
the database, outside the data folder and outside backups, so that destroying that one
file makes every copy of the roster unreadable (crypto-erasure).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlmodel import Session, select

from survey.cohorts import COHORT_LABELS, GUARDIAN_COHORTS
from survey.crypto import load_or_create_key, read_key_file, seal_secret
from survey.decrypt import open_secret
from survey.models import RosterUnit
from survey.postal import postal_display
from survey.register.reader import Resident
from survey.sampling.cohorts import Checkup
from survey.settings import Settings
from survey.spreadsheet import DictWriter

ROSTER_KEY_FILE = "roster.key"
# Every roster ciphertext is padded to a multiple of 1 KiB: a real unit's columns fit in one
# block, so ciphertext lengths do not tell long names or addresses from short ones.
ROSTER_PAD = 1024
EXPORT_COLUMNS = (
    "cohort",
    "cohort_label",
    "addressee",
    "child",
    "postal_code",
    "address",
    "building",
    "checkup",
    "checkup_month",
)


@dataclass(frozen=True, slots=True)
class RosterRecord:
    """A drawn unit as printed on an envelope. For guardian cohorts the person is the child."""

    cohort: str
    unit_id: str  # household id (guardian cohorts) or resident id
    resident_id: str
    name: str
    name_kana: str
    postal_code: str
    address: str
    building: str
    checkup: str = ""  # e.g. "4か月児健診" with infant_frame=checkup
    checkup_month: str = ""  # YYYY-MM the check-up age is reached

    @property
    def is_guardian(self) -> bool:
        return self.cohort in GUARDIAN_COHORTS

    @property
    def addressee(self) -> str:
        # Guardians are addressed through the chosen child: the register does not say
        # which adult is the guardian, and the questionnaire asks about that child.
        return f"{self.name} 様 保護者様" if self.is_guardian else f"{self.name} 様"

    @classmethod
    def from_resident(
        cls, cohort: str, unit_id: str, r: Resident, checkup: Checkup | None
    ) -> RosterRecord:
        return cls(
            cohort=cohort,
            unit_id=unit_id,
            resident_id=r.resident_id,
            name=r.name,
            name_kana=r.name_kana,
            postal_code=r.postal_code,
            address=r.address,
            building=r.building,
            checkup=checkup.label if checkup else "",
            checkup_month=checkup.on.strftime("%Y-%m") if checkup else "",
        )


def roster_key_path(settings: Settings, study: str) -> Path:
    return settings.study_key_dir(study) / ROSTER_KEY_FILE


def store_roster(
    session: Session, settings: Settings, study: str, draw_id: int, records: Sequence[RosterRecord]
) -> None:
    key = load_or_create_key(roster_key_path(settings, study))
    shuffled = list(records)
    # Inserted in a random order with random ids, so neither row order nor ids relate to
    # the register's order or to the rank order of the draw.
    secrets.SystemRandom().shuffle(shuffled)
    for record in shuffled:
        payload = {k: v for k, v in asdict(record).items() if k != "cohort"}
        session.add(
            RosterUnit(
                id=uuid.uuid4().hex,
                draw_id=draw_id,
                cohort=record.cohort,
                sealed=seal_secret(
                    key, json.dumps(payload, ensure_ascii=False).encode(), block=ROSTER_PAD
                ),
            )
        )
    session.flush()


def load_roster(
    session: Session, settings: Settings, study: str, draw_id: int
) -> list[RosterRecord]:
    key = read_key_file(roster_key_path(settings, study))
    units = session.exec(select(RosterUnit).where(RosterUnit.draw_id == draw_id)).all()
    records = [
        RosterRecord(cohort=u.cohort, **json.loads(open_secret(key, u.sealed, block=ROSTER_PAD)))
        for u in units
    ]
    records.sort(key=lambda r: (r.cohort, r.postal_code, r.address, r.building))
    return records


def export_rows(records: Iterable[RosterRecord]) -> Iterable[dict[str, str]]:
    for r in records:
        yield {
            "cohort": r.cohort,
            "cohort_label": COHORT_LABELS[r.cohort],
            "addressee": r.addressee,
            "child": r.name if r.is_guardian else "",
            "postal_code": postal_display(r.postal_code),
            "address": r.address,
            "building": r.building,
            "checkup": r.checkup,
            "checkup_month": r.checkup_month,
        }


def write_csv(records: Iterable[RosterRecord], path: Path, encoding: str = "utf-8-sig") -> int:
    """Write the roster for an authorised officer; UTF-8 with BOM opens cleanly in Excel.

    Register text that looks like a formula is written as text (survey.spreadsheet)."""
    count = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = DictWriter(fh, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for row in export_rows(records):
            writer.writerow(row)
            count += 1
    return count
