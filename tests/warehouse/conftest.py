"""Helpers for the warehouse tests: build a raw warehouse with the ingest code, run dbt on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from core.settings import PROJECT_ROOT, Settings
from core.warehouse import warehouse
from ingest.run import ingest_source

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def ingest_all(settings: Settings) -> None:
    """Load every source's landing files (an empty landing folder still creates its raw tables)."""
    with warehouse(settings) as con:
        for source in settings.sources:
            run = ingest_source(con, settings, source)
            assert not run.errors, f"{source}: {run.errors}"


def run_dbt(args: list[str], duckdb_path: Path, work_dir: Path, vars: dict | None = None) -> subprocess.CompletedProcess:
    """Run the project's dbt against `duckdb_path`, with target and logs kept under `work_dir`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DUCKDB_PATH": str(duckdb_path),
        "DUCKDB_TEMP_DIR": str(work_dir / "duckdb_tmp"),
        "DBT_THREADS": "2",
        "PATH": f"{DBT.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(DBT),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    if vars:
        import json

        command += ["--vars", json.dumps(vars)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work_dir)
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


def query(duckdb_path: Path, sql: str, params: list | None = None):
    """Rows of a query on a finished warehouse (read only)."""
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def frame(duckdb_path: Path, sql: str):
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()
