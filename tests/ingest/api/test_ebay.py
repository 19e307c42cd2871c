"""eBay connector against a fake OAuth token endpoint and Fulfillment getOrders on loopback."""

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

CLIENT_ID = "SellerCo-retentio-PRD-0123456789-abcdef01"
CLIENT_SECRET = "PRD-0123456789ab-cdef-0123-4567-89ab"
REFRESH_TOKEN = "v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4xMF8refresh0123456789"
ENV = {"EBAY_CLIENT_ID": CLIENT_ID, "EBAY_CLIENT_SECRET": CLIENT_SECRET, "EBAY_REFRESH_TOKEN": REFRESH_TOKEN}
SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
FILTER_RE = re.compile(r"^lastmodifieddate:\[(?P<start>[^\]]+)\.\.\]$")


def _order(n: int) -> dict:
    return {
        "orderId": f"12-{n:05d}-{n:05d}",
        "legacyOrderId": f"1100{n:04d}-2200{n:04d}",
        "creationDate": f"2025-03-01T{8 + n:02d}:00:00.000Z",
        "lastModifiedDate": f"2025-03-0{2 + n // 4}T{8 + n:02d}:30:00.000Z",
        "orderFulfillmentStatus": "FULFILLED",
        "orderPaymentStatus": "PAID",
        "buyer": {"username": f"buyer_{n}", "taxAddress": {"countryCode": "DE", "postalCode": "10115", "city": "Berlin"}},
        "pricingSummary": {"total": {"value": f"{20 + n}.00", "currency": "EUR"}},
        "lineItems": [{"lineItemId": f"{n}001", "sku": "SKU-1", "title": "Widget", "quantity": 1}],
    }


ORDERS = [_order(n) for n in range(1, 10)]  # 9 orders
ALL_IDS = {o["orderId"] for o in ORDERS}


