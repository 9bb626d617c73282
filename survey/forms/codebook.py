"""The codebook: every form's variables, codes, skip logic and derived variables (JSON, xlsx)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from survey.cohorts import COHORTS
from survey.forms.items import kind
from survey.forms.items.base import text_json
from survey.forms.loader import Form, _canonical
from survey.forms.schema import MISSING
from survey.spreadsheet import text_cells

SHEET_HEADER = [
    "変数 variable",
    "設問 item",
    "型 type",
    "質問 (ja)",
    "question (en)",
    "コード code",
    "選択肢 (ja)",
    "option (en)",
    "表示条件 show_if",
    "答えたくない(-7)",
    "制約 constraint",
]


def form_codebook(form: Form) -> dict[str, Any]:
    variables = [kind(v.item).codebook(v) for v in form.variables()]
    return {
        "id": form.id,
        "version": form.version,
        "cohort": form.cohort,
        "title": text_json(form.source.title),
        "languages": list(form.source.languages),
        "padded_size": form.padded_size,
        "sha256": form.sha256,
        "variables": variables,
        "derived": [
            d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in form.derived
        ],
        "crisis_after_sections": [s.id for s in form.sections if s.crisis_after],
        "definition": json.loads(_canonical(form.source, list(form.sections), list(form.derived))),
    }


TEXT_TYPES = ("text", "longtext")
DATASET_META: dict[str, tuple[str, str]] = {
    "response_id": (
        "回答ID（無作為、他の何とも結び付かない）",
        "response id (random, linked to nothing)",
    ),
    "cohort": ("対象（層）", "cohort (the stratum)"),
    "channel": ("回答方法（web / paper）", "channel (web or paper)"),
    "form": ("調査票", "form"),
    "version": ("調査票の版", "form version"),
    "week": ("受付週（ISO週、日付は持たない）", "week received (ISO week; no day)"),
}


def dataset_columns(forms: dict[tuple[str, int], Form]) -> list[dict[str, Any]]:
    """The dataset's columns in their order: its metadata, each variable of every form (a
    free-text item only as ``<item>_answered``, 0/1), then the derived variables."""
    ordered = sorted(forms.values(), key=lambda f: (COHORTS.index(f.cohort), f.id, f.version))
    out: dict[str, dict[str, Any]] = {
        name: {"column": name, "kind": "meta", "label": {"ja": ja, "en": en}, "forms": []}
        for name, (ja, en) in DATASET_META.items()
    }
    for form in ordered:
        tag = f"{form.id}.v{form.version}"
        for var in form.variables():
            text = var.type in TEXT_TYPES
            name = f"{var.id}_answered" if text else var.id
            entry = out.setdefault(
                name,
                {
                    "column": name,
                    "kind": "answered" if text else "variable",
                    "label": text_json(var.text),
                    "forms": [],
                },
            )
            entry["forms"].append(tag)
    for form in ordered:
        tag = f"{form.id}.v{form.version}"
        for d in form.derived:
            entry = out.setdefault(
                d.id, {"column": d.id, "kind": "derived", "label": text_json(d.label), "forms": []}
            )
            entry["forms"].append(tag)
    return list(out.values())


def codebook(forms: dict[tuple[str, int], Form]) -> dict[str, Any]:
    return {
        "missing_codes": {str(code): {"ja": ja, "en": en} for code, (ja, en) in MISSING.items()},
        "forms": {f"{f.id}.v{f.version}": form_codebook(f) for _, f in sorted(forms.items())},
        "dataset": dataset_columns(forms),
    }


def _autosize(ws: Any) -> None:
    for i, column in enumerate(ws.columns, start=1):
        width = max((len(str(c.value)) if c.value is not None else 0) for c in column)
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width * 1.6))


def write_xlsx(forms: dict[tuple[str, int], Form], path: Path) -> None:
    book = Workbook()
    overview = book.active
    assert overview is not None
    overview.title = "調査票 forms"
    overview.append(["form", "version", "cohort", "タイトル title", "padded_size", "sha256"])
    for _, f in sorted(forms.items()):
        overview.append([f.id, f.version, f.cohort, f.source.title.ja, f.padded_size, f.sha256])
    for _, f in sorted(forms.items()):
        ws = book.create_sheet(f"{f.id}.v{f.version}"[:31])
        ws.append(SHEET_HEADER)
        for v in form_codebook(f)["variables"]:
            constraint = ", ".join(
                f"{k}={v[k]}" for k in ("max_picks", "min", "max", "max_length") if v[k] is not None
            )
            base = [v["id"], v["item"], v["type"], v["text"]["ja"], v["text"]["en"]]
            tail = [v["show_if"], "yes" if v["sensitive"] else "", constraint]
            if not v["options"]:
                ws.append([*base, None, None, None, *tail])
            for o in v["options"]:
                ws.append([*base, o["code"], o["label"]["ja"], o["label"]["en"], *tail])
        _autosize(ws)
    derived = book.create_sheet("派生変数 derived")
    derived.append(["form", "変数 variable", "ラベル label", "kind", "definition"])
    for _, f in sorted(forms.items()):
        for d in f.derived:
            spec = d.model_dump(
                mode="json", by_alias=True, exclude_none=True, exclude={"id", "label", "kind"}
            )
            derived.append(
                [
                    f"{f.id}.v{f.version}",
                    d.id,
                    d.label.ja,
                    d.kind,
                    json.dumps(spec, ensure_ascii=False),
                ]
            )
    columns = book.create_sheet("データセット dataset")
    columns.append(["列 column", "種類 kind", "ラベル (ja)", "label (en)", "調査票 forms"])
    for c in dataset_columns(forms):
        label = c["label"] or {"ja": "", "en": ""}
        columns.append([c["column"], c["kind"], label["ja"], label["en"], " ".join(c["forms"])])
    _autosize(columns)
    missing = book.create_sheet("欠損値 missing")
    missing.append(["code", "ja", "en"])
    for code, (ja, en) in MISSING.items():
        missing.append([code, ja, en])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        # openpyxl would store question text beginning with "=" as a formula.
        text_cells(ws)
    book.save(path)
