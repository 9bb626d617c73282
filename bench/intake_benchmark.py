"""Benchmark the collector's intake beside a trivial endpoint of the same server.

Starts ``survey-collector serve`` (the real server, its own process, or ``--workers N``) on
a throwaway study with enough general-cohort codes, then drives it with ``--clients``
concurrent HTTP clients (bare asyncio streams, one keep-alive connection each):

1. baseline: ``GET /healthz`` (no database, a tiny JSON reply);
2. intake: ``POST /api/responses`` with a sealed answer (8 KiB + 48 bytes, sealed beforehand
   with PyNaCl, as a browser would) for a distinct code each; every reply must be 201.

It reports throughput and p50/p99 latency for both, and the bytes a first visit to the form
transfers on the wire (gzip): landing page, stylesheet, script bundle, study info, code
check and the form fragment.

Usage: ``.venv/bin/python bench/intake_benchmark.py [--clients 100] [--requests 2000]
[--workers N] [--postgres] [--repeat 3]`` (``--postgres``: a throwaway PostgreSQL cluster instead of
SQLite, as tests/pgcluster.py starts it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nacl.bindings
import nacl.public

from survey.access_codes import generate, store
from survey.codes import display
from survey.db import Database
from survey.forms.loader import current_forms, load_forms
from survey.forms.versions import freeze
from survey.ingest.provision import install_local
from survey.keys import install_public_key
from survey.settings import load_settings
from survey.study import create_study


def setup(env: dict[str, str], n: int) -> tuple[list[str], bytes]:
    """A study with ``n`` general codes and a study key; returns the codes and the key."""
    settings = load_settings(env)
    db = Database(settings, migrate=True)  # as `survey db upgrade` would
    public = bytes(nacl.public.PrivateKey.generate().public_key)
    codes = generate({"general": n})
    with db.session() as session:
        study = create_study(session, "bench")
        install_public_key(session, study, public)
        store(session, settings, study, codes)
        freeze(session, study, ["general"])
        install_local(session, settings, study)  # the collector's tables in the same file
    db.dispose()
    return [display(c.code) for c in codes], public


def sealed_bodies(codes: list[str], public: bytes) -> list[dict[str, str]]:
    form = current_forms(load_forms())["general"]
    box = nacl.public.SealedBox(nacl.public.PublicKey(public))
    out = []
    for i, code in enumerate(codes):
        payload = (
            '{"study":"bench","cohort":"general","form":"general","version":1,'
            f'"answers":{{"sex":{i % 2 + 1}}}}}'
        ).encode()
        sealed = box.encrypt(nacl.bindings.sodium_pad(payload, form.padded_size))
        out.append({"code": code, "sealed": base64.b64encode(bytes(sealed)).decode()})
    return out


NAMES = ("GET /healthz (baseline)", "POST /api/responses (intake)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Connection:
    """One keep-alive HTTP/1.1 connection on bare asyncio streams. The load generator shares
    the server's 2 cores, so it must cost little: httpx spent about as much CPU per request
    as the server's trivial endpoint, and its share showed up as the server's latency."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        """Send one prepared request; its status once the whole reply has been read."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def prepare(host: str, method: str, path: str, body: dict[str, str] | None) -> bytes:
    """The bytes of one request, built before the clock starts."""
    data = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}"]
    if body is not None:
        lines.append("Content-Type: application/json")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def load(
    base: str, clients: int, requests: list[tuple[str, str, dict[str, str] | None]]
) -> tuple[float, list[float], dict[int, int]]:
    """Run ``requests`` with ``clients`` concurrent workers; (seconds, latencies, statuses)."""
    host, port = base.removeprefix("http://").split(":")
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for method, path, body in requests:
        queue.put_nowait(prepare(f"{host}:{port}", method, path, body))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    ready = asyncio.Barrier(clients + 1)
    warm_up = prepare(f"{host}:{port}", "GET", "/healthz", None)

    async def worker() -> None:
        connection = await Connection.open(host, int(port))
        try:
            await connection.send(warm_up)  # connect first: time requests, not TCP set-up
            await ready.wait()
            while not queue.empty():
                request = queue.get_nowait()
                start = time.perf_counter()
                status = await connection.send(request)
                latencies.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            connection.close()

    tasks = [asyncio.create_task(worker()) for _ in range(clients)]
    await ready.wait()
    start = time.perf_counter()
    await asyncio.gather(*tasks)
    return time.perf_counter() - start, latencies, statuses


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def first_visit_bytes(base: str, code: str) -> list[tuple[str, int]]:
    """Bytes on the wire (headers excluded) of what a first visit to the form downloads."""
    out = []
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}) as client:
        page = client.get("/")
        out.append(("/ (landing page)", page.num_bytes_downloaded))
        for asset in ("style.css", "dist/app.js"):
            marker = f"/static/{asset}?v="
            start = page.text.index(marker)
            url = page.text[start : page.text.index('"', start)]
            out.append((f"/static/{asset}", client.get(url).num_bytes_downloaded))
        out.append(("/api/study", client.get("/api/study").num_bytes_downloaded))
        check = client.post("/api/codes/check", json={"code": code})
        out.append(("POST /api/codes/check", check.num_bytes_downloaded))
        form = client.get(f"/forms/{check.json()['form']}/{check.json()['version']}")
        out.append(("/forms/general/1 (the form)", form.num_bytes_downloaded))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved pairs of runs")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="intake-bench-"))
        env = {
            **os.environ,
            "SURVEY_DATA_DIR": f"{tmp}/var",
            "SURVEY_KEY_DIR": f"{tmp}/keys",
            "SURVEY_STUDY": "bench",
            "SURVEY_UNKNOWN_CODE_LIMIT": "0",
        }
        env.pop("SURVEY_DATABASE_URL", None)
        if args.postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.pgcluster import cluster, new_database, pg_binaries

            bindir = pg_binaries()
            if bindir is None:
                sys.exit("PostgreSQL server binaries (initdb, pg_ctl) not found")
            env["SURVEY_DATABASE_URL"] = new_database(stack.enter_context(cluster(bindir)))
        print(f"setting up {args.requests + 1:,} codes and sealed answers ...", file=sys.stderr)
        codes, public = setup(env, args.requests * args.repeat + 1)
        bodies = sealed_bodies(codes[1:], public)
        port = free_port()
        exe = Path(sys.executable).parent / "survey-collector"
        server = subprocess.Popen(
            [str(exe), "serve", "--workers", str(args.workers), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            trivial = [("GET", "/healthz", None)] * args.requests
            pairs = []
            for i in range(args.repeat):  # interleaved: both see the same machine
                batch = bodies[i * args.requests : (i + 1) * args.requests]
                intake = [("POST", "/api/responses", b) for b in batch]
                pairs.append(
                    (
                        asyncio.run(load(base, args.clients, trivial)),
                        asyncio.run(load(base, args.clients, intake)),
                    )
                )
            visit = first_visit_bytes(base, codes[0])
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
        print(
            f"{args.clients} concurrent clients, {args.requests:,} requests each run, "
            f"{args.workers} worker process(es), "
            f"{'PostgreSQL' if args.postgres else 'SQLite'}\n"
        )
        print("| run | endpoint | requests/s | p50 ms | p99 ms | replies |")
        print("|---|---|---:|---:|---:|---|")
        ratios = []
        for i, pair in enumerate(pairs, 1):
            base_rate = len(pair[0][1]) / pair[0][0]
            ratios.append(len(pair[1][1]) / pair[1][0] / base_rate)
            for name, (seconds, latencies, statuses) in zip(NAMES, pair, strict=True):
                rate = len(latencies) / seconds
                replies = ", ".join(f"{n:,}×{s}" for s, n in sorted(statuses.items()))
                print(
                    f"| {i} | {name} | {rate:,.0f} ({rate / base_rate:.2f}×) | "
                    f"{statistics.median(latencies) * 1000:.1f} | "
                    f"{percentile(latencies, 99) * 1000:.1f} | {replies} |"
                )
        print(
            f"\nratio intake / healthz: median {statistics.median(ratios):.2f}× "
            f"(range {min(ratios):.2f}–{max(ratios):.2f}×)"
        )
        print("\n| first visit to the form (gzip on the wire) | bytes |")
        print("|---|---:|")
        for name, size in visit:
            print(f"| {name} | {size:,} |")
        print(f"| total | {sum(s for _, s in visit):,} |")


if __name__ == "__main__":
    main()
