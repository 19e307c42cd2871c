"""Paired timing of dbt models: two compiled versions of the same models, run alternately.

    .venv/bin/python benchmarks/dbt_models.py --warehouse W.duckdb --before T1 --after T2 MODEL ...

Not a test: it prints figures. Whole dbt builds on our 2-core machines vary by 15% or more
between runs of unchanged code (170 s and 199 s for the same 1M build half an hour apart),
more than most single changes save. This compares a change on equal terms instead: T1 and
T2 are dbt target folders compiled before and after it (`dbt compile --target-path T`), and
each model's SQL from both runs into a temporary table of one read-only connection to a built
warehouse, alternating before/after ``--repeat`` times; the best time of each is printed.
Temporary tables leave the warehouse unchanged, and they skip what both versions pay alike
(writing the stored table, dbt's own bookkeeping). DuckDB memory_limit, threads and temp
folder are those of the settings file, as in a real build.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402


def compiled_sql(target: Path, model: str) -> str:
    matches = sorted(target.glob(f"compiled/*/models/**/{model}.sql"))
    if not matches:
        raise SystemExit(f"{model}: no compiled SQL under {target}/compiled (run `dbt compile --target-path {target}`)")
    return matches[0].read_text()


def time_model(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.perf_counter()
    con.execute(f"create or replace temp table benchmark_model as {sql}")
    elapsed = time.perf_counter() - started
    con.execute("drop table benchmark_model")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="model names, e.g. ml_customer_features")
    parser.add_argument("--warehouse", required=True, help="a built warehouse (DuckDB file), opened read-only")
    parser.add_argument("--before", required=True, type=Path, help="dbt target folder compiled before the change")
    parser.add_argument("--after", required=True, type=Path, help="dbt target folder compiled after the change")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each version, alternating (default 2)")
    parser.add_argument("--settings", help="settings file for memory_limit and threads (default: settings.yaml)")
    args = parser.parse_args(argv)

    settings = load_settings(args.settings)
    con = duckdb.connect(args.warehouse, read_only=True)
    con.execute(f"set memory_limit = '{settings.warehouse.memory_limit}'")
    con.execute(f"set threads = {int(settings.warehouse.threads)}")
    con.execute(f"set temp_directory = '{settings.path(settings.warehouse.temp_directory)}'")
    con.execute("set preserve_insertion_order = false")  # as the dbt profile sets it

    print(f"{'model':40s} {'before s':>9s} {'after s':>9s} {'change':>8s}")
    for model in args.models:
        versions = {"before": compiled_sql(args.before, model), "after": compiled_sql(args.after, model)}
        best = {name: float("inf") for name in versions}
        for _ in range(args.repeat):
            for name, sql in versions.items():
                best[name] = min(best[name], time_model(con, sql))
        change = (best["after"] - best["before"]) / best["before"] * 100
        print(f"{model:40s} {best['before']:9.2f} {best['after']:9.2f} {change:+7.0f}%", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
