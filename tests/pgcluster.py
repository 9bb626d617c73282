"""A throwaway PostgreSQL cluster on loopback, for the tests and the benchmarks."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_binaries() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").exists() else None


@contextmanager
def cluster(bindir: Path) -> Iterator[str]:
    """Start a cluster (trust auth, UTF-8); yields its base URL (no database); then stop it."""
    base = Path(tempfile.mkdtemp(prefix="survey-pg-"))
    data = base / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    as_root = os.geteuid() == 0

    def sh(*args: str) -> None:
        cmd = ["su", "postgres", "-c", shlex.join(args)] if as_root else list(args)
        subprocess.run(cmd, check=True, capture_output=True)

    if as_root:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
    sh(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
       "--locale=C.UTF-8")  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1"
    sh(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w",
       "start")  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        sh(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def new_database(server: str, template: str | None = None) -> str:
    """A new database on ``server`` (a copy of ``template`` if given); its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as c:
        copy = f' TEMPLATE "{template}"' if template else ""
        c.execute(f'CREATE DATABASE "{name}"{copy}')  # type: ignore[arg-type]
    return f"{server}/{name}"
