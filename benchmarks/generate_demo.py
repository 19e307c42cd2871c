"""Benchmark the demo generator (not a test).

    python benchmarks/generate_demo.py --customers 100000 [--workers 2] [--out DIR] [--keep]

Prints wall time, rows and MB per source, rows/s and peak RSS (this process and the
largest worker, from resource.getrusage). Output goes to a temporary folder that is
removed afterwards unless --out/--keep say otherwise.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.demo.generator import SOURCES, generate  # noqa: E402


def _mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="demo-bench-"))
    started = time.perf_counter()
    summary = generate(out, customers=args.customers, seed=args.seed, workers=args.workers)
    wall = time.perf_counter() - started
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    print(f"customers        {args.customers:>14,}")
    print(f"chunks           {summary.chunks:>14,}")
    print(f"wall time        {wall:>14.1f} s")
    print(f"{'source':<12} {'rows':>14} {'files':>7} {'MB':>10} {'rows/s':>12}")
    total_rows = 0
    for source in SOURCES:
        rows = summary.rows[source]
        total_rows += rows
        print(f"{source:<12} {rows:>14,} {summary.files[source]:>7,} {_mb(out / 'landing' / source):>10.1f} {rows / wall:>12,.0f}")
    print(f"{'truth':<12} {'':>14} {'':>7} {_mb(out / 'truth'):>10.1f}")
    print(f"{'total':<12} {total_rows:>14,} {'':>7} {summary.bytes_written / 1e6:>10.1f} {total_rows / wall:>12,.0f}")
    print(f"orders           {summary.truth['observed']['orders']:>14,}  ({summary.truth['observed']['orders'] / wall:,.0f}/s)")
    print(f"peak RSS main    {self_rss:>14,.0f} MiB")
    print(f"peak RSS worker  {child_rss:>14,.0f} MiB  (largest single worker; 0 when run in-process)")
    if not args.keep and args.out is None:
        shutil.rmtree(out)
    elif args.keep or args.out:
        print(f"files kept in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
