"""The microdata's key variables: their recoding hierarchies, output codes and labels, and
what the file leaves out (see survey.analysis.microdata for the method)."""

from __future__ import annotations

from survey.cohorts import COHORTS
from survey.errors import DataError
from survey.forms.loader import Form
from survey.forms.schema import MISSING

L_DIVERSITY = 2
MAX_TOUCHED = 0.05  # share of a cohort's rows local suppression may touch before recoding more
NO_ANSWER, NOT_APPLICABLE, NA = -9, -1, -99
# A suppressed key is set to the missing code, as sdcMicro sets it to NA: it joins those
# who did not answer, so a suppression does not stand out as one.
SUPPRESSED = NO_ANSWER
SUPPRESSED_LABEL = "無回答・秘匿"
Group = tuple[str, tuple[int, ...]]  # output label, the source codes it covers

SEX: list[list[Group]] = [[("男性", (1,)), ("女性", (2,)), ("その他・答えない", (3, 4))]]
AGE_GENERAL: list[list[Group]] = [
    [
        ("18〜29歳", (1, 2)),
        ("30歳代", (3,)),
        ("40歳代", (4,)),
        ("50歳代", (5,)),
        ("60歳代", (6,)),
        ("70歳以上", (7, 8)),
    ],
    [("18〜39歳", (1, 2, 3)), ("40〜59歳", (4, 5)), ("60歳以上", (6, 7, 8))],
]
AGE_GUARDIAN: list[list[Group]] = [
    [("29歳以下", (1,)), ("30歳代", (2,)), ("40歳代", (3,)), ("50歳以上", (4,))],
    [("39歳以下", (1, 2)), ("40歳以上", (3, 4))],
]
# The city's districts into its two areas (宗岡 across the Shingashi river, 志木 the rest);
# わからない stays a category of its own.
AREAS = {
    "宗岡地区": ("上宗岡", "中宗岡", "下宗岡"),
    "志木地区": ("本町", "幸町", "館", "柏町"),
    "わからない": ("わからない",),
}
# Key variable -> (output column, suppression priority: lower is suppressed first).
KEYS = {
    "district": ("area", 0),
    "child_stage": ("child_stage_group", 1),
    "grade": ("grade_group", 2),
    "age_band": ("age_group", 3),
    "sex": ("sex_group", 4),
}
SENSITIVE = ("k6_band", "ideation_ever_yes", "ideation_past_year")
DROPPED = ("response_id", "form", "version", "week", "channel", "k6_total")
TOP_CODED = {"eligible_children": 3}  # 3 = 3人以上
MERGED = {"relation": {4: 3}}  # その他 into 祖父母: the label becomes 祖父母・その他
MERGED_LABELS = {"relation": {3: "祖父母・その他"}}


def _options(forms: dict[str, Form], cohort: str, var: str) -> dict[int, str]:
    form = forms.get(cohort)
    for v in form.variables() if form else ():
        if v.id == var:
            return {o.code: o.label.ja for o in v.options}
    return {}


def hierarchy(forms: dict[str, Form], cohort: str, var: str) -> list[list[Group]]:
    """The levels of a key variable in a cohort (empty: not on its form); beyond the last
    level the variable is not released for the cohort."""
    options = _options(forms, cohort, var)
    if not options:
        return []
    if var == "sex":
        levels = SEX
    elif var == "age_band":
        levels = AGE_GENERAL if cohort == "general" else AGE_GUARDIAN
    elif var == "district":
        by_label = {label: code for code, label in options.items()}
        areas = [(a, tuple(by_label[d] for d in ds if d in by_label)) for a, ds in AREAS.items()]
        levels = [[(label, (code,)) for code, label in options.items()], areas]
    else:
        levels = [[(label, (code,)) for code, label in options.items()]]
    covered = [sorted(c for _, codes in level for c in codes) for level in levels]
    if any(c != sorted(options) for c in covered):
        # The form's options changed: recoding them blindly could release a new category.
        raise DataError(
            f"{cohort} の {var} の選択肢がミクロデータの区分と合いません。",
            f"The options of {var} in {cohort} do not match the microdata's hierarchy.",
        )
    return levels


def output_codes(forms: dict[str, Form]) -> dict[str, dict[str, int]]:
    """Output column -> label -> code: one code per label over every cohort and level
    (40歳代 of a guardian and of a citizen are one value)."""
    out: dict[str, dict[str, int]] = {column: {} for column, _ in KEYS.values()}
    for var, (column, _) in KEYS.items():
        for cohort in COHORTS:
            for level in hierarchy(forms, cohort, var):
                for label, _ in level:
                    out[column].setdefault(label, len(out[column]) + 1)
    return out


def dropped(forms: dict[str, Form]) -> set[str]:
    """Columns left out: ids, arrival, free text (its ``_answered`` flag too), the K6 items
    and total (the band stands for them), and the keys (replaced by their recoded columns)."""
    out = {*DROPPED, *KEYS}
    for form in forms.values():
        for var in form.variables():
            if var.type in ("text", "longtext"):
                out |= {var.id, f"{var.id}_answered"}
        for d in form.derived:
            if d.kind == "sum":
                out |= {d.id, *(d.items or ())}
    return out


def labels(
    forms: dict[str, Form], codes: dict[str, dict[str, int]], columns: list[str]
) -> tuple[dict[str, str], dict[str, dict[int | float, str]]]:
    from survey.analysis.exports import sav_labels

    labels, values = sav_labels(forms, columns)
    missing: dict[int | float, str] = {NOT_APPLICABLE: MISSING[NOT_APPLICABLE][0]}
    missing[SUPPRESSED] = SUPPRESSED_LABEL
    texts = {"area": "お住まいの地域", "sex_group": "性別", "age_group": "年齢（区分）"}
    texts |= {"grade_group": "学年", "child_stage_group": "宛名のお子さんの年齢・学年"}
    for column, by_label in codes.items():
        labels[column] = texts[column]
        values[column] = {code: label for label, code in by_label.items()} | missing
    for name, top in TOP_CODED.items():
        if name in values:
            values[name] = {c: v for c, v in values[name].items() if c < top} | {
                top: f"{top}人以上"
            }
    for name, merged in MERGED_LABELS.items():
        if name in values:
            values[name] = values[name] | merged
            values[name].pop(4, None)
    labels |= {"cohort": "対象（層）", "weight": "設計の重み w_h", "fpc": "層の母集団 N'_h"}
    return labels, values


def unknown(forms: dict[str, Form], var: str) -> set[int]:
    """A derived variable's own missing category (the K6 band's 不詳)."""
    found = {d.missing_code for f in forms.values() for d in f.derived if d.id == var}
    return {c for c in found if c is not None}
