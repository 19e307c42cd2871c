"""publish_audiences reads wide rows only for the customers an audience selects: same files,
same members, same manifest as publishing from every scored customer."""

from __future__ import annotations

import random
from datetime import date

import duckdb
import pytest

from activation import ActivationConfig, publish
from activation.audiences import reason_column_names
from activation.warehouse import audience_candidates, publish_audiences, scored_customers

AS_OF = date(2024, 5, 1)
CUSTOMERS = 400


@pytest.fixture
def warehouse(tmp_path):
    """A small warehouse with the marts and scores a publish reads, customers of every kind."""
    rng = random.Random(7)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for schema in ("marts", "ml"):
        con.execute(f"create schema {schema}")
    reasons = ", ".join(f"{name} varchar" for name in reason_column_names())
    con.execute(
        "create table marts.dim_customers (customer_id varchar, email varchar, phone varchar, first_name varchar, "
        "last_name varchar, city varchar, state varchar, zip varchar, country_code varchar, days_since_last_order integer, "
        "order_count integer, favourite_category varchar, email_consent varchar, ads_consent varchar, is_opted_out boolean)"
    )
    con.execute(
        "create table ml.churn_scores (customer_id varchar, churn_probability double, risk_band varchar, "
        f"predicted_clv_12m double, {reasons})"
    )
    con.execute("create table marts.customer_rfm (customer_id varchar, rfm_segment varchar, m_score integer)")
    con.execute("create table marts.customer_segments (customer_id varchar, lifecycle_stage varchar)")
    con.execute("create table marts.customer_purchase_intervals (customer_id varchar, is_frequency_declining boolean)")
    for i in range(CUSTOMERS):
        cid = f"c{i:04d}"
        orders = rng.choice([1, 1, 2, 3, 8])
        con.execute(
            "insert into marts.dim_customers values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                cid, rng.choice([f"Buyer{i}@Example.com", None, f"x{i}@marketplace.amazon.com"]),
                rng.choice([f"+1 415 555 {1000 + i}", None]), rng.choice(["Zoë", "Ann", None]), "Smith",
                "München", "CA", "94105", rng.choice(["US", "DE"]), rng.choice([5, 45, 95, 200, 400]), orders,
                rng.choice(["shoes", None]), rng.choice(["subscribed", "unsubscribed", None]),
                rng.choice(["granted", "denied", "unknown"]), rng.random() < 0.1,
            ],
        )
        if i % 10 == 9:
            continue  # not scored: no churn score yet
        reason = ["days_since_last_order", "inactivity", "no order for 95 days"] + [None] * (len(reason_column_names()) - 3)
        con.execute(
            f"insert into ml.churn_scores values (?, ?, ?, ?, {', '.join('?' * len(reason))})",
            [cid, rng.random(), rng.choice(["low", "medium", "high"]), rng.random() * 500, *reason],
        )
        con.execute("insert into marts.customer_rfm values (?, ?, ?)", [cid, rng.choice(["champions", "at_risk", "lost"]), rng.randint(1, 5)])
        con.execute("insert into marts.customer_segments values (?, ?)", [cid, rng.choice(["new", "repeat", "loyal", "lapsed", "churned"])])
        if i % 3:
            con.execute("insert into marts.customer_purchase_intervals values (?, ?)", [cid, rng.random() < 0.3])
    yield con
    con.close()


def test_publish_from_the_selected_customers_equals_publish_from_all(warehouse, tmp_path):
    config = ActivationConfig(control_share=0.2)
    candidates, scored = audience_candidates(warehouse, config)
    assert scored == CUSTOMERS - CUSTOMERS // 10
    assert 0 < len(candidates) < scored  # some customers are in no audience

    result = publish_audiences(warehouse, tmp_path / "selected", AS_OF, config, "m")
    everyone = scored_customers(warehouse)
    assert len(everyone) == scored
    reference = publish(everyone, AS_OF, tmp_path / "all", config, model_version="m")

    assert result.manifest["customers_scored"] == reference.manifest["customers_scored"] == scored
    assert result.manifest["audiences"] == reference.manifest["audiences"]
    assert result.manifest["files"] == reference.manifest["files"]  # paths, rows and sha256 of every file
    assert result.membership.equals(reference.membership)
    assert len(result.membership) > 0
    # the publish is recorded in the warehouse
    recorded = warehouse.execute("select count(*) from activation.publish_history where as_of = ?", [AS_OF]).fetchall()[0][0]
    assert recorded == len(result.membership)


def test_no_customer_selected_still_publishes_the_manifest(warehouse, tmp_path):
    config = ActivationConfig(audiences=[{"name": "nobody", "description": "", "min_orders": 1000, "destinations": ["meta"]}])
    candidates, scored = audience_candidates(warehouse, config)
    assert len(candidates) == 0
    result = publish_audiences(warehouse, tmp_path / "out", AS_OF, config, "m")
    assert result.manifest["customers_scored"] == scored
    assert result.manifest["audiences"]["nobody"]["selected"] == 0
    assert result.membership.empty
