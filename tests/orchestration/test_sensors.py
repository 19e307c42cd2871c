"""Landing-folder sensor (each file once) and the run-failure email (outbox fallback)."""

from __future__ import annotations

import email
import email.policy
import time

import dagster as dg
import yaml

from orchestration.defs.ingest import INGEST_ASSETS, demo_landing_files
from orchestration.defs.resources import Warehouse
from orchestration.defs.sensors import landing_folder_sensor, run_failure_email

DISABLED = ("amazon", "ebay", "walmart", "meta_ads", "google_ads", "email", "web", "support", "shipments", "returns", "catalog", "shopify")


def write_settings(tmp_path, monkeypatch) -> str:
    sources = {name: {"enabled": False} for name in DISABLED} | {"fx": {"mode": "files"}}
    config = {
        "warehouse": {"duckdb_path": str(tmp_path / "w.duckdb"), "temp_directory": str(tmp_path / "tmp")},
        "paths": {"landing_dir": str(tmp_path / "landing"), "demo_dir": str(tmp_path / "demo")},
        "sources": sources,
        "reports": {"delivery": {"outbox_dir": str(tmp_path / "outbox"), "recipients": {"run_failure": ["data@example.com"]}}},
        "ui_url": "http://dagster.example:3000",
    }
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("RETENTION_SETTINGS", str(path))
    return str(path)


def test_landing_sensor_requests_a_run_once_per_new_file(tmp_path, monkeypatch):
    write_settings(tmp_path, monkeypatch)
    folder = tmp_path / "landing" / "fx"
    folder.mkdir(parents=True)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        assert isinstance(landing_folder_sensor(context), dg.SkipReason)
        (folder / "rates_1.csv").write_text("rate_date,currency,usd_per_unit\n2025-01-01,EUR,1.1\n")
        (folder / "notes.md").write_text("not a loadable file")
        request = landing_folder_sensor(context)
        assert isinstance(request, dg.RunRequest) and request.tags["landing_files"] == "fx/rates_1.csv"
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        assert isinstance(landing_folder_sensor(context), dg.SkipReason)  # the same file is not processed twice
        time.sleep(0.01)
        (folder / "rates_2.csv").write_text("rate_date,currency,usd_per_unit\n2025-01-02,EUR,1.1\n")
        second = landing_folder_sensor(dg.build_sensor_context(instance=instance, cursor=context.cursor))
        assert second.tags["landing_files"] == "fx/rates_2.csv" and second.run_key != request.run_key


def test_a_failed_run_emails_the_data_team_through_the_outbox(tmp_path, monkeypatch):
    settings_file = write_settings(tmp_path, monkeypatch)
    (tmp_path / "landing" / "fx").mkdir(parents=True)
    (tmp_path / "landing" / "fx" / "rates.csv").write_text("rate_date;currency;usd_per_unit\n2025-01-01;EUR;1.1\n")
    defs = dg.Definitions(
        assets=[demo_landing_files, *INGEST_ASSETS],
        jobs=[dg.define_asset_job("fx_only", selection=dg.AssetSelection.keys(["raw", "fx_rates"]))],
        resources={"warehouse": Warehouse(settings_file=settings_file)},
    )
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("fx_only").execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_email", dagster_instance=instance, dagster_run=run, dagster_event=failure
        ).for_run_failure()
        run_failure_email(context)
    (eml,) = (tmp_path / "outbox" / "pending").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "data@example.com"
    assert "Pipeline run failed: fx_only" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "ingest_fx" in text
    assert "lacks required column(s)" in text and "delimited by ';'" in text
    assert f"http://dagster.example:3000/runs/{result.run_id}" in text
    assert (eml.with_suffix(".html")).exists()
