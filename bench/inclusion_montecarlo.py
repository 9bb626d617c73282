"""Monte Carlo check of the guardian households' inclusion probabilities (not a test).

The real draw (survey.sampling.draw) is run with ``--seeds`` different seeds on the synthetic
register; for each guardian cohort and household type (members in earlier frames) the share
of the type's households sampled is compared with the formula of survey.analysis.inclusion
(pi_t = P_t * n_h / N'_h, from each draw's own record, averaged over the draws). The 95 %
interval of the Monte Carlo share is mean +/- 1.96 sd / sqrt(seeds) over the draws. A type
"strays" when its pi_t differs from n_h/N'_h by more than 5 % (relative) and n_h/N'_h lies
outside the Monte Carlo interval.

Usage: ``.venv/bin/python bench/inclusion_montecarlo.py --seeds 200``
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from survey.analysis.inclusion import left_in
from survey.register.reader import read_register
from survey.register.synth import write_register
from survey.sampling.cohorts import DEFAULT_ALLOCATION, DEFAULT_DRAW_ORDER, FrameRules
from survey.sampling.draw import build_frames, draw
from survey.sampling.households import type_keys
from survey.study import SETTINGS

AS_OF = date(2026, 4, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--people", type=int, default=76_000)
    parser.add_argument("--min-households", type=int, default=20, help="smaller types: not listed")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register.csv"
        write_register(path, people=args.people)
        register = read_register(path, SETTINGS["districts"].default)
    rules = FrameRules(as_of=AS_OF)
    order = list(DEFAULT_DRAW_ORDER)
    keys = type_keys(build_frames(register.persons, rules, order), order)
    sizes: dict[tuple[str, tuple[int, ...]], int] = defaultdict(int)
    for cohort, households in keys.items():
        for key in households.values():
            sizes[(cohort, key)] += 1
    shares: dict[tuple[str, tuple[int, ...]], list[float]] = defaultdict(list)
    formula: dict[tuple[str, tuple[int, ...]], list[float]] = defaultdict(list)
    naive: dict[str, list[float]] = defaultdict(list)
    for s in range(args.seeds):
        seed = hashlib.sha256(f"montecarlo-{s}".encode()).digest()
        result = draw(register.persons, rules, DEFAULT_ALLOCATION, order, seed)
        record: Any = SimpleNamespace(
            frame=result.frame, removed=result.removed, sample=result.sample
        )
        sampled: dict[tuple[str, tuple[int, ...]], int] = defaultdict(int)
        for unit in result.units:
            if unit.cohort in keys:
                sampled[(unit.cohort, keys[unit.cohort][unit.unit_id])] += 1
        for cohort in keys:
            naive[cohort].append(
                result.sample[cohort] / (result.frame[cohort] - result.removed[cohort])
            )
        for (cohort, key), n_t in sizes.items():
            shares[(cohort, key)].append(sampled[(cohort, key)] / n_t)
            members = dict(zip(order[: order.index(cohort)], key, strict=True))
            formula[(cohort, key)].append(left_in(members, record) * naive[cohort][-1])
    print(
        f"# {args.seeds} draws of {args.people:,} synthetic residents, "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    print(
        "| cohort | type (members in earlier frames) | households | pi formula | pi Monte Carlo "
        "(95 % CI) | n/N' | formula in CI | deviation | strays |"
    )
    print("|---|---|---:|---:|---|---:|---|---:|---|")
    outside = 0
    listed = 0
    for (cohort, key), n_t in sorted(sizes.items(), key=lambda kv: (kv[0][0], -kv[1])):
        values = shares[(cohort, key)]
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        half = 1.96 * sd / math.sqrt(len(values))
        pi = sum(formula[(cohort, key)]) / len(values)
        nn = sum(naive[cohort]) / len(naive[cohort])
        inside = abs(pi - mean) <= half
        deviation = pi / nn - 1
        strays = abs(deviation) > 0.05 and not (mean - half <= nn <= mean + half)
        if n_t < args.min_households:
            continue
        listed += 1
        outside += not inside
        label = ", ".join(f"{c}={m}" for c, m in zip(order, key, strict=False) if m)
        print(
            f"| {cohort} | {label or 'none'} | {n_t} | {pi:.4f} | {mean:.4f} "
            f"({mean - half:.4f}-{mean + half:.4f}) | {nn:.4f} | {'yes' if inside else 'NO'} "
            f"| {deviation:+.1%} | {'yes' if strays else ''} |"
        )
    print(
        f"\n{listed - outside} of {listed} listed types have the formula inside the Monte Carlo "
        "95 % interval (about 1 in 20 may fall outside by chance)."
    )


if __name__ == "__main__":
    main()
