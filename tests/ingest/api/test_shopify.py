"""Shopify connector against a fake Admin REST API on a real loopback HTTP server."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import stamina
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ingest.api import ApiSettings, MissingSecretError, fetch

TOKEN = "shpat_test_0123456789abcdef0123456789"
VERSION = "2026-04"
ORDERS_PATH = f"/admin/api/{VERSION}/orders.json"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _order(order_id: int, updated_at: str) -> dict:
    return {
        "id": order_id,
        "name": f"#{order_id}",
        "email": f"buyer{order_id}@example.com",
        "created_at": "2025-03-01T09:00:00+08:00",
        "updated_at": updated_at,
        "currency": "USD",
        "total_price": "42.50",
        "line_items": [{"id": order_id * 10, "sku": "SKU-1", "quantity": 1, "price": "42.50"}],
    }


# Mixed offsets on purpose: on page 2 "...T20:00:00+08:00" (12:00Z) sorts after "...T13:00:00+00:00"
# as text but is earlier in time, so a string max would pick the wrong cursor.
ORDERS = [
    _order(1001, "2025-03-01T10:00:00+08:00"),
    _order(1002, "2025-03-01T05:00:00+00:00"),
    _order(1003, "2025-03-02T09:00:00+08:00"),
    _order(1004, "2025-03-02T11:00:00+00:00"),
    _order(1005, "2025-03-02T20:00:00+08:00"),
    _order(1006, "2025-03-02T13:00:00+00:00"),
    _order(1007, "2025-03-03T08:00:00+00:00"),
    _order(1008, "2025-03-04T08:00:00+00:00"),
]
ALL_IDS = {o["id"] for o in ORDERS}


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeShopify:
    """Orders endpoint with Shopify's rules: page_info excludes other filters, Link rel=next."""

    def __init__(self, server: HTTPServer, orders: list[dict]) -> None:
        self.server = server
        self.orders = orders
        self.faults: dict[int, list[str]] = {}  # page index -> faults for its next requests
        self.sticky: dict[int, str] = {}  # page index -> fault on every request
        self.requests: list[tuple[int, float, dict]] = []  # (page index, time, query args)
        self.lock = threading.Lock()
        server.expect_request(ORDERS_PATH, method="GET").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        if request.headers.get("X-Shopify-Access-Token") != TOKEN:
            return _json({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, 401)
        args = request.args.to_dict()
        if "page_info" in args:
            extra = set(args) - {"page_info", "limit"}
            if extra:
                return _json({"errors": {"page_info": [f"cannot be combined with {sorted(extra)}"]}}, 400)
            state = orjson.loads(base64.urlsafe_b64decode(args["page_info"]))
            updated_min, offset = state["min"], state["offset"]
        else:
            if args.get("status") != "any" or args.get("order") != "updated_at asc" or "updated_at_min" not in args:
                return _json({"errors": f"unexpected first-page query {args}"}, 400)
            updated_min, offset = args["updated_at_min"], 0
        limit = int(args.get("limit", 50))
        index = offset // limit
        with self.lock:
            self.requests.append((index, time.monotonic(), args))
            fault = self.sticky.get(index) or (self.faults.get(index) or [None]).pop(0)
        rows = sorted(
            (o for o in self.orders if _ts(o["updated_at"]) >= _ts(updated_min)), key=lambda o: (_ts(o["updated_at"]), o["id"])
        )
        body = orjson.dumps({"orders": rows[offset : offset + limit]})
        headers = {}
        if offset + limit < len(rows):
            page_info = base64.urlsafe_b64encode(orjson.dumps({"min": updated_min, "offset": offset + limit})).decode()
            headers["Link"] = f'<{self.server.url_for(ORDERS_PATH)}?limit={limit}&page_info={page_info}>; rel="next"'
        if fault == "429":
            return _json(
                {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."},
                429,
                {"Retry-After": "1.0"},
            )
        if fault == "500":
            return _json({"errors": "Internal Server Error"}, 500)
        if fault == "sleep":
            time.sleep(0.6)
        if fault == "truncate":
            return Response(body[: len(body) // 2], 200, headers, content_type="application/json")
        return Response(body, 200, headers, content_type="application/json")


def _json(body: object, status: int, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers or {}, content_type="application/json")


@pytest.fixture(autouse=True)
def real_retries():
    """These tests time real waits (Retry-After); keep stamina out of its no-wait test mode."""
    was_active = stamina.is_active()
    stamina.set_active(True)
    with stamina.set_testing(False):
        yield
    stamina.set_active(was_active)


@pytest.fixture(scope="module")
def server():
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def shop(server, monkeypatch):
    server.clear()
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    fake = FakeShopify(server, ORDERS)
    yield fake
    server.check_handler_errors()


def _settings(server: HTTPServer, **overrides) -> ApiSettings:
    values = dict(
        shopify_shop_url=server.url_for("").rstrip("/"),
        shopify_api_version=VERSION,
        shopify_page_size=3,
        connect_timeout=0.2,
        read_timeout=0.2,
        max_retries=3,
        backoff_initial=0.0,
        backoff_max=0.0,
        backoff_jitter=0.0,
        retry_total_timeout=10.0,
    )
    values.update(overrides)
    return ApiSettings(**values)


def _landed(landing: Path) -> list[dict]:
    return [orjson.loads(p.read_bytes()) for p in sorted((landing / "shopify").glob("*.json"))]


def test_pages_follow_link_header_and_cursor_is_latest_updated_at(server, shop, tmp_path):
    result = fetch("shopify", {"updated_at_min": "2025-02-28T00:00:00+00:00"}, tmp_path, _settings(server), now=NOW)

    assert result.complete and result.error is None
    assert (result.pages, result.records, len(result.files)) == (3, 8, 3)
    assert [[o["id"] for o in orjson.loads(p.read_bytes())["orders"]] for p in result.files] == [
        [1001, 1002, 1003],
        [1004, 1005, 1006],
        [1007, 1008],
    ]
    assert all(re.fullmatch(r"api_orders_[0-9a-f]{20}\.json", p.name) and p.parent == tmp_path / "shopify" for p in result.files)
    assert result.new_cursor == {"updated_at_min": "2025-03-04T08:00:00+00:00"}
    first, *later = [args for _, _, args in shop.requests]
    assert first == {"status": "any", "limit": "3", "updated_at_min": "2025-02-28T00:00:00+00:00", "order": "updated_at asc"}
    assert all(set(args) == {"limit", "page_info"} for args in later)
    assert not list((tmp_path / "shopify").glob(".*"))  # no temp files left behind


def test_first_run_without_cursor_starts_lookback_days_before_now(server, shop, tmp_path):
    result = fetch("shopify", None, tmp_path, _settings(server, initial_lookback_days=9), now=NOW)
    assert shop.requests[0][2]["updated_at_min"] == "2025-03-01T12:00:00+00:00"
    assert result.complete and result.records == 6  # 1001 (02:00Z) and 1002 (05:00Z) are older


def test_refetching_identical_pages_overwrites_the_same_files(server, shop, tmp_path):
    first = fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    second = fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    assert first.files == second.files
    assert len(list((tmp_path / "shopify").iterdir())) == 3


def test_429_honours_retry_after_then_succeeds(server, shop, tmp_path):
    shop.faults[1] = ["429"]
    result = fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 8
    page1 = [t for index, t, _ in shop.requests if index == 1]
    assert len(page1) == 2
    assert page1[1] - page1[0] >= 0.95  # Retry-After: 1.0 although the backoff settings say 0


def test_500_then_success(server, shop, tmp_path):
    shop.faults[0] = ["500", "500"]
    result = fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 8
    assert [index for index, _, _ in shop.requests].count(0) == 3


def test_timeout_then_success(server, shop, tmp_path):
    shop.faults[2] = ["sleep"]
    result = fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 8
    assert [index for index, _, _ in shop.requests].count(2) == 2


def test_truncated_page_stops_early_keeps_pages_and_resumes_without_loss(server, shop, tmp_path):
    shop.sticky[2] = "truncate"
    first = fetch("shopify", None, tmp_path, _settings(server), now=NOW)

    assert not first.complete
    assert "shopify" in first.error and ORDERS_PATH in first.error and "HTTP 200" in first.error and "invalid JSON" in first.error
    assert "4 attempt" in first.error  # 1 + max_retries
    assert (first.pages, first.records, len(first.files)) == (2, 6, 2)
    assert all(p.exists() for p in first.files)
    # The two good pages end at order 1006 (13:00Z); 1005's "20:00+08:00" is earlier in time.
    assert first.new_cursor == {"updated_at_min": "2025-03-02T13:00:00+00:00"}

    shop.sticky.clear()
    before = len(shop.requests)
    second = fetch("shopify", first.new_cursor, tmp_path, _settings(server), now=NOW)
    assert second.complete and second.new_cursor == {"updated_at_min": "2025-03-04T08:00:00+00:00"}
    assert shop.requests[before][2]["updated_at_min"] == first.new_cursor["updated_at_min"]

    ids = Counter(o["id"] for body in _landed(tmp_path) for o in body["orders"])
    assert set(ids) == ALL_IDS  # nothing lost
    # updated_at_min is inclusive: only the order at the cursor instant is read twice (the loader keeps one by id).
    assert {i for i, n in ids.items() if n > 1} == {1006}


def test_bad_token_fails_with_status_and_no_secret(server, shop, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_wrong_token_000000000000")
    result = fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    assert not result.complete and result.files == [] and result.new_cursor is None
    assert "HTTP 401" in result.error and "Invalid API key" in result.error
    assert "shpat_wrong_token" not in result.error


def test_missing_token_raises_naming_the_variable(server, shop, tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPIFY_ACCESS_TOKEN")
    with pytest.raises(MissingSecretError, match="SHOPIFY_ACCESS_TOKEN"):
        fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    assert shop.requests == []


def test_token_never_in_files_or_logs(server, shop, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    shop.faults[1] = ["500"]
    result = fetch("shopify", None, tmp_path, _settings(server), now=NOW)
    assert result.complete
    captured = capsys.readouterr()
    assert "page 3, 2 records" in caplog.text  # progress is logged
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))  # not the fake server's
    for text in (ours, captured.out, captured.err, *(p.read_text() for p in (tmp_path / "shopify").iterdir())):
        assert TOKEN not in text
