"""Incremental nightly dbt runs give exactly the warehouse a full rebuild gives.

Demo data is ingested, the last day of raw records is held back (ingest/demo/replay.py) and
the warehouse is built: the night before. Then that day is loaded as one new raw load, plus
new versions of a few old orders, shipments and tickets (updates and late arrivals), and
dbt runs incrementally. A copy of the same warehouse is rebuilt with `--full-refresh`.
Every table of every dbt schema must hold the same rows in both.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from core.settings import Settings
from core.warehouse import scalar, warehouse
from ingest.demo.replay import hold_back, last_full_day, release
from ingest.run import ensure_demo_data
from tests.warehouse.conftest import ingest_all, run_dbt

pytestmark = pytest.mark.xdist_group("warehouse_incremental")

CUSTOMERS = 1200
MODELS_AND_SEEDS = ["build", "--resource-type", "model", "--resource-type", "seed"]
SCHEMAS = ("staging", "intermediate", "marts")
INCREMENTAL_MODELS = (
    "stg_web__events",
    "stg_email__events",
    "stg_shopify__orders",
    "stg_shopify__order_lines",
    "stg_amazon__order_items",
    "stg_ebay__orders",
    "stg_ebay__order_lines",
    "stg_walmart__orders",
    "stg_walmart__order_lines",
    "stg_logistics__shipments",
    "stg_logistics__returns",
    "stg_support__tickets",
)
INCREMENTAL_INTERMEDIATE_MODELS = (
    "int_orders_unioned",
    "int_order_lines_unioned",
    "int_orders_converted",
    "int_email_events_attributed",
    "int_web_sessions_aggregated",
    "int_order_churn_outcomes",
    "int_order_histories_accumulated",
    "int_customer_orders_aggregated",
    "int_customer_months_active",
)
INCREMENTAL_MART_MODELS = ("fct_orders", "fct_order_lines")


def _update_old_records(con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime) -> dict[str, int]:
    """New versions of records loaded on earlier nights: refunded orders, a late delivery, a solved ticket."""
    updates = {
        "shopify_orders": (
            "financial_status = 'refunded', updated_at = '2030-01-01T00:00:00Z'",
            "financial_status = 'paid'",
        ),
        "shipments": ("delivered_at = '2030-01-01T00:00:00Z'", "delivered_at is not null"),
        "support_tickets": (
            "status = 'solved', solved_at = '2030-01-01T00:00:00Z', updated_at = '2030-01-01T00:00:00Z'",
            "status <> 'solved'",
        ),
    }
    changed = {}
    for table, (assignment, condition) in updates.items():
        changed[table] = _new_versions(con, table, assignment, condition, loaded_at)
    return changed


def _new_order_version(
    con: duckdb.DuckDBPyConnection, order: str, loaded_at: dt.datetime, batch: str, customer: dict, address: dict | None = None
) -> None:
    """A new version of the latest version of a Shopify order: ``customer`` merged into its
    customer (and its email), ``address`` into its shipping address; a phone of None removes
    the order's own phone too."""
    con.execute(
        """
        insert into raw.shopify_orders
        select * replace (
            coalesce($email, email) as email,
            case when $drop_phone then null else phone end as phone,
            cast(json_merge_patch(customer, $customer) as varchar) as customer,
            case when $address = '{}' then shipping_address
                else cast(json_merge_patch(shipping_address, $address) as varchar) end as shipping_address,
            md5(_record_hash) as _record_hash,
            $loaded_at as _loaded_at,
            $batch as _batch_id
        )
        from raw.shopify_orders
        where id = $order
        qualify row_number() over (order by _loaded_at desc, _row_number desc) = 1
        """,
        {
            "email": customer.get("email"),
            "drop_phone": "phone" in customer and customer["phone"] is None,
            "customer": json.dumps(customer),
            "address": json.dumps(address or {}),
            "order": order,
            "loaded_at": loaded_at,
            "batch": batch,
        },
    )


