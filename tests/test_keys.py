"""The study key: wrapped private key file, installed public key, fingerprint."""

import base64
import json
import re
from pathlib import Path

import nacl.public
import pytest

from survey.crypto import (
    INTERACTIVE,
    KeyFormatError,
    WrongPassphraseError,
    fingerprint,
    parse_public_key,
    wrap_private_key,
)
from survey.db import Database
from survey.decrypt import unwrap_private_key
from survey.errors import DataError, UsageError
from survey.keys import generate_key_file, get_study_key, install_public_key
from survey.settings import Settings
from survey.study import create_study

FINGERPRINT = re.compile(r"^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$")


def test_wrap_and_unwrap() -> None:
    private = nacl.public.PrivateKey.generate()
    document = wrap_private_key(bytes(private), "correct horse battery", "s", INTERACTIVE)
    assert bytes(unwrap_private_key(document, "correct horse battery")) == bytes(private)
    doc = json.loads(document)
    assert doc["kdf"] == "argon2id13" and doc["fingerprint"] == fingerprint(
        bytes(private.public_key)
    )
    assert bytes(private) not in document and base64.b64encode(bytes(private)) not in document
    with pytest.raises(WrongPassphraseError) as info:
        unwrap_private_key(document, "wrong horse battery")
    assert "パスフレーズ" in info.value.ja
    doc["box"] = base64.b64encode(b"x" * 72).decode()
    with pytest.raises(WrongPassphraseError):
        unwrap_private_key(json.dumps(doc).encode(), "correct horse battery")
    with pytest.raises(KeyFormatError):
        unwrap_private_key(b"not json", "x")


def test_fingerprint_format_and_stability() -> None:
    key = bytes(range(32))
    assert FINGERPRINT.match(fingerprint(key))
    assert fingerprint(key) == fingerprint(bytes(range(32)))
    assert fingerprint(key) != fingerprint(bytes(range(1, 33)))


