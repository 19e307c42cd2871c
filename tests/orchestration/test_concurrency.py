"""DuckDB single-writer safety: two runs started at once; the second waits for the pool, neither fails."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import dagster as dg
import pycountry
import yaml

from core.settings import PROJECT_ROOT

ENABLED = "fx"
CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)  # one row per (day, currency): keys stay unique


def test_two_runs_at_once_are_serialised_not_failed(tmp_path, monkeypatch):
    landing = tmp_path / "landing" / "fx"
    landing.mkdir(parents=True)
    day = dt.date(2015, 1, 1)
    lines = ["rate_date,currency,usd_per_unit"]
    for i in range(400_000):
        lines.append(f"{day + dt.timedelta(days=i // len(CURRENCIES))},{CURRENCIES[i % len(CURRENCIES)]},{1 + (i % 97) / 100}")
    (landing / "rates.csv").write_text("\n".join(lines) + "\n")
    sources = {name: {"enabled": False} for name in ("shopify", "amazon", "ebay", "walmart", "meta_ads", "google_ads", "email", "web",
                                                     "support", "shipments", "returns", "catalog")}
    sources[ENABLED] = {"mode": "files"}
    settings = {
        "warehouse": {"duckdb_path": str(tmp_path / "w.duckdb"), "temp_directory": str(tmp_path / "tmp")},
        "paths": {"landing_dir": str(tmp_path / "landing"), "demo_dir": str(tmp_path / "demo")},
        "sources": sources,
    }
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(settings))
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    # dagster.yaml names storage relative to DAGSTER_HOME (the CLI runs from there); the
    # instance's storage is created once, as on any deployment, before runs start
    monkeypatch.chdir(home)
    dg.DagsterInstance.from_config(str(home)).dispose()
    env = {**os.environ, "DAGSTER_HOME": str(home), "RETENTION_SETTINGS": str(tmp_path / "settings.yaml")}
    command = [sys.executable, "-m", "orchestration.cli", "run", "ingest_sources"]
    runs = [subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert not any("could not set lock" in out.lower() for out in outputs)  # DuckDB's lock conflict message

    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records()
        assert len(records) == 2 and all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records)
        waited = 0
        for record in records:
            messages = [e.message or "" for e in instance.all_logs(record.dagster_run.run_id)]
            waited += sum("blocked by limit for pool duckdb" in m for m in messages)
        # the runs overlapped in time, so steps of one had to wait for the other's DuckDB slot
        assert waited > 0
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.fx_rates").fetchall() == [(400_000,)]  # loaded once, not twice
    con.close()
