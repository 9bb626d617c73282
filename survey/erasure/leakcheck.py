"""The leak check after an erasure: evidence that what should be gone is gone (not proof).

Checked: every table in scope holds no row of the study; every tracked file and every key in
scope is gone; the roster can no longer be decrypted and the draw no longer reproduced; the
database was compacted; a scan of the data folder (the SQLite file included) and of every
database row finds none of the erased roster's names and addresses, while a canary (a
fictitious name and address planted in the data folder as a PDF, an XLSX, a CP932 CSV with
half-width kana and full-width digits, a UTF-16 text and a SQLite file) is found in each
form, which shows the scan would have seen them; and every file left in the data folder is
of a kind known to hold no personal data.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from survey.collector.models import CollectorTable
from survey.crypto import KeyMissingError, read_key_file
from survey.erasure.allowlist import leftovers
from survey.erasure.inventory import TARGETS
from survey.erasure.scan import Hits, Needle, Scanner
from survey.models import Draw, Study
from survey.roster import RosterRecord, roster_key_path
from survey.sampling.seed import SeedErasedError, open_seed
from survey.settings import Settings

CANARY_FORMS = ("pdf", "xlsx", "csv-cp932", "txt-utf16", "sqlite")
# Katakana that have a one-character half-width form (no voicing mark).
_HALF = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF66, 0xFF9E)}
_KATAKANA = "".join(k for k in _HALF if len(k) == 1 and "ァ" <= k <= "ヺ")


def roster_needles(records: list[RosterRecord]) -> list[Needle]:
    """The full names (kanji, kana) and addresses of the roster, for the scan (memory only)."""
    out = []
    for r in records:
        out += [Needle("name", r.name), Needle("kana", r.name_kana), Needle("address", r.address)]
    return out


def _canary() -> dict[str, str]:
    def pick(n: int) -> str:
        return "".join(secrets.choice(_KATAKANA) for _ in range(n))

    given, kana = pick(4), pick(8)
    block, lot = secrets.randbelow(9) + 1, secrets.randbelow(90) + 10
    return {
        "name": f"検査　{given}",
        "kana": f"ケンサ　{kana}",
        "address": f"埼玉県志木市検査町{block}丁目{lot}番{secrets.randbelow(9) + 1}号",
    }


def plant(folder: Path, canary: dict[str, str]) -> dict[str, Path]:
    """The canary in every form the scan decodes; one file per form."""
    from openpyxl import Workbook

    from mailing.fonts import FontSet
    from mailing.pdf import new_canvas

    folder.mkdir(mode=0o700)
    name, kana, address = canary["name"], canary["kana"], canary["address"]
    files = {form: folder / f"canary.{form}" for form in CANARY_FORMS}
    fonts = FontSet.load()
    canvas = new_canvas(files["pdf"], "canary", fonts)
    fonts.draw(canvas, 72, 720, f"{name} 様", 12)
    fonts.draw(canvas, 72, 700, address, 12)
    canvas.showPage()
    canvas.save()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([name, kana, address])
    book.save(files["xlsx"])
    # Half-width kana and full-width digits: found only through NFKC.
    half = "".join(_HALF.get(ch, ch) for ch in kana)
    wide = address.translate({ord(d): chr(ord(d) - ord("0") + ord("０")) for d in "0123456789"})
    files["csv-cp932"].write_bytes(f"{name},{half},{wide}\r\n".encode("cp932"))
    files["txt-utf16"].write_bytes(f"{name}\t{address}\n".encode("utf-16"))
    with sqlite3.connect(files["sqlite"]) as conn:
        conn.execute("CREATE TABLE t (name TEXT, kana TEXT, address TEXT)")
        conn.execute("INSERT INTO t VALUES (?, ?, ?)", (name, kana, address))
    conn.close()
    return files


def scan(
    settings: Settings, engine: Engine, needles: list[Needle] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the name scan's result, the canary's); without needles the scan is not performed."""
    if needles is None:
        reason = "名簿を読めなかったため（中断された実施の再開など）名前の照合は行っていません。"
        return {"performed": False, "passed": None, "reason": reason}, {
            "planted": [],
            "found": [],
            "passed": None,
        }
    canary = _canary()
    root = settings.data_dir
    made_root = not root.exists()  # e.g. on PostgreSQL: the canary needs a place to be
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = root / f".erasure-canary-{secrets.token_hex(4)}"
    try:
        planted = plant(folder, canary)
        scanner = Scanner([*needles, *(Needle("canary", t) for t in canary.values())])
        hits = scanner.scan_folder(root)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if made_root:
            shutil.rmtree(root, ignore_errors=True)
    hits.add(scanner.scan_database(engine, [SQLModel.metadata, CollectorTable.metadata]))
    found = {
        form
        for form, path in planted.items()
        for (place, _f, kind) in hits.found
        if kind == "canary" and place == str(path.relative_to(root))
    }
    canary_dir = str(folder.relative_to(root))
    real = Hits(
        unread=[u for u in hits.unread if not u.startswith(canary_dir)],
        places=hits.places,
        bytes=hits.bytes,
    )
    for key, n in hits.found.items():
        if key[2] != "canary" and not key[0].startswith(canary_dir):
            real.found[key] = n
    result = {
        "performed": True,
        "needles": scanner.count - len(canary),
        "needles_too_short": scanner.skipped,
        "places_scanned": real.places,
        "hits": real.as_list(),
        "unread": real.unread,
        "passed": not real.found and not real.unread,
    }
    canary_result = {
        "planted": list(CANARY_FORMS),
        "found": [f for f in CANARY_FORMS if f in found],
        "passed": found == set(CANARY_FORMS),
    }
    return result, canary_result


