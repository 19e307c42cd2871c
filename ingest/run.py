"""Run one source's ingest: demo data or landing files or API pages -> raw tables."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from core.settings import Settings
from ingest.load import LoadReport, ensure_meta_tables, ensure_raw_table, find_files, load_table, read_cursor, save_cursor
from ingest.sources import TABLES_BY_SOURCE

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class SourceRun:
    source: str
    mode: str
    reports: list[LoadReport] = field(default_factory=list)
    api_error: str | None = None

    @property
    def errors(self) -> list[str]:
        errors = [f.error for report in self.reports for f in report.rejected if f.error]
        return errors + ([self.api_error] if self.api_error else [])


def demo_sources(settings: Settings) -> list[str]:
    return [name for name, source in settings.sources.items() if source.enabled and source.mode == "demo"]


def ensure_demo_data(settings: Settings, progress: Progress | None = None) -> dict:
    """Generate the demo landing files unless the same seed, size and date are already there."""
    wanted = {
        "customers": settings.demo.customers,
        "seed": settings.demo.seed,
        "as_of": settings.demo.as_of.isoformat(),
        "years": settings.demo.years,
    }
    root = settings.path(settings.paths.demo_dir)
    marker = root / "generated.json"
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return {**wanted, "generated": False}
    from ingest.demo.generator import generate

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    generate(
        root,
        customers=settings.demo.customers,
        seed=settings.demo.seed,
        as_of=settings.demo.as_of,
        years=settings.demo.years,
        progress=(lambda stage, share: progress(f"demo data: {stage} {share:.0%}")) if progress else None,
    )
    marker.write_text(json.dumps(wanted))
    return {**wanted, "generated": True}


def ingest_source(con: duckdb.DuckDBPyConnection, settings: Settings, source: str, progress: Progress | None = None) -> SourceRun:
    """Load a source's files into its raw tables; in api mode fetch new pages first."""
    mode = settings.sources[source].mode
    run = SourceRun(source, mode)
    landing = settings.landing_dir(source)
    new_cursor = None
    if mode == "api":
        from ingest.api import fetch

        landing_root = settings.path(settings.paths.landing_dir)
        result = fetch(source, read_cursor(con, source), landing_root, settings.api_settings())
        new_cursor = result.new_cursor
        if not result.complete:
            run.api_error = result.error
    for table in TABLES_BY_SOURCE[source]:
        files = find_files(landing, table)
        # as many files read at once as DuckDB may use threads (one small file keeps one busy)
        readers = settings.warehouse.threads
        run.reports.append(load_table(con, table, files, generic=settings.generic_import, progress=progress, readers=readers))
    if new_cursor and not any(report.rejected for report in run.reports):
        save_cursor(con, source, new_cursor)
    return run


def create_empty_tables(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Raw tables of a source that is not in use, so downstream models still build."""
    ensure_meta_tables(con)
    for table in TABLES_BY_SOURCE[source]:
        ensure_raw_table(con, table)
