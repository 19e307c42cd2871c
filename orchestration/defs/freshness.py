"""Freshness checks: raw sources and key marts must have been updated within a day and a half."""

import datetime as dt

import dagster as dg

from ingest.sources import RAW_TABLES
from orchestration.defs.ingest import raw_asset_key

KEY_MARTS = [dg.AssetKey(["marts", name]) for name in ("fct_orders", "dim_customers", "customer_rfm", "ml_customer_features")]
MAX_AGE = dt.timedelta(hours=36)  # a nightly pipeline that missed one night is already late

freshness_checks = dg.build_last_update_freshness_checks(
    assets=[raw_asset_key(table) for table in RAW_TABLES] + KEY_MARTS + [dg.AssetKey("churn_scores")],
    lower_bound_delta=MAX_AGE,
)

freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks,
    name="freshness_checks_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
