"""Benchmark the estimation engine on 1,000,000 synthetic responses in five strata.

The job: a design; the mean of k6; the shares of ideation; the mean of k6 over the 24
sex x age-band domains; the shares of ideation over the 15 cohort x sex domains. Missing
codes (-9, -7) appear in every variable. Three implementations, each in its own process:

* ``engine``: survey.analysis.Design (estimates, SEs, CIs, df, n, flags);
* ``numpy``: a bare grouped-sum pass written here (estimates and SEs only): the limit;
* ``R``: R's survey package (``svydesign``, ``svymean``, ``svyby``), when Rscript is found.

Each reads the same CSV first; the time reported is the job after loading (the child times
it), peak memory is the child's whole ``ru_maxrss`` (loading included). Median time and the
largest peak over ``--repeat`` runs. The figures of the three are compared (max relative
difference of estimates and SEs). MB = 2**20 bytes.

Usage: ``.venv/bin/python bench/analysis_benchmark.py --rows 1000000 --repeat 3``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

COHORTS = {  # cohort: (N'_h, share of the responses); a large city, so that r_h < N'_h
    "infant_guardian": (900_000, 0.15),
    "elementary_guardian": (1_100_000, 0.17),
    "junior_high": (2_000_000, 0.13),
    "high_school": (1_800_000, 0.12),
    "general": (60_000_000, 0.43),
}

ENGINE = r"""
import json, sys, time
import pandas as pd
from survey.analysis import Design
data = pd.read_csv(sys.argv[1])
start = time.perf_counter()
d = Design(data, strata="cohort", weights="weight", fpc="N", missing=(-1, -6, -7, -8, -9))
tables = [
    d.mean("k6"),
    d.proportion("ideation"),
    d.by(["sex", "age_band"]).mean("k6"),
    d.by(["cohort", "sex"]).proportion("ideation"),
]
seconds = time.perf_counter() - start
figures = [x for t in tables for x in (*t["estimate"], *t["se"])]
json.dump({"seconds": seconds, "figures": figures}, open(sys.argv[2], "w"))
"""

# A bare pass: the same estimates and SEs from np.bincount, nothing else.
BASELINE = r"""
import json, sys, time
import numpy as np
import pandas as pd
data = pd.read_csv(sys.argv[1])
start = time.perf_counter()
h, labels = pd.factorize(data["cohort"], sort=True)
H = len(labels)
w = data["weight"].to_numpy(float)
N = np.bincount(h, weights=data["N"].to_numpy(float), minlength=H) / np.bincount(h, minlength=H)
nh = np.bincount(h, minlength=H).astype(float)
scale = (1 - nh / N) * nh / (nh - 1)

def grouped(g, G, y, ok):
    gi, hi, wi, yi = g[ok], h[ok], w[ok], y[ok]
    W = np.bincount(gi, wi, G)
    est = np.bincount(gi, wi * yi, G) / W
    z = wi * (yi - est[gi]) / W[gi]
    code = gi * H + hi
    s1 = np.bincount(code, z, G * H).reshape(G, H)
    s2 = np.bincount(code, z * z, G * H).reshape(G, H)
    return est, np.sqrt((s2 - s1 * s1 / nh) @ scale)

k6 = data["k6"].to_numpy(float)
ide = data["ideation"].to_numpy()
sex = data["sex"].to_numpy()
age = data["age_band"].to_numpy()
k_ok, i_ok, s_ok, a_ok = k6 >= 0, ide >= 0, sex >= 0, age >= 0
zero = np.zeros(len(w), np.int64)

def shares(g, G, ok):
    pairs = [grouped(g, G, (ide == c).astype(float), ok) for c in (1, 2)]
    est = np.column_stack([e for e, _ in pairs]).ravel()
    se = np.column_stack([s for _, s in pairs]).ravel()
    return [*est, *se]