def _merge_two_customers(con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime) -> tuple[str, str]:
    """A new version of one Shopify order of customer B carrying the email of customer A.

    Identity resolution then makes A and B one person, so orders built on earlier nights
    move to another customer and both customers' order sequences change. Returns A's and
    B's accounts."""
    a_account, a_email, b_account, b_order = con.execute(
        """
        with shopify as (
            select orders.account_id, orders.platform_order_id, orders.email, identities.customer_id
            from intermediate.int_orders_converted as orders
            inner join intermediate.int_customer_identities_resolved as identities
                on orders.account_id = identities.account_id
            where orders.platform = 'shopify' and orders.email is not null and not orders.is_relay_email
                -- not one of the orders updated tonight: its new version must stay the latest
                and orders.platform_order_id not in (select id from raw.shopify_orders where _loaded_at = $loaded_at)
        )
        select a.account_id, a.email, b.account_id, b.platform_order_id
        from shopify as a
        inner join shopify as b
            on a.customer_id < b.customer_id
        order by a.account_id, b.platform_order_id
        limit 1
        """,
        {"loaded_at": loaded_at},
    ).fetchone()
    _new_order_version(con, b_order, loaded_at, "merge", {"email": a_email})
    return a_account, b_account


def _split_a_customer(
    con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime, *, changed_account_is_smaller: bool = False
) -> tuple[str, str]:
    """A new version of the one Shopify order of an account linked to one other account, with
    another email, name and no phone: nothing links the two any more, the person splits in two.

    An order then moves to another customer and the running totals of the customer it leaves
    change too. Returns the Shopify account and the other account.

    ``changed_account_is_smaller``: the Shopify account has the smaller id, so it keeps the
    customer id (the smallest account's) and the other account, none of whose orders changed,
    moves to a new customer: only comparing the built orders' customers with the resolved
    identities finds its orders."""
    account, other, order = con.execute(
        """
        with identities as (select * from intermediate.int_customer_identities_resolved)
        select shopify.account_id, other.account_id, orders.platform_order_id
        from identities as shopify
        inner join identities as other
            on shopify.customer_id = other.customer_id and shopify.account_id <> other.account_id
        inner join intermediate.int_orders_converted as orders
            on shopify.account_id = orders.account_id
        where shopify.platform = 'shopify' and shopify.account_order_count = 1 and shopify.cluster_account_count = 2
            and orders.platform_order_id not in (select id from raw.shopify_orders where _loaded_at = $loaded_at)
            and (not $smaller or shopify.account_id < other.account_id)
        order by shopify.account_id
        limit 1
        """,
        {"loaded_at": loaded_at, "smaller": changed_account_is_smaller},
    ).fetchone()
    email = f"split-{order}@example.com"
    person = {"email": email, "phone": None, "first_name": "Split", "last_name": order}
    _new_order_version(con, order, loaded_at, "split", person, address=person)
    return account, other


def _cancel_old_orders(con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime) -> list[str]:
    """Five paid Shopify orders of earlier nights cancelled (other orders than the refunds)."""
    _new_versions(
        con,
        "shopify_orders",
        "cancelled_at = '2030-01-01T00:00:00Z', updated_at = '2030-01-01T00:00:00Z'",
        """financial_status = 'paid' and coalesce(cancelled_at, '') = ''
            and _row_number > (select max(_row_number) from raw.shopify_orders) / 2""",
        loaded_at,
    )
    return [row[0] for row in con.execute("select 'shopify:' || id from _changed").fetchall()]


def _correct_fx_rates(con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime) -> list[str]:
    """A late correction of five EUR rates of days with EUR orders (1% higher); returns the days."""
    _new_versions(
        con,
        "fx_rates",
        "usd_per_unit = cast(round(cast(usd_per_unit as double) * 1.01, 5) as varchar)",
        """currency = 'EUR' and rate_date in (
            select distinct strftime(ordered_at, '%Y-%m-%d') from staging.stg_shopify__orders where currency = 'EUR')""",
        loaded_at,
    )
    return [row[0] for row in con.execute("select rate_date from _changed order by 1").fetchall()]


def _new_versions(con: duckdb.DuckDBPyConnection, table: str, assignment: str, condition: str, loaded_at: dt.datetime) -> int:
    """Five rows of a raw table loaded again as a new version (changed by `assignment`) at `loaded_at`."""
    con.execute(
        f"create or replace temp table _changed as select * from raw.{table} where {condition} order by _row_number limit 5"
    )
    con.execute(
        f"update _changed set {assignment}, _record_hash = md5(_record_hash), _loaded_at = ?, _batch_id = 'update'",
        [loaded_at],
    )
    con.execute(f"insert into raw.{table} select * from _changed")
    return scalar(con, "select count(*) from _changed")


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    return con.execute(
        f"""select schema_name, table_name from duckdb_tables()
            where database_name = ? and schema_name in ({", ".join("?" for _ in SCHEMAS)}) order by all""",
        [database, *SCHEMAS],
    ).fetchall()


