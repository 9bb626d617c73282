"""What analysts hand on: tables as CSV (UTF-8 with BOM) and XLSX, the dataset as SPSS .sav.

XLSX: one sheet per table, a bold frozen header row, number formats; every text cell a typed
string (never a formula) and ``quotePrefix`` where it begins with =, +, -, @ so Excel shows
it as typed. SPSS: variable and value labels from the codebook, the missing codes -9..-1 as a
user-missing *range* (five codes exceed SPSS's three discrete values). Free text never
appears (the dataset holds only ``<item>_answered``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from survey import spreadsheet
from survey.forms.loader import Form
from survey.forms.schema import MISSING

FORMULA_START = ("=", "+", "-", "@")


def _field(value: object) -> str:
    """One CSV field as the csv module writes it inside a row (minimal quoting)."""
    buffer = io.StringIO()
    # The row writer's own line end: the csv module quotes a field holding any of its
    # characters, so a text with a line break is quoted as in the row-by-row file.
    csv.writer(buffer, lineterminator="\r\n").writerow([value, ""])
    return buffer.getvalue()[:-3]  # without the empty field's separator and the line end


def _column_fields(series: pd.Series[Any]) -> list[str]:
    """A column's fields, each distinct value formatted and quoted once."""
    if pd.api.types.is_float_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype):
        # Not by distinct value: factorising takes -0.0 for 0.0, the csv module does not. A
        # number needs no quoting: str() is what the csv module writes.
        missing = series.isna().to_numpy()
        return ["" if m else str(v) for v, m in zip(series.tolist(), missing, strict=True)]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = ["" if _missing(v) else _field(spreadsheet.cell(v)) for v in uniques] + [""]
    return list(np.array(texts, dtype=object)[codes])


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel in Japan reads it), formula-like text quoted.

    The bytes :func:`survey.spreadsheet.writer` writes row by row (the csv module's minimal
    quoting, CRLF), built column by column: each distinct value goes through
    :func:`survey.spreadsheet.cell` and the quoting once, and rows are joined, so a million
    rows take a second or two (pandas' writer tested every value for missing: 30 s).
    """
    if len(df.columns) <= 1:  # the csv module quotes a row of one empty field: its own way
        buffer = io.StringIO()
        writer = spreadsheet.writer(buffer)
        writer.writerow(df.columns)
        writer.writerows(
            [[("" if _missing(v) else v) for v in row] for row in df.itertuples(index=False)]
        )
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    header = ",".join(_field(spreadsheet.cell(c)) for c in df.columns) + "\r\n"
    columns = [_column_fields(df.iloc[:, i]) for i in range(len(df.columns))]
    body = "".join(line + "\r\n" for line in map(",".join, zip(*columns, strict=True)))
    return ("\ufeff" + header + body).encode("utf-8")


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _number_format(column: str) -> str:
    if column.endswith("%") or "CI" in column:
        return "0.0"
    if column.endswith("率"):
        return "0.0%"
    if "重み" in column:
        return "0.000"
    return "#,##0"


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path, notes: dict[str, list[str]]) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    used: set[str] = set()
    for name, df in sheets.items():
        title = _sheet_name(name, used)
        ws = book.create_sheet(title)
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([None if _missing(v) else v for v in row])
        for line in notes.get(name, []):
            ws.append([line])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for j, column in enumerate(df.columns, start=1):
            fmt = _number_format(str(column))
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                if isinstance(cell.value, int | float):
                    cell.number_format = fmt
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a typed string: openpyxl would store "=..." as formula
                    if cell.value.startswith(FORMULA_START):
                        cell.quotePrefix = True  # Excel shows it as typed text, never evaluates
    book.save(path)


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:28] or "sheet"
    title, i = base, 1
    while title in used:
        i += 1
        title = f"{base[:25]}~{i}"
    used.add(title)
    return title


def sav_labels(
    forms: dict[str, Form], columns: list[str]
) -> tuple[dict[str, str], dict[str, dict[int | float, str]]]:
    """Variable labels and value labels (the missing codes' included) from the forms."""
    labels: dict[str, str] = {}
    values: dict[str, dict[int | float, str]] = {}
    present = set(columns)
    for form in forms.values():
        for var in form.variables():
            if var.type in ("text", "longtext") or var.id not in present:
                continue
            labels.setdefault(var.id, var.text.ja[:250])
            codes: dict[int | float, str] = {o.code: o.label.ja for o in var.options}
            codes.update({c: ja for c, (ja, _) in MISSING.items()})
            values.setdefault(var.id, codes)
        for d in form.derived:
            if d.id in present:
                labels.setdefault(d.id, d.label.ja)
    return labels, values


def write_sav(df: pd.DataFrame, forms: dict[str, Form], path: Path) -> None:
    """The dataset (no free text) as SPSS .sav with labels; -9..-1 user-missing."""
    labels, values = sav_labels(forms, list(df.columns))
    write_labelled_sav(df, labels, values, path)


def write_labelled_sav(
    df: pd.DataFrame,
    labels: dict[str, str],
    values: dict[str, dict[int | float, str]],
    path: Path,
) -> None:
    import polars
    import pyreadstat

    out = pd.DataFrame()
    for column in df.columns:
        series = df[column]
        if pd.api.types.is_integer_dtype(series) or pd.api.types.is_float_dtype(series):
            out[column] = pd.to_numeric(series, errors="coerce").astype("float64")
        else:
            out[column] = series.astype("string").fillna("").astype(object)
    numeric = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    # pyreadstat writes value by value in Python and asks of each value whether it is
    # missing: pd.isna for a pandas frame, `is None` for a polars one. The same file (a test
    # reads both back), about 2.7 times faster: a million rows' .sav in seconds, not half a
    # minute.
    frame = polars.from_pandas(out, nan_to_null=True)
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={c: labels.get(c, c)[:250] for c in out.columns},
        variable_value_labels={c: v for c, v in values.items() if c in numeric},
        # A range: SPSS allows three discrete missing values, the study has five codes.
        missing_ranges={c: [{"lo": -9, "hi": -1}] for c in numeric},
    )
