"""Loading and checking questionnaire definitions.

``survey/forms/definitions/*.yaml`` are forms (one file per form version);
``survey/forms/definitions/modules/*.yaml`` are shared blocks used with ``use: NAME``. A bad
definition fails with its file, the item id and the reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from survey.cohorts import COHORTS
from survey.errors import DataError
from survey.forms.items import Variable as Variable  # re-exported: a column of a form
from survey.forms.items import kind
from survey.forms.schema import (
    Condition,
    Derived,
    FormFile,
    Item,
    Module,
    Section,
    Use,
)


class FormError(DataError):
    """One or more definitions are invalid; ``problems`` lists ``file: item: reason``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            f"調査票の定義に誤りが {len(problems)} 件あります。",
            f"{len(problems)} problem(s) in the questionnaire definitions.",
        )
        self.errors = problems


@dataclass(frozen=True, slots=True)
class Form:
    source: FormFile
    path: Path
    sections: tuple[Section, ...]  # with modules expanded and scales resolved
    derived: tuple[Derived, ...]
    sha256: str  # of the expanded definition: what "immutable once codes exist" protects

    @property
    def id(self) -> str:
        return self.source.id

    @property
    def version(self) -> int:
        return self.source.version

    @property
    def cohort(self) -> str:
        return self.source.cohort

    @property
    def padded_size(self) -> int:
        return self.source.padded_size

    def items(self) -> list[Item]:
        return [i for s in self.sections for i in s.items if isinstance(i, Item)]

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items() if i.id == item_id)

    def variables(self) -> list[Variable]:
        """The data columns, in order: each item's, as its type defines them."""
        return [v for item in self.items() for v in kind(item).variables(item)]


def definitions_dir() -> Path:
    return Path(str(resources.files("survey.forms") / "definitions"))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FormError([f"{path.name}: -: YAML を読めません / cannot read YAML: {exc}"]) from exc