figures = [*np.concatenate(grouped(zero, 1, k6, k_ok))]
figures += shares(zero, 1, i_ok)
sex_age = (sex - 1).clip(0) * 8 + (age - 1).clip(0)
figures += [*np.concatenate(grouped(sex_age, 24, k6, k_ok & s_ok & a_ok))]
figures += shares(h * 3 + (sex - 1).clip(0), 15, i_ok & s_ok)
seconds = time.perf_counter() - start
json.dump({"seconds": seconds, "figures": [float(x) for x in figures]}, open(sys.argv[2], "w"))
"""

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
start <- proc.time()[["elapsed"]]
for (v in c("sex", "age_band", "k6", "ideation")) data[[v]][data[[v]] < 0] <- NA
data$ideation <- factor(data$ideation)
d <- svydesign(id = ~1, strata = ~cohort, weights = ~weight, fpc = ~N, data = data)
m <- svymean(~k6, d, na.rm = TRUE)
p <- svymean(~ideation, d, na.rm = TRUE)
dm <- svyby(~k6, ~age_band + sex, d, svymean, na.rm = TRUE)
dp <- svyby(~ideation, ~sex + cohort, d, svymean, na.rm = TRUE)
seconds <- proc.time()[["elapsed"]] - start
num <- function(x) as.numeric(unlist(x))
figures <- c(num(coef(m)), num(SE(m)), num(coef(p)), num(SE(p)), num(coef(dm)), num(SE(dm)),
             as.vector(t(matrix(num(coef(dp)), ncol = 2))),
             as.vector(t(matrix(num(SE(dp)), ncol = 2))))
writeLines(sprintf('{"seconds": %.6f, "figures": [%s]}', seconds,
                   paste(sprintf("%.17g", figures), collapse = ", ")), args[2])
"""


def write_data(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    names = list(COHORTS)
    shares = np.array([s for _, s in COHORTS.values()])
    cohort = rng.choice(len(names), size=rows, p=shares / shares.sum())
    counts = np.bincount(cohort, minlength=len(names))
    population = np.array([n for n, _ in COHORTS.values()], dtype=float)
    weight = (population / counts)[cohort] * 0.97  # w_h = N'(n-u)/(n r): constant per cohort

    def missing(values: Any, share: float) -> Any:
        hit = rng.random(rows) < share
        return np.where(hit, rng.choice([-9, -7], size=rows), values)

    sex = missing(rng.choice([1, 2, 3], size=rows, p=[0.48, 0.49, 0.03]), 0.03)
    k6 = np.minimum(24, rng.poisson(4.5, size=rows) + (sex == 2) * rng.integers(0, 3, rows))
    frame = pd.DataFrame(
        {
            "cohort": np.array(names)[cohort],
            "weight": weight,
            "N": population[cohort],
            "sex": sex,
            "age_band": missing(rng.integers(1, 9, size=rows), 0.02),
            "k6": missing(k6, 0.05),
            "ideation": missing(np.where(rng.random(rows) < 0.12 + 0.01 * k6, 1, 2), 0.04),
        }
    )
    frame.to_csv(path, index=False, float_format="%.17g")


def run(cmd: list[str], out: Path) -> dict[str, Any]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0 or not out.exists():
        raise RuntimeError(f"{cmd[0]} failed: {stderr[-4000:]}")
    result = json.loads(out.read_text())
    out.unlink()
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


def max_rel(a: list[float], b: list[float]) -> float:
    if len(a) != len(b):
        return float("inf")
    return max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-r", action="store_true", help="skip R even when installed")
    args = parser.parse_args()
    rscript = None if args.no_r else shutil.which("Rscript")
    with tempfile.TemporaryDirectory(prefix="analysis-bench-") as tmp:
        root = Path(tmp)
        data = root / "responses.csv"
        print(f"writing {args.rows:,} responses ...", file=sys.stderr)
        write_data(data, args.rows)
        (root / "job.R").write_text(R_SCRIPT)
        out = root / "out.json"
        commands = {
            "engine": [sys.executable, "-c", ENGINE, str(data), str(out)],
            "numpy": [sys.executable, "-c", BASELINE, str(data), str(out)],
        }
        if rscript:
            commands["R"] = [rscript, str(root / "job.R"), str(data), str(out)]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
        for i in range(args.repeat):
            for name, cmd in commands.items():
                print(f"run {i + 1}/{args.repeat}: {name}", file=sys.stderr)
                runs[name].append(run(cmd, out))
    summary = {
        name: {
            "seconds": statistics.median(r["seconds"] for r in rs),
            "rss_mb": max(r["rss_mb"] for r in rs),
            "figures": rs[0]["figures"],
        }
        for name, rs in runs.items()
    }
    print(
        f"\n{args.rows:,} responses, 5 strata; median of {args.repeat}; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    print("| implementation | time (s) | vs engine | peak RSS (MB) | max rel. diff to engine |")
    print("|---|---:|---:|---:|---:|")
    engine = summary["engine"]
    for name, s in summary.items():
        diff = max_rel(s["figures"], engine["figures"])
        print(
            f"| {name} | {s['seconds']:.3f} | {s['seconds'] / engine['seconds']:.2f}x "
            f"| {s['rss_mb']:.0f} | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
