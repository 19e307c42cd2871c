"""Jobs: the nightly pipeline (ingest -> warehouse -> model -> audiences -> alerts) and the weekly report."""

import dagster as dg

nightly_pipeline = dg.define_asset_job(
    name="nightly_pipeline",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("weekly_report", "history"),
    description="Everything but the weekly stakeholder report and history rebuilds.",
)

ingest_sources = dg.define_asset_job(
    name="ingest_sources",
    selection=dg.AssetSelection.groups("ingest"),
    description="Only the extract and load of every source into the raw schema.",
)

weekly_report = dg.define_asset_job(
    name="weekly_report",
    selection=dg.AssetSelection.groups("weekly_report"),
    description="The weekly stakeholder report, from the marts of the last nightly run.",
)
