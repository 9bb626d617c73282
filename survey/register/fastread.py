"""The register's first pass, vectorised: Arrow's CSV parser and column checks in C++.

A million-person register is checked here in about two seconds where the row-by-row reader
took fifteen. The result is the row-by-row reader's, exactly (same persons, same report):

* The path applies only to files whose every record is one line: no quote character, no
  bare CR, no NUL (``read`` returns None otherwise and the caller reads row by row). There a
  record is its line split at every comma, which is what :mod:`csv` makes of such a line.
* A row is accepted here only when checks that imply the row-by-row ones pass: ASCII ids,
  names and addresses that start with no blank or formula character, and birth date, sex,
  postcode and district judged by the reader's own functions, once per distinct value (the
  lookup tables). Every other non-blank row goes through the row-by-row check itself, so its
  errors (or its acceptance, where the plain checks are too strict) are as before.
* Duplicates are found by a hash index over every row's normalised id, bad rows included.
"""

from __future__ import annotations

import codecs
import heapq
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pcsv  # type: ignore[import-untyped]

from survey.postal import parse_postal
from survey.register import reader
from survey.register.dates import DateFormatError, parse_date
from survey.register.persons import Persons, concat

# Python's str.strip() removes exactly these characters ([c for c in all code points if
# c.isspace()]; a test keeps the list honest). A value that begins with none of them and
# none of the formula characters is unchanged at its start by strip() and is formula-free.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_FORMULA = "=+@"  # with \t and \r above: survey.spreadsheet.REFUSED_AT_IMPORT
_NOT_PLAIN = "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE + _FORMULA)
_PLAIN_START = f"^[^{_NOT_PLAIN}]"
# Printable ASCII without the space: NFKC and strip() leave such an id as it is, so two
# rows hold the same person exactly when their ids are equal strings.
_ASCII_ID = "^[!-~]+$"
_CHUNK = 16 << 20  # bytes parsed at a time: the parser's tables stay small
_MAX_SURPLUS = 16  # trailing empty fields checked in C++; rows with more go row by row


@dataclass(slots=True)
class Outcome:
    encoding: str
    persons: Persons  # in line order; empty when there are errors
    errors: list[reader.RowError]  # in the row-by-row reader's order


def _layout(data: bytes) -> tuple[str, int] | None:
    """(encoding, offset of the first data line) if this path applies, else None."""
    if not data or b'"' in data or b"\0" in data or b"\x01" in data:
        return None
    if _bare_cr(data):
        return None  # a bare CR ends a line for csv; keep one meaning of "line"
    if data.startswith(codecs.BOM_UTF8):
        if not _decodes_utf8(data):
            return None  # the row-by-row reader names the damaged byte and its line
        encoding = "utf-8-sig"
    elif _decodes_utf8(data):
        encoding = "utf-8"
    else:
        # As reader.detect_encoding decides; Arrow checks every byte as it transcodes, and
        # on a bad one the row-by-row reader names it and its line.
        encoding = "cp932"
    end = data.find(b"\n")
    return encoding, (len(data) if end < 0 else end + 1)


def _bare_cr(data: bytes) -> bool:
    """Whether some CR is not followed by LF (one NumPy pass: half of two bytes.count)."""
    if b"\r" not in data:
        return False
    octets = np.frombuffer(data, dtype=np.uint8)
    cr = np.flatnonzero(octets == 0x0D)
    return bool(cr[-1] == len(octets) - 1 or (octets[cr + 1] != 0x0A).any())


