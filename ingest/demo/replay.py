"""Replay a nightly load on demo data: hold back the last day of raw records, then load it.

The demo generator writes the whole history at once. To test and measure the incremental
nightly run, `hold_back(con, day)` moves every raw record whose latest timestamp (last
update, delivery, event time) falls on or after `day` into the `replay` schema: the
warehouse then looks as it did the night before. `release(con)` appends those records to
the raw tables as one new load (a new `_loaded_at` and batch id), which is what that
night's ingest would have done: new orders, events and tickets, and new versions of older
orders, shipments and tickets that changed that day.

Used by `benchmarks/pipeline.py` and `tests/warehouse/test_incremental.py`.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from core.warehouse import scalar, table_exists


def _day(text_column: str) -> str:
    return f"try_cast(left({text_column}, 10) as date)"


def _latest_day(*text_columns: str) -> str:
    return f"coalesce({', '.join(_day(c) for c in text_columns)})"


# raw table -> SQL for the day a record arrived (its latest timestamp), over the raw text columns
ARRIVAL_DAY: dict[str, str] = {
    "shopify_orders": _latest_day("nullif(updated_at, '')", "created_at"),
    "amazon_order_items": _latest_day("nullif(\"last-updated-date\", '')", '"purchase-date"'),
    "amazon_orders": _latest_day("nullif(\"LastUpdateDate\", '')", '"PurchaseDate"'),
    "ebay_orders": _latest_day("nullif(\"lastModifiedDate\", '')", '"creationDate"'),
    "walmart_orders": 'cast(to_timestamp(try_cast("orderDate" as bigint) / 1000) as date)',
    "generic_orders": _day("ordered_at"),
    "email_events": _day("occurred_at"),
    "web_events": _day("occurred_at"),
    "shipments": _latest_day("nullif(delivered_at, '')", "shipped_at"),
    "returns": _day("requested_at"),
    "support_tickets": _latest_day("nullif(updated_at, '')", "created_at"),
    "meta_ads_insights": _day("date_start"),
    "google_ads_campaign_performance": _day('"segments.date"'),
    "fx_rates": _day("rate_date"),
}


def last_full_day(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The day before the last local date with a marketplace order in the raw tables.

    Raw timestamps carry the buyer's local date; the very last date holds only the few
    orders placed after midnight east of UTC, so "one day" of data starts a day earlier."""
    days = [
        f"select max({ARRIVAL_DAY[t]}) as day from raw.{t}"
        for t in ("shopify_orders", "amazon_order_items", "ebay_orders", "walmart_orders", "generic_orders")
        if table_exists(con, "raw", t)
    ]
    day = scalar(con, f"select max(day) from ({' union all '.join(days)})")
    if day is None:
        raise ValueError("no orders in the raw tables: nothing to hold back")
    return day - dt.timedelta(days=1)


def hold_back(con: duckdb.DuckDBPyConnection, day: dt.date) -> dict[str, int]:
    """Move raw records that arrived on or after `day` to `replay.<table>`; rows moved per table."""
    con.execute("create schema if not exists replay")
    moved = {}
    for table, arrival_day in ARRIVAL_DAY.items():
        if not table_exists(con, "raw", table):
            continue
        con.execute("begin")
        con.execute(f"create or replace table replay.{table} as select * from raw.{table} where {arrival_day} >= ?", [day])
        con.execute(f"delete from raw.{table} where {arrival_day} >= ?", [day])
        con.execute("commit")
        moved[table] = scalar(con, f"select count(*) from replay.{table}")
    return moved


def release(con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime | None = None) -> dict[str, int]:
    """Append the held-back records to the raw tables as one new load; rows loaded per table."""
    loaded_at = loaded_at or dt.datetime.now(dt.UTC)
    batch_id = f"replay-{loaded_at:%Y%m%dT%H%M%S}"
    loaded = {}
    for table in ARRIVAL_DAY:
        if not table_exists(con, "replay", table):
            continue
        con.execute("begin")
        con.execute(
            f"insert into raw.{table} select * replace (?::varchar as _batch_id, ?::timestamptz as _loaded_at) from replay.{table}",
            [batch_id, loaded_at],
        )
        loaded[table] = scalar(con, f"select count(*) from replay.{table}")
        con.execute(f"drop table replay.{table}")
        con.execute("commit")
    return loaded