@pytest.mark.sqlite_only  # the SQLite file itself
def test_generate_installs_public_key_only(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "offline" / "study.key"
    with db.session() as session:
        study = create_study(session, "k")
        key, generated = generate_key_file(session, settings, study, out, None, INTERACTIVE)
    assert generated is not None and len(generated) == 29
    assert out.stat().st_mode & 0o077 == 0
    private = unwrap_private_key(out.read_bytes(), generated)
    assert bytes(private.public_key) == key.public_key
    raw = (settings.data_dir / "survey.sqlite3").read_bytes()
    assert bytes(private) not in raw
    with db.session() as session:
        study = create_study(session, "k2")
        with pytest.raises(UsageError):  # never into the data folder, which is backed up
            generate_key_file(
                session, settings, study, settings.data_dir / "k.json", "x" * 20, INTERACTIVE
            )
        with pytest.raises(UsageError):  # short passphrase
            generate_key_file(session, settings, study, tmp_path / "k2.json", "short", INTERACTIVE)
        with pytest.raises(UsageError):  # never overwrite a key file
            generate_key_file(session, settings, study, out, "x" * 20, INTERACTIVE)


def test_set_public(db: Database) -> None:
    public = bytes(nacl.public.PrivateKey.generate().public_key)
    with db.session() as session:
        study = create_study(session, "k")
        install_public_key(session, study, public)
        install_public_key(session, study, public)  # idempotent
        with pytest.raises(DataError):
            install_public_key(session, study, bytes(32))
        stored = get_study_key(session, study)
        assert stored is not None and stored.public_key == public
    assert parse_public_key(base64.b64encode(public).decode()) == public
    assert parse_public_key(public.hex()) == public
    for bad in ("abc", base64.b64encode(b"x" * 31).decode()):
        with pytest.raises(KeyFormatError):
            parse_public_key(bad)


def test_keys_cli_with_sensitive_limits(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("study", "create", "s", "--as-of", "2026-04-01")
    out = tmp_path / "study.key"
    result = run(
        "keys",
        "generate",
        "--out",
        str(out),
        extra_env={"SURVEY_KEY_PASSPHRASE": "a long passphrase"},
    )
    assert result.exit_code == 0, result.stderr
    assert "shown once" not in result.stdout  # a given passphrase is never echoed
    doc = json.loads(out.read_text())
    assert doc["opslimit"] == 4 and doc["memlimit"] == 1 << 30  # libsodium SENSITIVE
    shown = json.loads(run("keys", "show", "--json").stdout)
    assert shown["fingerprint"] == doc["fingerprint"] and FINGERPRINT.match(shown["fingerprint"])
    assert shown["fingerprint"] in result.stdout
    ok = run(
        "keys",
        "verify",
        "--key",
        str(out),
        extra_env={"SURVEY_KEY_PASSPHRASE": "a long passphrase"},
    )
    assert ok.exit_code == 0 and shown["fingerprint"] in ok.stdout
    wrong = run(
        "keys",
        "verify",
        "--key",
        str(out),
        extra_env={"SURVEY_KEY_PASSPHRASE": "not the passphrase"},
    )
    assert wrong.exit_code == 1
    assert "パスフレーズが違います" in wrong.stderr and "Wrong passphrase" in wrong.stderr
    prompted = run("keys", "verify", "--key", str(out), input="a long passphrase\n")
    assert prompted.exit_code == 0 and "a long passphrase" not in prompted.stdout + prompted.stderr
    again = run("keys", "set-public", base64.b64encode(bytes(32)).decode())
    assert again.exit_code == 1


def test_keys_show_without_key(run) -> None:  # type: ignore[no-untyped-def]
    run("study", "create", "s", "--as-of", "2026-04-01")
    result = run("keys", "show")
    assert result.exit_code == 1 and "keys generate" in result.stderr


def test_damaged_key_files_and_invalid_public_keys() -> None:
    private = nacl.public.PrivateKey.generate()
    doc = json.loads(wrap_private_key(bytes(private), "correct horse battery", "s", INTERACTIVE))
    doc["salt"] = "%%%not base64"
    with pytest.raises(KeyFormatError):
        unwrap_private_key(json.dumps(doc).encode(), "correct horse battery")
    with pytest.raises(KeyFormatError):
        parse_public_key(base64.b64encode(bytes(32)).decode())  # all zeros: a low-order point


def test_generated_passphrases_are_read_forgivingly() -> None:
    from survey.crypto import new_passphrase

    private = nacl.public.PrivateKey.generate()
    passphrase = new_passphrase()
    document = wrap_private_key(bytes(private), passphrase, "s", INTERACTIVE)
    typed = passphrase.lower().replace("-", " ").replace("1", "l").replace("0", "o")
    assert bytes(unwrap_private_key(document, typed)) == bytes(private)
    wide = str.maketrans(
        "0123456789ABCDEFGHJKMNPQRSTVWXYZ-",
        "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＶＷＸＹＺ－",
    )
    assert bytes(unwrap_private_key(document, passphrase.translate(wide))) == bytes(private)


def test_generate_refuses_the_key_folder_and_works_without_a_study(run, env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phrase = {"SURVEY_KEY_PASSPHRASE": "a long enough passphrase"}
    inside = Path(env["SURVEY_KEY_DIR"]) / "study" / "private.json"
    refused = run("keys", "generate", "--out", str(inside), extra_env=phrase)
    assert refused.exit_code == 2 and not inside.exists()
    out = tmp_path / "usb" / "study-key.json"
    result = run("keys", "generate", "--out", str(out), extra_env=phrase)
    assert result.exit_code == 0, result.stderr
    public = re.search(r"public key: (\S+)", result.stdout)
    assert public is not None and "set-public" in result.stdout
    assert run("study", "list", "--json").stdout.strip() == "[]"  # nothing was created
    assert run("study", "create", "s", "--as-of", "2026-04-01").exit_code == 0
    assert run("keys", "set-public", public.group(1)).exit_code == 0
    assert run("keys", "verify", "--key", str(out), extra_env=phrase).exit_code == 0
