"""The whole demo pipeline through Dagster on small data, then assertions on what it produced."""

from __future__ import annotations

import csv
import email
import email.policy
import json
import re

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

from core.settings import PROJECT_ROOT

# The demo's own size. With the leakage-free backtest, 3,000 customers (~6k training rows)
# is too little for the boosted model to beat the recency rule (measured 0.860 vs 0.866):
# the quality gate then blocks scoring, as it should. Known weakness, see the closing note.
CUSTOMERS = 5000
RELAY = re.compile(r"@(marketplace\.amazon\.|relay\.walmart\.com)", re.IGNORECASE)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    config = yaml.safe_load((PROJECT_ROOT / "settings.yaml").read_text())
    config["demo"]["customers"] = CUSTOMERS
    config["warehouse"] = {"duckdb_path": str(root / "warehouse.duckdb"), "temp_directory": str(root / "tmp")}
    config["paths"] = {name: str(root / name) for name in ("landing_dir", "demo_dir", "exports_dir", "artifacts_dir", "parquet_dir")}
    config["reports"]["delivery"]["outbox_dir"] = str(root / "outbox")
    settings_file = root / "settings.yaml"
    settings_file.write_text(yaml.safe_dump(config))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETENTION_SETTINGS", str(settings_file))
        patch.delenv("DUCKDB_PATH", raising=False)
        patch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
        from orchestration.definitions import defs

        definitions = defs()
        with dg.instance_for_test() as instance:
            nightly = definitions.resolve_job_def("nightly_pipeline").execute_in_process(instance=instance, raise_on_error=False)
            weekly = definitions.resolve_job_def("weekly_report").execute_in_process(instance=instance, raise_on_error=False)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    yield {"root": root, "nightly": nightly, "weekly": weekly, "con": con}
    con.close()


def failures(result) -> list[str]:
    return [f"{e.step_key}: {e.event_specific_data.error.message[:2000]}" for e in result.all_events if e.is_step_failure]


@pytest.mark.xdist_group("e2e")
def test_nightly_and_weekly_runs_succeed(pipeline):
    assert pipeline["nightly"].success, failures(pipeline["nightly"])
    assert pipeline["weekly"].success, failures(pipeline["weekly"])
    checks = {c.asset_check_key.to_user_string(): c.passed for c in pipeline["nightly"].get_asset_check_evaluations()}
    assert checks["churn_model:quality_gate"]
    assert checks["raw/shopify_orders:great_expectations_suite"]
    assert sum(1 for passed in checks.values() if not passed) == 0
    # the weekly analyses are built by the weekly job, their tests with them, not every night
    built = {run: {m.asset_key.to_user_string() for m in pipeline[run].get_asset_materialization_events()} for run in ("nightly", "weekly")}
    weekly_marts = {"marts/churn_profiles", "marts/churn_by_dimension", "marts/campaign_impact", "marts/cohort_retention"}
    assert weekly_marts <= built["weekly"] and not weekly_marts & built["nightly"]
    assert {"marts/dim_customers", "marts/customer_segments", "marts/kpi_monthly"} <= built["nightly"]
    weekly_checks = {c.asset_check_key.to_user_string(): c.passed for c in pipeline["weekly"].get_asset_check_evaluations()}
    assert weekly_checks["marts/churn_profiles:unique_churn_profiles_profile_id"] and all(weekly_checks.values())
    scores = next(m for m in pipeline["nightly"].get_asset_materialization_events() if m.asset_key == dg.AssetKey("churn_scores"))
    seconds = {k: v.value for k, v in scores.materialization.metadata.items() if k.startswith("seconds_")}
    assert set(seconds) == {"seconds_btyd", "seconds_predict", "seconds_reasons", "seconds_total"}
    assert 0 < seconds["seconds_reasons"] <= seconds["seconds_total"]


@pytest.mark.xdist_group("e2e")
def test_dbt_log_file_keeps_the_results_without_every_statement(pipeline):
    from orchestration.defs.dbt import DBT_PROJECT_DIR

    (target,) = (DBT_PROJECT_DIR / "target").glob(f"warehouse_models-{pipeline['nightly'].run_id[:7]}-*")
    events = [json.loads(line) for line in (target / "dbt.log").read_text().splitlines() if line.startswith("{")]
    results = {e["data"]["node_info"]["node_name"] for e in events if e["info"]["name"] in ("LogModelResult", "LogTestResult")}
    assert {"dim_customers", "unique_dim_customers_customer_id"} <= results
    assert {e["info"]["level"] for e in events} <= {"info", "warn", "error"}
    assert not [e for e in events if e["info"]["name"] == "SQLQuery"]


