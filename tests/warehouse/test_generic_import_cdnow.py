"""The generic order import end to end on the CDNOW sample from `lifetimes` (23,570 customers,
69,659 purchases, whitespace separated): loaded with a column mapping, built with dbt, and per
customer order counts, first / last dates and spend checked against pandas."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pandas as pd
import pytest

from core.settings import GenericImportSettings, Settings, SourceSettings
from tests.warehouse.conftest import frame, ingest_all, query, run_dbt

pytestmark = pytest.mark.xdist_group("warehouse_cdnow")


def cdnow_master() -> Path:
    """CDNOW_master.txt from the installed `lifetimes` package, without importing it (it breaks on pandas 3)."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "lifetimes (dev dependency) is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_master.txt"


@pytest.fixture(scope="session")
def cdnow(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("warehouse_cdnow")
    settings = Settings(
        project_root=root,
        sources={name: SourceSettings(enabled=True, mode="files") for name in Settings().sources},
        generic_import=GenericImportSettings(
            delimiter="whitespace",
            columns={"customer_id": "customer_id", "ordered_at": "date", "amount": "dollar_value", "quantity": "number_of_cds"},
            timestamp_format="%Y%m%d",
        ),
    )
    landing = settings.landing_dir("generic")
    landing.mkdir(parents=True)
    shutil.copy(cdnow_master(), landing / "CDNOW_master.txt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUCKDB_PATH", str(root / "warehouse.duckdb"))
        ingest_all(settings)
    db = root / "warehouse.duckdb"
    run_dbt(["build"], db, root)
    expected = pd.read_csv(cdnow_master(), sep=r"\s+", dtype={"customer_id": str})
    expected["date"] = pd.to_datetime(expected["date"].astype(str), format="%Y%m%d").dt.date
    per_customer = expected.groupby("customer_id").agg(
        orders=("date", "size"), first_date=("date", "min"), last_date=("date", "max"), spend=("dollar_value", "sum")
    )
    return {"db": db, "raw": expected, "expected": per_customer}


def test_every_row_is_an_order(cdnow):
    loaded = query(cdnow["db"], "select count(*) from raw.generic_orders")[0][0]
    built = query(cdnow["db"], "select count(*), count(distinct customer_id) from marts.fct_orders where platform = 'generic'")[0]
    assert loaded == built[0] == len(cdnow["raw"]) == 69659
    assert built[1] == len(cdnow["expected"]) == 23570


def test_per_customer_orders_dates_and_spend_match_pandas(cdnow):
    actual = frame(
        cdnow["db"],
        """
        select
            split_part(accounts.account_id, ':', 2) as customer_id,
            customers.order_count as orders,
            customers.first_order_date as first_date,
            customers.last_order_date as last_date,
            customers.total_revenue as spend
        from marts.dim_customers as customers
        inner join (select distinct customer_id, account_id from marts.fct_orders) as accounts
            on customers.customer_id = accounts.customer_id
        """,
    ).set_index("customer_id")
    expected = cdnow["expected"]
    assert len(actual) == len(expected)
    merged = expected.join(actual, lsuffix="_expected")
    assert (merged["orders"] == merged["orders_expected"]).all()
    assert (pd.to_datetime(merged["first_date"]).dt.date == merged["first_date_expected"]).all()
    assert (pd.to_datetime(merged["last_date"]).dt.date == merged["last_date_expected"]).all()
    assert (merged["spend"].astype(float) - merged["spend_expected"]).abs().max() < 0.01


def test_order_facts_match_the_file(cdnow):
    actual = frame(
        cdnow["db"],
        "select split_part(account_id, ':', 2) as customer_id, ordered_date, order_amount, currency from marts.fct_orders",
    )
    assert set(actual["currency"]) == {"USD"}
    by_day = actual.groupby(["customer_id", "ordered_date"])["order_amount"].agg(["size", "sum"])
    raw = cdnow["raw"].groupby(["customer_id", "date"])["dollar_value"].agg(["size", "sum"])
    raw.index = raw.index.set_names(["customer_id", "ordered_date"])
    by_day.index = by_day.index.set_levels(pd.to_datetime(by_day.index.levels[1]).date, level=1)
    joined = raw.join(by_day, lsuffix="_raw")
    assert (joined["size"] == joined["size_raw"]).all()
    assert (joined["sum"].astype(float) - joined["sum_raw"]).abs().max() < 0.01


def test_as_of_date_defaults_to_the_last_purchase(cdnow):
    assert str(query(cdnow["db"], "select as_of_date from intermediate.int_as_of_dates_resolved")[0][0]) == "1998-06-30"
    # the last snapshot of the ML mart scores the customers as of that date
    rows = query(cdnow["db"], "select max(snapshot_date), count(distinct snapshot_date) from marts.ml_customer_features")[0]
    assert str(rows[0]) == "1998-06-30" and rows[1] == 7
