"""Whole-pipeline benchmark at a chosen size: a full run, then one more day incrementally.

    .venv/bin/python benchmarks/pipeline.py --customers 100000 [--work DIR] [--json FILE]

Not a test: it prints figures. Steps, each in its own process, exactly as a scheduler would
run them (`retention run ...`, the Dagster jobs executed in process):

1. generation   the demo generator writes N customers' landing files
2. full run     `retention run ingest_sources` loads every file; the last day of raw records
                is held back (ingest/demo/replay.py) so that there is a "tomorrow"; then
                `retention run nightly_pipeline weekly_report`: dbt builds everything from
                scratch (the weekly analyses in the weekly job), the churn model is trained,
                backtested and scores everyone, audiences are published, the alert digest
                and the weekly report are sent
3. one day      the held-back day is appended to the raw tables as one new load, then
                `retention run nightly_pipeline`: incremental staging, the nightly marts
                rebuilt (not the weekly analyses, dbt tag weekly), model and scores,
                audiences, digest, Parquet copies
4. pandas       the per-customer RFM and purchase-interval metrics written the way an
                analyst would in a notebook, on the same orders, against the warehouse models
5. backtest     the quality of the model the full run trained, from its metrics.json: ROC AUC
                of the model and of BG/NBD on every backtest customer and on the active ones

Per stage (generation, ingest, dbt, model, scoring, publish, reports) it prints wall time and
peak memory (RSS of the whole process tree: Python, DuckDB, dbt), taken from the Dagster
event log of each run (step start/end) and a 0.2 s memory sampler. "orchestration" is the
rest of a run's wall time: process start, imports of the code location, run bookkeeping.
Results go to stdout as a table and to --json (default <work>/benchmark.json).

The settings file of the work folder is the project's settings.yaml with the demo size and
paths changed; DuckDB memory_limit, threads and temp folder come from it (--memory-limit,
--threads override them).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from core.warehouse import warehouse  # noqa: E402
from ingest.demo.replay import hold_back, last_full_day, release  # noqa: E402
from ml.evaluate import headline_figures  # noqa: E402
from ml.registry import latest_model  # noqa: E402

STAGES = ("generation", "ingest", "dbt", "model", "scoring", "publish", "reports", "orchestration")
STEP_STAGES = {
    "warehouse_models": "dbt",
    "churn_model": "model",
    "churn_scores": "scoring",
    "audience_exports": "publish",
    "winback_effect": "publish",
    "alert_digest": "reports",
    "weekly_stakeholder_report": "reports",
    "mart_parquet_exports": "reports",
}


def stage_of(step_key: str) -> str:
    if step_key in STEP_STAGES:
        return STEP_STAGES[step_key]
    if step_key.startswith(("ingest_", "demo_landing", "raw__", "freshness_check")):
        return "ingest"  # loads, their data-quality checks and the freshness check
    return "orchestration"


@dataclass
class Stage:
    seconds: float = 0.0
    peak_rss_gib: float = 0.0

    def add(self, seconds: float, peak: float) -> None:
        self.seconds += seconds
        self.peak_rss_gib = max(self.peak_rss_gib, peak)


@dataclass
class Phase:
    """One phase of the benchmark (full run or incremental run): stages and total wall time."""

    name: str
    stages: dict[str, Stage] = field(default_factory=lambda: {s: Stage() for s in STAGES})
    wall_seconds: float = 0.0

    @property
    def peak_rss_gib(self) -> float:
        return max(s.peak_rss_gib for s in self.stages.values())

    def as_json(self) -> dict:
        return {
            "wall_seconds": round(self.wall_seconds, 1),
            "peak_rss_gib": round(self.peak_rss_gib, 2),
            "stages": {
                k: {"seconds": round(v.seconds, 1), "peak_rss_gib": round(v.peak_rss_gib, 2)} for k, v in self.stages.items()
            },
        }


class MemorySampler:
    """Samples the RSS of a process and all its children every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.samples: list[tuple[float, float]] = []
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self._process, *self._process.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            rss = 0
            for process in processes:
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss += process.memory_info().rss
            self.samples.append((time.time(), rss / 2**30))
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0.0)


