"""The browser's code checks, fingerprints, skip logic, answer checks and sealing agree with the
Python side.

The collector's ES modules run under Node.js (the same libsodium-wrappers the page bundles) on
inputs made here; the results are compared with survey.codes, survey.crypto, survey.forms.logic
and survey.forms.items.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import nacl.utils

from survey.codes import CodeFormatError, new_code, normalize
from survey.crypto import CROCKFORD, base32, fingerprint
from survey.forms.items import kind
from survey.forms.loader import Variable
from survey.forms.logic import holds
from survey.forms.schema import MISSING, Condition
from tests.conftest import require_program
from tests.forms.samples import EVERY_TYPE, REAL_FORMS
from tests.helpers import STUDY_PUBLIC_KEY, open_sealed

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "survey" / "web" / "collector" / "js"


def node(script: str, data: Any) -> Any:
    require_program("Node.js", shutil.which("node") is not None)
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)


READ_STDIN = "const data = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
PRELUDE = (
    "import { createRequire } from 'module'; const require = createRequire(import.meta.url);\n"
    + READ_STDIN
)


FULL_WIDTH = {c: c + 0xFEE0 for c in range(33, 127)}


def python_verdict(text: str) -> str:
    try:
        return normalize(text)
    except CodeFormatError as exc:
        return "error:check" if "typo" in exc.en else "error:length"


def variants(code: str, rng: random.Random) -> list[str]:
    out = [code, code.lower(), f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12]}", code[:-1]]
    out.append(code.translate(FULL_WIDTH))
    out.append(" ".join(code))
    out.append(code.replace("1", "I").replace("0", "o"))
    i = rng.randrange(13)
    out.append(code[:i] + rng.choice([c for c in CROCKFORD if c != code[i]]) + code[i + 1 :])
    j = rng.randrange(12)
    if code[j] != code[j + 1]:
        out.append(code[:j] + code[j + 1] + code[j] + code[j + 2 :])
    out.append(code + "U")
    return out


def test_code_checks_agree() -> None:
    rng = random.Random(5)
    inputs = [v for _ in range(150) for v in variants(new_code(), rng)]
    script = PRELUDE + (
        f"const {{ normalize }} = await import({json.dumps(str(JS / 'codes.js'))});\n"
        "console.log(JSON.stringify(data.map((t) => { const r = normalize(t);"
        " return r.code ?? 'error:' + r.error; })));"
    )
    assert node(script, inputs) == [python_verdict(t) for t in inputs]


def test_fingerprints_and_base32_agree() -> None:
    keys = [nacl.utils.random(32) for _ in range(20)]
    blobs = [nacl.utils.random(n) for n in range(1, 41)]
    script = PRELUDE + (
        "const sodium = (await import('libsodium-wrappers')).default; await sodium.ready;\n"
        f"const k = await import({json.dumps(str(JS / 'keys.js'))});\n"
        "const b = (s) => Uint8Array.from(Buffer.from(s, 'base64'));\n"
        "console.log(JSON.stringify({fp: data.keys.map((x) => k.fingerprint(sodium, b(x))),"
        " b32: data.blobs.map((x) => k.base32(b(x)))}));"
    )
    enc = lambda xs: [base64.b64encode(x).decode() for x in xs]  # noqa: E731
    result = node(script, {"keys": enc(keys), "blobs": enc(blobs)})
    assert result["fp"] == [fingerprint(k) for k in keys]
    assert result["b32"] == [base32(b) for b in blobs]


def test_sealing_in_javascript_opens_in_python() -> None:
    answers = {"sex": 2, "consult": [1, 3], "opinion": 'よろしく𠮷\n"quoted"'}
    doc = {"study": "default", "cohort": "general", "form": "general", "version": 1}
    script = PRELUDE + (
        "const sodium = (await import('libsodium-wrappers')).default; await sodium.ready;\n"
        f"const k = await import({json.dumps(str(JS / 'keys.js'))});\n"
        "const pk = Uint8Array.from(Buffer.from(data.pk, 'base64'));\n"
        "console.log(JSON.stringify(k.sealAnswers(sodium, pk, data.payload, 8192)));"
    )
    payload = {**doc, "answers": answers}
    sealed = node(script, {"pk": base64.b64encode(STUDY_PUBLIC_KEY).decode(), "payload": payload})
    raw = base64.b64decode(sealed, validate=True)
    assert len(raw) == 8192 + 48
    assert open_sealed(raw, 8192) == payload


def random_condition(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    if depth < 2 and rng.random() < 0.3:
        kind = rng.choice(["all", "any"])
        return {kind: [random_condition(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    return {"item": rng.choice("abc"), "in": rng.sample([1, 2, 3, 4], rng.randint(1, 3))}


def random_answers(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in "abc":
        roll = rng.random()
        if roll < 0.3:
            out[name] = rng.randint(1, 4)
        elif roll < 0.5:
            out[name] = rng.sample([1, 2, 3, 4], rng.randint(1, 3))
        elif roll < 0.6:
            out[name] = rng.choice([-7, -9, -1])
    return out


def test_skip_logic_agrees() -> None:
    rng = random.Random(11)
    cases = [(random_condition(rng), random_answers(rng)) for _ in range(400)]
    script = PRELUDE + (
        f"const {{ holds }} = await import({json.dumps(str(JS / 'logic.js'))});\n"
        "console.log(JSON.stringify(data.map(([c, a]) => holds(c, a))));"
    )
    expected = [holds(Condition.model_validate(c), a) for c, a in cases]
    assert node(script, cases) == expected
    assert 50 < sum(expected) < 350  # both outcomes are exercised


def browser_spec(var: Variable) -> dict[str, Any]:
    """What js/form.js reads from the rendered page for a variable (its specOf)."""
    item = var.item
    return {
        "type": var.type,
        "codes": [o.code for o in var.options],
        "exclusive": [o.code for o in var.options if o.exclusive],
        "sensitive": item.sensitive,
        "maxPicks": item.max_picks or 0,
        "min": item.min,
        "max": item.max,
        "maxLength": item.max_length,
    }


FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
SPACES = [" ", "\u3000", "\t", "\n", "\u00a0", "\ufeff", "\u2028"]
# Blank to Python's str.strip() but not to JavaScript's trim(): text like any other.
NOT_JS_SPACES = ["\x1c", "\x1f", "\x85"]
TEXT_CHARS = ["a", "あ", "𠮷", "\ud800", '"', "\\", "\x01", "\n", " ", "\u3000"]


def raw_values(var: Variable, rng: random.Random) -> list[Any]:
    """Raw answers for one variable around each rule of its type, as a payload could carry."""
    item, codes = var.item, [o.code for o in var.options]
    out: list[Any] = [None, "", [], True, False, {}, 2.5, [[1]], -1, -3, *MISSING]
    if codes:
        c = rng.choice(codes)
        out += [c, float(c), str(c), [c], c + rng.randint(1, 5), rng.sample(codes, 2)]
        out += [[-7], [c, -7], [c, c], [c, 1000]]
        for _ in range(12):  # picks: subsets, some with an exclusive option or too many
            out.append(rng.sample(codes, rng.randint(1, len(codes))))
        exclusive = [o.code for o in var.options if o.exclusive]
        out += [[*exclusive[:1], c]]  # an exclusive option with another
    if item.min is not None and item.max is not None:
        for _ in range(10):
            n = rng.randint(item.min - 3, item.max + 3)
            text = str(n)
            out += [n, text, text.translate(FULL_WIDTH_DIGITS)]
            out.append(rng.choice(SPACES) + "0" * rng.randint(0, 2) + text + rng.choice(SPACES))
        out += ["+5", "1e1", "0x10", "5.0", "5.", "-0", "1 2", "٣", "9" * 400, "\u3000"]
    if item.max_length is not None:
        m = item.max_length
        for n in (m - 1, m, m + 1, m // 2, 1):
            out.append("".join(rng.choice(TEXT_CHARS) for _ in range(n)))
        out.append("𠮷" * (m // 2) + rng.choice(["", "x"]))  # exactly at, or one unit over
        out += ["".join(rng.choices(SPACES, k=3)), rng.choice(NOT_JS_SPACES), 5, ["a"]]
    return out


def test_answer_checks_agree() -> None:
    """js/validate.js stores what survey.forms.items stores, on hundreds of raw answers."""
    rng = random.Random(23)
    variables = EVERY_TYPE.variables() + rng.sample(
        [v for f in REAL_FORMS for v in f.variables()], 30
    )
    cases = [(var, raw) for var in variables for raw in raw_values(var, rng)]
    script = PRELUDE + (
        f"const {{ check }} = await import({json.dumps(str(JS / 'validate.js'))});\n"
        f"const {{ message }} = await import({json.dumps(str(JS / 'messages.js'))});\n"
        "console.log(JSON.stringify(data.map(([spec, raw]) => { const r = check(spec, raw);"
        " return [r.value, r.error ? message(r.error, 'ja', spec) : null]; })));"
    )
    results = node(script, [(browser_spec(var), raw) for var, raw in cases])
    expected = [kind(var.item).validate(var, raw) for var, raw in cases]
    assert len(cases) > 500
    mismatches = [
        (var.id, raw, js, py)
        for (var, raw), (js, _), py in zip(cases, results, expected, strict=True)
        if js != py or type(js) is not type(py)
    ]
    assert mismatches == []
    invalid = [text for value, text in results if value == -8]
    assert 0.2 < len(invalid) / len(cases) < 0.8  # both outcomes are exercised
    # Every refusal has its message, with its numbers filled in.
    assert all(text and "{" not in text and "undefined" not in text for text in invalid)
    for var in EVERY_TYPE.variables():  # ... and each type both accepts and refuses
        verdicts = {py == -8 for (v, _), py in zip(cases, expected, strict=True) if v == var}
        assert verdicts == {True, False}, var.id
