"""The study key: generated on any machine, public half installed in the study.

Only the public key and its fingerprint are stored. The private key exists only in the
passphrase-wrapped key file written by ``survey keys generate`` and is supplied at the moment
of decryption (never stored by any server).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from survey.crypto import (
    SENSITIVE,
    KdfLimits,
    check_public_key,
    fingerprint,
    generate_study_keypair,
    new_passphrase,
    wrap_private_key,
    write_new,
)
from survey.errors import DataError, UsageError
from survey.models import Study, StudyKey
from survey.settings import Settings

MIN_PASSPHRASE = 12


def get_study_key(session: Session, study: Study) -> StudyKey | None:
    return session.exec(select(StudyKey).where(StudyKey.study_id == study.id)).first()


def require_study_key(session: Session, study: Study) -> StudyKey:
    key = get_study_key(session, study)
    if key is None:
        raise DataError(
            f"調査 {study.name} の鍵がありません。"
            "先に survey keys generate（または set-public）を実行してください。",
            f"Study {study.name!r} has no study key: run `survey keys generate` "
            "(or `survey keys set-public`) first.",
        )
    return key


def install_public_key(session: Session, study: Study, public_key: bytes) -> StudyKey:
    existing = get_study_key(session, study)
    if existing is not None:
        if existing.public_key == public_key:
            return existing
        raise DataError(
            f"調査 {study.name} にはすでに別の鍵があります（{existing.fingerprint}）。",
            f"Study {study.name!r} already has a different key ({existing.fingerprint}).",
        )
    check_public_key(public_key)
    assert study.id is not None
    row = StudyKey(
        study_id=study.id,
        public_key=public_key,
        fingerprint=fingerprint(public_key),
        installed_on=date.today(),
    )
    session.add(row)
    session.flush()
    return row


def generate_key_file(
    session: Session,
    settings: Settings,
    study: Study,
    out: Path,
    passphrase: str | None,
    limits: KdfLimits = SENSITIVE,
    demo: bool = False,
) -> tuple[StudyKey, str | None]:
    """Write the wrapped private key to ``out`` and install the public key.

    Returns the installed key and the generated passphrase (None if one was given).
    """
    if get_study_key(session, study) is not None:
        raise DataError(
            f"調査 {study.name} にはすでに鍵があります。",
            f"Study {study.name!r} already has a study key.",
        )
    public, generated = write_key_file(settings, out, passphrase, study.name, limits, demo)
    return install_public_key(session, study, public), generated


def write_key_file(
    settings: Settings,
    out: Path,
    passphrase: str | None,
    label: str,
    limits: KdfLimits = SENSITIVE,
    demo: bool = False,
) -> tuple[bytes, str | None]:
    """A fresh key pair, the private half wrapped into ``out``; (public key, generated phrase).

    Needs no database: the key ceremony may run on a machine holding nothing else.
    """
    out = out.resolve()
    # Neither the data folder (it is backed up) nor the key folder (servers read it) may
    # hold the study private key: it lives offline and is supplied only to decrypt.
    folders = [(settings.data_dir, "データフォルダ", "data folder (it is backed up)")]
    if not demo:  # the demo keeps its throwaway key beside the others, and says so
        folders.append((settings.key_dir, "鍵フォルダ", "key folder (servers read it)"))
    for folder, ja, en in folders:
        if folder == out.parent or folder in out.parents:
            raise UsageError(
                f"秘密鍵を{ja}に置かないでください。オフラインの媒体に保存してください。",
                f"Do not write the study private key into the {en}; keep it offline.",
            )
    if out.exists():
        raise UsageError(f"{out} はすでにあります。", f"{out} already exists; not overwritten.")
    generated = None
    if passphrase is None:
        generated = passphrase = new_passphrase()
    elif len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(
            f"パスフレーズは{MIN_PASSPHRASE}文字以上にしてください。",
            f"The passphrase must have at least {MIN_PASSPHRASE} characters.",
        )
    public, private = generate_study_keypair()
    document = wrap_private_key(private, passphrase, label, limits)
    write_new(out, document)
    return public, generated