def run_measured(command: list[str], env: dict, cwd: Path, log: Path) -> tuple[float, MemorySampler, float, float]:
    """Run a command, sampling its memory; (wall seconds, sampler, start, end) in epoch seconds."""
    started = time.time()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        sampler = MemorySampler(process.pid)
        code = process.wait()
        sampler.stop()
    ended = time.time()
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(command)}; see {log}")
    return ended - started, sampler, started, ended


def step_intervals(dagster_home: Path, since: float) -> list[tuple[str, float, float]]:
    """(step key, start, end) of every step of the runs that started after `since`."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = [r for r in instance.get_runs() if (instance.get_run_stats(r.run_id).start_time or 0) >= since]
        steps = []
        for run in runs:
            starts = {}
            for record in instance.all_logs(
                run.run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
            ):
                event = record.dagster_event
                if event.event_type == DagsterEventType.STEP_START:
                    starts[event.step_key] = record.timestamp
                elif event.step_key in starts:
                    steps.append((event.step_key, starts.pop(event.step_key), record.timestamp))
        return steps


def run_jobs(phase: Phase, jobs: list[str], work: Path, env: dict, log: Path) -> None:
    """`retention run <jobs>`; its wall time and memory split into stages by the Dagster step log."""
    command = [str(Path(sys.executable).parent / "retention"), "--settings", str(work / "settings.yaml"), "run", *jobs]
    wall, sampler, started, ended = run_measured(command, env, work, log)
    phase.wall_seconds += wall
    stepped = 0.0
    for step_key, start, end in step_intervals(work, started):
        phase.stages[stage_of(step_key)].add(end - start, sampler.peak(start, end))
        stepped += end - start
    phase.stages["orchestration"].add(wall - stepped, sampler.peak(started, ended))
    print(f"  {' '.join(jobs)}: {wall:.1f} s", flush=True)


def write_settings(work: Path, customers: int, memory_limit: str | None, threads: int | None) -> Path:
    settings = yaml.safe_load((ROOT / "settings.yaml").read_text())
    settings["demo"]["customers"] = customers
    settings["warehouse"]["duckdb_path"] = "data/warehouse.duckdb"
    if memory_limit:
        settings["warehouse"]["memory_limit"] = memory_limit
    if threads:
        settings["warehouse"]["threads"] = threads
    path = work / "settings.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    shutil.copy(ROOT / "dagster.yaml", work / "dagster.yaml")
    return path


def pandas_rfm_and_intervals(orders):
    """Per-customer RFM and purchase intervals, as an analyst would write them in a notebook."""
    import pandas as pd

    orders = orders[~orders["is_cancelled"]]
    as_of = orders["ordered_at"].max().normalize()
    customers = orders.groupby("customer_id").agg(
        last_order=("ordered_at", "max"), frequency=("order_id", "count"), monetary=("order_amount", "sum")
    )
    customers["recency_days"] = (as_of - customers["last_order"].dt.normalize()).dt.days
    customers["r_score"] = pd.qcut(customers["recency_days"].rank(method="first", ascending=False), 5, labels=False) + 1
    customers["f_score"] = pd.cut(customers["frequency"], [0, 1, 2, 3, 5, float("inf")], labels=False) + 1
    customers["m_score"] = pd.qcut(customers["monetary"].rank(method="first"), 5, labels=False) + 1
    days = orders.assign(day=orders["ordered_at"].dt.normalize())[["customer_id", "day"]].drop_duplicates()
    days = days.sort_values(["customer_id", "day"])
    days["interval"] = days.groupby("customer_id")["day"].diff().dt.days
    intervals = days.groupby("customer_id")["interval"].agg(["mean", "median", "std"])
    customers = customers.join(intervals)
    customers["current_gap"] = customers["recency_days"]
    customers["gap_ratio"] = customers["current_gap"] / customers["mean"]
    customers["expected_next_order"] = customers["last_order"] + pd.to_timedelta(customers["mean"], unit="D")
    customers["frequency_declining"] = customers["gap_ratio"] >= 1.5
    return customers


def compare_with_pandas(work: Path, env: dict, log: Path) -> dict:
    """Time the warehouse models for RFM and intervals and the pandas version on the same orders."""
    from orchestration.defs.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_environment

    settings = load_settings(work / "settings.yaml")
    models = ["int_customer_orders_aggregated", "customer_rfm", "customer_purchase_intervals"]
    target = work / "dbt_benchmark_target"
    command = [
        DBT_EXECUTABLE,
        "run",
        "--select",
        *models,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(work / "dbt_benchmark_logs"),
        "--vars",
        json.dumps(settings.dbt_vars()),
    ]
    run_measured(command, {**env, **dbt_environment(settings)}, DBT_PROJECT_DIR, log)
    results = json.loads((target / "run_results.json").read_text())["results"]
    warehouse_seconds = sum(r["execution_time"] for r in results)

    started = time.perf_counter()
    with warehouse(settings) as con:
        orders = con.execute("select order_id, customer_id, ordered_at, order_amount, is_cancelled from marts.fct_orders").df()
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    customers = pandas_rfm_and_intervals(orders)
    pandas_seconds = time.perf_counter() - started
    return {
        "customers": len(customers),
        "orders": len(orders),
        "warehouse_seconds": round(warehouse_seconds, 2),
        "warehouse_models": models,
        "pandas_load_seconds": round(load_seconds, 2),
        "pandas_compute_seconds": round(pandas_seconds, 2),
        "pandas_over_warehouse": round((load_seconds + pandas_seconds) / warehouse_seconds, 2),
    }


def print_table(phases: list[Phase]) -> None:
    header = f"{'stage':<14}" + "".join(f"{p.name + ' s':>16}{'peak GiB':>10}" for p in phases)
    print(header)
    print("-" * len(header))
    for stage in STAGES:
        print(f"{stage:<14}" + "".join(f"{p.stages[stage].seconds:>16.1f}{p.stages[stage].peak_rss_gib:>10.2f}" for p in phases))
    print("-" * len(header))
    print(f"{'total':<14}" + "".join(f"{p.wall_seconds:>16.1f}{p.peak_rss_gib:>10.2f}" for p in phases))


def backtest_figures(settings) -> dict | None:
    """The backtest of the model the full run trained (its metrics.json): quality at this size."""
    version = latest_model(settings.models_dir)
    if version is None:
        return None
    report = version.metrics()
    return {
        "version": version.version,
        "gate_passed": version.passed,
        "train_rows": report.get("train_rows"),
        "backtest_rows": report.get("backtest_rows"),
        **headline_figures(report),
    }


def _auc_line(label: str, rows: int | None, model_auc: float | None, bgnbd_auc: float | None) -> str:
    if model_auc is None or bgnbd_auc is None:
        return f"{label}: no ROC AUC"
    return f"{label} ({rows or 0:,} rows): ROC AUC {model_auc:.3f} vs BG/NBD {bgnbd_auc:.3f} ({model_auc - bgnbd_auc:+.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000, help="demo size: 10000, 100000, 1000000, ...")
    parser.add_argument("--work", help="work folder, emptied first (default: data/benchmarks/customers_<N>)")
    parser.add_argument("--json", help="write the figures here (default: <work>/benchmark.json)")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit for this run, e.g. 6GB (default: settings.yaml)")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: settings.yaml)")
    args = parser.parse_args()

    work = Path(args.work).resolve() if args.work else ROOT / "data" / "benchmarks" / f"customers_{args.customers}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    write_settings(work, args.customers, args.memory_limit, args.threads)
    env = {k: v for k, v in os.environ.items() if k not in ("DUCKDB_PATH", "RETENTION_SETTINGS")}
    env.update(DAGSTER_HOME=str(work), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    os.chdir(work)  # dagster.yaml's storage folders are relative to DAGSTER_HOME
    log = work / "benchmark.log"
    settings = load_settings(work / "settings.yaml")
    print(
        f"{args.customers:,} customers in {work} (log: {log}); DuckDB memory_limit {settings.warehouse.memory_limit}, threads {settings.warehouse.threads}"
    )

    full, nightly = Phase("full"), Phase("one day")
    print("generation ...", flush=True)
    generate = f"from core.settings import load_settings; from ingest.run import ensure_demo_data; print(ensure_demo_data(load_settings({str(work / 'settings.yaml')!r})))"
    wall, sampler, _, _ = run_measured([sys.executable, "-c", generate], {**env, "PYTHONPATH": str(ROOT)}, work, log)
    full.stages["generation"].add(wall, sampler.peak())

    print("full run ...", flush=True)
    run_jobs(full, ["ingest_sources"], work, env, log)
    with warehouse(settings) as con:
        day = last_full_day(con)
        held = hold_back(con, day)
    run_jobs(full, ["nightly_pipeline", "weekly_report"], work, env, log)
    full.wall_seconds += full.stages["generation"].seconds

    print(f"one more day ({day}: {sum(held.values()):,} raw records) ...", flush=True)
    started = time.perf_counter()
    with warehouse(settings) as con:
        released = release(con)
    nightly.stages["ingest"].add(time.perf_counter() - started, 0.0)
    nightly.wall_seconds += time.perf_counter() - started
    run_jobs(nightly, ["nightly_pipeline"], work, env, log)

    backtest = backtest_figures(settings)

    print("pandas comparison ...", flush=True)
    comparison = compare_with_pandas(work, env, log)
    database_gib = settings.duckdb_path.stat().st_size / 2**30

    print()
    print(
        f"{args.customers:,} customers; warehouse {database_gib:.2f} GiB; held-back day {day}: {sum(released.values()):,} raw records"
    )
    print_table([full, nightly])
    without_generation = full.wall_seconds - full.stages["generation"].seconds
    print(
        f"\nfull pipeline without generation: {without_generation:.1f} s; one-day run: {nightly.wall_seconds:.1f} s "
        f"= {nightly.wall_seconds / without_generation:.1%} of it"
    )
    print(
        f"RFM + intervals for {comparison['customers']:,} customers / {comparison['orders']:,} orders: warehouse models "
        f"{comparison['warehouse_seconds']:.2f} s, pandas {comparison['pandas_load_seconds']:.2f} s load + "
        f"{comparison['pandas_compute_seconds']:.2f} s compute = {comparison['pandas_over_warehouse']:.1f}x the warehouse"
    )
    if backtest is not None:
        b = backtest
        print(_auc_line(f"backtest of the full run's model {b['version']}", b["backtest_rows"], b["roc_auc"], b["bgnbd_roc_auc"]))
        print(
            _auc_line(
                f"  customers with an order in the {b['active_within_days']} days before it",
                b["active_customers"],
                b["active_roc_auc"],
                b["active_bgnbd_roc_auc"],
            )
        )
    figures = {
        "customers": args.customers,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)},
        "duckdb": {"memory_limit": settings.warehouse.memory_limit, "threads": settings.warehouse.threads},
        "warehouse_gib": round(database_gib, 2),
        "held_back_day": day.isoformat(),
        "held_back_rows": released,
        "full": full.as_json(),
        "full_without_generation_seconds": round(without_generation, 1),
        "one_day": nightly.as_json(),
        "one_day_share_of_full": round(nightly.wall_seconds / without_generation, 3),
        "rfm_intervals_vs_pandas": comparison,
        "backtest": backtest,
    }
    out = Path(args.json) if args.json else work / "benchmark.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