def _comparable_columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str) -> str:
    """Columns to compare; floating-point values rounded (sums in another order differ in the last bits).

    `built_at` (when the build that wrote a row started) is left out: it differs by design.
    """
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ? "
        "and column_name <> 'built_at' order by column_index",
        [db, schema, table],
    ).fetchall()
    return ", ".join(f'round("{c}", 9) as "{c}"' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in columns)


def _ingested_demo(root: Path, customers: int) -> tuple[Settings, Path]:
    """Settings for a warehouse in `root` with demo data of `customers` customers loaded raw."""
    settings = Settings(project_root=root)
    settings.demo.customers = customers
    settings.warehouse.duckdb_path = root / "warehouse.duckdb"
    ensure_demo_data(settings)
    ingest_all(settings)
    return settings, settings.warehouse.duckdb_path


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUCKDB_PATH", str(root / "warehouse.duckdb"))
        settings, db = _ingested_demo(root, CUSTOMERS)
        with warehouse(settings) as con:
            day = last_full_day(con)
            held = hold_back(con, day)
        run_dbt(MODELS_AND_SEEDS, db, root / "night_before")
        with warehouse(settings) as con:
            staged_before = scalar(con, "select count(*) from staging.stg_web__events")
            tonight = dt.datetime.now(dt.UTC)
            released = release(con, tonight)
            updated = _update_old_records(con, tonight)
            corrected_fx_days = _correct_fx_rates(con, tonight)
            merged_accounts = _merge_two_customers(con, tonight)
            split_accounts = _split_a_customer(con, tonight)
            split_keeping_accounts = _split_a_customer(con, tonight, changed_account_is_smaller=True)
            customer_of_the_moved_account = scalar(
                con,
                "select customer_id from intermediate.int_customer_identities_resolved where account_id = ?",
                [split_keeping_accounts[1]],
            )
            cancelled_orders = _cancel_old_orders(con, tonight)
            customers_before = con.execute(
                "select count(distinct customer_id) from intermediate.int_customer_identities_resolved where account_id in (?, ?)",
                list(merged_accounts),
            ).fetchone()[0]
        incremental = run_dbt(MODELS_AND_SEEDS, db, root / "incremental")
        full_db = root / "full.duckdb"
        shutil.copy(db, full_db)
        full = run_dbt([*MODELS_AND_SEEDS, "--full-refresh"], full_db, root / "full")
    return {
        "root": root,
        "db": db,
        "full_db": full_db,
        "day": day,
        "held": held,
        "released": released,
        "updated": updated,
        "corrected_fx_days": corrected_fx_days,
        "merged_accounts": merged_accounts,
        "split_accounts": split_accounts,
        "split_keeping_accounts": split_keeping_accounts,
        "customer_of_the_moved_account": customer_of_the_moved_account,
        "cancelled_orders": cancelled_orders,
        "customers_before": customers_before,
        "staged_before": staged_before,
        "incremental_log": incremental.stdout,
        "full_log": full.stdout,
    }


def test_one_day_is_held_back_and_released(builds):
    assert builds["held"] == builds["released"]
    assert builds["released"]["shopify_orders"] > 0 and builds["released"]["web_events"] > 0
    assert all(n == 5 for n in builds["updated"].values())


def test_staging_models_ran_incrementally(builds):
    log = builds["incremental_log"]
    for model in INCREMENTAL_MODELS:
        assert f"incremental model staging.{model}" in log, model
    for model in INCREMENTAL_INTERMEDIATE_MODELS:
        assert f"incremental model intermediate.{model}" in log, model
    for model in INCREMENTAL_MART_MODELS:
        assert f"incremental model marts.{model}" in log, model
    compiled = (
        builds["root"]
        / "incremental"
        / "target"
        / "compiled"
        / "retention"
        / "models"
        / "staging"
        / "web"
        / "stg_web__events.sql"
    )
    assert "arrived._loaded_at >" in compiled.read_text(), "the incremental branch of incremental_source was not used"
    con = duckdb.connect(str(builds["db"]), read_only=True)
    try:
        after = scalar(con, "select count(*) from staging.stg_web__events")
    finally:
        con.close()
    assert after == builds["staged_before"] + builds["released"]["web_events"]


