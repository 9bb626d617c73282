"""The draw seed: personal data, sealed under the study's roster key.

With the register (which the city always holds) the seed rebuilds exactly who was sampled,
so it is kept like the roster: only as a secretbox under the roster key, in the draw and in
the commitment, handed to the verifier as a tracked file (:func:`seed_document`), destroyed
with that key at erasure. Only its SHA-256 (the commitment) is kept in clear.
"""

from __future__ import annotations

import json

from survey.crypto import (
    KeyMissingError,
    load_or_create_key,
    read_key_file,
    seal_secret,
    sha256_hex,
)
from survey.decrypt import open_secret
from survey.errors import DataError
from survey.models import Draw, Study
from survey.roster import roster_key_path
from survey.settings import Settings

SEED_PAD = 64  # secretbox plaintext block: a seed is 32 bytes


class SeedErasedError(DataError):
    """The roster key is gone (erasure), and with it the seed: the draw cannot be re-run."""

    def __init__(self) -> None:
        super().__init__(
            "名簿鍵が消去されているため、この抽出はもう再現できません"
            "（シードは鍵とともに消去されました）。",
            "The draw can no longer be reproduced: the roster key has been erased, "
            "and the seed with it.",
        )


def seal_seed(settings: Settings, study: str, seed: bytes) -> bytes:
    # Under the roster key, not a key of its own: erasure destroys one key and both the
    # roster and the seed that could rebuild it from the register become unreadable.
    return seal_secret(load_or_create_key(roster_key_path(settings, study)), seed, block=SEED_PAD)


def open_seed(settings: Settings, study: str, sealed: bytes | None, sha256: str | None) -> bytes:
    """The seed, or :class:`SeedErasedError` once the roster key has been destroyed."""
    if sealed is None or sha256 is None:
        raise SeedErasedError()
    try:
        key = read_key_file(roster_key_path(settings, study))
    except KeyMissingError as exc:
        raise SeedErasedError() from exc
    seed = open_secret(key, sealed, block=SEED_PAD)
    if sha256_hex(seed) != sha256:
        raise DataError(
            "保存されたシードが記録された SHA-256 と一致しません。",
            "The stored seed does not match its recorded SHA-256.",
        )
    return seed


SEED_FORMAT = "survey-draw-seed/v1"


def seed_document(settings: Settings, study: Study, draw_row: Draw) -> bytes:
    """The file ``survey sample seed`` writes for the verifier (the review board).

    It holds the seed and everything else needed to re-run the draw independently. With the
    register it names every sampled unit: it is personal data, tracked and destroyed at
    erasure. ``seed_sha256`` is the published commitment for a committed draw.
    """
    seed = open_seed(settings, study.name, draw_row.seed_sealed, draw_row.seed_sha256)
    doc = {
        "format": SEED_FORMAT,
        "study": study.name,
        "seed": seed.hex(),
        "seed_sha256": draw_row.seed_sha256,
        "committed": draw_row.committed,
        "as_of": draw_row.as_of.isoformat(),
        "allocation": draw_row.allocation,
        "settings": draw_row.settings,
        "algorithm": draw_row.algorithm,
        "code_version": draw_row.code_version,
        "register_sha256": draw_row.register_sha256,
        "register_rows": draw_row.register_rows,
        "selection_sha256": draw_row.selection_sha256,
        "check": "printf %s SEED | xxd -r -p | sha256sum  # = seed_sha256",
        "warning": "個人情報: 台帳と合わせると標本が分かります。消去手続で廃棄します。"
        " / Personal data: with the register it names the sample; destroyed at erasure.",
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()
