"""Ingest assets materialised through Dagster against a temporary warehouse (files mode)."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import yaml

from orchestration.defs.ingest import INGEST_ASSETS, QUALITY_CHECKS, demo_landing_files
from orchestration.defs.resources import Warehouse


def write_settings(tmp_path, sources: dict) -> str:
    settings = {
        "warehouse": {"duckdb_path": str(tmp_path / "w.duckdb"), "temp_directory": str(tmp_path / "tmp")},
        "paths": {"landing_dir": str(tmp_path / "landing"), "demo_dir": str(tmp_path / "demo")},
        "sources": sources,
    }
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings))
    return str(path)


def test_ingest_assets_load_files_and_fail_only_the_source_with_a_bad_file(tmp_path):
    landing = tmp_path / "landing"
    (landing / "shopify").mkdir(parents=True)
    (landing / "shopify" / "orders_1.json").write_text(
        json.dumps({"orders": [{"id": 1, "created_at": "2025-01-02T03:04:05+08:00", "currency": "GBP", "total_price": "9.99"}]})
    )
    (landing / "fx").mkdir()
    (landing / "fx" / "rates.csv").write_text("rate_date,currency,usd_per_unit\n2025-01-02,GBP,1.25\n2025-01-02,EUR,1.08\n")
    (landing / "fx" / "broken.csv").write_bytes(b"")
    sources = {name: {"mode": "files"} for name in ("shopify", "fx")}
    sources |= {name: {"enabled": False} for name in ("amazon", "ebay", "walmart", "meta_ads", "google_ads", "email", "web", "support", "shipments", "returns", "catalog")}
    settings_file = write_settings(tmp_path, sources)

    result = dg.materialize(
        [demo_landing_files, *INGEST_ASSETS, *QUALITY_CHECKS],
        resources={"warehouse": Warehouse(settings_file=settings_file)},
        selection=dg.AssetSelection.keys("demo_landing_files", ["raw", "shopify_orders"], ["raw", "fx_rates"]),
        raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["ingest_fx"]
    assert "broken.csv: file is empty" in failures[0].event_specific_data.error.message

    materialized = {m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node("ingest_shopify")}
    assert materialized["raw/shopify_orders"]["rows_loaded"].value == 1
    checks = {c.asset_key.to_user_string(): c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"raw/shopify_orders": True}

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("select id, total_price from raw.shopify_orders").fetchall() == [("1", "9.99")]
    assert con.execute("select currency from raw.fx_rates order by 1").fetchall() == [("EUR",), ("GBP",)]
    con.close()