def _differences(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, tuple[int, int]]:
    """Per table of the dbt schemas: rows only in `database`, rows only in the attached full_build."""
    tables = _tables(con, database)
    assert len(tables) > 40
    differences = {}
    for schema, table in tables:
        columns = _comparable_columns(con, database, schema, table)
        incremental = f'select {columns} from {database}."{schema}"."{table}"'
        full = f'select {columns} from full_build."{schema}"."{table}"'
        only_incremental = scalar(con, f"select count(*) from ({incremental} except all {full})")
        only_full = scalar(con, f"select count(*) from ({full} except all {incremental})")
        if only_incremental or only_full:
            differences[f"{schema}.{table}"] = (only_incremental, only_full)
    return differences


def test_incremental_run_equals_full_rebuild(builds):
    con = duckdb.connect(str(builds["db"]), read_only=True)
    try:
        con.execute(f"attach '{builds['full_db']}' as full_build (read_only)")
        differences = _differences(con, "warehouse")
        assert (
            scalar(
                con,
                "select count(*) from warehouse.staging.stg_shopify__orders where financial_status = 'refunded' and updated_at >= '2030-01-01'",
            )
            == 5
        )
        # the late FX correction reached orders converted on earlier nights
        days = builds["corrected_fx_days"]
        assert len(days) == 5
        corrected = con.execute(
            f"""
            select count(*), count(*) filter (where orders.fx_rate = cast(rates.usd_per_unit as decimal(24, 10)))
            from warehouse.intermediate.int_orders_converted as orders
            inner join warehouse.staging.stg_fx__rates as rates
                on rates.currency = 'EUR' and rates.rate_date = orders.ordered_date
            where orders.currency = 'EUR' and orders.ordered_date in ({", ".join("?" for _ in days)})
            """,
            [dt.date.fromisoformat(day) for day in days],
        ).fetchall()[0]
        assert corrected[0] > 0 and corrected[0] == corrected[1]
        # the identity merge moved orders built on earlier nights to the merged customer
        assert builds["customers_before"] == 2
        merged = con.execute(
            "select count(distinct customer_id), count(*) from warehouse.marts.fct_orders where account_id in (?, ?)",
            list(builds["merged_accounts"]),
        ).fetchone()
        assert merged[0] == 1 and merged[1] >= 2
        # the split moved an order built on earlier nights away from the customer it shared
        split = con.execute(
            "select count(distinct customer_id) from warehouse.intermediate.int_customer_identities_resolved where account_id in (?, ?)",
            list(builds["split_accounts"]),
        ).fetchone()
        assert split[0] == 2
        # a split where the account whose order changed keeps the customer id: the other
        # account's orders, unchanged, move to its new customer id all the same
        kept, moved = builds["split_keeping_accounts"]
        assert kept < moved
        moved_customers = con.execute(
            "select distinct customer_id from warehouse.marts.fct_orders where account_id = ?", [moved]
        ).fetchall()
        assert len(moved_customers) == 1 and moved_customers[0][0] != builds["customer_of_the_moved_account"]
        assert scalar(con, "select count(distinct customer_id) from warehouse.marts.fct_orders where account_id in (?, ?)", [kept, moved]) == 2
        # orders cancelled tonight left the churn outcomes built on earlier nights
        cancelled = builds["cancelled_orders"]
        placeholders = ", ".join("?" for _ in cancelled)
        assert len(cancelled) == 5
        assert (
            scalar(
                con,
                f"select count(*) from warehouse.marts.fct_orders where is_cancelled and order_id in ({placeholders})",
                cancelled,
            )
            == 5
        )
        assert (
            scalar(
                con,
                f"select count(*) from warehouse.intermediate.int_order_churn_outcomes where order_id in ({placeholders})",
                cancelled,
            )
            == 0
        )
    finally:
        con.close()
    assert not differences, f"rows only in the incremental / only in the full build: {differences}"


