"""Mailing services: code slips, labels, postcards and the vendor file for a drawn study.

Every file written here holds personal data or plaintext codes and is recorded (path, size,
SHA-256), so that erasure can destroy it. Each service works in three steps: it reads what it
needs, renders the files outside any write transaction (slips take seconds: in one-process
mode a write lock held that long would turn web submissions away), then records everything
in one short write transaction: the codes, the tracked files and the front door's audit
entry (``record``) exist together or not at all, and if that transaction fails the files go.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from mailing.batches import Batch, batches
from mailing.fonts import FontSet, warn_missing
from mailing.labels import write_label_sheets, write_vendor_csv
from mailing.layouts import LabelLayout
from mailing.postcards import write_postcards
from mailing.slips import write_codes_csv, write_slips
from survey import access_codes
from survey.db import transaction
from survey.errors import DataError, UsageError
from survey.files import fresh_outputs, removed_on_failure, track
from survey.forms.versions import freeze
from survey.ingest.provision import refresh_local
from survey.keys import require_study_key
from survey.models import Study
from survey.public import Contact
from survey.roster import load_roster
from survey.sampling.service import get_draw
from survey.settings import Settings
from survey.study import effective_settings


def contact_warnings(values: dict[str, Any]) -> list[str]:
    """A print file without the office to ask (study settings) is printed, with a warning."""
    if Contact.of(values).given:
        return []
    return [
        "問い合わせ先（organisation, section, office_phone など）が未設定のため、"
        "印刷物に問い合わせ先がありません。 / No enquiry contact is set (organisation, "
        "section, office_phone): the print file names nobody to ask."
    ]


@dataclass
class PrintReport:
    files: list[Path]
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": [str(p) for p in self.files],
            "counts": self.counts,
            "total": sum(self.counts.values()),
            "warnings": self.warnings,
            **self.extra,
        }

    def audit_object(self, study: str) -> dict[str, Any]:
        """What the audit log keeps of an export: the files and unit counts, never content."""
        return {"study": study, "files": [str(p) for p in self.files], "counts": self.counts}


# The front door's audit entry, appended in the transaction that records the files.
Recorder = Callable[[Session, PrintReport], None]


def _study(session: Session, name: str) -> Study:
    study = session.exec(select(Study).where(Study.name == name)).first()
    if study is None:
        raise UsageError(f"調査 {name} がありません。", f"No study named {name!r}.")
    return study


def _check_issue(existing: dict[str, int], additional: int | None, issuing: list[str]) -> None:
    """``issuing``: the cohorts this run gives codes (without ``--additional``: those that have
    none yet, as after `survey paper forms --with-codes` printed some cohorts' own)."""
    if existing and additional is None and (not issuing or any(existing.get(c) for c in issuing)):
        raise DataError(
            "アクセスコードは発行済みです。平文はもう残っていないため再印刷できません。"
            "予備が必要なら --additional N で新しいコードを追加発行してください。",
            "Access codes were already issued; their plaintext no longer exists, so they cannot "
            "be reprinted. Use --additional N to issue N new spare codes per cohort.",
        )
    if additional is not None and not existing:
        raise UsageError(
            "--additional は発行済みのコードに予備を足すためのものです。"
            "まず --additional なしで発行してください。",
            "--additional adds spares to codes already issued; issue the codes first without it.",
        )
    if additional is not None and additional < 1:
        raise UsageError("--additional は1以上です。", "--additional must be at least 1.")


def print_codes(
    engine: Engine,
    settings: Settings,
    study_name: str,
    out: Path,
    csv_path: Path | None = None,
    spares: str = "2%",
    additional: int | None = None,
    record: Recorder | None = None,
) -> PrintReport:
    with transaction(engine, write=False) as session:
        study = _study(session, study_name)
        key = require_study_key(session, study)  # slips carry the fingerprint: no key, no print
        draw = get_draw(session, study)
        values = effective_settings(study)
        existing = access_codes.existing_counts(session, study)
    cohorts = [c for c, n in draw.sample.items() if n > 0]
    if additional is None:
        # A cohort whose booklets carry their codes (`survey paper forms --with-codes`) has
        # them; the first run issues every other cohort's.
        cohorts = [c for c in cohorts if not existing.get(c)]
    _check_issue(existing, additional, cohorts)
    if additional is not None:
        counts = dict.fromkeys(cohorts, additional)
        spare_counts = dict(counts)
    else:
        spare_counts = {c: access_codes.parse_spares(spares, draw.sample[c]) for c in cohorts}
        counts = {c: draw.sample[c] + spare_counts[c] for c in cohorts}
    web = [c for c in values["web_cohorts"] if counts.get(c)]
    if web and not settings.public_url:
        raise UsageError(
            "Web 回答の対象があるため SURVEY_PUBLIC_URL（調査のWebアドレス）を設定してください。",
            "Set SURVEY_PUBLIC_URL (the study's web address): some cohorts answer on the web.",
        )
    codes = access_codes.generate(counts)
    files = fresh_outputs(out, csv_path)
    fonts = FontSet.load()
    with removed_on_failure(files):
        write_slips(out, codes, fonts, web, settings.public_url or "", key.fingerprint, values)
        if csv_path is not None:
            write_codes_csv(csv_path, codes)
        with transaction(engine) as session:
            study = _study(session, study_name)
            # Checked again under the write lock: another run may have issued codes meanwhile,
            # and of two runs claiming the same batch number only one can commit.
            _check_issue(access_codes.existing_counts(session, study), additional, list(counts))
            access_codes.claim_batch(session, study, counts)
            stored = access_codes.store(session, settings, study, codes)
            freeze(session, study, list(counts))  # these forms' versions are now immutable
            track(session, study, "code_slips", out)
            if csv_path is not None:
                track(session, study, "code_csv", csv_path)
            # A collector in this very database (one-process mode) learns of the new codes in
            # the same transaction: they work on the web as soon as they exist.
            refresh_local(session, settings, study)
            report = PrintReport(
                files,
                dict(stored),
                warn_missing(fonts) + contact_warnings(values),
                {"spares": spare_counts, "fingerprint": key.fingerprint, "web_cohorts": web},
            )
            if record is not None:
                record(session, report)
    return report


def _batches(
    engine: Engine, settings: Settings, study_name: str, cohort: str | None
) -> tuple[list[Batch], dict[str, Any]]:
    with transaction(engine, write=False) as session:
        study = _study(session, study_name)
        draw = get_draw(session, study)
        assert draw.id is not None
        records = load_roster(session, settings, study.name, draw.id)
        values = effective_settings(study)
    found = batches(records, values, cohort)
    if not found:
        raise DataError("対象の名簿がありません。", "No drawn units for that cohort.")
    return found, values


def _counts(found: list[Batch]) -> dict[str, int]:
    return dict(Counter({b.cohort: len(b.records) for b in found}))


def _record_files(
    engine: Engine,
    study_name: str,
    tracked: list[tuple[str, Path]],
    report: PrintReport,
    record: Recorder | None,
) -> None:
    with transaction(engine) as session:
        study = _study(session, study_name)
        for kind, path in tracked:
            track(session, study, kind, path)
        if record is not None:
            record(session, report)


def print_labels(
    engine: Engine,
    settings: Settings,
    study_name: str,
    out: Path | None,
    layout: LabelLayout,
    cohort: str | None = None,
    vendor_csv: Path | None = None,
    encoding: str = "cp932",
    record: Recorder | None = None,
    headers: str = "ja",
) -> PrintReport:
    found, _values = _batches(engine, settings, study_name, cohort)
    files = fresh_outputs(out, vendor_csv)
    fonts = FontSet.load()
    warnings: list[str] = []
    tracked: list[tuple[str, Path]] = []
    with removed_on_failure(files):
        if out is not None:
            write_label_sheets(out, found, layout, fonts)
            tracked.append(("labels", out))
            warnings += warn_missing(fonts)
        if vendor_csv is not None:
            _rows, problems = write_vendor_csv(vendor_csv, found, encoding, headers)
            tracked.append(("vendor_csv", vendor_csv))
            if problems:
                warnings += [
                    f"警告: {encoding} で表せない文字を〓にしました / characters {encoding} "
                    "cannot hold were written as 〓:",
                    *problems,
                ]
        report = PrintReport(files, _counts(found), warnings, {"layout": layout.name})
        _record_files(engine, study_name, tracked, report, record)
    return report


def print_postcards(
    engine: Engine,
    settings: Settings,
    study_name: str,
    out: Path,
    layout: LabelLayout | None,
    record: Recorder | None = None,
) -> PrintReport:
    found, values = _batches(engine, settings, study_name, None)
    files = fresh_outputs(out)
    fonts = FontSet.load()
    # The generic address of the form (never a code: the card is addressed to a person).
    web = [c for c in values["web_cohorts"] if settings.public_url]
    with removed_on_failure(files):
        write_postcards(out, found, layout, fonts, values, web, settings.public_url or "")
        warnings = warn_missing(fonts) + contact_warnings(values)
        if not values.get("fieldwork_end"):
            warnings.append(
                "調査終了日（fieldwork_end）が未設定のため、締切日を書かずに印刷しました。"
                " / fieldwork_end is not set: the cards carry no deadline."
            )
        if values["postage_mark"] != "none" and not values.get("postage_permit"):
            warnings.append(
                f"料金{values['postage_mark']}の差出事業所名（postage_permit）が未設定です。"
                " / postage_permit (the post office of the permit) is not set."
            )
        if layout is None and values["web_cohorts"] and not settings.public_url:
            warnings.append(
                "SURVEY_PUBLIC_URL が未設定のため、はがきに回答画面のアドレスを書いていません。"
                " / SURVEY_PUBLIC_URL is not set: the cards carry no web address."
            )
        report = PrintReport(
            files, _counts(found), warnings, {"layout": layout.name if layout else "hagaki"}
        )
        _record_files(engine, study_name, [("postcards", out)], report, record)
    return report
