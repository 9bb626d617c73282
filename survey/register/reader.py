"""Reading a resident-register extract (住民基本台帳の抽出 CSV).

Two passes over the file's bytes, so that a million-person register never sits in memory
as Python strings: the first validates every row and keeps only what the draw needs
(ids, birth date, sex, district); the second, after the draw, reads the full rows of the
drawn units only. Nothing read here is ever written to the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from survey.crypto import sha256_hex
from survey.errors import DataError
from survey.postal import parse_postal
from survey.register.dates import DateFormatError, parse_date
from survey.register.formats import refuse_other_formats
from survey.spreadsheet import REFUSED_AT_IMPORT

# canonical name -> (Japanese header, required)
COLUMNS: dict[str, tuple[str, bool]] = {
    "resident_id": ("住民コード", True),
    "household_id": ("世帯番号", True),
    "name": ("氏名", True),
    "name_kana": ("氏名カナ", False),
    "birth_date": ("生年月日", True),
    "sex": ("性別", True),
    "relation": ("続柄", False),
    "postal_code": ("郵便番号", True),
    "address": ("住所", True),
    "building": ("方書", False),
}
_HEADER_ALIASES = {ja: key for key, (ja, _) in COLUMNS.items()} | {key: key for key in COLUMNS}
# Only invalid values of these columns are echoed in error reports; names, addresses and
# ids are personal data and never appear in a message, even when malformed.
_ECHO_VALUE = frozenset({"birth_date", "sex", "postal_code", "relation"})
# Printed on envelopes and written to CSV files officers open in Excel: a value that begins
# a formula is refused here, since the CSV writers' quote prefix would be printed too.
_PRINTED_TEXT = ("name", "name_kana", "address", "building")

SEX_CODES = {"男": 1, "女": 2, "1": 1, "2": 2, "男性": 1, "女性": 2}
SEX_LABELS = {1: "男", 2: "女"}
_PREFECTURE = re.compile(r"^(東京都|北海道|京都府|大阪府|.{2,3}県)")

csv.field_size_limit(sys.maxsize)


class Person(NamedTuple):
    """The few fields of a register row that the draw needs."""

    line: int
    resident_id: str
    household_id: str
    birth_date: date
    sex: int
    district: str


@dataclass(frozen=True, slots=True)
class Resident:
    """A full register row, read only for drawn units."""

    line: int
    resident_id: str
    household_id: str
    name: str
    name_kana: str
    birth_date: date
    sex: int
    relation: str
    postal_code: str
    address: str
    building: str


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason_ja: str
    reason_en: str
    value: str | None = None

    def __str__(self) -> str:
        header = COLUMNS[self.column][0] if self.column in COLUMNS else self.column
        shown = f" 「{self.value}」" if self.value is not None else ""
        ja = f"{self.line}行目 {header}{shown}: {self.reason_ja}"
        return f"{ja} / line {self.line}, {self.column}: {self.reason_en}"


class RegisterError(DataError):
    """The register has bad rows; nothing may be drawn from it."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            f"住民基本台帳ファイルに誤りが {len(errors)} 件あります。抽出は行いません。",
            f"The register file has {len(errors)} error(s); nothing was drawn.",
        )
        self.errors = errors


@dataclass(slots=True)
class Register:
    """A validated register: its hash, the draw fields, and its bytes for the second pass."""

    sha256: str
    encoding: str
    persons: Sequence[Person]  # survey.register.persons.Persons from the vectorised pass
    data: bytes = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    # Set when every record is one line (the vectorised first pass): header index and width.
    # The drawn rows are then read from their own lines instead of a second full parse.
    one_line_records: tuple[dict[str, int], int] | None = None

    def residents(self, lines: Collection[int]) -> dict[int, Resident]:
        """Full rows of the given file lines (the drawn units), keyed by line."""
        wanted = set(lines)
        out: dict[int, Resident] = {}
        if self.one_line_records is not None:
            index, width = self.one_line_records
            starts = _line_starts(self.data)
            encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
            for line in sorted(wanted):
                begin = int(starts[line - 1])
                end = self.data.find(b"\n", begin)
                raw = self.data[begin : len(self.data) if end < 0 else end]
                fields = raw.decode(encoding).rstrip("\r").split(",")
                out[line] = _full_row(line, _row_fields(fields, index, width)[1])
            return out
        for line, _extra, row in _rows(self.data, self.encoding):
            if line in wanted:
                out[line] = _full_row(line, row)
                if len(out) == len(wanted):
                    break
        return out