@pytest.mark.xdist_group("e2e")
def test_model_metadata_and_run_summary_show_both_backtests(pipeline, tmp_path):
    import shutil

    from core.settings import load_settings
    from orchestration.summary import summary_lines

    (run,) = pipeline["con"].execute(
        "select model_version, roc_auc, bgnbd_roc_auc, active_customers, active_roc_auc, active_bgnbd_roc_auc from ml.model_runs"
    ).fetchall()
    version, auc, bgnbd, active, active_auc, active_bgnbd = run
    model = next(m for m in pipeline["nightly"].get_asset_materialization_events() if m.asset_key == dg.AssetKey("churn_model"))
    metadata = {k: v.value for k, v in model.materialization.metadata.items()}
    assert metadata["version"] == version and metadata["roc_auc"] == pytest.approx(auc)
    assert metadata["active_customers"] == active and 0 < active < pipeline["con"].execute("select count(*) from ml.churn_scores").fetchall()[0][0]
    assert metadata["active_roc_auc"] == pytest.approx(active_auc) and metadata["active_bgnbd_roc_auc"] == pytest.approx(active_bgnbd)
    assert active_auc < auc  # the long-gone customers make the whole backtest the easier one
    # the summary opens the warehouse itself: a copy, as this module holds the file open
    config = yaml.safe_load((pipeline["root"] / "settings.yaml").read_text())
    config["warehouse"]["duckdb_path"] = str(shutil.copy(pipeline["root"] / "warehouse.duckdb", tmp_path / "warehouse.duckdb"))
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(config))
    text = "\n".join(summary_lines(load_settings(tmp_path / "settings.yaml")))
    assert f"{version}: backtest ROC AUC {auc:.3f} (BG/NBD {bgnbd:.3f}), gate passed" in text
    assert f"on the {active:,} customers with an order in the 365 days before the backtest: {active_auc:.3f} (BG/NBD {active_bgnbd:.3f})" in text


@pytest.mark.xdist_group("e2e")
def test_marts_and_scores_cover_every_customer(pipeline):
    con = pipeline["con"]
    truth_orders = pd.read_parquet(pipeline["root"] / "demo_dir" / "truth" / "orders.parquet")
    orders = con.execute("select count(*) from marts.fct_orders").fetchall()[0][0]
    assert orders == len(truth_orders)
    customers = con.execute("select count(*) from marts.dim_customers").fetchall()[0][0]
    persons = truth_orders["person_id"].nunique()
    assert 0.97 * persons <= customers <= 1.03 * persons  # identity resolution close to one id per person
    scores = con.execute("select count(*), count(distinct customer_id), min(churn_probability), max(churn_probability) from ml.churn_scores").fetchall()[0]
    assert scores[0] == scores[1] == customers and 0 <= scores[2] <= scores[3] <= 1
    assert con.execute("select count(*) from ml.model_runs where gate_passed").fetchall()[0][0] == 1
    parquet = pipeline["root"] / "parquet_dir" / "marts" / "dim_customers.parquet"
    assert len(pd.read_parquet(parquet)) == customers
    # no customer email or phone leaves the warehouse in the Parquet copies, in any column
    contacts = {
        value
        for (value,) in con.execute(
            "select email from marts.dim_customers union select phone from marts.dim_customers union select relay_email from marts.dim_customers"
        ).fetchall()
        if value
    }
    assert len(contacts) > customers
    files = sorted((pipeline["root"] / "parquet_dir").rglob("*.parquet"))
    assert len(files) > 20
    # the weekly job's analyses get their Parquet copies in the same run
    profiles = pd.read_parquet(pipeline["root"] / "parquet_dir" / "marts" / "churn_profiles.parquet")
    assert len(profiles) == con.execute("select count(*) from marts.churn_profiles").fetchall()[0][0] > 0
    for path in files:
        frame = pd.read_parquet(path)
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype).startswith(("string", "str")):
                assert not contacts & set(frame[column].dropna().astype(str)), f"{path.name}.{column}"