def _pydantic_problems(path: Path, data: Any, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        item_id, node, where = "-", data, []
        for part in err["loc"]:  # walk to the innermost node that has an id
            try:
                child = node[part]
            except (KeyError, IndexError, TypeError):
                # pydantic's own steps (a union tag, "function-after[...]"): not in the file,
                # except a missing or unknown field, which is named as it is.
                if part == err["loc"][-1]:
                    where.append(str(part))
                continue
            node = child
            where.append(str(part))
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                item_id = node["id"]
        out.append(f"{path.name}: {item_id}: {err['msg']} ({'.'.join(where)})")
    return out


def load_modules(directory: Path) -> dict[str, Module]:
    modules, problems = {}, []
    for path in sorted((directory / "modules").glob("*.yaml")):
        data = _read_yaml(path)
        try:
            modules[path.stem] = Module.model_validate(data)
        except ValidationError as exc:
            problems += _pydantic_problems(path, data, exc)
    if problems:
        raise FormError(problems)
    return modules


def _canonical(form: FormFile, sections: list[Section], derived: list[Derived]) -> str:
    doc = form.model_dump(mode="json", by_alias=True, exclude={"sections", "derived"})
    doc["sections"] = [s.model_dump(mode="json", by_alias=True) for s in sections]
    doc["derived"] = [d.model_dump(mode="json", by_alias=True) for d in derived]
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


def _expand(path: Path, form: FormFile, modules: dict[str, Module], problems: list[str]) -> Form:
    scales = {name: opts for m in modules.values() for name, opts in m.scales.items()}
    sections, derived = [], list(form.derived)
    for section in form.sections:
        items: list[Item | Use] = []
        for entry in section.items:
            if isinstance(entry, Use):
                module = modules.get(entry.use)
                if module is None:
                    problems.append(f"{path.name}: {section.id}: unknown module {entry.use!r}")
                    continue
                items += module.items
                derived += module.derived
            else:
                items.append(entry)
        resolved: list[Item | Use] = []
        for item in items:
            assert isinstance(item, Item)
            if item.scale is not None and item.options is None:  # (expanded items have both)
                if item.scale not in scales:
                    problems.append(f"{path.name}: {item.id}: unknown scale {item.scale!r}")
                    continue
                item = item.model_copy(update={"options": scales[item.scale]})
            resolved.append(item)
        sections.append(section.model_copy(update={"items": resolved}))
    digest = hashlib.sha256(_canonical(form, sections, derived).encode()).hexdigest()
    return Form(form, path, tuple(sections), tuple(derived), digest)


def _check_condition(
    path: Path, item_id: str, cond: Condition, earlier: dict[str, set[int]], problems: list[str]
) -> None:
    for c in [cond, *(cond.all or ()), *(cond.any or ())]:
        if c.item is None:
            if c is not cond:
                _check_condition(path, item_id, c, earlier, problems)
            continue
        if c.item not in earlier:
            problems.append(
                f"{path.name}: {item_id}: show_if refers to {c.item!r}, not an earlier choice item"
            )
        elif not set(c.in_ or ()) <= earlier[c.item]:
            problems.append(
                f"{path.name}: {item_id}: show_if codes {c.in_} are not options of {c.item}"
            )


def check_form(form: Form, problems: list[str]) -> None:
    from survey.forms.checks import check_derived, check_safety, check_texts
    from survey.forms.payload import check_size

    path = form.path
    if form.cohort not in COHORTS:
        problems.append(f"{path.name}: -: unknown cohort {form.cohort!r}")
    seen: set[str] = set()
    earlier: dict[str, set[int]] = {}
    for item in form.items():
        ids = [item.id, *(r.id for r in item.rows or ())]
        for i in ids:
            if i in seen:
                problems.append(f"{path.name}: {i}: duplicate id")
            seen.add(i)
        codes = [o.code for o in item.options or ()]
        if len(codes) != len(set(codes)):
            problems.append(f"{path.name}: {item.id}: duplicate option codes")
        if item.show_if is not None:
            _check_condition(path, item.id, item.show_if, earlier, problems)
        if kind(item).choice:
            earlier.update({v.id: {o.code for o in v.options} for v in kind(item).variables(item)})
    known = {v.id for v in form.variables()}
    for d in form.derived:
        if d.id in seen or d.id in known:
            problems.append(f"{path.name}: {d.id}: derived id duplicates an item")
        refs = [*(d.items or ()), *([d.source] if d.source else ())]
        refs += [i for c in d.cases or () for i in c.when.items()]
        for ref in refs:
            if ref not in known:
                problems.append(f"{path.name}: {d.id}: refers to unknown variable {ref!r}")
        known.add(d.id)
        seen.add(d.id)
    check_safety(form, problems)
    check_texts(form, problems)
    check_derived(form, problems)
    check_size(form, problems)


def load_form(path: Path, modules: dict[str, Module]) -> Form:
    data = _read_yaml(path)
    try:
        source = FormFile.model_validate(data)
    except ValidationError as exc:
        raise FormError(_pydantic_problems(path, data, exc)) from exc
    problems: list[str] = []
    form = _expand(path, source, modules, problems)
    if not problems:
        check_form(form, problems)
    if problems:
        raise FormError(problems)
    return form


_LOADED: dict[tuple[str, str], dict[tuple[str, int], Form]] = {}


def load_forms(directory: Path | None = None) -> dict[tuple[str, int], Form]:
    """Every form version in the folder; all problems of all files reported at once.

    Parsed once per content of the folder: keying a paper sheet or opening a batch of answers
    reads the forms many times, and YAML parsing costs ~0.2 s. The key is a digest of every
    file's bytes, so an edited definition is read again (never a stale form).
    """
    directory = directory or definitions_dir()
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yaml")):
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
    key = (str(directory.resolve()), digest.hexdigest())
    if key not in _LOADED:
        _LOADED.clear()  # one folder's forms at a time: tests load many folders
        _LOADED[key] = _load_forms(directory)
    return dict(_LOADED[key])


def _load_forms(directory: Path) -> dict[tuple[str, int], Form]:
    modules = load_modules(directory)
    forms: dict[tuple[str, int], Form] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            form = load_form(path, modules)
        except FormError as exc:
            problems += exc.errors
            continue
        key = (form.id, form.version)
        if key in forms:
            problems.append(f"{path.name}: -: form {form.id} version {form.version} defined twice")
        forms[key] = form
    if problems:
        raise FormError(problems)
    return forms


def current_forms(forms: dict[tuple[str, int], Form]) -> dict[str, Form]:
    """The newest version of each form, keyed by cohort (the form a cohort's codes open)."""
    out: dict[str, Form] = {}
    for form in sorted(forms.values(), key=lambda f: f.version):
        out[form.cohort] = form
    return out
