"""Form versions are immutable once a study's codes exist.

When codes are issued, the current form of each cohort is recorded with the SHA-256 of its
expanded definition. Afterwards, changing that version's questions (in the file or in a
module it uses) is refused by ``survey forms check``: a change means a new version, and
answers name the version they answer.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from survey.forms.loader import Form, FormError, current_forms, load_forms
from survey.models import FormVersion, Study


def freeze(session: Session, study: Study, cohorts: list[str]) -> list[FormVersion]:
    """Record (or confirm) the forms the study's cohorts answer; returns the records."""
    every = load_forms()
    forms = current_forms(every)
    assert study.id is not None
    out = []
    for cohort in cohorts:
        form = forms.get(cohort)
        if form is None:
            continue
        existing = session.exec(
            select(FormVersion).where(
                FormVersion.study_id == study.id,
                FormVersion.form_id == form.id,
                FormVersion.version == form.version,
            )
        ).first()
        if existing is None:
            existing = FormVersion(
                study_id=study.id,
                form_id=form.id,
                version=form.version,
                cohort=cohort,
                sha256=form.sha256,
                frozen_on=date.today(),
            )
            session.add(existing)
        out.append(existing)
    session.flush()
    problems = check_frozen(session, every)
    if problems:
        raise FormError(problems)
    return out


def check_frozen(session: Session, forms: dict[tuple[str, int], Form]) -> list[str]:
    """Problems: a frozen version that changed or disappeared."""
    problems = []
    for record in session.exec(select(FormVersion)).all():
        study = session.get(Study, record.study_id)
        name = study.name if study else record.study_id
        form = forms.get((record.form_id, record.version))
        if form is None:
            problems.append(
                f"{record.form_id} v{record.version}: 調査 {name} のコードが使う版がありません"
                f" / version used by study {name}'s codes is missing"
            )
        elif form.sha256 != record.sha256:
            problems.append(
                f"{form.path.name}: -: 調査 {name} のコード発行後に変更されています。"
                f"新しい版（version: {record.version + 1}）にしてください"
                f" / changed after study {name}'s codes were issued; make it version "
                f"{record.version + 1}"
            )
    return problems


def form_for_cohort(
    session: Session, study: Study, cohort: str, forms: dict[tuple[str, int], Form]
) -> Form | None:
    """The form a cohort's codes open: the version frozen for the study, else the newest."""
    frozen = session.exec(
        select(FormVersion)
        .where(FormVersion.study_id == study.id, FormVersion.cohort == cohort)
        .order_by(col(FormVersion.version).desc())
    ).first()
    if frozen is not None:
        form = forms.get((frozen.form_id, frozen.version))
        if form is not None and form.sha256 != frozen.sha256:
            # Never serve (or read answers with) questions other than those the codes froze.
            raise FormError(check_frozen(session, forms) or [f"{form.path.name}: -: changed"])
        return form
    return current_forms(forms).get(cohort)


def check_districts(session: Session, forms: dict[tuple[str, int], Form]) -> list[str]:
    """Problems: a study's district names (the frame counts' cells) missing from a form's
    district item, which would make answers impossible to match to the frame by district."""
    from survey.study import effective_settings

    problems = []
    for study in session.exec(select(Study)).all():
        names = set(effective_settings(study)["districts"])
        for form in forms.values():
            item = next((i for i in form.items() if i.id == "district"), None)
            if item is None:
                continue
            labels = {o.label.ja for o in item.options or ()}
            missing = sorted(names - labels)
            if missing:
                problems.append(
                    f"{form.path.name}: district: 調査 {study.name} の地区 {'、'.join(missing)} "
                    f"が選択肢にありません / study {study.name}'s districts missing from the "
                    "options"
                )
    return problems
