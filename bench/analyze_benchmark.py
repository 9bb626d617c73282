"""Benchmark the whole ``survey analyze`` on 100,000 and 1,000,000 synthetic dataset rows.

The dataset is generated in the format ``survey dataset build`` gives (survey.ingest.dataset:
the codebook's columns, nullable integers, multiple choice as space-separated picks, free
text only as ``<item>_answered``), from the current form of each cohort: per cohort its own
option shares (a Dirichlet draw per item and cohort; K6 skewed towards 0 with cohort-specific
distress, ideation 10-25 %), the skip logic (follow-ups -1 where hidden), the missing codes
(-9 skipped, -7 refused on sensitive items, -8 and -6 on paper only), the derived variables
(checked against survey.forms.logic.derive on a sample of rows), web/paper by cohort, random
ids in sorted order. Inputs are built as survey.analysis.inputs.load builds them, without a
database (no draw: no household factor; the fieldwork table from the same counts).

Each run is a child process that reads the generated Parquet file, then times the phases of
``survey.analysis.run.analyze`` from its progress callback (tables, disclosure, audit,
CSV, XLSX, charts, and the wait at the end for the row-level files: dataset.sav, codebook
and microdata, which a second interpreter writes meanwhile) into a temporary folder, with
its peak RSS (the kernel's high-water mark, reset after loading: /proc/self/clear_refs) plus
its largest child's, and the CPU seconds of the process and its children. The baseline, in
its own child on the same rows: ``DataFrame.to_csv`` and a bare ``pyreadstat.write_sav`` of
the numeric frame (from polars, as the product does), then as many bare matplotlib bar
charts (PNG and PDF, same size and font, 6 bars) as analyze drew, one after another in one
process. Median of ``--repeat`` runs; MB = 2**20 bytes.

Usage: ``.venv/bin/python bench/analyze_benchmark.py --rows 100000 1000000 --repeat 3``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype as is_numeric

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# cohort: share of the rows, paper share, distress (K6 scale), lifetime ideation
COHORTS = {
    "infant_guardian": (0.15, 1.0, 1.1, 0.12),
    "elementary_guardian": (0.17, 0.6, 1.0, 0.13),
    "junior_high": (0.13, 1.0, 0.9, 0.18),
    "high_school": (0.12, 0.4, 1.2, 0.25),
    "general": (0.43, 0.55, 1.0, 0.20),
}
K6_SHARES = np.array([0.42, 0.28, 0.16, 0.09, 0.05])  # scores 0..4 of one item
PHASES = ("tables", "disclosure", "audit", "csv", "xlsx", "charts", "row files wait")


def _holds(cond: Any, cols: dict[str, Any]) -> np.ndarray:
    """survey.forms.logic.holds over whole columns."""
    if cond.all is not None:
        return np.logical_and.reduce([_holds(c, cols) for c in cond.all])
    if cond.any is not None:
        return np.logical_or.reduce([_holds(c, cols) for c in cond.any])
    value = cols[cond.item]
    if cond.item in cols.get("_bits", {}):  # picks as a bit mask: any of the codes
        bits = cols["_bits"][cond.item]
        wanted = sum(bits[c] for c in cond.in_ if c in bits)
        return np.asarray(value & wanted != 0)
    return np.asarray(np.isin(value, list(cond.in_)) & (value >= 0))


def _derive(form: Any, cols: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    """survey.forms.logic._value over whole columns."""
    out: dict[str, np.ndarray] = {}
    for d in form.derived:
        missing = d.missing_code if d.missing_code is not None else -9
        if d.kind == "sum":
            parts = np.column_stack([cols[i] for i in d.items])
            value = np.where((parts >= 0).all(axis=1), parts.sum(axis=1), missing)
        elif d.kind == "cases":
            value = np.full(n, d.otherwise if d.otherwise is not None else missing)
            done = np.zeros(n, dtype=bool)
            for case in d.cases:
                hit = _holds(case.when, cols) & ~done
                value[hit] = case.value
                done |= hit
        else:
            source = cols[d.source]
            ok = source >= 0
            if d.kind == "threshold":
                value = np.where(ok, (source >= d.min).astype(np.int64), missing)
            else:
                value = np.full(n, missing)
                for band in d.bands:
                    hit = ok & (source >= band.min)
                    if band.max is not None:
                        hit &= source <= band.max
                    value[hit & (value == missing)] = band.code
        out[d.id] = cols[d.id] = value.astype(np.int64)
    return out


def _cohort(form: Any, cohort: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    _, paper_share, distress, ideation = COHORTS[cohort]
    paper = rng.random(n) < paper_share
    cols: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for item in form.items():
        shown = np.ones(n, dtype=bool) if item.show_if is None else _holds(item.show_if, cols)
        skipped = rng.random(n) < 0.07
        refused = item.sensitive & (rng.random(n) < 0.04)
        for var in _variables(form, item):
            codes = [o.code for o in var.options]
            if item.type in ("text", "longtext"):
                out[f"{var.id}_answered"] = (shown & ~skipped & (rng.random(n) < 0.3)).astype(int)
                continue
            if var.id.startswith("k6_"):
                p = K6_SHARES ** (1 / distress)
                values = rng.choice(np.arange(5), size=n, p=p / p.sum())
            elif var.id == "ideation_ever":
                values = np.where(rng.random(n) < ideation, 1, 2)
            elif item.type == "integer":
                values = np.minimum(item.max, rng.geometric(0.55, size=n))
            elif item.type == "multi":
                share = rng.uniform(0.05, 0.5, size=len(codes))
                hits = rng.random((n, len(codes))) < share
                if item.max_picks:
                    hits &= np.cumsum(hits, axis=1) <= item.max_picks
                hits[~hits.any(axis=1), 0] = True  # at least one pick
                values = hits.astype(np.int64) @ (1 << np.arange(len(codes), dtype=np.int64))
            else:
                p = rng.dirichlet(np.full(len(codes), 2.0))
                values = rng.choice(codes, size=n, p=p)
            if item.type != "multi":
                values = values.astype(np.int64)
                bad = paper & (rng.random(n) < 0.008)
                values = np.where(bad, rng.choice([-8, -6], size=n), values)
                values = np.where(refused, -7, np.where(skipped, -9, values))
                values = np.where(shown, values, -1)
                cols[var.id] = out[var.id] = values
            else:
                # Picks as a bit mask per row; each distinct mask written once as text.
                lost = ~shown | skipped | refused
                mask = np.where(lost, 0, values)
                cols.setdefault("_bits", {})[var.id] = {c: 1 << j for j, c in enumerate(codes)}
                cols[var.id] = mask
                uniq, inverse = np.unique(mask, return_inverse=True)
                texts = np.array(
                    [" ".join(str(c) for j, c in enumerate(codes) if m >> j & 1) for m in uniq],
                    dtype=object,
                )[inverse]
                missing = np.where(~shown, "-1", np.where(refused, "-7", "-9")).astype(object)
                out[var.id] = np.where(lost, missing, texts)
    out.update(_derive(form, cols, n))
    out["channel"] = np.where(paper, "paper", "web")
    out["cohort"], out["form"], out["version"] = cohort, form.id, form.version
    out["week"] = rng.choice(["2026-W23", "2026-W24", "2026-W25", "2026-W26", "2026-W27"], n)
    frame = pd.DataFrame(out)
    if len(frame):
        _check(form, frame.sample(min(200, n), random_state=1))
    return frame


def _variables(form: Any, item: Any) -> list[Any]:
    return [v for v in form.variables() if v.item is item]


def _check(form: Any, sample: pd.DataFrame) -> None:
    """The vectorised derived variables equal survey.forms.logic.derive's."""
    from survey.forms.logic import derive

    for _, row in sample.iterrows():
        answers: dict[str, Any] = {}
        for var in form.variables():
            if var.id not in row.index:
                continue
            v = row[var.id]
            if isinstance(v, str):
                answers[var.id] = int(v) if v.startswith("-") else [int(x) for x in v.split()]
            else:
                answers[var.id] = int(v)
        for name, value in derive(form, answers).items():
            assert int(row[name]) == value, (form.id, name, int(row[name]), value)


