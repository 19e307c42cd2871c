"""The dbt warehouse on demo data: `dbt build` (models, data tests, unit tests) passes, the churn
driver tables find every planted driver (ingest/demo/DRIVERS.md, truth.json), identity resolution
matches the true persons, and money and delivery facts agree with the truth files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from core.settings import Settings
from ingest.run import ensure_demo_data
from tests.warehouse.conftest import DBT_PROJECT, frame, ingest_all, query, run_dbt

pytestmark = pytest.mark.xdist_group("warehouse_demo")  # one demo warehouse per worker

CUSTOMERS = 4000
SEED = 42
AS_OF = dt.date(2026, 11, 22)
TOP_FINDINGS = 10

# How each planted driver shows in churn_by_dimension: (dimension, value); the value may use
# the driver's `planted` parameters from truth.json.
DRIVER_FINDINGS = {
    "long_eu_delivery": lambda planted: ("delivery_time_bucket", "over_20_days"),
    "defective_product_returned": lambda planted: ("returned_product", planted["sku"]),
    "unresolved_complaint": lambda planted: ("open_complaint", "yes"),
    "price_sensitive_no_discount": lambda planted: ("price_sensitivity", "discount_seeker_full_price"),
    "fading_email_engagement": lambda planted: ("email_engagement_trend", "declining"),
}


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> dict:
    """Demo data for a few thousand customers, ingested and built with `dbt build` once."""
    root = tmp_path_factory.mktemp("warehouse_demo")
    settings = Settings(project_root=root)
    settings.demo.customers = CUSTOMERS
    settings.demo.seed = SEED
    settings.demo.as_of = AS_OF
    db = root / "warehouse.duckdb"
    settings.warehouse.duckdb_path = db
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUCKDB_PATH", str(db))  # never someone else's warehouse, whatever the environment says
        ensure_demo_data(settings)
        ingest_all(settings)
    result = run_dbt(["build"], db, root)
    truth_dir = settings.path(settings.paths.demo_dir) / "truth"
    return {
        "db": db,
        "truth": json.loads((truth_dir / "truth.json").read_text()),
        "orders": pd.read_parquet(truth_dir / "orders.parquet"),
        "dbt_output": result.stdout,
    }


def test_dbt_build_runs_models_tests_and_unit_tests(demo_warehouse):
    output = demo_warehouse["dbt_output"]
    assert "ERROR=0" in output and "PASS=" in output
    # unit tests ran as part of the build, not only the data tests
    assert "churn_by_dimension_lift_math" in output
    assert "int_customer_identities_resolved_chains_and_relay_sharing" in output


def test_every_mart_has_rows(demo_warehouse):
    marts = [
        name
        for (name,) in query(
            demo_warehouse["db"], "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    ]
    assert len(marts) >= 18
    empty = [m for m in marts if query(demo_warehouse["db"], f"select count(*) from marts.{m}")[0][0] == 0]
    assert not empty


@pytest.mark.parametrize("driver", sorted(DRIVER_FINDINGS))
def test_planted_driver_is_a_top_churn_finding(demo_warehouse, driver):
    planted = next(d for d in demo_warehouse["truth"]["drivers"] if d["name"] == driver)
    dimension, value = DRIVER_FINDINGS[driver](planted["planted"])
    rows = query(
        demo_warehouse["db"],
        "select adjusted_lift, lift_ci_low, adjusted_lift_ci_low, is_significant, finding_rank, churn_rate, expected_churn_rate "
        "from marts.churn_by_dimension where dimension = ? and dimension_value = ?",
        [dimension, value],
    )
    assert rows, f"{driver}: no {dimension}={value} in churn_by_dimension"
    adjusted_lift, _, adjusted_lift_ci_low, is_significant, finding_rank, churn_rate, expected = rows[0]
    assert adjusted_lift > 1, f"{driver}: churn {churn_rate} vs expected {expected}"
    assert is_significant and adjusted_lift_ci_low > 1
    assert finding_rank <= TOP_FINDINGS, f"{driver}: ranked {finding_rank}"


def test_long_delivery_hurts_in_europe_not_in_the_control_markets(demo_warehouse):
    """DRIVERS.md: the slow lane also serves AU, JP and MX without a planted effect."""
    profiles = dict(
        query(
            demo_warehouse["db"],
            "select value_1, adjusted_lift from marts.churn_profiles "
            "where dimension_count = 2 and dimension_1 = 'region' and dimension_2 = 'delivery_time_bucket' "
            "and value_2 = 'over_20_days'",
        )
    )
    assert profiles["Europe"] > 1.2
    for region, lift in profiles.items():
        if region != "Europe":
            assert lift < profiles["Europe"], region
    top = query(demo_warehouse["db"], "select profile_id from marts.churn_profiles order by profile_rank limit 25")
    assert any("delivery_time_bucket=over_20_days" in p and ("Europe" in p or "lifecycle" in p) for (p,) in top)


def test_defective_product_is_a_systemic_issue(demo_warehouse):
    sku = next(d for d in demo_warehouse["truth"]["drivers"] if d["name"] == "defective_product_returned")["planted"]["sku"]
    rows = query(
        demo_warehouse["db"],
        "select issue_type, return_rate, is_strong_evidence from marts.churn_systemic_issues "
        "where dimension = 'returned_product' and dimension_value = ?",
        [sku],
    )
    assert rows and rows[0][0] == "product" and rows[0][1] > 0.25 and rows[0][2]
    europe = query(
        demo_warehouse["db"], "select long_delivery_share from marts.churn_systemic_issues where issue_id = 'region=Europe'"
    )
    assert europe and europe[0][0] > 0.1


def _pairs(groups: pd.Series) -> int:
    sizes = groups.value_counts()
    return int((sizes * (sizes - 1) // 2).sum())


def test_identity_resolution_matches_true_persons(demo_warehouse):
    resolved = frame(demo_warehouse["db"], "select platform, platform_order_id as order_id, customer_id from marts.fct_orders")
    truth = demo_warehouse["orders"][["platform", "order_id", "person_id"]]
    joined = resolved.merge(truth, on=["platform", "order_id"], how="inner")
    assert len(joined) == len(truth) == len(resolved)
    together = _pairs(joined["customer_id"] + "|" + joined["person_id"])
    precision = together / _pairs(joined["customer_id"])
    recall = together / _pairs(joined["person_id"])
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    persons, customers = joined["person_id"].nunique(), joined["customer_id"].nunique()
    assert abs(customers - persons) / persons < 0.02


def test_customer_ids_are_stable_between_builds(demo_warehouse, tmp_path):
    """Rebuilding the identity models on the same data gives the same customer_id per account."""
    before = frame(demo_warehouse["db"], "select account_id, customer_id from intermediate.int_customer_identities_resolved")
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(Path(demo_warehouse["db"]).read_bytes())
    run_dbt(["run", "--select", "int_customer_identities_resolved"], copy, tmp_path)
    after = frame(copy, "select account_id, customer_id from intermediate.int_customer_identities_resolved")
    assert before.sort_values("account_id").reset_index(drop=True).equals(after.sort_values("account_id").reset_index(drop=True))


def test_money_delivery_and_flags_match_the_truth(demo_warehouse):
    resolved = frame(
        demo_warehouse["db"],
        "select platform, platform_order_id as order_id, order_amount, is_cancelled, delivery_days, is_returned, has_discount "
        "from marts.fct_orders",
    )
    joined = resolved.merge(demo_warehouse["orders"], on=["platform", "order_id"])
    # Walmart's API carries no shipping charge, so only the other platforms add up to the cent
    priced = joined[joined["platform"] != "walmart"]
    assert (priced["order_amount"].astype(float) - priced["amount_usd"]).abs().max() < 0.02
    assert (joined["is_cancelled"] == joined["cancelled"]).all()
    assert (joined["is_returned"] == joined["returned"]).all()
    assert (joined["has_discount"] == joined["had_discount"]).all()
    delivered = joined[joined["delivery_days_y"].notna()]
    assert (delivered["delivery_days_x"] == delivered["delivery_days_y"]).all()


def test_activation_columns_never_carry_relay_addresses(demo_warehouse):
    db = demo_warehouse["db"]
    leaked = query(db, "select count(*) from marts.dim_customers where regexp_matches(email, 'relay|marketplace\\.amazon')")
    assert leaked[0][0] == 0
    relay_only = query(db, "select count(*) from marts.dim_customers where email is null and relay_email is not null")
    assert relay_only[0][0] > 0  # marketplace-only buyers keep their relay address apart
    opted_out_subscribed = query(db, "select count(*) from marts.dim_customers where is_opted_out and ads_consent = 'granted'")
    assert opted_out_subscribed[0][0] == 0


def test_customer_account_count_is_the_accounts_with_orders(demo_warehouse):
    """dim_customers.account_count (taken from identity resolution's cluster size) is the
    number of platform accounts the person ordered from, and some people have several."""
    db = demo_warehouse["db"]
    mismatched, multi = query(
        db,
        """
        with counted as (
            select identities.customer_id, count(distinct orders.account_id) as accounts
            from intermediate.int_orders_converted as orders
            inner join intermediate.int_customer_identities_resolved as identities
                on orders.account_id = identities.account_id
            group by identities.customer_id
        )
        select
            count(*) filter (where counted.accounts is distinct from customers.account_count),
            count(*) filter (where customers.account_count > 1)
        from marts.dim_customers as customers
        left join counted on customers.customer_id = counted.customer_id
        """,
    )[0]
    assert mismatched == 0
    assert multi > 0


def test_ml_snapshots_are_point_in_time(demo_warehouse):
    db = demo_warehouse["db"]
    snapshots = query(
        db,
        "select snapshot_date, count(*), bool_and(label_window_complete), max(is_scoring_snapshot::int) "
        "from marts.ml_customer_features group by 1 order by 1",
    )
    assert len(snapshots) == 7
    dates = [s[0] for s in snapshots]
    step = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]["ml_snapshot_step_days"]
    assert all((b - a).days == step for a, b in zip(dates, dates[1:], strict=False))
    assert dates[-1] == AS_OF - dt.timedelta(days=1)  # the latest order date: the data ends the day before as_of
    counts = [s[1] for s in snapshots]
    assert counts == sorted(counts)  # customers only appear from their first order on
    complete = {s[0]: s[2] for s in snapshots}
    assert complete[dates[0]] and not complete[dates[-1]]
    # a churn label is never contradicted by an order inside the window
    bad = query(db, "select count(*) from marts.ml_customer_features where label_churned and orders_in_label_window > 0")
    assert bad[0][0] == 0
