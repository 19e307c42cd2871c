"""Amazon connector against a fake LWA token endpoint and SP-API getOrders on loopback."""

from __future__ import annotations

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

CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.secret0123456789abcdef0123456789"
REFRESH_TOKEN = "Atzr|IwEBIrefresh0123456789abcdefghijklmnop"
ENV = {
    "AMAZON_LWA_CLIENT_ID": CLIENT_ID,
    "AMAZON_LWA_CLIENT_SECRET": CLIENT_SECRET,
    "AMAZON_LWA_REFRESH_TOKEN": REFRESH_TOKEN,
}
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
MARKETPLACE = "ATVPDKIKX0DER"


def _order(n: int, updated: str) -> dict:
    return {
        "AmazonOrderId": f"114-{n:07d}-{n:07d}",
        "PurchaseDate": "2025-03-01T08:00:00Z",
        "LastUpdateDate": updated,
        "OrderStatus": "Shipped",
        "FulfillmentChannel": "AFN",
        "SalesChannel": "Amazon.com",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": f"{10 + n}.99"},
        "NumberOfItemsShipped": 1,
        "NumberOfItemsUnshipped": 0,
        "MarketplaceId": MARKETPLACE,
        "BuyerInfo": {"BuyerEmail": f"x{n}abc@marketplace.amazon.com"},
        "ShippingAddress": {"City": "SEATTLE", "StateOrRegion": "WA", "PostalCode": "98101", "CountryCode": "US"},
    }


ORDERS = [_order(n, f"2025-03-0{1 + n // 3}T{10 + n:02d}:00:00Z") for n in range(1, 8)]  # 7 orders
ALL_IDS = {o["AmazonOrderId"] for o in ORDERS}