def state(
    session: Session, settings: Settings, study: Study, scope: str, inventory: dict[str, Any]
) -> list[dict[str, Any]]:
    """The checks that need no names: rows, files, keys, roster, draw (again at confirmation)."""
    rows = {t.name: t.count(session, study) for t in TARGETS[scope]}
    files_left = [f["path"] for f in inventory["files"] if Path(f["path"]).exists()]
    keys_left = [k["path"] for k in inventory["keys"] if Path(k["path"]).exists()]
    checks = [
        {"check": "tables_empty", "passed": not any(rows.values()), "rows": rows},
        {"check": "files_gone", "passed": not files_left, "left": len(files_left)},
        {"check": "keys_gone", "passed": not keys_left, "left": len(keys_left)},
    ]
    if scope == "personal":
        try:
            read_key_file(roster_key_path(settings, study.name))
            unreadable = False
        except KeyMissingError:
            unreadable = True
        checks.append({"check": "roster_unreadable", "passed": unreadable})
        draw = session.exec(select(Draw).where(col(Draw.study_id) == study.id)).first()
        if draw is not None:
            try:
                open_seed(settings, study.name, draw.seed_sealed, draw.seed_sha256)
                gone = False
            except SeedErasedError:
                gone = True
            checks.append({"check": "draw_not_reproducible", "passed": gone})
    return checks


def leak_check(
    session: Session,
    settings: Settings,
    engine: Engine,
    study: Study,
    scope: str,
    inventory: dict[str, Any],
    needles: list[Needle] | None,
    compaction: dict[str, Any],
) -> dict[str, Any]:
    checks = state(session, settings, study, scope, inventory)
    checks.append({"check": "database_compacted", "passed": bool(compaction.get("ok"))})
    names, canary = scan(settings, engine, needles)
    left = leftovers(session, settings, engine, scope)
    checks += [
        {"check": "name_scan", "passed": names["passed"]},
        {"check": "canary_found", "passed": canary["passed"]},
        {"check": "allow_list", "passed": not left["unlisted"]},
    ]
    return {
        # None (not performed) does not fail the check, but is said on the certificate.
        "passed": all(c["passed"] is not False for c in checks),
        "checks": checks,
        "name_scan": names,
        "canary": canary,
        "left_in_data_folder": left,
    }
