"""What the paper says about the order of a form: question numbers, skips and banners.

Paper cannot hide a question, so the skip logic (``show_if``) is printed: the options that make
the following questions not apply say where to go (「→ 問9へ」), and each dependent question
says whom it is for (【問8で「1」と答えた方に】). A question that depends only on the question
numbered just before it is its sub-question (問8-1, 問8-2). Keying follows the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

from survey.forms.items import kind
from survey.forms.loader import Form
from survey.forms.schema import Condition, Item


@dataclass(frozen=True, slots=True)
class Plan:
    numbers: dict[str, str]  # item id → 「8」 or 「8-1」 (printed as 問8, 問8-1)
    skips: dict[tuple[str, int], str | None]  # (variable, code) → item id to go to (None: end)
    banners: dict[str, str]  # item id → 【問8で「1」と答えた方に】

    def number(self, item_id: str) -> str:
        return f"問{self.numbers[item_id]}"

    def skip_text(self, var_id: str, code: int) -> str | None:
        if (var_id, code) not in self.skips:
            return None
        target = self.skips[(var_id, code)]
        return "→ 質問はここまでです" if target is None else f"→ {self.number(target)}へ"


def known(cond: Condition, var_id: str, code: int) -> bool | None:
    """Whether ``cond`` holds when ``var_id`` is answered ``code``: True, False, or None when
    it depends on other answers too (three-valued, so no skip is printed on a guess)."""
    if cond.item is not None:
        return code in (cond.in_ or ()) if cond.item == var_id else None
    parts = [known(c, var_id, code) for c in cond.all or cond.any or ()]
    if cond.all is not None:
        return False if False in parts else (True if all(parts) else None)
    return True if True in parts else (False if all(p is False for p in parts) else None)


def _owner(form: Form) -> dict[str, Item]:
    """Variable id → its item (a grid's rows are variables of the grid)."""
    return {v.id: item for item in form.items() for v in kind(item).variables(item)}


def _numbers(form: Form, owner: dict[str, Item]) -> dict[str, str]:
    numbers: dict[str, str] = {}
    top, sub, parent = 0, 0, ""
    for item in form.items():
        refs = {owner[v].id for v in item.show_if.items()} if item.show_if else set()
        if refs and refs == {parent}:
            sub += 1
            numbers[item.id] = f"{top}-{sub}"
        else:
            top, sub, parent = top + 1, 0, item.id
            numbers[item.id] = str(top)
    return numbers


def _banner(cond: Condition, numbers: dict[str, str], owner: dict[str, Item]) -> str:
    if cond.item is not None:
        item = owner[cond.item]
        codes = "".join(f"「{c}」" for c in cond.in_ or ())
        where = f"問{numbers[item.id]}"
        if item.type == "grid":  # a row of a grid: name the row too
            row = next(r for r in item.rows or () if r.id == cond.item)
            where += f"（{row.text.ja}）"
        verb = "に○をつけた" if item.type == "multi" else "と答えた"
        return f"{where}で{codes}{verb}"
    joiner = "、かつ" if cond.all is not None else "、または"
    return joiner.join(_banner(c, numbers, owner) for c in cond.all or cond.any or ())


def plan(form: Form) -> Plan:
    owner = _owner(form)
    numbers = _numbers(form, owner)
    items = form.items()
    banners = {i.id: f"【{_banner(i.show_if, numbers, owner)}方に】" for i in items if i.show_if}
    skips: dict[tuple[str, int], str | None] = {}
    for pos, item in enumerate(items):
        # Only a one-answer question can send the reader on: a multiple choice may hold an
        # option that opens the next question and one that does not.
        if item.type not in ("single", "select"):
            continue
        var = kind(item).variables(item)[0]
        later = items[pos + 1 :]
        if not any(i.show_if and var.id in i.show_if.items() for i in later):
            continue
        for option in var.options:
            hidden = [
                i.show_if is not None and known(i.show_if, var.id, option.code) is False
                for i in later
            ]
            if hidden and hidden[0]:
                target = next((i.id for i, h in zip(later, hidden, strict=True) if not h), None)
                skips[(var.id, option.code)] = target
    return Plan(numbers, skips, banners)
