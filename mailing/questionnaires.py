"""The printed questionnaire of one cohort: a blank master for a printer, or one booklet per
sampled unit with that unit's access code printed in it (``--with-codes``).

With codes, the booklets are the codes' one print file: the codes are issued here exactly as
``survey codes`` issues them (:mod:`survey.access_codes`: the operating system's CSPRNG, keyed
hashes, a random order of print and of insertion), the file is tracked (kind
``paper_forms``) so that erasure destroys it, and a cohort that already has codes is refused
(their plaintext no longer exists, and a second set would let one unit answer twice). As in
:mod:`mailing.service`, the file is rendered outside any write transaction and recorded with
the codes in one short transaction; if that fails the files go.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from mailing.fonts import FontSet, warn_missing
from mailing.service import PrintReport, Recorder, _study, contact_warnings
from survey import access_codes
from survey.cohorts import COHORT_LABELS
from survey.db import transaction
from survey.errors import DataError, UsageError
from survey.files import fresh_outputs, removed_on_failure, track
from survey.forms.loader import load_forms
from survey.forms.paper.render import map_path, write_booklets
from survey.forms.versions import form_for_cohort, freeze
from survey.ingest.provision import refresh_local
from survey.keys import require_study_key
from survey.sampling.service import get_draw
from survey.settings import Settings
from survey.study import effective_settings


def _refuse_issued(existing: dict[str, int], cohort: str) -> None:
    if existing.get(cohort):
        raise DataError(
            f"{COHORT_LABELS[cohort]}（{cohort}）のアクセスコードは発行済みです。平文はもう"
            "残っていないため、コード入りの調査票は作れません。白紙の原稿（--with-codes なし）"
            "とコード票を使ってください。",
            f"Access codes of {cohort} were already issued; their plaintext no longer exists, so "
            "booklets with codes cannot be printed. Print the blank master (without "
            "--with-codes) and use the code slips.",
        )


def print_paper_forms(
    engine: Engine,
    settings: Settings,
    study_name: str,
    cohort: str,
    out: Path,
    with_codes: bool = False,
    record: Recorder | None = None,
) -> PrintReport:
    forms = load_forms()
    with transaction(engine, write=False) as session:
        study = _study(session, study_name)
        values = effective_settings(study)
        web = cohort in values["web_cohorts"]
        # The cover of a web-enabled cohort carries the study key's fingerprint: no key, no
        # print (the respondent compares it with the one the browser shows).
        fingerprint = require_study_key(session, study).fingerprint if web else None
        form = form_for_cohort(session, study, cohort, forms)
        units = 0
        if with_codes:
            units = get_draw(session, study).sample.get(cohort, 0)
            _refuse_issued(access_codes.existing_counts(session, study), cohort)
    if form is None:
        raise DataError(
            f"{cohort} の調査票の定義がありません。", f"No form definition for {cohort}."
        )
    if with_codes and units < 1:
        raise DataError(
            f"{COHORT_LABELS[cohort]} に抽出された対象がありません。",
            f"No sampled units in {cohort}.",
        )
    if web and not settings.public_url:
        raise UsageError(
            "Web 回答の対象のため SURVEY_PUBLIC_URL（調査のWebアドレス）を設定してください。",
            "Set SURVEY_PUBLIC_URL (the study's web address): this cohort answers on the web.",
        )
    # One code per sampled unit, shuffled with the system CSPRNG (never the draw seed).
    codes = access_codes.generate({cohort: units}) if with_codes else None
    files = fresh_outputs(out, map_path(out))
    fonts = FontSet.load()
    with removed_on_failure(files):
        doc = write_booklets(
            out,
            form,
            fonts,
            values,
            web,
            settings.public_url or "",
            fingerprint,
            [c.code for c in codes] if codes is not None else None,
        )
        warnings = warn_missing(fonts) + contact_warnings(values)
        if not values.get("fieldwork_end"):
            warnings.append(
                "調査終了日（fieldwork_end）が未設定のため、返送の締切日を書かずに印刷しました。"
                " / fieldwork_end is not set: the cover carries no deadline."
            )
        report = PrintReport(
            files,
            {cohort: doc["booklets"]},
            warnings,
            {
                "form": form.id,
                "version": form.version,
                "pages_per_booklet": doc["pages_per_booklet"],
                "with_codes": with_codes,
                "box_map": str(map_path(out)),
            },
        )
        if codes is None:
            return report  # a blank master: no code, nothing personal, nothing to track
        with transaction(engine) as session:
            study = _study(session, study_name)
            # Checked again under the write lock: `survey codes` or another run may have
            # issued this cohort's codes meanwhile.
            _refuse_issued(access_codes.existing_counts(session, study), cohort)
            access_codes.claim_batch(session, study, {cohort: units})
            access_codes.store(session, settings, study, codes)
            frozen = freeze(session, study, [cohort])  # this form's version is now immutable
            if [(f.form_id, f.version) for f in frozen] != [(form.id, form.version)]:
                raise DataError(
                    "印刷した調査票の版が、コードを発行する版と異なります。",
                    "The printed form's version is not the one the codes freeze.",
                )
            track(session, study, "paper_forms", out)
            # The box map holds no code, but it lies beside the booklets in the same folder:
            # erased with them, so that erasure's leak check finds nothing it does not know.
            track(session, study, "paper_forms", map_path(out))
            # A collector in this very database (one-process mode) learns of the new codes.
            refresh_local(session, settings, study)
            if record is not None:
                record(session, report)
    return report
