"""The dataset: one row per accepted response, web and paper alike, ready for weighting.

Columns: ``response_id`` (random, stable, linked to nothing else), ``cohort`` (the stratum,
as its id), ``channel`` (``web``/``paper``), ``form``, ``version``, ``week`` (ISO week of
arrival, never the day); then one column per variable of every form, named by its id, with
the standard missing codes (−1 where the skip logic hid the item; a variable not on a
cohort's form is empty, not −1); then the derived variables (K6 total and band, indicators,
ideation in the past year, ...). A free-text item appears only as ``<item>_answered`` (0/1):
the text never leaves its table. Rows are sorted by their random id, so their order says
nothing about arrival.

``build`` assembles it, checks it and records its size and digest; ``export`` writes exactly
that build (CSV in UTF-8 with BOM, formula-safe; or Parquet), and refuses if the answers
changed since (build again). With ``weights`` the export adds the study's design weight
(``weight``: w_h, with the guardian household factor where the draw recorded household types)
and ``fpc`` (N'_h, the stratum's population after earlier draws), as survey.analysis uses them.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from survey import spreadsheet
from survey.db import transaction
from survey.errors import DataError, UsageError
from survey.forms.codebook import TEXT_TYPES, dataset_columns
from survey.forms.loader import Form, load_forms
from survey.models import DatasetBuild, Draw, Response, Study


def columns(forms: dict[tuple[str, int], Form]) -> list[str]:
    """Every column, in the codebook's order (metadata, variables, derived variables)."""
    return [c["column"] for c in dataset_columns(forms)]


def _row(response: Response, form: Form) -> dict[str, Any]:
    row: dict[str, Any] = {
        "response_id": response.id,
        "cohort": response.cohort,
        "channel": response.channel,
        "form": response.form_id,
        "version": response.version,
        "week": response.week,
    }
    for var in form.variables():
        value = response.answers.get(var.id)
        if var.type in TEXT_TYPES:
            row[f"{var.id}_answered"] = int(value == 1)
        else:
            row[var.id] = value
    row.update(response.derived)
    return row


def frame(session: Session, study: Study) -> pd.DataFrame:
    """The dataset as a DataFrame (nullable integers; lists of picks as text)."""
    responses = session.exec(
        select(Response).where(Response.study_id == study.id).order_by(col(Response.id))
    ).all()
    return frame_of(responses)


def frame_of(responses: Iterable[Response]) -> pd.DataFrame:
    """The dataset of these responses (in their order), as :func:`frame` gives it."""
    forms = load_forms()
    rows = []
    for r in responses:
        form = forms.get((r.form_id, r.version))
        if form is None:
            raise DataError(
                f"調査票 {r.form_id} v{r.version} の定義がありません。",
                f"Form {r.form_id} v{r.version} is not defined here.",
            )
        rows.append(_row(r, form))
    df = pd.DataFrame(rows, columns=columns(forms))
    for name in df.columns:
        if name in ("response_id", "cohort", "channel", "form", "week"):
            df[name] = df[name].astype("string")
        elif df[name].map(lambda v: isinstance(v, list)).any():
            # A multiple choice: its picks, space-separated (a missing code stays a number).
            # Rows of a form without the item hold NaN: left empty, not made the text "nan".
            df[name] = df[name].map(_picks, na_action="ignore").astype("string")
        else:
            df[name] = pd.array(df[name].tolist(), dtype="Int64")
    return df


def _picks(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return None if value is None else str(value)


def _digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(df.to_json(orient="split", index=False).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class DatasetReport:
    study: str
    rows: int
    counts: dict[str, dict[str, int]]  # cohort -> channel -> rows
    columns: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "rows": self.rows,
            "by_cohort_and_channel": self.counts,
            "columns": self.columns,
            "sha256": self.sha256,
        }


def _report(study: str, df: pd.DataFrame) -> DatasetReport:
    counts: dict[str, Counter[str]] = {}
    for cohort, channel in zip(df["cohort"], df["channel"], strict=True):
        counts.setdefault(str(cohort), Counter())[str(channel)] += 1
    return DatasetReport(
        study,
        len(df),
        {c: dict(n) for c, n in sorted(counts.items())},
        len(df.columns),
        _digest(df),
    )


def _study(session: Session, name: str) -> Study:
    study = session.exec(select(Study).where(Study.name == name)).first()
    if study is None:
        raise UsageError(f"調査 {name} がありません。", f"No study named {name!r}.")
    return study


def build(engine: Engine, study_name: str, record: Any = None) -> DatasetReport:
    """Assemble the dataset and record the build (``record(session, report)`` audits it)."""
    with transaction(engine) as session:
        study = _study(session, study_name)
        df = frame(session, study)
        if df["response_id"].duplicated().any():  # cannot happen: a primary key; say so if it does
            raise DataError("回答の ID が重複しています。", "Duplicate response ids.")
        report = _report(study.name, df)
        assert study.id is not None
        session.add(
            DatasetBuild(
                study_id=study.id,
                rows=report.rows,
                counts=report.counts,
                columns=report.columns,
                sha256=report.sha256,
                built_on=date.today(),
            )
        )
        if record is not None:
            record(session, report)
    return report


def current(session: Session, study: Study) -> tuple[pd.DataFrame, DatasetReport]:
    """The dataset exactly as last built; refused if there is no build, or answers changed."""
    last = session.exec(
        select(DatasetBuild)
        .where(DatasetBuild.study_id == study.id)
        .order_by(col(DatasetBuild.id).desc())
    ).first()
    df = frame(session, study)
    report = _report(study.name, df)
    if last is None or last.sha256 != report.sha256:
        raise DataError(
            "データセットが作成時から変わっています（または未作成です）。"
            "先に survey dataset build を実行してください。",
            "The answers changed since the dataset was built (or it never was): run "
            "`survey dataset build` first.",
        )
    return df, report


def current_csv(session: Session, study: Study) -> bytes:
    return csv_bytes(current(session, study)[0])


def export(
    engine: Engine, study_name: str, out: Path, record: Any = None, weights: bool = False
) -> DatasetReport:
    """Write the last build to ``out`` (.csv or .parquet); refused if answers changed since."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UsageError(
            "出力は .csv か .parquet のファイルです。", "The output is a .csv or .parquet file."
        )
    if out.exists():
        raise UsageError(f"{out.name} はすでにあります。", f"{out.name} exists; not overwritten.")
    with transaction(engine) as session:
        study = _study(session, study_name)
        df, report = current(session, study)
        if weights:
            df = with_weights(session, study, df)
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            out.write_bytes(csv_bytes(df))
        else:
            df.to_parquet(out, index=False)
        if record is not None:
            record(session, report)
    return report


def with_weights(session: Session, study: Study, df: pd.DataFrame) -> pd.DataFrame:
    """The dataset with ``weight`` and ``fpc``, exactly as the study's design weights it."""
    # Imported here: the analysis imports this module's neighbours, not the other way round.
    from survey.analysis.study import study_design
    from survey.analysis.weights import study_counts

    draw = session.exec(select(Draw).where(Draw.study_id == study.id)).first()
    design = study_design(df, study_counts(session, study), draw)
    out = df.copy()
    out["weight"] = design.weights.to_numpy()
    out["fpc"] = design.data["N"].to_numpy()
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel), one header row, empty cells for values not on a form."""
    buffer = io.StringIO()
    writer = spreadsheet.writer(buffer)
    writer.writerow(df.columns)
    for row in df.itertuples(index=False):
        writer.writerow("" if pd.isna(v) else v for v in row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
