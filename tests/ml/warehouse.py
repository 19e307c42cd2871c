"""Build real warehouses for the end-to-end churn-model tests (no Dagster).

`build_demo_warehouse` runs the demo generator, the raw loader and `dbt build` into a
folder; `build_cdnow_warehouse` loads the CDNOW transactions (shipped inside the
`lifetimes` package, which is never imported) through the generic orders import with every
other source disabled, i.e. a transaction-only warehouse. dbt writes its target and logs
inside the folder too, so parallel runs do not share state.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT, SOURCES, PathSettings, Settings
from core.warehouse import connect
from ingest.load import ensure_meta_tables, ensure_raw_table
from ingest.run import ensure_demo_data, ingest_source
from ingest.sources import TABLES_BY_SOURCE

DBT = str(Path(sys.executable).parent / "dbt")
DBT_PROJECT = PROJECT_ROOT / "dbt_project"


def cdnow_master() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the lifetimes package (dev dependency) ships the CDNOW files")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "CDNOW_master.txt"


def _settings(root: Path, **overrides) -> Settings:
    base = {
        "project_root": str(root),
        "warehouse": {"duckdb_path": str(root / "warehouse.duckdb"), "temp_directory": str(root / "tmp"), "memory_limit": "3GB"},
        # every configured folder inside root (whatever folders the settings define)
        "paths": {name: str(root / name.removesuffix("_dir")) for name in PathSettings.model_fields},
    }
    base.update(overrides)
    return Settings.model_validate(base)


def _dbt_build(settings: Settings, root: Path) -> None:
    env = {
        **os.environ,
        "DUCKDB_PATH": str(settings.path(settings.warehouse.duckdb_path)),
        "DUCKDB_MEMORY_LIMIT": settings.warehouse.memory_limit,
        "DUCKDB_THREADS": str(settings.warehouse.threads),
        "DUCKDB_TEMP_DIR": str(settings.path(settings.warehouse.temp_directory)),
        "DBT_THREADS": "1",
    }
    cmd = [
        DBT,
        "build",
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(root / "dbt_target"),
        "--log-path",
        str(root / "dbt_logs"),
        "--vars",
        json.dumps(settings.dbt_vars()),
        # only what the churn model reads; dbt's own tests belong to the warehouse suite
        "--select",
        "+ml_customer_features",
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
        "--quiet",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt build failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")


def _load_sources(settings: Settings) -> None:
    con = connect(settings)
    try:
        ensure_meta_tables(con)
        for source in SOURCES:
            for table in TABLES_BY_SOURCE[source]:
                ensure_raw_table(con, table)  # disabled sources still need (empty) raw tables
            if settings.sources[source].enabled:
                run = ingest_source(con, settings, source)
                if run.errors:
                    raise RuntimeError(f"ingest {source}: {run.errors[:3]}")
    finally:
        con.close()


def build_demo_warehouse(root: Path, customers: int = 5000, seed: int = 42) -> Settings:
    """Demo landing files + raw tables + dbt models under ``root``; returns the settings."""
    root.mkdir(parents=True, exist_ok=True)
    settings = _settings(root, demo={"customers": customers, "seed": seed})
    ensure_demo_data(settings)
    _load_sources(settings)
    _dbt_build(settings, root)
    return settings


def build_cdnow_warehouse(root: Path) -> Settings:
    """The CDNOW transactions through the generic import, every other source disabled."""
    root.mkdir(parents=True, exist_ok=True)
    landing = root / "landing" / "generic"
    landing.mkdir(parents=True, exist_ok=True)
    shutil.copy(cdnow_master(), landing / "CDNOW_master.txt")
    sources = {name: {"enabled": False, "mode": "files"} for name in SOURCES if name != "fx"}
    sources["generic"] = {"enabled": True, "mode": "files"}
    sources["fx"] = {"enabled": False, "mode": "files"}
    settings = _settings(
        root,
        sources=sources,
        generic_import={
            "delimiter": "whitespace",
            "columns": {
                "customer_id": "customer_id",
                "ordered_at": "date",
                "amount": "dollar_value",
                "quantity": "number_of_cds",
            },
            "timestamp_format": "%Y%m%d",
        },
    )
    _load_sources(settings)
    _dbt_build(settings, root)
    return settings
