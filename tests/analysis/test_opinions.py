"""Free-text opinions: coding, redaction, approval; only suppressed counts and approved
redacted excerpts leave, never an original text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from survey.analysis import exports, opinions
from survey.analysis.disclosure import MARK
from survey.analysis.run import EXCERPTS_SHEET, opinion_sheets, write_opinions
from survey.db import Database
from survey.models import AuditEntry, FreeText, Response, Study
from survey.study import create_study

ORIGINAL = "本町3丁目の山田さんの家の前で困っています。電話090-1234-5678"
REDACTED = "近所で困っています。"


def _study(session: Session, answers: dict[str, int]) -> tuple[Study, list[int]]:
    """A study with ``answers[cohort]`` free-text answers to q_free per cohort."""
    study = create_study(session, "s1", [])
    ids = []
    i = 0
    for cohort, n in answers.items():
        for _ in range(n):
            rid = f"{i:032x}"
            session.add(
                Response(
                    id=rid,
                    study_id=study.id,  # type: ignore[arg-type]
                    cohort=cohort,
                    channel="web",
                    form_id=cohort,
                    version=1,
                    week="2026-W23",
                    answers={},
                    derived={},
                )
            )
            session.flush()
            text = FreeText(response_id=rid, variable="q_free", text=f"{ORIGINAL}#{i}")
            session.add(text)
            session.flush()
            assert text.id is not None
            ids.append(text.id)
            i += 1
    return study, ids


def _out_text(tmp: Path) -> str:
    """Every CSV's and every XLSX cell's text under ``tmp``."""
    texts = [p.read_bytes().decode("utf-8-sig") for p in tmp.rglob("*.csv")]
    for path in tmp.rglob("*.xlsx"):
        for ws in load_workbook(path, read_only=True).worksheets:
            texts += [str(v) for row in ws.iter_rows(values_only=True) for v in row]
    return "\n".join(texts)


def _xlsx(published: opinions.Published, path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The opinion sheets as ``survey analyze`` writes them into tables.xlsx, read back."""
    sheets, notes = opinion_sheets(published)
    exports.write_xlsx(sheets, path, notes)
    book = load_workbook(path, read_only=True)
    return {
        ws.title: [_trimmed(row) for row in ws.iter_rows(values_only=True)]
        for ws in book.worksheets
    }


def _trimmed(row: tuple[object, ...]) -> tuple[object, ...]:
    """A row without the empty cells a read-only sheet pads it with."""
    while row and row[-1] is None:
        row = row[:-1]
    return row


def test_only_approved_redacted_excerpts_leave(
    db: Database, database_backend: str, tmp_path: Path
) -> None:
    with db.session() as session:
        study, ids = _study(session, {"general": 12})
        a = opinions.add_category(session, study, "相談窓口", "analyst1")
        b = opinions.add_category(session, study, "地域", "analyst1")
        opinions.rename_category(session, study, b.id, "地域づくり", "analyst1")  # type: ignore[arg-type]
        for t in ids:
            opinions.code(session, study, t, [a.id], None, "analyst1")  # type: ignore[list-item]
        # Coded but not redacted: cannot be approved.
        with pytest.raises(opinions.OpinionError):
            opinions.approve(session, study, ids[0], "analyst1", flags_reviewed=True)
        # Redacted but still flagged: refused until the analyst confirms the flags.
        opinions.code(session, study, ids[1], [a.id], "3丁目で困っています", "analyst1")  # type: ignore[list-item]
        with pytest.raises(opinions.OpinionError, match="丁目"):
            opinions.approve(session, study, ids[1], "analyst1", flags_reviewed=False)
        opinions.code(session, study, ids[2], [a.id, b.id], REDACTED, "analyst1")  # type: ignore[list-item]
        opinions.approve(session, study, ids[2], "analyst1", flags_reviewed=False)
        # Approved then re-redacted: the approval is withdrawn.
        opinions.code(session, study, ids[3], [a.id], REDACTED, "analyst1")  # type: ignore[list-item]
        opinions.approve(session, study, ids[3], "analyst1", flags_reviewed=False)
        opinions.code(session, study, ids[3], [a.id], "別の文", "analyst1")  # type: ignore[list-item]
        session.commit()
        published = opinions.published(session, study, 10)
        entries = session.exec(select(AuditEntry)).all()
    assert list(published.excerpts["意見（編集済み）"]) == [REDACTED]
    assert list(published.excerpts["分類"]) == ["相談窓口・地域づくり"]
    # The audit log holds ids and counts, never the answer or its redaction.
    actions = [e.action for e in entries]
    assert actions.count("opinion.code") == 16 and actions.count("opinion.approve") == 2
    for e in entries:
        assert "困" not in str(e.object) and ORIGINAL not in str(e.object)
    (tmp_path / "tables").mkdir()
    written = write_opinions(published, tmp_path / "tables", tmp_path)
    sheets = _xlsx(published, tmp_path / "tables.xlsx")
    assert list(sheets) == ["自由意見 q_free", EXCERPTS_SHEET]
    assert sheets[EXCERPTS_SHEET][1] == ("q_free", "一般市民", "相談窓口・地域づくり", REDACTED)
    assert sheets[EXCERPTS_SHEET][2:] == [(opinions.EXCERPTS_TITLE,), (opinions.EXCERPTS_NOTE,)]
    assert {Path(p).name for p in written} == {"opinions_q_free.csv", "opinions_excerpts.csv"}
    text = _out_text(tmp_path)
    assert REDACTED in text
    assert "3丁目" not in text and "別の文" not in text
    assert "山田" not in text and "090" not in text  # no original text in any output file
    counts = pd.read_csv(tmp_path / "tables" / "opinions_q_free.csv", encoding="utf-8-sig")
    # 地域づくり holds 1 (primary); 相談窓口 (12) is the second suppression of the column.
    assert list(counts["一般市民"]) == [MARK, MARK]


