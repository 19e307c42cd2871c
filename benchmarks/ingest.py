"""Generation and load throughput for a given size (a benchmark, not a test).

    .venv/bin/python benchmarks/ingest.py --customers 100000 [--keep DIR]

Prints per source: files, rows loaded, seconds, rows/s; then totals and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import SOURCES, Settings  # noqa: E402
from core.warehouse import warehouse  # noqa: E402
from ingest.run import ensure_demo_data, ingest_source  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", help="work folder to keep (default: a temporary folder, deleted)")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="retention-bench-"))
    settings = Settings(project_root=work)
    settings.demo.customers = args.customers
    settings.demo.seed = args.seed
    settings.warehouse.duckdb_path = work / "warehouse.duckdb"
    try:
        started = time.perf_counter()
        ensure_demo_data(settings)
        generation = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (work / "data" / "demo" / "landing").rglob("*") if p.is_file())
        print(f"generation: {args.customers:,} customers in {generation:.1f} s, {size / 1e6:,.0f} MB written")
        print(f"{'source':<12} {'files':>6} {'rows':>12} {'seconds':>8} {'rows/s':>10}")
        total_rows, total_seconds = 0, 0.0
        with warehouse(settings) as con:
            for source in [s for s in SOURCES if s != "generic"]:
                started = time.perf_counter()
                run = ingest_source(con, settings, source)
                seconds = time.perf_counter() - started
                rows = sum(r.total("rows_loaded") for r in run.reports)
                files = sum(len(r.files) for r in run.reports)
                total_rows += rows
                total_seconds += seconds
                print(f"{source:<12} {files:>6} {rows:>12,} {seconds:>8.1f} {rows / max(seconds, 1e-9):>10,.0f}")
        print(f"{'total':<12} {'':>6} {total_rows:>12,} {total_seconds:>8.1f} {total_rows / total_seconds:>10,.0f}")
        print(f"load throughput: {size / 1e6 / total_seconds:,.1f} MB/s; peak RSS of this process: {peak_rss_mib():,.0f} MiB")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
