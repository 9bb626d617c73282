"""The answer payload and its padded size.

The browser serialises ``{"study", "cohort", "form", "version", "answers"}`` as compact JSON
(``JSON.stringify``), pads it with ``sodium_pad(payload, padded_size)`` and seals it. Every
answer of a form therefore has exactly one ciphertext length, whatever was answered or
skipped. ``padded_size`` is the byte length of the largest possible payload (every variable
at its type's longest answer, :meth:`survey.forms.items.ItemKind.longest_answer`: free text
at 6 bytes per character for JSON escapes; the study id at its 32-character maximum),
rounded up to a multiple of 4 KiB that is strictly larger, since ``sodium_pad`` always adds
at least its marker byte.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from survey.forms.items import kind

if TYPE_CHECKING:
    from survey.forms.loader import Form

BLOCK = 4096
STUDY_ID_MAX = 32
INTAKE_BODY_LIMIT = 256 * 1024
SEAL_OVERHEAD = 48  # crypto_box_seal: ephemeral public key (32) + MAC (16)
CODE_EXAMPLE = "XXXX-XXXX-XXXX-C"


def encode(study: str, form: Form, answers: dict[str, Any]) -> bytes:
    """The payload exactly as the browser builds it (compact JSON, UTF-8)."""
    doc = {
        "study": study,
        "cohort": form.cohort,
        "form": form.id,
        "version": form.version,
        "answers": answers,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def max_payload_size(form: Form) -> int:
    answers = {v.id: kind(v.item).longest_answer(v) for v in form.variables()}
    return len(encode("s" * STUDY_ID_MAX, form, answers))


def padded_size(form: Form) -> int:
    return (max_payload_size(form) // BLOCK + 1) * BLOCK


def request_body_size(padded: int) -> int:
    """Bytes of ``{"code": ..., "sealed": "<base64>"}`` for a sealed answer of this form."""
    sealed = base64.b64encode(bytes(padded + SEAL_OVERHEAD)).decode()
    return len(json.dumps({"code": CODE_EXAMPLE, "sealed": sealed}).encode())


def check_size(form: Form, problems: list[str]) -> None:
    computed = padded_size(form)
    if form.padded_size != computed:
        problems.append(
            f"{form.path.name}: -: padded_size is {form.padded_size}, but the largest answer needs "
            f"{computed} (declare padded_size: {computed})"
        )
    if request_body_size(computed) > INTAKE_BODY_LIMIT:
        problems.append(
            f"{form.path.name}: -: a sealed answer ({request_body_size(computed)} bytes as a "
            f"request) would not fit the intake's {INTAKE_BODY_LIMIT}-byte body limit"
        )
