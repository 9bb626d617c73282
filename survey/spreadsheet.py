"""Cells for spreadsheets: what the office writes is read as text, never run as a formula.

Register values reach CSV files that officers open in Excel (roster export, vendor CSV). A
cell beginning with ``=``, ``+``, ``-``, ``@``, tab or CR is a formula to Excel, LibreOffice
and Google Sheets (CSV or formula injection): ``=HYPERLINK(...)`` in a name would run on the
officer's machine. Every CSV writer of the office goes through :func:`writer` or
:class:`DictWriter`, which prefix such a text cell with a single quote (OWASP's advice).
Numbers, including the missing codes -1 to -9, stay numbers.

A quote would also be printed on an envelope, so the register import refuses names and
addresses that begin with :data:`REFUSED_AT_IMPORT` in the first place (a ``-`` is let
through there and escaped here).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REFUSED_AT_IMPORT = ("=", "+", "@", "\t", "\r")
# A plain decimal number, optionally negative (the missing codes -1 to -9, a negative
# count): Excel reads it as that number, and it cannot hold a formula.
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def cell(value: object) -> object:
    """``value`` as it may go into a spreadsheet cell: a formula-like text is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class Writer:
    """``csv.writer`` whose rows are passed through :func:`cell`."""

    def __init__(self, fh: TextIO, lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(fh, lineterminator=lineterminator)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh: TextIO, lineterminator: str = "\r\n") -> Writer:
    return Writer(fh, lineterminator)


class DictWriter:
    """``csv.DictWriter`` whose rows are passed through :func:`cell`."""

    def __init__(self, fh: TextIO, fieldnames: Sequence[str], lineterminator: str = "\r\n"):
        self._writer = csv.DictWriter(fh, fieldnames=fieldnames, lineterminator=lineterminator)

    def writeheader(self) -> None:
        self.writerow({name: name for name in self._writer.fieldnames})

    def writerow(self, row: Mapping[str, object]) -> None:
        self._writer.writerow({k: cell(v) for k, v in row.items()})


def text_cells(worksheet: Any) -> None:
    """Make every text cell of an openpyxl worksheet a typed string.

    openpyxl stores a ``str`` that begins with ``=`` as a formula; data type ``s`` makes it
    a string cell, which Excel shows as text and never evaluates.
    """
    for row in worksheet.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                c.data_type = "s"
