"""Publish assets: audience files with deltas and manifest, publish history, win-back results."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from activation.warehouse import publish_audiences, update_winback_effect
from orchestration.defs.dbt import warehouse_models
from orchestration.defs.ml import churn_scores
from orchestration.defs.resources import DUCKDB_POOL, Warehouse


def as_of_date(con, settings):
    if settings.as_of_date:
        return settings.as_of_date
    return con.execute("select max(snapshot_date) from ml.churn_scores").fetchall()[0][0]


@dg.asset(
    group_name="publish",
    kinds={"python", "csv"},
    deps=[churn_scores, get_asset_key_for_model([warehouse_models], "dim_customers")],
    pool=DUCKDB_POOL,
)
def audience_exports(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Email-tool list, Meta and Google files, CS tasks per audience; opted-out and relay addresses suppressed."""
    settings = warehouse.load_settings()
    with warehouse.connect() as con:
        as_of = as_of_date(con, settings)
        version = con.execute("select any_value(model_version) from ml.churn_scores").fetchall()[0][0]
        result = publish_audiences(con, settings.path(settings.paths.exports_dir), as_of, settings.activation, version)
    manifest = result.manifest
    audiences = manifest.get("audiences", {})
    metadata = {
        "export_dir": dg.MetadataValue.path(str(result.export_dir)),
        "as_of": str(as_of),
        "model_version": str(version),
        "members": int(len(result.membership)),
        "control": int((result.membership["group"] == "control").sum()) if len(result.membership) else 0,
    }
    for name, audience in (audiences.items() if isinstance(audiences, dict) else []):
        files = audience.get("files", {}) if isinstance(audience, dict) else {}
        metadata[f"{name}_rows"] = sum(int(f.get("rows", 0)) for f in files.values()) if isinstance(files, dict) else 0
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(group_name="publish", kinds={"python", "duckdb"}, deps=[audience_exports], pool=DUCKDB_POOL)
def winback_effect(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Win-back conversion, treated vs control, with the incremental lift and its confidence interval."""
    settings = warehouse.load_settings()
    with warehouse.connect() as con:
        effect = update_winback_effect(con, as_of_date(con, settings))
    return dg.MaterializeResult(metadata={"table": "activation.winback_effect", "rows": len(effect)})
