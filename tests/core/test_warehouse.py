"""Warehouse connections wait for another process's lock instead of failing."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pandas as pd

from core.settings import Settings
from core.warehouse import connect, read_frame, scalar


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


ALL_TYPES_SQL = """
select * from (values
    ('a', 1, 10::bigint, 5::hugeint, 1.25::decimal(18, 2), 2.5::double, true, date '2026-01-02',
     timestamp '2026-01-02 03:04:05', timestamptz '2026-01-02 03:04:05+00', 3, 7::tinyint, false, 9::ubigint),
    (null, null, null, null, null, null, null, null, null, null, 4, 8, true, null)
) as t(text, int32, int64, huge, money, real, flag, day, stamp, stamp_tz, int32_full, int8_full, flag_full, unsigned)
"""


def test_read_frame_gives_the_same_frame_as_duckdb_df():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for sql, params in [(ALL_TYPES_SQL, None), (ALL_TYPES_SQL + " where int32_full = ?", [3]), (ALL_TYPES_SQL + " where false", None)]:
        expected = con.execute(sql, params or []).df()
        got = read_frame(con, sql, params)
        pd.testing.assert_frame_equal(got, expected)
    # a type it does not convert itself (a list) and repeated names still give .df()'s frame
    others = "select interval 1 day as i, {'a': 1} as st, '2026-01-01 00:00:00.123456789'::timestamp_ns as ns, 'x' as s"
    for sql in ["select [1, 2] as l, 'x' as s", others, "select 1 as a, 2 as a"]:
        pd.testing.assert_frame_equal(read_frame(con, sql), con.execute(sql).df())


def test_parquet_exports_leave_contact_columns_in_the_warehouse(tmp_path):
    from core.warehouse import export_schema_to_parquet

    con = duckdb.connect()
    con.execute(
        """
        create schema marts;
        create table marts.dim_customers as
            select 'c1' as customer_id, 'ann@example.com' as email, 'x@relay.walmart.com' as relay_email,
                   '+442070313000' as phone, 3 as email_sends_recent, 'London' as city;
        create table marts.kpi_daily as select date '2026-11-01' as day, 2 as orders;
        """
    )
    assert export_schema_to_parquet(con, "marts", tmp_path) == {"dim_customers": 1, "kpi_daily": 1}
    customers = pd.read_parquet(tmp_path / "dim_customers.parquet")
    assert customers.columns.tolist() == ["customer_id", "email_sends_recent", "city"]
    assert customers.iloc[0].tolist() == ["c1", 3, "London"]
    assert pd.read_parquet(tmp_path / "kpi_daily.parquet")["orders"].tolist() == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dim_customers.parquet", "kpi_daily.parquet"]
    # the export writes without keeping row order, and leaves the connection's setting as it was
    assert con.execute("select current_setting('preserve_insertion_order')").fetchall() == [(True,)]
    con.execute("set preserve_insertion_order = false")
    export_schema_to_parquet(con, "marts", tmp_path)
    assert con.execute("select current_setting('preserve_insertion_order')").fetchall() == [(False,)]