def _decodes_utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for i in range(0, len(view), 1 << 20):
            decoder.decode(view[i : i + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _birth(raw: str) -> Any:
    try:
        birth = parse_date(raw.strip())
    except DateFormatError:
        return None
    return birth if birth >= reader.EARLIEST_BIRTH else None


class _Lookups:
    """Per distinct raw value, the row-by-row reader's verdict; kept across chunks."""

    def __init__(self, districts: Sequence[str], names: Sequence[str]) -> None:
        code = {name: i for i, name in enumerate(names)}
        self.kinds: dict[str, tuple[Callable[[str], Any], dict[str, Any]]] = {
            "birth": (_birth, {}),
            "sex": (lambda v: reader._parse_sex(v.strip()), {}),
            "postal": (lambda v: parse_postal(v.strip()), {}),
            "district": (lambda v: code[reader.district_of(v, districts)], {}),
        }

    def column(self, values: pa.Array, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(valid per row, code per row, number per code) for one column: a birth date as
        its ordinal, a sex as 1 or 2, a district as its index; -1 where invalid."""
        fn, cache = self.kinds[kind]
        encoded = values.dictionary_encode()
        results = np.empty(len(encoded.dictionary), dtype=np.int64)
        for i, u in enumerate(encoded.dictionary.to_pylist()):
            if u not in cache:
                value = fn(u)
                if value is None:
                    cache[u] = -1
                elif kind == "birth":
                    cache[u] = value.toordinal()
                elif kind == "postal":
                    cache[u] = 0
                else:
                    cache[u] = value
            results[i] = cache[u]
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        return results[codes] >= 0, codes, results


def read(
    data: bytes,
    districts: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> Outcome | None:
    """The first pass over ``data``, or None where only the row-by-row reader applies."""
    previous = pa.default_memory_pool()
    try:
        # jemalloc, told to return freed pages at once: each chunk's parse tables are
        # given back before the next chunk is read, so the peak is one chunk's, not more.
        pa.jemalloc_set_decay_ms(0)
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc
        pass
    try:
        return _read(data, districts, progress)
    finally:
        pa.set_memory_pool(previous)


def _read(
    data: bytes,
    districts: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> Outcome | None:
    layout = _layout(data)
    if layout is None:
        return None
    encoding, body_at = layout
    try:
        header = data[:body_at].decode(encoding).rstrip("\r\n").split(",")
    except UnicodeDecodeError:
        return None
    index = reader._map_header(header)
    width = len(header)
    names = list(dict.fromkeys([*districts, reader.OTHER_DISTRICT]))
    lookups = _Lookups(districts, names)
    line_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    total = data.count(b"\n") + 1
    parts: list[dict[str, Any]] = []
    checked: list[reader.Person] = []  # rows checked one by one and found good
    row_errors: list[reader.RowError] = []
    ids: list[tuple[int, str]] = []  # (line, normalised id) of rows checked one by one
    view = memoryview(data)
    fields = [f"f{i}" for i in range(width)]
    bounds = list(_bounds(data, body_at))
    # The next chunk is parsed in a thread while this one is checked (its text checks in
    # another): all of it Arrow's C++ work outside the GIL, so the two cores overlap them.
    with ThreadPoolExecutor(max_workers=2) as pool:

        def parse(k: int) -> Future[tuple[pa.Table, int]]:
            return pool.submit(_parse, view[bounds[k][0] : bounds[k][1]], fields, line_encoding)

        parsed = parse(0) if bounds else None
        for k, (at, end, line, lines) in enumerate(bounds):
            try:
                assert parsed is not None
                table = parsed.result()
                parsed = parse(k + 1) if k + 1 < len(bounds) else None
                got = _chunk(
                    view[at:end], table, line, lines, width, index, line_encoding, lookups, pool
                )
            except (UnicodeDecodeError, pa.ArrowInvalid):
                return None  # the row-by-row reader names the damaged byte and its line
            if got is None:
                return None
            if got.columns is not None:
                parts.append(got.columns)
            for row_line, text in got.others:
                _one_row(row_line, text, width, index, districts, checked, row_errors, ids)
            del table, got
            pa.default_memory_pool().release_unused()  # the chunk's freed pages, at once
            if progress is not None:
                progress(line + lines - 1, total)
    if progress is not None:
        progress(total, total)
    # The row-by-row order: by line, a row's own errors before its duplicate error.
    errors = [
        e
        for _, _, e in heapq.merge(
            ((e.line, 0, e) for e in row_errors),
            ((e.line, 1, e) for e in _duplicates(parts, ids)),
            key=lambda t: (t[0], t[1]),
        )
    ]
    if checked:
        code = {name: i for i, name in enumerate(names)}
        parts.append(
            {
                "line": np.array([p.line for p in checked], dtype=np.int64),
                "resident_id": pa.array([p.resident_id for p in checked], pa.string()),
                "household_id": pa.array([p.household_id for p in checked], pa.string()),
                "birth": [p.birth_date.toordinal() for p in checked],
                "sex": [p.sex for p in checked],
                "district": [code[p.district] for p in checked],
            }
        )
    return Outcome(encoding, concat([] if errors else parts, names), errors)


@dataclass(slots=True)
class _Chunk:
    columns: dict[str, Any] | None = None  # the plainly valid rows, as columns
    others: list[tuple[int, str]] = field(default_factory=list)  # (line, text): row by row


def _parse(chunk: memoryview, names: list[str], encoding: str) -> tuple[pa.Table, int]:
    """Parse one chunk with ``len(names)`` fields a record; rows of another count skipped."""
    invalid = [0]

    def handler(_row: Any) -> str:
        invalid[0] += 1
        return "skip"

    table = pcsv.read_csv(
        pa.py_buffer(chunk),
        read_options=pcsv.ReadOptions(column_names=names, encoding=encoding, block_size=1 << 22),
        parse_options=pcsv.ParseOptions(
            delimiter="," if len(names) > 1 else "\x01",
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=False,
            invalid_row_handler=handler,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    return table, invalid[0]


def _bounds(data: bytes, body_at: int) -> Iterator[tuple[int, int, int, int]]:
    """(start, end, first line number, lines) of each chunk: whole lines, ~_CHUNK bytes."""
    line, at = 2, body_at
    while at < len(data):
        end = data.find(b"\n", min(at + _CHUNK, len(data)) - 1)
        end = len(data) if end < 0 else end + 1
        lines = data.count(b"\n", at, end) + (data[end - 1] != 0x0A)
        yield at, end, line, lines
        line += lines
        at = end


def _chunk(
    chunk: memoryview,
    parsed: tuple[pa.Table, int],
    first_line: int,
    lines: int,
    width: int,
    index: dict[str, int],
    encoding: str,
    lookups: _Lookups,
    pool: Executor,
) -> _Chunk | None:
    table, invalid = parsed
    if invalid == 0 and table.num_rows == lines:
        columns = [table.column(i).combine_chunks() for i in range(width)]
        plain = np.arange(lines)
        others: list[int] = []

        def text(k: int) -> str:
            return ",".join(c[k].as_py() for c in columns)

    else:
        # Some record has another field count (a blank line, trailing commas): split lines.
        whole, invalid = _parse(chunk, ["line"], encoding)
        if invalid or whole.num_rows != lines:
            return None
        texts = whole.column(0).combine_chunks()
        split = pc.split_pattern(texts, ",")
        n = pc.list_value_length(split).to_numpy(zero_copy_only=False)
        starts = split.offsets.to_numpy()[:-1]
        values = split.values
        structured = (n >= width) & (n <= width + _MAX_SURPLUS)
        for j in range(width, min(int(n.max(initial=0)), width + _MAX_SURPLUS)):
            longer = np.flatnonzero(structured & (n > j))
            surplus = values.take(pa.array(starts[longer] + j))
            filled = ~pc.equal(pc.binary_length(surplus), 0).to_numpy(zero_copy_only=False)
            structured[longer[filled]] = False  # a surplus value: csv's field-count error
        plain = np.flatnonzero(structured)
        columns = [values.take(pa.array(starts[plain] + i)) for i in range(width)]
        others = np.flatnonzero(~structured).tolist()

        def text(k: int) -> str:
            return str(texts[k].as_py())

    ok, pick = _check_columns(columns, index, lookups, pool)
    out = _Chunk()
    rechecked = sorted([*plain[~ok].tolist(), *others])
    out.others = [(first_line + k, text(k)) for k in rechecked]
    sel = np.flatnonzero(ok)
    if len(sel):
        out.columns = {"line": (plain[sel] + first_line).astype(np.int64)}
        out.columns |= {key: pick[key](sel) for key in pick}
    return out


def _check_columns(
    columns: list[pa.Array], index: dict[str, int], lookups: _Lookups, pool: Executor
) -> tuple[np.ndarray, dict[str, Callable[[np.ndarray], Any]]]:
    """Which plainly structured rows are plainly valid, and accessors of their values. The
    text checks run in ``pool`` while the lookups run here (both mostly outside the GIL)."""
    texts = pool.submit(_plain_texts, columns, index)
    ok = np.ones(len(columns[0]) if columns else 0, dtype=bool)
    coded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, kind in (
        ("birth_date", "birth"),
        ("sex", "sex"),
        ("postal_code", "postal"),
        ("address", "district"),
    ):
        valid, codes, results = lookups.column(columns[index[key]], kind)
        ok &= valid
        coded[kind] = (codes, results)
    ok &= texts.result()

    def lookup(kind: str) -> Callable[[np.ndarray], Any]:
        codes, results = coded[kind]
        return lambda sel: results[codes[sel]]

    def strings(key: str) -> Callable[[np.ndarray], Any]:
        return lambda sel: columns[index[key]].take(pa.array(sel))

    return ok, {
        "resident_id": strings("resident_id"),
        "household_id": strings("household_id"),
        **{kind: lookup(kind) for kind in ("birth", "sex", "district")},
    }


def _plain_texts(columns: list[pa.Array], index: dict[str, int]) -> np.ndarray:
    """Rows whose ids are plain ASCII and whose names and addresses start plainly."""

    def matches(col: pa.Array, pattern: str) -> np.ndarray:
        result: np.ndarray = pc.match_substring_regex(col, pattern).to_numpy(zero_copy_only=False)
        return result

    ok = np.ones(len(columns[0]) if columns else 0, dtype=bool)
    for key in ("resident_id", "household_id"):
        ok &= matches(columns[index[key]], _ASCII_ID)
    for key in ("name", "address", "name_kana", "building"):
        if key in index:
            col = columns[index[key]]
            plain = matches(col, _PLAIN_START)
            if not reader.COLUMNS[key][1]:  # optional: empty is fine
                plain |= pc.equal(pc.binary_length(col), 0).to_numpy(zero_copy_only=False)
            ok &= plain
    return ok


def _one_row(
    line: int,
    text: str,
    width: int,
    index: dict[str, int],
    districts: Sequence[str],
    persons: list[reader.Person],
    errors: list[reader.RowError],
    ids: list[tuple[int, str]],
) -> None:
    """The row-by-row reader's handling of one line: blank skip, checks, id tracking."""
    fields = text.split(",")
    if not any(f.strip() for f in fields):
        return
    extra, row = reader._row_fields(fields, index, width)
    person = reader._check_row(line, extra, row, errors, districts)
    rid = reader._normalize_id(row["resident_id"])
    if rid:
        ids.append((line, rid))
    if person is not None:
        persons.append(person)


def _duplicates(
    parts: list[dict[str, Any]], checked: list[tuple[int, str]]
) -> list[reader.RowError]:
    """Every row whose id an earlier row has, naming the first such line (a hash index)."""
    arrays = [p["resident_id"] for p in parts] + [pa.array([r for _, r in checked], pa.string())]
    every = pa.chunked_array(arrays, type=pa.string())
    if pc.count_distinct(every).as_py() == len(every):
        return []
    ids = list(checked)
    for p in parts:
        ids += zip(p["line"].tolist(), p["resident_id"].to_pylist(), strict=True)
    ids.sort()
    first: dict[str, int] = {}
    out = []
    for line, rid in ids:
        seen = first.setdefault(rid, line)
        if seen != line:
            out.append(
                reader.RowError(
                    line,
                    "resident_id",
                    f"住民コードが {seen}行目と重複しています",
                    f"duplicate resident id (first on line {seen})",
                )
            )
    return out
