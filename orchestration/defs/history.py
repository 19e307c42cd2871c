"""Rebuild the warehouse views as they were on a past date (a backfill over a date range).

Each partition is an as-of date. Its marts are built by dbt with `as_of_date` set to that
date into schemas prefixed `asof_YYYYMMDD_` (e.g. `asof_20261001_marts.kpi_daily`), from
the same raw tables. Today's marts, scores, audience files and emails are not touched.
"""

import datetime as dt
import json

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt import dbt_environment_set
from orchestration.defs.resources import DUCKDB_POOL, Warehouse

as_of_dates = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=1)


def history_schema_prefix(as_of: dt.date) -> str:
    return f"asof_{as_of:%Y%m%d}_"


@dg.asset(group_name="history", kinds={"dbt", "duckdb"}, partitions_def=as_of_dates, pool=DUCKDB_POOL,
          deps=[dg.AssetKey(["marts", "fct_orders"])])
def warehouse_as_of(context: dg.AssetExecutionContext, warehouse: Warehouse, dbt: DbtCliResource) -> dg.MaterializeResult:
    """The marts (and what they are built from) as of the partition's date, in their own schemas."""
    as_of = dt.date.fromisoformat(context.partition_key)
    settings = warehouse.load_settings()
    prefix = history_schema_prefix(as_of)
    variables = {**settings.dbt_vars(), "as_of_date": as_of.isoformat(), "schema_prefix": prefix}
    # seeds and models only: the tests already ran on the same code in the nightly build
    command = ["build", "--resource-type", "seed", "--resource-type", "model", "--vars", json.dumps(variables)]
    with dbt_environment_set(settings):
        dbt.cli(command, raise_on_error=True).wait()
    return dg.MaterializeResult(metadata={"as_of_date": as_of.isoformat(), "schemas": f"{prefix}staging, {prefix}intermediate, {prefix}marts"})


rebuild_history = dg.define_asset_job(
    name="rebuild_history",
    selection=[warehouse_as_of],
    partitions_def=as_of_dates,
    description="Backfill: the warehouse views as of each date in a range.",
)
