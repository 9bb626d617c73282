"""Benchmark the sample draw on a large synthetic register, next to ``pandas.read_csv``.

What is measured, each step in its own child process (so its peak memory is its own):

* ``pandas.read_csv(FILE, encoding=ENC, dtype=str)``: the baseline;
* ``survey sample --register FILE --as-of 2026-04-01 --json``: the full draw, i.e. reading
  and validating every register row, drawing the default allocation (3,250 units) and
  storing the encrypted roster in a fresh SQLite database (fresh data and key folders);
* ``survey sample --verify --register FILE --json``: re-reading the register and re-running
  the recorded draw.

Wall time is taken in this process around ``subprocess.run`` and so includes interpreter
start-up and imports; peak RSS is the child's own ``ru_maxrss``. The median wall time and the
largest peak RSS over ``--repeat`` runs are reported. Absolute figures depend on the machine,
so each step is also shown relative to loading the same file with pandas: "how much more
than just reading the CSV" is what carries over to another machine. MB means 2**20 bytes.

Usage: ``.venv/bin/python bench/draw_benchmark.py --people 1000000 --repeat 3``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

AS_OF = date(2026, 4, 1)
MB = 2**20

# Runs one step in a child and writes {"maxrss_kb", "exit"} to argv[1], away from stdout
# (which carries the CLI's own JSON). argv: OUT pandas FILE ENC | OUT survey ARGS...
CHILD = """
import json, resource, sys
out, kind, *args = sys.argv[1:]
code = 0
if kind == "pandas":
    import pandas
    pandas.read_csv(args[0], encoding=args[1], dtype=str)
else:
    from survey.cli.main import cli
    try:
        cli.main(args=args, prog_name="survey")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(out, "w") as fh:
    json.dump({"maxrss_kb": rss // 1024 if sys.platform == "darwin" else rss, "exit": code}, fh)
"""


class StepFailed(RuntimeError):
    pass


def ensure_register(out: Path, people: int, encoding: str) -> Path:
    """Write the register once; a finished file (renamed into place) is reused."""
    path = out / f"register-{people}-{encoding}.csv"
    if path.exists():
        print(f"reusing {path}", file=sys.stderr)
        return path
    from survey.register.synth import write_register

    print(f"writing {path} ...", file=sys.stderr)
    partial = path.with_suffix(".partial")
    start = time.perf_counter()
    write_register(partial, people=people, seed=1, encoding=encoding, as_of=AS_OF)
    partial.replace(path)
    print(f"  {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return path


def run_child(name: str, argv: list[str], env: dict[str, str], scratch: Path) -> dict[str, Any]:
    """Run one step; return wall seconds, peak RSS in MB and the step's stdout."""
    result_file = scratch / f"{name}.rusage.json"
    cmd = [sys.executable, "-c", CHILD, str(result_file), *argv]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    usage = json.loads(result_file.read_text()) if result_file.exists() else None
    if proc.returncode != 0 or usage is None or usage["exit"] != 0:
        raise StepFailed(
            f"{name} failed (returncode {proc.returncode}, usage {usage})\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
        )
    return {"wall_s": wall, "rss_mb": usage["maxrss_kb"] / 1024, "stdout": proc.stdout}


def survey_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SURVEY_DATABASE_URL", "SURVEY_STUDY")}
    env["SURVEY_DATA_DIR"] = str(root / "data")
    env["SURVEY_KEY_DIR"] = str(root / "keys")
    return env


def one_repeat(register: Path, encoding: str) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="draw-bench-") as tmp:
        root = Path(tmp)
        env = survey_env(root)
        reg = str(register)
        steps = {
            "pandas": run_child("pandas", ["pandas", reg, encoding], env, root),
            "draw": run_child(
                "draw",
                ["survey", "sample", "--register", reg, "--as-of", AS_OF.isoformat(), "--json"],
                env,
                root,
            ),
            "verify": run_child(
                "verify", ["survey", "sample", "--verify", "--register", reg, "--json"], env, root
            ),
        }
    drawn = json.loads(steps["draw"]["stdout"])
    verified = json.loads(steps["verify"]["stdout"])
    if not verified["verified"] or drawn["register_rows"] is None:
        raise StepFailed(f"unexpected results: {drawn} / {verified}")
    steps["draw"]["sample"] = sum(drawn["sample"].values())
    steps["draw"]["register_rows"] = drawn["register_rows"]
    return steps


LABELS = {
    "pandas": "`pandas.read_csv` (baseline)",
    "draw": "`survey sample` (read + validate + draw + store)",
    "verify": "`survey sample --verify`",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--encoding", choices=["cp932", "utf-8"], default="cp932")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    register = ensure_register(args.out, args.people, args.encoding)

    runs: list[dict[str, dict[str, Any]]] = []
    for i in range(args.repeat):
        print(f"repeat {i + 1}/{args.repeat} ...", file=sys.stderr)
        try:
            runs.append(one_repeat(register, args.encoding))
        except StepFailed as exc:
            print(exc, file=sys.stderr)
            return 1

    summary = {
        step: {
            "median_wall_s": statistics.median(r[step]["wall_s"] for r in runs),
            "peak_rss_mb": max(r[step]["rss_mb"] for r in runs),
            "wall_s": [round(r[step]["wall_s"], 3) for r in runs],
        }
        for step in LABELS
    }
    base = summary["pandas"]
    facts = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "register": register.name,
        "encoding": args.encoding,
        "file_mb": round(register.stat().st_size / MB, 1),
        "rows": runs[0]["draw"]["register_rows"],
        "sample_units": runs[0]["draw"]["sample"],
        "repeat": args.repeat,
    }
    print(f"Python {facts['python']} on {facts['platform']}, os.cpu_count() = {facts['cpu_count']}")
    print(
        f"Register: {facts['register']}, {facts['file_mb']} MB, {facts['rows']:,} rows "
        f"({args.encoding}); sample {facts['sample_units']:,} units; "
        f"median of {args.repeat} runs, peak RSS = max\n"
    )
    print("| step | median wall s | peak RSS MB | relative to pandas.read_csv |")
    print("|---|---:|---:|---|")
    for step, label in LABELS.items():
        s = summary[step]
        t = s["median_wall_s"] / base["median_wall_s"]
        m = s["peak_rss_mb"] / base["peak_rss_mb"]
        s["relative_wall"], s["relative_rss"] = round(t, 2), round(m, 2)
        print(
            f"| {label} | {s['median_wall_s']:.1f} | {s['peak_rss_mb']:.0f} "
            f"| {t:.1f}× time, {m:.1f}× memory |"
        )
    report = {"machine": facts, "steps": summary}
    (args.out / "draw_benchmark.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
