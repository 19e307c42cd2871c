"""The code location loads with every asset, check, job, schedule and sensor."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs


def test_definitions_hold_the_whole_pipeline():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    raw = {"shopify_orders", "amazon_order_items", "amazon_orders", "ebay_orders", "walmart_orders", "meta_ads_insights",
           "google_ads_campaign_performance", "email_events", "web_events", "support_tickets", "shipments", "returns",
           "products", "fx_rates", "generic_orders"}
    assert {f"raw/{table}" for table in raw} <= keys
    assert {"demo_landing_files", "churn_model", "churn_scores", "audience_exports", "winback_effect", "alert_digest",
            "weekly_stakeholder_report", "mart_parquet_exports"} <= keys
    marts = {"fct_orders", "fct_order_lines", "dim_customers", "customer_rfm", "customer_purchase_intervals", "customer_segments",
             "customer_frequency_patterns", "kpi_daily", "kpi_monthly", "segment_monthly_frequency", "cohort_retention",
             "cohort_second_order_conversion", "campaign_impact", "churn_by_dimension", "churn_profiles",
             "churn_systemic_issues", "product_repurchase", "ml_customer_features"}
    assert {f"marts/{name}" for name in marts} <= keys

    groups = {graph.get(dg.AssetKey.from_user_string(k)).group_name for k in keys}
    assert {"ingest", "staging", "intermediate", "marts", "ml", "publish", "alerts", "weekly_report", "analyst"} <= groups

    checks = {key.to_user_string() for key in graph.asset_check_keys}
    assert {f"raw/{table}:great_expectations_suite" for table in raw} <= checks
    assert "churn_model:quality_gate" in checks
    assert any("freshness" in check for check in checks if check.startswith("raw/shopify_orders:"))
    assert any(check.startswith("marts/fct_orders:") for check in checks)  # dbt tests appear as asset checks

    jobs = {job.name for job in definitions.resolve_all_job_defs()}
    assert {"nightly_pipeline", "weekly_report", "ingest_sources", "rebuild_history"} <= jobs
    schedules = {s.name: s for s in definitions.resolve_schedule_defs()} if hasattr(definitions, "resolve_schedule_defs") else {
        s.name: s for s in definitions.schedules}
    assert schedules["nightly_pipeline_schedule"].cron_schedule == "0 3 * * *"
    assert schedules["weekly_report_schedule"].job_name == "weekly_report"
    sensors = {s.name for s in definitions.sensors} if definitions.sensors else set()
    repo = definitions.get_repository_def()
    sensors |= {s.name for s in repo.sensor_defs}
    assert {"landing_folder_sensor", "run_failure_email", "freshness_checks_sensor"} <= sensors

    nightly = definitions.resolve_job_def("nightly_pipeline")
    assert "weekly_report" not in {node.name for node in nightly.graph.node_defs}


def test_weekly_analyses_are_built_by_the_weekly_job_before_the_report():
    from orchestration.defs.jobs import nightly_pipeline, weekly_report

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    weekly_models = {"intermediate/int_order_churn_outcomes", "marts/churn_by_dimension", "marts/churn_profiles",
                     "marts/churn_systemic_issues", "marts/campaign_impact", "marts/cohort_retention"}
    nightly_keys = {k.to_user_string() for k in nightly_pipeline.selection.resolve(graph)}
    weekly_keys = {k.to_user_string() for k in weekly_report.selection.resolve(graph)}
    assert weekly_keys == weekly_models | {"weekly_stakeholder_report", "mart_parquet_exports"}
    assert not nightly_keys & weekly_models and "weekly_stakeholder_report" not in nightly_keys
    assert {"marts/dim_customers", "marts/cohort_second_order_conversion", "marts/kpi_monthly"} <= nightly_keys
    # their dbt tests go with them
    nightly_checks = {c.asset_key.to_user_string() for c in nightly_pipeline.selection.resolve_checks(graph)}
    weekly_checks = {c.asset_key.to_user_string() for c in weekly_report.selection.resolve_checks(graph)}
    assert weekly_checks == weekly_models and not nightly_checks & weekly_models
    report = graph.get(dg.AssetKey("weekly_stakeholder_report"))
    assert {"marts/churn_profiles", "marts/churn_by_dimension", "marts/campaign_impact", "marts/cohort_retention"} <= {
        k.to_user_string() for k in report.parent_keys}


def test_the_dbt_resource_knows_the_dbt_version_without_asking_dbt():
    """WarehouseDbt skips dagster-dbt's `dbt --version` subprocess and its unused adapter."""
    from dagster_dbt import DbtCliResource

    from orchestration.defs.dbt import DBT_EXECUTABLE, WarehouseDbt, dbt_project

    resource = defs().resources["dbt"]
    assert isinstance(resource, WarehouseDbt)
    asked = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)._cli_version
    assert resource._cli_version == asked and asked.major == 1
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_a_build_leaves_its_parse_state_for_the_next(tmp_path):
    from orchestration.defs.dbt import keep_parse_state

    project_target = tmp_path / "target"
    build = tmp_path / "target" / "warehouse_models-1"
    build.mkdir(parents=True)
    keep_parse_state(build, project_target)  # a build that wrote no state changes nothing
    assert not (project_target / "partial_parse.msgpack").exists()
    (build / "partial_parse.msgpack").write_bytes(b"state of night 1")
    keep_parse_state(build, project_target)
    (build / "partial_parse.msgpack").write_bytes(b"state of night 2")
    keep_parse_state(build, project_target)
    assert (project_target / "partial_parse.msgpack").read_bytes() == b"state of night 2"
    assert sorted(p.name for p in project_target.iterdir()) == ["partial_parse.msgpack", "warehouse_models-1"]


def test_dbt_logs_its_file_at_info_level_unless_the_environment_says_otherwise(monkeypatch):
    from core.settings import load_settings
    from orchestration.defs.dbt import dbt_environment

    settings = load_settings()
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    assert dbt_environment(settings)["DBT_LOG_LEVEL_FILE"] == "info"
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert dbt_environment(settings)["DBT_LOG_LEVEL_FILE"] == "debug"
