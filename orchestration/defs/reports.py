"""Alert digest (nightly), weekly stakeholder report, and Parquet exports of the marts for analysts."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from core.warehouse import export_schema_to_parquet
from orchestration.defs.dbt import warehouse_models
from orchestration.defs.ml import churn_scores
from orchestration.defs.publish import as_of_date, audience_exports, winback_effect
from orchestration.defs.resources import DUCKDB_POOL, Warehouse
from reports.run import send_alert_digest, send_weekly_report
from reports.warehouse import snapshot_customer_states


@dg.asset(group_name="alerts", kinds={"python", "email"}, deps=[churn_scores, audience_exports, winback_effect], pool=DUCKDB_POOL)
def alert_digest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Evaluates the alert rules; emails what is new or changed (outbox when no SMTP)."""
    settings = warehouse.load_settings()
    with warehouse.connect() as con:
        as_of = as_of_date(con, settings)
        export_dir = settings.path(settings.paths.exports_dir) / as_of.isoformat()
        outcome = send_alert_digest(
            con, settings.reports, settings.delivery(), as_of=as_of, currency=settings.reporting_currency, export_dir=export_dir
        )
        # the states this run saw become "previous" for the next run's comparisons
        snapshot_customer_states(con, as_of)
    for alert in outcome.firing:
        context.log.info(f"alert {alert.severity}: {alert.title}")
    return dg.MaterializeResult(
        metadata={
            "alerts_firing": len(outcome.firing),
            "alerts_notified": len(outcome.notified),
            "digest": dg.MetadataValue.path(str(outcome.delivery.eml_path)) if outcome.delivery else "nothing new: no digest",
            "delivery": outcome.delivery.status if outcome.delivery else "none",
            "outbox_retried": len(outcome.retried),
        }
    )


# the marts of the weekly analyses the report reads (dbt models tagged weekly, see jobs.py)
WEEKLY_MARTS = ("churn_by_dimension", "churn_profiles", "campaign_impact", "cohort_retention")


@dg.asset(
    group_name="weekly_report",
    kinds={"python", "email"},
    deps=[alert_digest, *(get_asset_key_for_model([warehouse_models], name) for name in WEEKLY_MARTS)],
    pool=DUCKDB_POOL,
)
def weekly_stakeholder_report(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """KPIs, trends, cohorts, segments, churn profiles, at-risk customers and win-back results for stakeholders."""
    settings = warehouse.load_settings()
    with warehouse.connect() as con:
        result = send_weekly_report(
            con, settings.reports, settings.delivery(), as_of=as_of_date(con, settings), currency=settings.reporting_currency
        )
    return dg.MaterializeResult(
        metadata={"email": dg.MetadataValue.path(str(result.eml_path)), "html": dg.MetadataValue.path(str(result.html_path)), "delivery": result.status}
    )


@dg.asset(
    group_name="analyst",
    kinds={"parquet"},
    deps=[
        get_asset_key_for_model([warehouse_models], "fct_orders"),
        churn_scores,
        winback_effect,
        *(get_asset_key_for_model([warehouse_models], name) for name in WEEKLY_MARTS),
    ],
    pool=DUCKDB_POOL,
)
def mart_parquet_exports(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every mart, the scores and the win-back results as Parquet files for analysts.

    Both jobs end with it: the nightly one for what it built, the weekly one for the weekly analyses."""
    settings = warehouse.load_settings()
    out = settings.path(settings.paths.parquet_dir)
    written = {}
    with warehouse.connect() as con:
        for schema in ("marts", "ml", "activation"):
            written |= {f"{schema}.{t}": n for t, n in export_schema_to_parquet(con, schema, out / schema).items()}
    return dg.MaterializeResult(metadata={"folder": dg.MetadataValue.path(str(out)), "tables": len(written), **{k: v for k, v in written.items()}})