@pytest.mark.xdist_group("e2e")
def test_audience_files_are_complete_and_private(pipeline):
    (export,) = [p for p in (pipeline["root"] / "exports_dir").iterdir() if p.is_dir() and not p.name.startswith(".")]
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["model_version"]
    files = list(export.rglob("*.csv"))
    assert any(f.name == "meta.csv" for f in files) and any(f.name == "google.csv" for f in files)
    opted_out = {r[0] for r in pipeline["con"].execute("select customer_id from marts.dim_customers where is_opted_out").fetchall()}
    contacts = {
        value for row in pipeline["con"].execute("select email, phone from marts.dim_customers").fetchall() for value in row if value and len(value) >= 8
    }
    assert any(f.name == "cs_tasks.csv" for f in files) and len(contacts) > 1000
    meta_rows = google_rows = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not RELAY.search(text), f"relay address in {path}"
        if path.name != "email_list.csv":  # the one file with clear-text contacts (the seller's email tool)
            assert not [value for value in contacts if value in text], f"clear-text email or phone in {path}"
        rows = list(csv.DictReader(text.splitlines()))
        if path.name == "meta.csv":
            assert text.splitlines()[0] == "email,phone,fn,ln,ct,st,zip,country,extern_id"
            assert "@" not in text
            assert not opted_out & {r["extern_id"] for r in rows}
            meta_rows += len(rows)
        if path.name == "google.csv":
            assert text.splitlines()[0] == "Email,Phone,First Name,Last Name,Country,Zip"
            assert "@" not in text
            google_rows += len(rows)
    # the customers with ads consent ('granted' in marts.dim_customers) reach the ad files
    granted = pipeline["con"].execute("select count(*) from marts.dim_customers where ads_consent = 'granted'").fetchone()[0]
    assert granted > 0 and meta_rows > 0 and google_rows > 0
    members = pipeline["con"].execute("select count(*), count(distinct \"group\") from activation.publish_history").fetchall()[0]
    assert members[0] > 0 and members[1] == 2  # treated and control recorded


@pytest.mark.xdist_group("e2e")
def test_digest_and_weekly_report_are_in_the_outbox(pipeline):
    pending = pipeline["root"] / "outbox" / "pending"
    messages = {}
    for path in pending.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        messages[message["Subject"]] = message
        assert path.with_suffix(".html").exists()
    report = next(m for s, m in messages.items() if "report" in s.lower() or "weekly" in s.lower())
    assert report.get_content_type() == "multipart/alternative"
    html = report.get_body(("html",)).get_content()
    for cid in re.findall(r'src="cid:([^"]+)"', html):
        assert any(part.get("Content-ID", "").strip("<>") == cid for part in report.walk())
    customers = pipeline["con"].execute("select count(*) from marts.dim_customers").fetchall()[0][0]
    text = report.get_body(("plain",)).get_content()
    assert f"{customers:,}" in text


@pytest.mark.xdist_group("e2e")
def test_backfill_of_two_past_dates_leaves_today_untouched(pipeline):
    root = pipeline["root"]
    pipeline["con"].close()
    exports_before = sorted((p.relative_to(root), p.stat().st_mtime_ns) for p in (root / "exports_dir").rglob("*") if p.is_file())
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        today = con.execute("select count(*), max(date_day) from marts.kpi_daily").fetchall()[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETENTION_SETTINGS", str(root / "settings.yaml"))
        from orchestration.definitions import defs

        job = defs().resolve_job_def("rebuild_history")
        with dg.instance_for_test() as instance:
            for day in ("2026-09-01", "2026-10-01"):
                assert job.execute_in_process(instance=instance, partition_key=day, raise_on_error=False).success
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        for day, schema in (("2026-09-01", "asof_20260901_marts"), ("2026-10-01", "asof_20261001_marts")):
            latest = con.execute(f"select max(date_day) from {schema}.kpi_daily").fetchall()[0][0]
            assert str(latest) == day
            last_order = con.execute(f"select max(ordered_at) from {schema}.fct_orders").fetchall()[0][0]
            assert str(last_order)[:10] <= day
        assert con.execute("select count(*), max(date_day) from marts.kpi_daily").fetchall()[0] == today
    exports_after = sorted((p.relative_to(root), p.stat().st_mtime_ns) for p in (root / "exports_dir").rglob("*") if p.is_file())
    assert exports_after == exports_before
    pipeline["con"] = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)


