"""Offline verification: canonical bytes, every signature, the stage, the trusted keys; run
with no database and no data folder. The certificates are made once, on SQLite (verifying
them touches no database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from survey.erasure.verify import CertificateError, load_trusted_keys, verify_certificate
from tests.erasure.conftest import MANAGER, Erasable


@pytest.fixture
def certificates(erasable: Erasable) -> dict[str, Path]:
    request_id = erasable.signed()
    cert, cert2, keys = (erasable.tmp / n for n in ("cert.json", "cert2.json", "keys.json"))
    assert erasable.execute(request_id, cert).exit_code == 0
    assert (
        erasable.as_user(MANAGER, "erasure", "confirm", request_id, "--out", str(cert2)).exit_code
        == 0
    )
    assert erasable.as_user(MANAGER, "users", "keys", "--export", str(keys)).exit_code == 0
    return {"executed": cert, "confirmed": cert2, "keys": keys}


@pytest.mark.sqlite_only
def test_stages_and_signers(certificates: dict[str, Path]) -> None:
    trusted = load_trusted_keys(certificates["keys"].read_bytes())
    first = verify_certificate(certificates["executed"].read_bytes(), trusted)
    second = verify_certificate(certificates["confirmed"].read_bytes(), trusted)
    assert (first.stage, second.stage) == ("executed", "confirmed")
    assert [s.part for s in second.signers] == ["officer", "manager", "performed-by", "verified-by"]
    assert (
        first.authenticated
        and not verify_certificate(certificates["executed"].read_bytes()).authenticated
    )
    # The confirmed certificate is a new file; the first was never rewritten.
    assert (
        json.loads(certificates["confirmed"].read_bytes())["performed_by"]
        == json.loads(certificates["executed"].read_bytes())["performed_by"]
    )


@pytest.mark.sqlite_only
def test_changing_any_byte_is_detected(certificates: dict[str, Path]) -> None:
    data = certificates["confirmed"].read_bytes()
    assert not data.endswith(b"\n")
    verify_certificate(data)
    for i in range(len(data)):  # the lowest bit: also the unused bits of base64's last symbol
        altered = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
        with pytest.raises(CertificateError):
            verify_certificate(altered)
    for altered in (data + b"\n", json.dumps(json.loads(data), indent=1).encode()):
        with pytest.raises(CertificateError, match="canonical"):
            verify_certificate(altered)


@pytest.mark.sqlite_only
def test_signers_must_be_in_the_trusted_keys_file(certificates: dict[str, Path]) -> None:
    records = load_trusted_keys(certificates["keys"].read_bytes())
    data = certificates["confirmed"].read_bytes()
    without = [r for r in records if r["user"] != MANAGER]
    with pytest.raises(CertificateError, match="not in the trusted keys file"):
        verify_certificate(data, without)
    unattested = [{**r, "attested": False} if r["user"] == MANAGER else r for r in records]
    with pytest.raises(CertificateError, match="never attested"):
        verify_certificate(data, unattested)
    other_role = [{**r, "roles": ["analyst"]} if r["user"] == MANAGER else r for r in records]
    with pytest.raises(CertificateError, match="does not hold the manager role"):
        verify_certificate(data, other_role)


@pytest.mark.sqlite_only
def test_the_verifier_needs_no_database_and_no_data_folder(
    certificates: dict[str, Path], tmp_path: Path
) -> None:
    tmp_path = tmp_path / "verifier"  # a machine holding the certificate and nothing else
    tmp_path.mkdir()
    missing = tmp_path / "nowhere"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")} | {
        "SURVEY_DATA_DIR": str(missing / "var"),
        "SURVEY_KEY_DIR": str(missing / "keys"),
    }
    exe = Path(sys.executable).parent / "survey"
    for extra in ([], ["--trusted-keys", str(certificates["keys"])]):
        done = subprocess.run(
            [str(exe), "erasure", "verify", str(certificates["confirmed"]), *extra],
            env=env, capture_output=True, text=True, cwd=tmp_path, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert "署名は有効、署名者は未確認" not in done.stdout and "確認済み" in done.stdout
    assert not missing.exists() and not list(tmp_path.rglob("*"))
    # The verifier's own module imports nothing that opens a database.
    probe = (
        "import sys, survey.erasure.verify; print(sorted(m for m in sys.modules if "
        "m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'alembic', 'psycopg') "
        "or m in ('survey.db', 'survey.settings')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    bad = (
        certificates["confirmed"]
        .read_bytes()
        .replace(b'"stage":"confirmed"', b'"stage":"executed"')
    )
    (tmp_path.parent / "bad.json").write_bytes(bad)
    done = subprocess.run(
        [str(exe), "erasure", "verify", str(tmp_path.parent / "bad.json")],
        env=env, capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "Certificate rejected" in done.stderr
