"""Every connector mode through the same ingest path: files, api (loopback server), demo."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import orjson
import pytest
import stamina
import yaml

from core.settings import load_settings
from ingest.run import ingest_source

TOKEN = "shpat_mode_test_token_0123456789"


def settings_for(tmp_path, sources: dict, **extra):
    config = {
        "warehouse": {"duckdb_path": str(tmp_path / "w.duckdb"), "temp_directory": str(tmp_path / "tmp")},
        "paths": {"landing_dir": str(tmp_path / "landing"), "demo_dir": str(tmp_path / "demo")},
        "sources": sources,
        **extra,
    }
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_settings(path)


def order(order_id: int, updated_at: str) -> dict:
    return {
        "id": order_id, "email": f"b{order_id}@example.com", "created_at": "2025-03-01T09:00:00+08:00",
        "updated_at": updated_at, "currency": "USD", "total_price": "42.50",
    }


@pytest.fixture(autouse=True)
def no_backoff_waits():
    stamina.set_testing(True)
    yield
    stamina.set_testing(False)


def test_api_mode_fetches_loads_and_only_then_advances_the_cursor(tmp_path, httpserver, monkeypatch):
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    path = "/admin/api/2026-04/orders.json"
    day = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d")
    first = [order(1, f"{day}T08:00:00Z"), order(2, f"{day}T10:00:00Z")]
    httpserver.expect_ordered_request(path, method="GET").respond_with_data(
        orjson.dumps({"orders": first}), content_type="application/json")
    settings = settings_for(
        tmp_path, {"shopify": {"mode": "api"}},
        api={"shopify_shop_url": httpserver.url_for("").rstrip("/"), "initial_lookback_days": 28},
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    run = ingest_source(con, settings, "shopify")
    assert not run.errors
    assert httpserver.log[0][0].args["status"] == "any" and "updated_at_min" in httpserver.log[0][0].args
    assert [r[0] for r in con.execute("select id from raw.shopify_orders order by id").fetchall()] == ["1", "2"]
    cursor = json.loads(con.execute("select cursor from raw._cursors where source = 'shopify'").fetchall()[0][0])
    assert cursor["updated_at_min"].startswith(f"{day}T10:00:00")
    # the next run asks only for records updated since the cursor; the repeated record is not duplicated
    second = [order(2, f"{day}T10:00:00Z"), order(3, f"{day}T11:00:00Z")]
    httpserver.expect_ordered_request(path, method="GET").respond_with_data(orjson.dumps({"orders": second}), content_type="application/json")
    run = ingest_source(con, settings, "shopify")
    assert not run.errors
    assert [r[0] for r in con.execute("select id from raw.shopify_orders order by id").fetchall()] == ["1", "2", "3"]
    asked = httpserver.log[-1][0].args.get("updated_at_min")
    assert asked.startswith(f"{day}T10:00:00")
    assert TOKEN not in "".join(p.read_text() for p in (tmp_path / "landing" / "shopify").glob("*.json"))
    con.close()


def test_api_failure_keeps_the_cursor_where_the_data_is(tmp_path, httpserver, monkeypatch):
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    httpserver.expect_request("/admin/api/2026-04/orders.json").respond_with_data("{\"orders\": [", status=200)
    settings = settings_for(
        tmp_path, {"shopify": {"mode": "api"}},
        api={"shopify_shop_url": httpserver.url_for("").rstrip("/"), "max_retries": 1},
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw")
    run = ingest_source(con, settings, "shopify")
    assert run.api_error and "shopify" in run.api_error and "invalid JSON" in run.api_error
    assert con.execute("select count(*) from raw._cursors").fetchall() == [(0,)]
    con.close()
