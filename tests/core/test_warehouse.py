"""Warehouse connections wait for another process's lock instead of failing."""

from __future__ import annotations

import subprocess
import sys
import time

from core.settings import Settings
from core.warehouse import connect, scalar


def test_connect_waits_while_another_process_holds_the_write_lock(tmp_path, monkeypatch):
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); c.execute('create table t as select 1 as x'); print('held', flush=True); time.sleep(3); c.close()"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    settings = Settings(project_root=tmp_path)
    settings.warehouse.duckdb_path = path
    started = time.monotonic()
    con = connect(settings)
    waited = time.monotonic() - started
    assert scalar(con, "select x from t") == 1
    con.close()
    holder.wait(timeout=30)
    assert waited > 1.0  # it really waited for the other process