def _line_starts(data: bytes, block: int = 1 << 24) -> Any:
    """Byte offset of each line's start (line n at index n - 1), found a block at a time so
    that no array of the file's size is made."""
    import numpy as np

    parts = [np.zeros(1, dtype=np.int64)]
    for at in range(0, len(data), block):
        view = np.frombuffer(data, dtype=np.uint8, count=min(block, len(data) - at), offset=at)
        parts.append(np.flatnonzero(view == 0x0A).astype(np.int64) + at + 1)
    return np.concatenate(parts)


OTHER_DISTRICT = "その他"


def district_of(address: str, districts: Sequence[str]) -> str:
    """The study's district (町名) an address lies in, or 「その他」.

    Only names from the study's fixed list can come out, never a piece of an address: these
    values are stored (aggregate frame counts by district), the address is not. The earliest
    match wins, the longest at the same position (so 中宗岡 is not taken for 宗岡).
    """
    rest = _PREFECTURE.sub("", address.strip(), count=1)
    best: tuple[int, int, str] | None = None
    for name in districts:
        at = rest.find(name)
        if at >= 0 and (best is None or (at, -len(name)) < (best[0], -best[1])):
            best = (at, len(name), name)
    return best[2] if best else OTHER_DISTRICT


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) if the bytes are valid UTF-8, else CP932 (Shift_JIS)."""
    candidates = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "cp932")
    for encoding in candidates:
        if _decodes(data, encoding):
            return encoding
    # The encoding that reads further is the file's, with a damaged byte where it stops: a
    # UTF-8 file with one bad byte must not be reported where CP932 happens to fail.
    offsets = {encoding: _first_bad_offset(data, encoding) for encoding in candidates}
    likely = max(offsets, key=lambda e: offsets[e])
    line = data.count(b"\n", 0, offsets[likely]) + 1
    name = "UTF-8" if likely.startswith("utf-8") else "Shift_JIS/CP932"
    raise DataError(
        f"文字コードを判別できません。{name} のファイルとみられますが、{line}行目に"
        "読めないバイトがあります。",
        f"Cannot read the file's encoding: it looks like {name} but has an unreadable byte "
        f"on line {line}.",
    )


def _decodes(data: bytes, encoding: str) -> bool:
    # Incremental, so checking a 100 MB file never builds a 100 M-character string.
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for i in range(0, len(view), 1 << 20):
            decoder.decode(view[i : i + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _first_bad_offset(data: bytes, encoding: str) -> int:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


Fields = dict[str, str]


def _rows(data: bytes, encoding: str) -> Iterator[tuple[int, int, Fields]]:
    """Yield (first file line of the record, surplus field count, fields by canonical name)."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        raise DataError("ファイルが空です。", "The file is empty.")
    index = _map_header(header)
    width = len(header)
    last_line = reader.line_num
    for fields in reader:
        line = last_line + 1
        last_line = reader.line_num
        if not any(f.strip() for f in fields):
            continue  # blank line, or a row of commas only (Excel leaves those at the end)
        extra, row = _row_fields(fields, index, width)
        yield line, extra, row


def _row_fields(fields: list[str], index: dict[str, int], width: int) -> tuple[int, Fields]:
    """(surplus field count, fields by canonical name) of one non-blank record."""
    n = len(fields)
    while n > width and not fields[n - 1].strip():
        n -= 1  # empty trailing fields (a comma at the end of every row) are harmless
    row = {key: fields[i].strip() if i < n else "" for key, i in index.items()}
    for key in COLUMNS:
        row.setdefault(key, "")
    return n - width, row