class FakeEbay:
    """OAuth token endpoint (Basic client credentials) + getOrders (limit/offset, total)."""

    def __init__(self, server: HTTPServer, orders: list[dict]) -> None:
        self.server = server
        self.orders = orders
        self.valid_tokens: set[str] = set()
        self.issued: list[str] = []
        self.token_forms: list[dict] = []
        self.faults: dict[int, list[str]] = {}
        self.sticky: dict[int, str] = {}
        self.requests: list[tuple[int, float, dict]] = []
        self.expire_after_page: int | None = None
        self.lock = threading.Lock()
        server.expect_request("/identity/v1/oauth2/token", method="POST").respond_with_handler(self.token)
        server.expect_request("/sell/fulfillment/v1/order", method="GET").respond_with_handler(self.get_orders)

    def token(self, request: Request) -> Response:
        basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != basic:
            return _json({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
        form = request.form.to_dict()
        self.token_forms.append(form)
        if form.get("scope") != SCOPE or form.get("grant_type") not in ("refresh_token", "client_credentials"):
            return _json({"error": "invalid_scope", "error_description": "bad scope or grant"}, 400)
        if form["grant_type"] == "refresh_token" and form.get("refresh_token") != REFRESH_TOKEN:
            return _json(
                {"error": "invalid_grant", "error_description": "the provided authorization refresh token is invalid"}, 400
            )
        with self.lock:
            access = f"v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4sIAccess{len(self.issued):04d}"
            self.issued.append(access)
            self.valid_tokens.add(access)
        return _json({"access_token": access, "expires_in": 7200, "token_type": "User Access Token"}, 200)

    def get_orders(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_tokens:
            return _json(
                {
                    "errors": [
                        {
                            "errorId": 1001,
                            "domain": "OAuth",
                            "category": "REQUEST",
                            "message": "Invalid access token",
                            "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header.",
                        }
                    ]
                },
                401,
            )
        args = request.args.to_dict()
        match = FILTER_RE.match(args.get("filter", ""))
        if not match:
            return _json({"errors": [{"errorId": 30700, "message": f"invalid filter {args.get('filter')!r}"}]}, 400)
        limit, offset = int(args.get("limit", 50)), int(args.get("offset", 0))
        index = offset // limit
        with self.lock:
            self.requests.append((index, time.monotonic(), args))
            fault = self.sticky.get(index) or (self.faults.get(index) or [None]).pop(0)
        start = datetime.fromisoformat(match["start"].replace("Z", "+00:00"))
        rows = sorted(
            (o for o in self.orders if datetime.fromisoformat(o["lastModifiedDate"].replace("Z", "+00:00")) >= start),
            key=lambda o: o["creationDate"],
            reverse=True,
        )
        href = self.server.url_for(f"/sell/fulfillment/v1/order?limit={limit}&offset={offset}")
        body_dict = {
            "href": href,
            "total": len(rows),
            "limit": limit,
            "offset": offset,
            "orders": rows[offset : offset + limit],
            "warnings": [],
        }
        if offset + limit < len(rows):
            body_dict["next"] = self.server.url_for(f"/sell/fulfillment/v1/order?limit={limit}&offset={offset + limit}")
        body = orjson.dumps(body_dict)
        if fault == "429":
            return _json({"errors": [{"errorId": 2001, "message": "Too many requests"}]}, 429, {"Retry-After": "0.3"})
        if fault == "500":
            return _json(
                {"errors": [{"errorId": 10000, "message": "There was a problem with an eBay internal system or process."}]}, 500
            )
        if fault == "sleep":
            time.sleep(0.6)
        if fault == "truncate":
            return Response(body[:100], 200, content_type="application/json")
        if self.expire_after_page is not None and index == self.expire_after_page:
            self.valid_tokens.clear()
        return Response(body, 200, content_type="application/json")


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
def ebay(server, monkeypatch):
    server.clear()
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    fake = FakeEbay(server, ORDERS)
    yield fake
    server.check_handler_errors()


def _settings(server: HTTPServer, **overrides) -> ApiSettings:
    base = server.url_for("").rstrip("/")
    values = dict(
        ebay_auth_url=base,
        ebay_api_url=base,
        ebay_page_size=4,
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


def _landed_ids(landing: Path) -> Counter:
    return Counter(
        o["orderId"] for p in (landing / "ebay").glob("*.json") for o in orjson.loads(p.read_bytes()).get("orders", [])
    )


def test_pages_by_offset_until_total_in_native_shape(server, ebay, tmp_path):
    result = fetch("ebay", {"lastmodifieddate": "2025-03-01T00:00:00.000Z"}, tmp_path, _settings(server), now=NOW)

    assert result.complete and (result.pages, result.records, len(result.files)) == (3, 9, 3)
    assert all(re.fullmatch(r"api_orders_[0-9a-f]{20}\.json", p.name) and p.parent == tmp_path / "ebay" for p in result.files)
    body = orjson.loads(result.files[0].read_bytes())
    assert {"href", "total", "limit", "offset", "orders"} <= set(body) and body["total"] == 9
    assert set(_landed_ids(tmp_path)) == ALL_IDS
    assert result.new_cursor == {"lastmodifieddate": "2025-03-04T17:30:00.000Z"}
    assert [(a["filter"], a["limit"], a["offset"]) for _, _, a in ebay.requests] == [
        ("lastmodifieddate:[2025-03-01T00:00:00.000Z..]", "4", str(offset)) for offset in (0, 4, 8)
    ]
    assert ebay.token_forms == [{"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "scope": SCOPE}]


def test_first_run_filters_from_lookback_in_ebay_timestamp_format(server, ebay, tmp_path):
    result = fetch("ebay", None, tmp_path, _settings(server, initial_lookback_days=30), now=NOW)
    assert result.complete and ebay.requests[0][2]["filter"] == "lastmodifieddate:[2025-02-08T12:00:00.000Z..]"


def test_client_credentials_grant_needs_no_refresh_token(server, ebay, tmp_path, monkeypatch):
    monkeypatch.delenv("EBAY_REFRESH_TOKEN")
    result = fetch("ebay", None, tmp_path, _settings(server, ebay_grant_type="client_credentials"), now=NOW)
    assert result.complete and ebay.token_forms == [{"grant_type": "client_credentials", "scope": SCOPE}]


def test_401_refreshes_the_token_once_and_continues(server, ebay, tmp_path):
    ebay.expire_after_page = 1
    result = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 9 and len(ebay.issued) == 2


def test_401_twice_stops_with_error(server, ebay, tmp_path):
    class Forgetful(set):  # the fake issues tokens but never accepts them
        def add(self, _token):
            return None

    ebay.valid_tokens = Forgetful()
    result = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert not result.complete and "HTTP 401" in result.error and "Invalid access token" in result.error
    assert len(ebay.issued) == 2  # the first token and exactly one refresh


def test_429_with_retry_after_then_success(server, ebay, tmp_path):
    ebay.faults[1] = ["429"]
    result = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 9
    times = [t for index, t, _ in ebay.requests if index == 1]
    assert len(times) == 2 and times[1] - times[0] >= 0.29


def test_500_then_success(server, ebay, tmp_path):
    ebay.faults[2] = ["500"]
    result = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 9


def test_timeout_then_success(server, ebay, tmp_path):
    ebay.faults[0] = ["sleep"]
    result = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 9


def test_truncated_page_keeps_earlier_pages_and_rerun_loses_nothing(server, ebay, tmp_path):
    ebay.sticky[2] = "truncate"
    first = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert not first.complete
    assert "ebay" in first.error and "/sell/fulfillment/v1/order" in first.error and "HTTP 200" in first.error
    assert (first.pages, first.records, len(first.files)) == (2, 8, 2)
    assert first.new_cursor is None

    ebay.sticky.clear()
    second = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert second.complete and second.files[:2] == first.files
    ids = _landed_ids(tmp_path)
    assert set(ids) == ALL_IDS and max(ids.values()) == 1


@pytest.mark.parametrize("missing", sorted(ENV))
def test_missing_secret_raises_naming_the_variable(server, ebay, tmp_path, monkeypatch, missing):
    monkeypatch.delenv(missing)
    with pytest.raises(MissingSecretError, match=re.escape(missing)):
        fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert ebay.token_forms == [] and ebay.requests == []


def test_secrets_never_in_files_or_logs(server, ebay, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    ebay.expire_after_page = 0
    ebay.faults[1] = ["500"]
    result = fetch("ebay", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and len(ebay.issued) == 2
    captured = capsys.readouterr()
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    texts = [ours, captured.out, captured.err, *(p.read_text() for p in (tmp_path / "ebay").iterdir())]
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, basic, *ebay.issued):
        assert all(secret not in text for text in texts)