class FakeAmazon:
    """LWA token endpoint + getOrders (NextToken paging, 403 for a token it no longer accepts)."""

    def __init__(self, server: HTTPServer, orders: list[dict]) -> None:
        self.orders = orders
        self.expires_in = 3600
        self.valid_tokens: set[str] = set()
        self.issued: list[str] = []
        self.token_error: tuple[int, dict] | None = None
        self.faults: dict[int, list[str]] = {}
        self.sticky: dict[int, str] = {}
        self.requests: list[tuple[int, float, dict]] = []
        self.expire_after_page: int | None = None
        self.lock = threading.Lock()
        server.expect_request("/auth/o2/token", method="POST").respond_with_handler(self.token)
        server.expect_request("/orders/v0/orders", method="GET").respond_with_handler(self.get_orders)

    def token(self, request: Request) -> Response:
        form = request.form.to_dict()
        if self.token_error:
            return _json(self.token_error[1], self.token_error[0])
        expected = {
            "grant_type": "refresh_token",
            "refresh_token": REFRESH_TOKEN,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        if form != expected:
            return _json({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"}, 400)
        with self.lock:
            access = f"Atza|IwEBIaccess{len(self.issued):04d}abcdefghijklmnopqrstuv"
            self.issued.append(access)
            self.valid_tokens.add(access)
        return _json(
            {"access_token": access, "refresh_token": REFRESH_TOKEN, "token_type": "bearer", "expires_in": self.expires_in}, 200
        )

    def get_orders(self, request: Request) -> Response:
        if request.headers.get("x-amz-access-token") not in self.valid_tokens:
            return _json(
                {
                    "errors": [
                        {
                            "code": "Unauthorized",
                            "message": "Access to requested resource is denied.",
                            "details": "The access token you provided has expired.",
                        }
                    ]
                },
                403,
            )
        args = request.args.to_dict()
        if args.get("MarketplaceIds") != MARKETPLACE or "LastUpdatedAfter" not in args:
            return _json({"errors": [{"code": "InvalidInput", "message": f"bad query {args}"}]}, 400)
        size = int(args.get("MaxResultsPerPage", 100))
        offset = int(args["NextToken"].removeprefix("NT-")) if "NextToken" in args else 0
        index = offset // size
        with self.lock:
            self.requests.append((index, time.monotonic(), args))
            fault = self.sticky.get(index) or (self.faults.get(index) or [None]).pop(0)
        after = datetime.fromisoformat(args["LastUpdatedAfter"].replace("Z", "+00:00"))
        rows = sorted(
            (o for o in self.orders if datetime.fromisoformat(o["LastUpdateDate"].replace("Z", "+00:00")) >= after),
            key=lambda o: o["AmazonOrderId"],
            reverse=True,
        )
        payload: dict = {"Orders": rows[offset : offset + size], "LastUpdatedBefore": "2025-03-10T11:58:00Z"}
        if offset + size < len(rows):
            payload["NextToken"] = f"NT-{offset + size}"
        body = orjson.dumps({"payload": payload})
        if fault == "429":
            return _json(
                {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]},
                429,
                {"x-amzn-RateLimit-Limit": "4.0"},
            )
        if fault == "429-retry-after":
            return _json({"errors": [{"code": "QuotaExceeded", "message": "quota"}]}, 429, {"Retry-After": "0.3"})
        if fault == "503":
            return _json({"errors": [{"code": "ServiceUnavailable", "message": "try later"}]}, 503)
        if fault == "sleep":
            time.sleep(0.6)
        if fault == "truncate":
            return Response(body[: len(body) - 7], 200, content_type="application/json")
        if self.expire_after_page is not None and index == self.expire_after_page:
            self.valid_tokens.clear()  # the token "expires" once this page is served
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
def amazon(server, monkeypatch):
    server.clear()
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    fake = FakeAmazon(server, ORDERS)
    yield fake
    server.check_handler_errors()


def _settings(server: HTTPServer, **overrides) -> ApiSettings:
    base = server.url_for("").rstrip("/")
    values = dict(
        amazon_lwa_url=base,
        amazon_sp_api_url=base,
        amazon_marketplace_ids=(MARKETPLACE,),
        amazon_page_size=3,
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
        o["AmazonOrderId"] for p in (landing / "amazon").glob("*.json") for o in orjson.loads(p.read_bytes())["payload"]["Orders"]
    )


def test_pages_follow_next_token_in_native_getorders_shape(server, amazon, tmp_path):
    result = fetch("amazon", {"LastUpdatedAfter": "2025-02-01T00:00:00Z"}, tmp_path, _settings(server), now=NOW)

    assert result.complete and (result.pages, result.records, len(result.files)) == (3, 7, 3)
    assert all(re.fullmatch(r"api_orders_[0-9a-f]{20}\.json", p.name) and p.parent == tmp_path / "amazon" for p in result.files)
    body = orjson.loads(result.files[0].read_bytes())
    assert set(body) == {"payload"} and body["payload"]["NextToken"] == "NT-3"
    order = body["payload"]["Orders"][0]
    assert order["OrderTotal"] == {"CurrencyCode": "USD", "Amount": "17.99"} and order["BuyerInfo"]["BuyerEmail"].endswith(
        "@marketplace.amazon.com"
    )
    assert set(_landed_ids(tmp_path)) == ALL_IDS
    assert result.new_cursor == {"LastUpdatedAfter": "2025-03-03T17:00:00Z"}
    first, *later = [args for _, _, args in amazon.requests]
    assert first == {"MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": "2025-02-01T00:00:00Z", "MaxResultsPerPage": "3"}
    assert [a["NextToken"] for a in later] == ["NT-3", "NT-6"]
    assert len(amazon.issued) == 1  # one LWA token, cached for all pages


def test_token_is_reminted_when_it_expires(server, amazon, tmp_path):
    amazon.expires_in = 0  # every page finds the cached token expired
    result = fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and len(amazon.issued) == 3


def test_403_rejected_token_is_refreshed_once_and_fetch_continues(server, amazon, tmp_path):
    amazon.expire_after_page = 0
    result = fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 7
    assert len(amazon.issued) == 2
    assert [index for index, _, _ in amazon.requests] == [0, 1, 2]  # the 403 is rejected before it is logged as a page


def test_lwa_failure_stops_with_clear_error_and_no_secret(server, amazon, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    amazon.token_error = (
        400,
        {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"},
    )
    result = fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert not result.complete and result.files == [] and result.new_cursor is None
    assert (
        "amazon" in result.error
        and "/auth/o2/token" in result.error
        and "HTTP 400" in result.error
        and "invalid_grant" in result.error
    )
    for secret in (CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in result.error and secret not in caplog.text


def test_429_waits_for_the_rate_limit_then_succeeds(server, amazon, tmp_path):
    amazon.faults[1] = ["429"]  # x-amzn-RateLimit-Limit: 4.0 -> wait 0.25 s
    amazon.faults[2] = ["429-retry-after"]  # Retry-After: 0.3
    result = fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 7
    times = {i: [t for index, t, _ in amazon.requests if index == i] for i in (1, 2)}
    assert times[1][1] - times[1][0] >= 0.24
    assert times[2][1] - times[2][0] >= 0.29


def test_5xx_then_success(server, amazon, tmp_path):
    amazon.faults[0] = ["503", "503", "503"]
    result = fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 7


def test_timeout_then_success(server, amazon, tmp_path):
    amazon.faults[1] = ["sleep"]
    result = fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 7
    assert [index for index, _, _ in amazon.requests].count(1) == 2


def test_truncated_page_keeps_earlier_pages_cursor_unchanged_and_rerun_loses_nothing(server, amazon, tmp_path):
    amazon.sticky[1] = "truncate"
    cursor = {"LastUpdatedAfter": "2025-02-01T00:00:00Z"}
    first = fetch("amazon", cursor, tmp_path, _settings(server), now=NOW)

    assert not first.complete
    assert "amazon" in first.error and "/orders/v0/orders" in first.error and "HTTP 200" in first.error
    assert (first.pages, first.records, len(first.files)) == (1, 3, 1) and first.files[0].exists()
    assert first.new_cursor is None  # getOrders has no documented order: only a complete run moves the cursor

    amazon.sticky.clear()
    second = fetch("amazon", cursor, tmp_path, _settings(server), now=NOW)
    assert second.complete and second.files[0] == first.files[0]  # the identical first page is overwritten
    ids = _landed_ids(tmp_path)
    assert set(ids) == ALL_IDS and max(ids.values()) == 1  # nothing lost, no duplicates


@pytest.mark.parametrize("missing", sorted(ENV))
def test_missing_secret_raises_naming_the_variable(server, amazon, tmp_path, monkeypatch, missing):
    monkeypatch.delenv(missing)
    with pytest.raises(MissingSecretError, match=missing) as info:
        fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert info.value.variable == missing
    assert amazon.requests == [] and amazon.issued == []


def test_secrets_never_in_files_or_logs(server, amazon, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    amazon.expire_after_page = 0
    amazon.faults[2] = ["503"]
    result = fetch("amazon", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and len(amazon.issued) == 2
    captured = capsys.readouterr()
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    texts = [ours, captured.out, captured.err, *(p.read_text() for p in (tmp_path / "amazon").iterdir())]
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, *amazon.issued):
        assert all(secret not in text for text in texts)