def _map_header(header: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = unicodedata.normalize("NFKC", raw).strip().lstrip("\ufeff")
        key = _HEADER_ALIASES.get(name) or _HEADER_ALIASES.get(name.lower())
        if key is not None and key not in index:
            index[key] = i
    missing = [COLUMNS[k][0] for k, (_, req) in COLUMNS.items() if req and k not in index]
    if missing:
        raise DataError(
            f"必要な列がありません: {', '.join(missing)}",
            f"Required column(s) missing: {', '.join(missing)}",
        )
    return index


@lru_cache(maxsize=64)
def _parse_sex(value: str) -> int | None:
    return SEX_CODES.get(unicodedata.normalize("NFKC", value))


def _full_row(line: int, row: Fields) -> Resident:
    return Resident(
        line=line,
        resident_id=_normalize_id(row["resident_id"]),
        household_id=_normalize_id(row["household_id"]),
        name=row["name"],
        name_kana=row["name_kana"],
        birth_date=parse_date(row["birth_date"]),
        sex=_parse_sex(row["sex"]) or 0,
        relation=row["relation"],
        postal_code=parse_postal(row["postal_code"]) or "",
        address=row["address"],
        building=row["building"],
    )


def _normalize_id(value: str) -> str:
    # Full-width and half-width forms of one id (Ｒ１ and R1) must be the same person.
    return unicodedata.normalize("NFKC", value).strip()


def _check_row(
    line: int, extra: int, row: Fields, errors: list[RowError], districts: Sequence[str]
) -> Person | None:
    before = len(errors)

    def bad(col: str, ja: str, en: str) -> None:
        value = row[col] if col in _ECHO_VALUE else None
        errors.append(RowError(line, col, ja, en, value))

    if extra != 0:
        errors.append(
            RowError(line, "row", "列の数がヘッダーと合いません", "field count differs from header")
        )
        return None
    for col, (_, required) in COLUMNS.items():
        if required and not row[col] and col not in ("birth_date", "sex", "postal_code"):
            bad(col, "空欄です", "empty")
    for col in _PRINTED_TEXT:
        if row[col].startswith(REFUSED_AT_IMPORT):
            bad(
                col,
                "先頭が = + @ などの記号です（表計算ソフトで数式として実行されます）",
                "begins with =, +, @, tab or CR (a spreadsheet would run it as a formula)",
            )
    birth: date | None = None
    try:
        birth = parse_date(row["birth_date"])
    except DateFormatError as exc:
        bad("birth_date", exc.ja, exc.en)
    else:
        if birth < EARLIEST_BIRTH:  # before the Meiji era: not a living resident's birth date
            bad("birth_date", "明治より前の日付です", "before the Meiji era (1868-01-25)")
            birth = None
    sex = _parse_sex(row["sex"])
    if sex is None:
        bad("sex", "男・女・1・2 のいずれかにしてください", "must be 男, 女, 1 or 2")
    if parse_postal(row["postal_code"]) is None:
        bad(
            "postal_code",
            "郵便番号は 123-4567 の形か7桁の数字です",
            "postal code must be NNN-NNNN or seven digits",
        )
    if len(errors) > before or birth is None or sex is None:
        return None
    return Person(
        line,
        _normalize_id(row["resident_id"]),
        sys.intern(_normalize_id(row["household_id"])),
        birth,
        sex,
        district_of(row["address"], districts),
    )


EARLIEST_BIRTH = date(1868, 1, 25)


def read_register(
    source: Path | bytes,
    districts: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Register:
    """Validate the whole file (a path, or its bytes as uploaded, never written to disk);
    raise :class:`RegisterError` listing every bad row.

    ``districts`` are the study's district names for the aggregate counts;
    ``progress(done_lines, total_lines)`` is called now and then for a progress bar.
    """
    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise DataError(
                f"ファイルを読めません: {source}", f"Cannot read file: {source} ({exc.strerror})"
            ) from exc
    refuse_other_formats(data)
    from survey.register import fastread  # Arrow is imported only when a register is read

    # hashlib lets go of the GIL on large data: the digest is taken on the other core.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(sha256_hex, data)
        fast = fastread.read(data, districts, progress)
    if fast is not None:
        if fast.errors:
            raise RegisterError(fast.errors)
        if not fast.persons:
            raise DataError("住民のデータ行がありません。", "The register has no data rows.")
        header = data[: data.find(b"\n") + 1 or len(data)].decode(fast.encoding)
        fields = header.rstrip("\r\n").split(",")
        return Register(
            sha256=digest.result(),
            encoding=fast.encoding,
            persons=fast.persons,
            data=data,
            one_line_records=(_map_header(fields), len(fields)),
        )
    encoding = detect_encoding(data)
    errors: list[RowError] = []
    persons: list[Person] = []
    first_line: dict[str, int] = {}
    total = data.count(b"\n") + 1
    for n, (line, extra, row) in enumerate(_rows(data, encoding)):
        person = _check_row(line, extra, row, errors, districts)
        rid = _normalize_id(row["resident_id"])
        # Every row's id is tracked, bad rows included, so each duplicate is reported.
        seen = first_line.setdefault(rid, line) if rid else line
        if seen != line:
            errors.append(
                RowError(
                    line,
                    "resident_id",
                    f"住民コードが {seen}行目と重複しています",
                    f"duplicate resident id (first on line {seen})",
                )
            )
        elif person is not None:
            persons.append(person)
        if progress is not None and n % 20_000 == 0:
            progress(line, total)
    if progress is not None:
        progress(total, total)
    if errors:
        raise RegisterError(errors)
    if not persons:
        raise DataError("住民のデータ行がありません。", "The register has no data rows.")
    return Register(sha256=digest.result(), encoding=encoding, persons=persons, data=data)
