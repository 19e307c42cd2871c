"""DuckDB connections configured from the settings (memory, threads, temp folder, UTC)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from core.settings import Settings

log = logging.getLogger(__name__)
LOCK_WAIT_SECONDS = 120


def connect(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; the caller closes it (DuckDB allows one writing process)."""
    path = settings.duckdb_path
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_dir = settings.path(settings.warehouse.temp_directory)
    temp_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "memory_limit": settings.warehouse.memory_limit,
        "threads": settings.warehouse.threads,
        "temp_directory": str(temp_dir),
    }
    # DuckDB allows one writing process; Dagster's pool serialises our writers, and this
    # wait covers anything else holding the file for a moment (an analyst's open session).
    waited, pause = 0.0, 0.2
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or waited >= LOCK_WAIT_SECONDS:
                raise
            log.warning("warehouse %s is busy (held by another process); waiting %.1f s", path, pause)
            time.sleep(pause)
            waited += pause
            pause = min(pause * 2, 5.0)
    # set after connecting: the ICU extension (built in) is only loaded by then
    con.execute("set TimeZone = 'UTC'")
    return con


@contextmanager
def warehouse(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(settings, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return scalar(con, "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]) > 0


def quote_identifier(name: str) -> str:
    """Quote a table or column name for SQL (native names contain dashes, dots, quotes)."""
    return '"' + name.replace('"', '""') + '"'


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """First value of the first row. DuckDB 2 keeps a result open until it is fully fetched,
    so never use `.fetchone()` on a connection that runs more statements afterwards."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def export_schema_to_parquet(con: duckdb.DuckDBPyConnection, schema: str, out_dir) -> dict[str, int]:
    """Write every table of a schema to <out_dir>/<table>.parquet (temp file, then rename)."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = [row[0] for row in con.execute(
        "select table_name from duckdb_tables() where schema_name = ? and not starts_with(table_name, '_') order by 1", [schema]
    ).fetchall()]
    written = {}
    for table in tables:
        target = out / f"{table}.parquet"
        temp = out / f".{table}.parquet.tmp"
        con.execute(f"copy (select * from \"{schema}\".\"{table}\") to '{temp}' (format parquet, compression zstd)")
        temp.replace(target)
        written[table] = scalar(con, f"select count(*) from \"{schema}\".\"{table}\"")
    return written
