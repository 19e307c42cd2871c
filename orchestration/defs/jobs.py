"""Jobs: the nightly pipeline (ingest -> warehouse -> model -> audiences -> alerts) and the weekly report."""

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from orchestration.defs.dbt import warehouse_models
from orchestration.defs.reports import mart_parquet_exports

# The dbt models tagged weekly (dbt_project.yml): analyses of past outcomes that only the
# weekly report reads. They and their tests run in the weekly job, before the report.
weekly_models = build_dbt_asset_selection([warehouse_models], dbt_select="tag:weekly")

nightly_pipeline = dg.define_asset_job(
    name="nightly_pipeline",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("weekly_report", "history") - weekly_models,
    description="Everything but the weekly analyses and stakeholder report, and history rebuilds.",
)

ingest_sources = dg.define_asset_job(
    name="ingest_sources",
    selection=dg.AssetSelection.groups("ingest"),
    description="Only the extract and load of every source into the raw schema.",
)

weekly_report = dg.define_asset_job(
    name="weekly_report",
    selection=dg.AssetSelection.groups("weekly_report") | weekly_models | dg.AssetSelection.assets(mart_parquet_exports),
    description=(
        "The weekly analyses (dbt models tagged weekly) from the marts of the last nightly run, then the stakeholder "
        "report and the analysts' Parquet copies."
    ),
)
