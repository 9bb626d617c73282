"""Looking for names and addresses in files and database rows (the leak check's scanner).

The needles are the erased roster's full names (kanji and kana) and addresses, read from it
before destruction and held only in memory. Everything is compared in one normal form (NFKC,
whitespace removed, case folded), so full-width digits, half-width kana and the ideographic
space of the register all meet their plain forms. A file is read raw in UTF-8, CP932 and
UTF-16 (both byte orders, both alignments), and decoded too: a PDF's text (pypdf), each
member of a ZIP container such as XLSX. One Aho-Corasick automaton (pyahocorasick) finds all
needles in one pass per text. A hit is reported by file, form and kind, never by its text.
"""

from __future__ import annotations

import html
import io
import json
import os
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick  # type: ignore[import-not-found]
from sqlalchemy import Engine, MetaData, select

MIN_NEEDLE = 3  # shorter ones would match by chance in decoded binary data
MAX_FILE = 512 * 1024 * 1024  # larger files are reported unread, never skipped silently
RAW_FORMS = ("utf-8", "cp932", "utf-16-le", "utf-16-be")
UNREADABLE = "unreadable-pdf"


def normal(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace()).casefold()


@dataclass(frozen=True, slots=True)
class Needle:
    kind: str  # name, kana, address; canary-<form> for a planted one
    text: str


@dataclass(slots=True)
class Hits:
    """Hits per (place, form, kind); places are relative paths or ``table:NAME``."""

    found: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unread: list[str] = field(default_factory=list)
    places: int = 0
    bytes: int = 0

    def add(self, other: Hits) -> None:
        self.found.update(other.found)
        self.unread += other.unread
        self.places += other.places
        self.bytes += other.bytes

    def as_list(self) -> list[dict[str, Any]]:
        return [
            {"place": place, "form": form, "kind": kind, "count": n}
            for (place, form, kind), n in sorted(self.found.items())
        ]


class Scanner:
    def __init__(self, needles: Iterable[Needle]) -> None:
        self.automaton = ahocorasick.Automaton()
        self.skipped = 0
        kinds: dict[str, set[str]] = {}
        for needle in needles:
            text = normal(needle.text)
            if len(text) < MIN_NEEDLE:
                self.skipped += 1
                continue
            kinds.setdefault(text, set()).add(needle.kind)
        self.count = len(kinds)
        for text, found in kinds.items():
            self.automaton.add_word(text, sorted(found))
        if kinds:
            self.automaton.make_automaton()

    def kinds_in(self, text: str) -> Counter[str]:
        found: Counter[str] = Counter()
        if self.count == 0:
            return found
        for _end, kinds in self.automaton.iter(normal(text)):
            found.update(kinds)
        return found

    def texts(self, data: bytes, depth: int = 0) -> Iterator[tuple[str, str]]:
        """(form, text) for every way the bytes may hold text."""
        for form in RAW_FORMS:
            yield form, data.decode(form, errors="replace")
            if form.startswith("utf-16"):  # text that starts at an odd offset
                yield f"{form}+1", data[1:].decode(form, errors="replace")
        if data.startswith(b"%PDF-"):
            text = _pdf_text(data)
            yield ("pdf-text", text) if text is not None else (UNREADABLE, "")
        if data.startswith(b"PK\x03\x04") and depth < 2:
            for member, inner in _zip_members(data):
                for form, text in self.texts(inner, depth + 1):
                    yield f"zip:{member}:{form}", html.unescape(text)

    def scan_bytes(self, place: str, data: bytes) -> Hits:
        hits = Hits(places=1, bytes=len(data))
        for form, text in self.texts(data):
            if form.endswith(UNREADABLE):
                hits.unread.append(place)
            for kind, n in self.kinds_in(text).items():
                hits.found[(place, form, kind)] += n
        return hits

    def scan_folder(self, root: Path, skip: Path | None = None) -> Hits:
        hits = Hits()
        for folder, dirs, names in os.walk(root):
            here = Path(folder)
            if skip is not None:
                dirs[:] = [d for d in dirs if here / d != skip]
            for name in sorted(names):
                path = here / name
                place = str(path.relative_to(root))
                try:
                    if path.is_symlink() or path.stat().st_size > MAX_FILE:
                        hits.unread.append(place)
                        continue
                    data = path.read_bytes()
                except OSError:
                    hits.unread.append(place)
                    continue
                hits.add(self.scan_bytes(place, data))
        return hits

    def scan_database(self, engine: Engine, metadata: Iterable[MetaData]) -> Hits:
        """Every column of every row, as text: what the database holds, whatever its files."""
        hits = Hits()
        with engine.connect() as conn:
            for meta in metadata:
                for table in meta.sorted_tables:
                    found: Counter[str] = Counter()
                    rows = 0
                    for row in conn.execute(select(table)):
                        rows += 1
                        found.update(self.kinds_in("\n".join(_as_text(v) for v in row)))
                    hits.places += 1
                    hits.bytes += rows
                    for kind, n in found.items():
                        hits.found[(f"table:{table.name}", "rows", kind)] += n
        return hits


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        raw = bytes(value)
        return "\n".join(raw.decode(f, errors="replace") for f in ("utf-8", "utf-16-le"))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _pdf_text(data: bytes) -> str | None:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception:  # pypdf raises many kinds on a damaged file: reported as unread
        return None


def _zip_members(data: bytes) -> Iterator[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.file_size <= MAX_FILE:
                    yield info.filename, archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