def generate(rows: int, seed: int = 14) -> pd.DataFrame:
    from survey.forms.loader import current_forms, load_forms
    from survey.ingest.dataset import columns

    rng = np.random.default_rng(seed)
    forms = current_forms(load_forms())
    sizes = {c: int(rows * share) for c, (share, *_) in COHORTS.items()}
    sizes["general"] += rows - sum(sizes.values())
    parts = [_cohort(forms[c], c, n, rng) for c, n in sizes.items()]
    df = pd.concat(parts, ignore_index=True)
    df["response_id"] = [rng.bytes(16).hex() for _ in range(len(df))]
    df = df.sort_values("response_id", ignore_index=True)
    df = df.reindex(columns=columns(load_forms()))
    for name in df.columns:
        if name in ("response_id", "cohort", "channel", "form", "week") or not is_numeric(df[name]):
            df[name] = df[name].astype("string")
        else:
            df[name] = df[name].astype("Int64")
    return df


def inputs_for(df: pd.DataFrame, threshold: int = 10) -> Any:
    """survey.analysis.inputs.Inputs as load() builds them, from counts made for the rows."""
    from survey.analysis.inputs import Inputs
    from survey.analysis.study import study_design
    from survey.analysis.weights import CohortCounts
    from survey.cohorts import COHORT_LABELS
    from survey.fieldwork import CohortRate, Fieldwork
    from survey.forms.loader import current_forms, load_forms

    present = df.groupby(["cohort", "channel"]).size()
    counts, rates = [], []
    for c in COHORTS:
        r = int(present.get(c, pd.Series(dtype=int)).sum())
        sampled = int(r * 1.6) + 10
        counts.append(CohortCounts(c, sampled * 4, sampled, sampled // 50, r))
        paper, web = int(present.get((c, "paper"), 0)), int(present.get((c, "web"), 0))
        rates.append(CohortRate(c, COHORT_LABELS[c], sampled, sampled // 50, paper, web))
    work = Fieldwork("bench", rates, {}, {}, {}, None, None)
    design = study_design(df, counts, None)
    forms = current_forms(load_forms())
    return Inputs("bench", df, design, counts, None, work, forms, threshold, "synthetic")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)


def _peak_mb() -> float:
    """This process's peak RSS plus its largest child's (the row files' or a chart worker's):
    an upper bound of what they held together."""
    import resource

    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024 + child
    return float("nan")


def _cpu_s(children: bool = True) -> float:
    """CPU seconds of this process and (``children``) of its children waited for (row files,
    chart workers)."""
    import resource

    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + (kids.ru_utime + kids.ru_stime if children else 0.0)


BARE_BARS = 6  # a bare chart's bars: the mean of analyze's frequency charts is 5.7


def bare_charts(count: int, folder: Path) -> None:
    """``count`` horizontal bar charts in bare matplotlib, as big as analyze's, in the same
    embedded font, with % labels and a title, each saved as PNG and as PDF."""
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    from mailing.fonts import gothic_path

    font = FontProperties(fname=str(gothic_path()))
    ys = list(range(BARE_BARS))[::-1]
    labels = [f"選択肢{k + 1} そう思う" for k in range(BARE_BARS)]
    for i in range(count):
        pct = [(7 * i + 13 * k) % 60 + 1.5 for k in range(BARE_BARS)]
        fig = Figure(figsize=(8, 0.42 * BARE_BARS + 1.8), dpi=110)
        ax = fig.subplots()
        ax.barh(ys, pct, color="#3b6ea5", height=0.65)
        for y, v in zip(ys, pct, strict=True):
            ax.text(v + 1, y, f"{v:.1f}%", va="center", fontsize=8)
        ax.set_yticks(ys, labels, fontproperties=font, fontsize=8)
        fig.suptitle(f"問{i} 質問の文（n=1,234）", fontproperties=font, fontsize=10, x=0.01)
        fig.savefig(folder / f"{i}.png", format="png")
        fig.savefig(folder / f"{i}.pdf", format="pdf")


def child(kind: str, parquet: Path, result: Path, charts: int = 0) -> None:
    df = pd.read_parquet(parquet)
    for name in df.columns:
        if not is_numeric(df[name]):
            df[name] = df[name].astype("string")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _reset_peak()
        times: dict[str, float] = {}
        start = time.perf_counter()
        if kind == "baseline":
            df.to_csv(out / "rows.csv", index=False)
            times["to_csv"] = time.perf_counter() - start
            import pyreadstat

            numeric = df.drop(columns=[c for c in df.columns if df[c].dtype == "string"])
            t = time.perf_counter()
            import polars

            # From a polars frame, as survey.analysis.exports writes (2.7x faster than pandas).
            frame = polars.from_pandas(numeric.astype("float64"), nan_to_null=True)
            pyreadstat.write_sav(frame, str(out / "rows.sav"))
            times["write_sav"] = time.perf_counter() - t
            t = time.perf_counter()
            bare_charts(charts, out)
            times["charts"] = time.perf_counter() - t
        else:
            from survey.analysis.run import analyze

            marks: dict[tuple[str, int], float] = {}

            def progress(label: str, done: int, total: int) -> None:
                marks[(label, done)] = time.perf_counter()

            t0 = time.perf_counter()
            inputs = inputs_for(df)
            times["inputs"] = time.perf_counter() - t0
            t0, self0 = time.perf_counter(), _cpu_s(children=False)
            summary = analyze(inputs, out, progress)
            end = time.perf_counter()
            # Where the CPU went: this process (estimation, suppression, audit, CSV, XLSX)
            # against the workers it waited for (charts, the row files).
            times["cpu_main_s"] = _cpu_s(children=False) - self0
            times["cpu_children_s"] = _cpu_s() - _cpu_s(children=False)
            csv_end = max(v for (label, _), v in marks.items() if label == "CSV")
            edges = [
                ("tables", t0, marks[("集計 tables", 1)]),
                ("disclosure", marks[("集計 tables", 1)], marks[("集計 tables", 2)]),
                ("audit", marks[("集計 tables", 2)], marks[("集計 tables", 3)]),
                ("csv", marks[("集計 tables", 3)], csv_end),
                ("xlsx", csv_end, marks[("グラフ charts", 0)]),
                ("charts", marks[("グラフ charts", 0)], marks[("グラフ charts", 1)]),
                (
                    "row files wait",  # written beside the rest (run.ROWS_BESIDE): waited for
                    marks[("SPSS・ミクロデータ", 0)],
                    marks[("SPSS・ミクロデータ", 1)],
                ),
            ]
            times.update({name: b - a for name, a, b in edges})
            times["analyze"] = end - t0
            times["tables_n"] = summary["tables"]
            times["lp_solves"] = summary["lp_solves"]
            times["audit_passed"] = summary["audit_passed"]
            times["charts_n"] = sum(1 for f in summary["files"] if f.endswith(".png"))
        times["cpu_s"] = _cpu_s()
        times["peak_mb"] = _peak_mb()
    result.write_text(json.dumps(times))


def _run(kind: str, parquet: Path, charts: int = 0) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        cmd = [sys.executable, __file__, "--child", kind, str(parquet), fh.name, str(charts)]
        subprocess.run(cmd, check=True, cwd=REPO)
        result: dict[str, float] = json.loads(Path(fh.name).read_text())
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=4, metavar=("KIND", "PARQUET", "RESULT", "CHARTS"))
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "analyze_benchmark.md"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]), int(args.child[3]))
        return
    lines = [
        f"# survey analyze benchmark ({platform.python_version()}, {platform.machine()})",
        "",
        "| rows | run | " + " | ".join(PHASES) + " | wall s | CPU s | peak RSS MB |",
        "|---:|---|" + "---:|" * (len(PHASES) + 3),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            parquet = Path(tmp) / f"rows{rows}.parquet"
            t = time.perf_counter()
            generate(rows).to_parquet(parquet, index=False)
            print(f"{rows:,} rows generated in {time.perf_counter() - t:.1f} s", flush=True)
            runs: dict[str, list[dict[str, float]]] = {"analyze": [], "baseline": []}
            for i in range(args.repeat):
                # Interleaved, so that a busy spell hits both; the baseline draws as many
                # charts as analyze did.
                runs["analyze"].append(_run("analyze", parquet))
                drawn = int(runs["analyze"][-1]["charts_n"])
                runs["baseline"].append(_run("baseline", parquet, drawn))
                for kind in runs:
                    print(rows, kind, i, runs[kind][-1], flush=True)
            med = {
                k: statistics.median(r[k] for r in runs["analyze"])
                for k in (*PHASES, "analyze", "cpu_s", "cpu_main_s", "cpu_children_s")
            }
            peak = max(r["peak_mb"] for r in runs["analyze"])
            cells = " | ".join(f"{med[p]:.1f}" for p in PHASES)
            lines.append(
                f"| {rows:,} | analyze | {cells} | {med['analyze']:.1f} | {med['cpu_s']:.0f} "
                f"({med['cpu_main_s']:.0f} this process + {med['cpu_children_s']:.0f} workers) "
                f"| {peak:.0f} |"
            )
            base = {
                k: statistics.median(r[k] for r in runs["baseline"])
                for k in ("to_csv", "write_sav", "charts", "cpu_s")
            }
            bpeak = max(r["peak_mb"] for r in runs["baseline"])
            files = base["to_csv"] + base["write_sav"]
            lines.append(
                f"| {rows:,} | baseline: to_csv {base['to_csv']:.1f} s, bare write_sav "
                f"{base['write_sav']:.1f} s; then bare matplotlib, {drawn} charts "
                f"{base['charts']:.1f} s |"
                + " |" * len(PHASES)
                + f" {files:.1f} + {base['charts']:.1f} | {base['cpu_s']:.0f} | {bpeak:.0f} |"
            )
            lines.append(f"<!-- {rows} runs: {json.dumps(runs)} -->")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