@pytest.mark.xdist_group("e2e")
def test_reports_from_the_warehouse_arrive_over_smtp(pipeline):
    """The digest and the weekly report, built from this warehouse, received by a real SMTP server on loopback."""
    from core.settings import load_settings
    from reports.delivery import deliver, flush_outbox
    from reports.render import render_weekly_report
    from reports.settings import SmtpSettings
    from reports.warehouse import at_risk_high_value, weekly_context
    from tests.reports.conftest import SmtpServer

    root = pipeline["root"]
    settings = load_settings(root / "settings.yaml")
    server = SmtpServer().start()
    try:
        delivery = settings.delivery().model_copy(update={
            "outbox_dir": root / "smtp_outbox",
            "smtp": SmtpSettings(host="127.0.0.1", port=server.port, security="none"),
        })
        # the nightly digest waits in the outbox (no SMTP configured then); the next flush sends it
        digests = flush_outbox(delivery.model_copy(update={"outbox_dir": root / "outbox"}))
        assert digests and all(d.status == "sent" for d in digests)
        assert any("alert" in e.content.decode("utf-8", "replace").lower() for e in server.envelopes)
        server.handler.envelopes.clear()
        con = pipeline["con"]
        as_of = con.execute("select max(snapshot_date) from ml.churn_scores").fetchall()[0][0]
        context = weekly_context(con, as_of)
        # a customer whose name is markup must be shown as text, never run as a script
        hostile = pd.DataFrame([{"customer_id": "c_x", "customer_name": "<script>alert(1)</script>", "value": 1e6,
                                 "churn_probability": 0.9, "reasons": "service: open complaint", "recommended_action": "personal_contact"}])
        context.at_risk_customers = pd.concat([hostile, context.at_risk_customers], ignore_index=True)
        result = deliver(render_weekly_report(context, settings.reports.render), None, delivery)
        assert result.status == "sent"
        (envelope,) = server.envelopes
        assert sorted(envelope.rcpt_tos) == sorted(settings.reports.delivery.recipients["weekly_report"])
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert message.get_content_type() == "multipart/alternative"
        html = message.get_body(("html",)).get_content()
        cids = re.findall(r'src="cid:([^"]+)"', html)
        parts = {part.get("Content-ID", "").strip("<>") for part in message.walk() if part.get_content_type() == "image/png"}
        assert cids and set(cids) <= parts
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        text = message.get_body(("plain",)).get_content()
        customers = con.execute("select count(*) from marts.dim_customers").fetchall()[0][0]
        assert f"{customers:,}" in text and f"{customers:,}" in html
        top = at_risk_high_value(con, limit=1)
        if len(top):
            assert str(top["customer_id"].iloc[0]) in html
    finally:
        server.stop()


@pytest.mark.xdist_group("e2e")
def test_next_night_reuses_the_model_and_full_refresh_rebuilds_staging(pipeline):
    """`retention run nightly_pipeline --full-refresh`: dbt rebuilds the incremental models from
    all raw data, and the churn model trained last night stays in charge (not retrained), so
    the feature mart holds only the scoring snapshot. Training then needs `--retrain`."""
    from orchestration.cli import run_config_for

    root = pipeline["root"]
    pipeline["con"].close()
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        events_before = con.execute("select count(*) from staging.stg_web__events").fetchall()[0][0]
        versions_before = con.execute("select count(*) from ml.model_runs").fetchall()[0][0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETENTION_SETTINGS", str(root / "settings.yaml"))
        patch.delenv("DUCKDB_PATH", raising=False)
        patch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
        from orchestration.definitions import defs

        job = defs().resolve_job_def("nightly_pipeline")
        with dg.instance_for_test() as instance:
            result = job.execute_in_process(instance=instance, run_config=run_config_for(job, full_refresh=True), raise_on_error=False)
            messages = [r.user_message for r in instance.all_logs(result.run_id)]
        assert result.success, failures(result)
        assert any("dbt build" in m and "--full-refresh" in m and "--exclude-resource-type unit_test" in m for m in messages)
        assert any("only the scoring snapshot" in m for m in messages)
        model = next(m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey("churn_model"))
        assert model.materialization.metadata["retrained"].value is False
        with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
            assert con.execute("select count(*) from staging.stg_web__events").fetchall()[0][0] == events_before
            assert con.execute("select count(*) from ml.model_runs").fetchall()[0][0] == versions_before
            scored, snapshots, scoring_rows = con.execute(
                """
                select (select count(*) from ml.churn_scores), count(distinct snapshot_date), count(*)
                from marts.ml_customer_features
                """
            ).fetchall()[0]
        assert snapshots == 1 and scoring_rows == scored > 0  # the scoring snapshot, everyone scored

        # forcing a retrain on this scoring-only mart fails clearly instead of training on nothing
        with dg.instance_for_test() as instance:
            forced = defs().resolve_implicit_global_asset_job_def().execute_in_process(
                instance=instance, asset_selection=[dg.AssetKey("churn_model")],
                run_config={"ops": {"churn_model": {"config": {"force_retrain": True}}}}, raise_on_error=False,
            )
        assert not forced.success
        assert "--retrain" in " ".join(failures(forced))
        assert run_config_for(job, retrain=True)["ops"]["warehouse_models"]["config"] == {"retrain": True}
    pipeline["con"] = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