def test_counts_below_the_threshold_are_suppressed(
    db: Database, database_backend: str, tmp_path: Path
) -> None:
    with db.session() as session:
        study, ids = _study(session, {"general": 15, "high_school": 6})
        many = opinions.add_category(session, study, "多い", "a")
        few = opinions.add_category(session, study, "少ない", "a")
        other = opinions.add_category(session, study, "その他", "a")
        for k, t in enumerate(ids[:15]):
            cats = [many.id] if k < 11 else [few.id] if k < 14 else [other.id]
            opinions.code(session, study, t, cats, None, "a")  # type: ignore[arg-type]
        for t in ids[15:]:
            opinions.code(session, study, t, [many.id], None, "a")  # type: ignore[list-item]
        tables = opinions.counts_tables(session, study, 10)
        published = opinions.published(session, study, 10)
    frame = tables["q_free"].set_index("分類")
    general = frame.iloc[:, 0]
    # 11 published; 3 and 1 under the threshold: suppressed.
    assert list(general) == [11, MARK, MARK]
    # A cohort with only 6 coded answers is not published at all.
    assert set(frame.iloc[:, 1]) == {MARK}
    # tables.xlsx: the same cells, counts as numbers and ＊ as text, then the notes.
    rows = _xlsx(published, tmp_path / "tables.xlsx")["自由意見 q_free"]
    assert rows[:4] == [
        ("分類", "一般市民", "高校生"),
        ("多い", 11, MARK),
        ("少ない", MARK, MARK),
        ("その他", MARK, MARK),
    ]
    assert rows[4:] == [
        (opinions.counts_title("q_free"),),
        (opinions.MULTI_NOTE,),
        (opinions.FOOTNOTE,),
    ]


def test_one_small_count_gets_a_second_suppression(db: Database, database_backend: str) -> None:
    with db.session() as session:
        study, ids = _study(session, {"general": 34})
        cats = [opinions.add_category(session, study, n, "a") for n in ("a", "b", "c")]
        for k, t in enumerate(ids):
            # 20 / 11 / 3 and each answer in one category: 3 = 34 − 20 − 11 if only it hid.
            c = cats[0] if k < 20 else cats[1] if k < 31 else cats[2]
            opinions.code(session, study, t, [c.id], None, "a")  # type: ignore[list-item]
        column = opinions.counts_tables(session, study, 10)["q_free"].iloc[:, 1]
    assert list(column) == [20, MARK, MARK]


def test_identifier_flags() -> None:
    assert opinions.identifier_flags("本町3丁目の田中さん")
    assert opinions.identifier_flags("連絡先 048-123-4567")
    assert opinions.identifier_flags("相談窓口をもっと知らせてほしい。") == []
