"""Jobs: the nightly pipeline (ingest -> warehouse -> model -> audiences -> alerts) and the weekly report."""

import dagster as dg

nightly_pipeline = dg.define_asset_job(
    name="nightly_pipeline",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("weekly_report"),
    description="Everything but the weekly stakeholder report.",
)