def test_models_follow_a_pinned_and_then_released_as_of_date(builds, tmp_path):
    """The incremental models are plain tables while as_of_date is pinned and incremental
    while it follows the data. Pinning an earlier date drops the later orders (and the
    deliveries, returns, tickets and events after it); the next nightly run (as-of date
    released) must bring every one of them back: every table as a full rebuild has it."""
    db = tmp_path / "pinned.duckdb"
    shutil.copy(builds["full_db"], db)
    models = ["run"]
    pinned = dt.date.fromisoformat(str(builds["day"])) - dt.timedelta(days=60)
    run_dbt(models, db, tmp_path / "pinned", vars={"as_of_date": pinned.isoformat()})
    with duckdb.connect(str(db), read_only=True) as con:
        for table in ("intermediate.int_orders_converted", "marts.fct_orders", "marts.fct_order_lines"):
            assert scalar(con, f"select max(ordered_date) from {table}") <= pinned
    released = run_dbt(models, db, tmp_path / "released")
    for model in INCREMENTAL_INTERMEDIATE_MODELS:
        assert f"incremental model intermediate.{model}" in released.stdout, model
    for model in INCREMENTAL_MART_MODELS:
        assert f"incremental model marts.{model}" in released.stdout, model
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(f"attach '{builds['full_db']}' as full_build (read_only)")
        assert scalar(con, f"select count(*) from full_build.marts.fct_orders where ordered_date > '{pinned}'") > 0
        differences = _differences(con, "pinned")
    finally:
        con.close()
    assert not differences, f"rows only after the release / only in the full build: {differences}"


def test_incremental_run_into_a_new_month_equals_full_rebuild(tmp_path):
    """The night the as-of date enters a new month: every customer still active gets that
    month (int_customer_months_active), not only the customers with new data. The warehouse
    is built with the current month held back, then the month arrives in one load."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
        settings, db = _ingested_demo(tmp_path, 400)
        with warehouse(settings) as con:
            month_start = last_full_day(con).replace(day=1)
            hold_back(con, month_start)
        run_dbt(MODELS_AND_SEEDS, db, tmp_path / "month_before")
        with warehouse(settings) as con:
            months_before = scalar(con, "select max(month_start) from intermediate.int_customer_months_active")
            release(con, dt.datetime.now(dt.UTC))
        run_dbt(MODELS_AND_SEEDS, db, tmp_path / "incremental")
        full_db = tmp_path / "full.duckdb"
        shutil.copy(db, full_db)
        run_dbt([*MODELS_AND_SEEDS, "--full-refresh"], full_db, tmp_path / "full")
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(f"attach '{full_db}' as full_build (read_only)")
        assert months_before < month_start
        assert scalar(con, "select max(month_start) from intermediate.int_customer_months_active") == month_start
        differences = _differences(con, "warehouse")
    finally:
        con.close()
    assert not differences, f"rows only in the incremental / only in the full build: {differences}"


def test_latest_build_uniqueness_sees_the_rows_the_night_wrote(builds, tmp_path):
    """stg_web__events keeps the build time of each row: the released events carry the
    incremental build's, the older events the night before's. unique_in_latest_build passes on
    the built table and fails once an older event is written again under the same id."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(builds["db"], db)
    con = duckdb.connect(str(db))
    try:
        builds_seen, in_latest, in_older = con.execute(
            """
            select
                count(distinct built_at),
                count(*) filter (where built_at = latest),
                count(*) filter (where built_at < latest)
            from staging.stg_web__events, (select max(built_at) as latest from staging.stg_web__events)
            """
        ).fetchone()
    finally:
        con.close()
    assert builds_seen == 2
    # the night wrote only the events that arrived; the others are as the night before wrote them
    assert in_latest == builds["released"]["web_events"]
    assert in_older == builds["staged_before"]

    check = ["test", "--select", "stg_web__events,test_name:unique_in_latest_build"]
    run_dbt(check, db, tmp_path / "clean")  # raises when dbt fails

    con = duckdb.connect(str(db))
    try:
        con.execute(
            """
            insert into staging.stg_web__events
            select * replace ((select max(built_at) from staging.stg_web__events) as built_at)
            from staging.stg_web__events
            where built_at < (select max(built_at) from staging.stg_web__events)
            limit 1
            """
        )
    finally:
        con.close()
    with pytest.raises(AssertionError, match="FAIL 1 unique_in_latest_build_stg_web__events_web_event_id"):
        run_dbt(check, db, tmp_path / "duplicated")

    # as a full refresh leaves it: every row from one build, so every key is checked; a
    # duplicate between two rows of that build fails (the older copy no longer stands apart)
    con = duckdb.connect(str(db))
    try:
        con.execute("update staging.stg_web__events set built_at = (select min(built_at) from staging.stg_web__events)")
        assert con.execute("select count(distinct built_at) from staging.stg_web__events").fetchone() == (1,)
    finally:
        con.close()
    with pytest.raises(AssertionError, match="FAIL 1 unique_in_latest_build_stg_web__events_web_event_id"):
        run_dbt(check, db, tmp_path / "one_build")
