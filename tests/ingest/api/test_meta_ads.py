"""Meta Ads connector against a fake Marketing API insights edge on loopback."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson
import pytest
import stamina
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ingest.api import ApiSettings, MissingSecretError, fetch
from ingest.api.meta_ads import regain_access_seconds

TOKEN = "EAAGm0PX4ZCpsBAtestaccesstoken0123456789abcdefZDZD"
VERSION = "v25.0"
ACCOUNT = "1234567890"
PATH = f"/{VERSION}/act_{ACCOUNT}/insights"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # yesterday = 2025-03-09
CAMPAIGNS = [("23850000000000001", "Spring sale"), ("23850000000000002", "Retargeting EU"), ("23850000000000003", "Brand")]
FIELDS = "campaign_id,campaign_name,spend,impressions,clicks,actions,account_currency,date_start,date_stop"


def _rows(since: date, until: date) -> list[dict]:
    rows, day = [], since
    while day <= until:
        for n, (cid, name) in enumerate(CAMPAIGNS, start=1):
            rows.append(
                {
                    "campaign_id": cid,
                    "campaign_name": name,
                    "spend": f"{n * 10}.{day.day:02d}",
                    "impressions": str(1000 * n + day.day),
                    "clicks": str(10 * n),
                    "actions": [{"action_type": "purchase", "value": str(n)}],
                    "account_currency": "EUR",
                    "date_start": day.isoformat(),
                    "date_stop": day.isoformat(),
                }
            )
        day += timedelta(days=1)
    return rows


class FakeInsights:
    """Insights edge: daily campaign rows for time_range, cursor paging with `paging.next` carrying the token."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.faults: dict[tuple[str, int], list[str]] = {}  # (window since, page index) -> faults
        self.sticky: dict[tuple[str, int], str] = {}
        self.requests: list[tuple[tuple[str, int], float, dict]] = []
        self.lock = threading.Lock()
        server.expect_request(PATH, method="GET").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        args = request.args.to_dict()
        if args.get("access_token") != TOKEN:
            return _json(
                {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "AbC",
                    }
                },
                400,
            )
        if args.get("level") != "campaign" or args.get("time_increment") != "1" or args.get("fields") != FIELDS:
            return _json({"error": {"message": f"unexpected query {sorted(args)}", "type": "OAuthException", "code": 100}}, 400)
        time_range = orjson.loads(args["time_range"])
        since, until = date.fromisoformat(time_range["since"]), date.fromisoformat(time_range["until"])
        limit = int(args.get("limit", 25))
        offset = int(base64.b64decode(args["after"])) if "after" in args else 0
        key = (time_range["since"], offset // limit)
        with self.lock:
            self.requests.append((key, time.monotonic(), args))
            fault = self.sticky.get(key) or (self.faults.get(key) or [None]).pop(0)
        rows = _rows(since, until)
        paging: dict = {
            "cursors": {
                "before": base64.b64encode(str(offset).encode()).decode(),
                "after": base64.b64encode(str(offset + limit).encode()).decode(),
            }
        }
        if offset + limit < len(rows):
            query = {k: v for k, v in args.items() if k != "after"} | {"after": paging["cursors"]["after"]}
            paging["next"] = self.server.url_for(PATH) + "?" + urlencode(query)  # Meta echoes access_token here
        body = orjson.dumps({"data": rows[offset : offset + limit], "paging": paging})
        if fault == "429":
            return _json({"error": {"message": "Too many calls", "code": 80000}}, 429, {"Retry-After": "0.3"})
        if fault == "throttled":
            usage = {
                ACCOUNT: [
                    {
                        "type": "ads_insights",
                        "call_count": 100,
                        "total_cputime": 40,
                        "total_time": 40,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
            return _json(
                {
                    "error": {
                        "message": "User request limit reached",
                        "type": "OAuthException",
                        "is_transient": True,
                        "code": 17,
                        "error_subcode": 2446079,
                    }
                },
                400,
                {"X-Business-Use-Case-Usage": orjson.dumps(usage).decode()},
            )
        if fault == "500":
            return _json(
                {
                    "error": {
                        "message": "An unexpected error has occurred. Please retry your request later.",
                        "type": "OAuthException",
                        "is_transient": True,
                        "code": 2,
                    }
                },
                500,
            )
        if fault == "sleep":
            time.sleep(0.6)
        if fault == "truncate":
            return Response(body[:-30], 200, content_type="application/json")
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
def meta(server, monkeypatch):
    server.clear()
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    fake = FakeInsights(server)
    yield fake
    server.check_handler_errors()


def _settings(server: HTTPServer, **overrides) -> ApiSettings:
    values = dict(
        meta_graph_url=server.url_for("").rstrip("/"),
        meta_api_version=VERSION,
        meta_ad_account_id=f"act_{ACCOUNT}",
        meta_page_size=4,
        meta_window_days=3,
        meta_refetch_days=0,
        initial_lookback_days=6,  # 2025-03-04 .. 2025-03-09: two windows of 9 rows, 3 pages each
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


def _landed_keys(landing: Path) -> Counter:
    return Counter(
        (r["campaign_id"], r["date_start"])
        for p in (landing / "meta_ads").glob("*.json")
        for r in orjson.loads(p.read_bytes())["data"]
    )


ALL_KEYS = {(cid, (date(2025, 3, 4) + timedelta(days=d)).isoformat()) for cid, _ in CAMPAIGNS for d in range(6)}


def test_windows_and_paging_next_cover_every_day_up_to_yesterday(server, meta, tmp_path):
    result = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)

    assert result.complete and (result.pages, result.records, len(result.files)) == (6, 18, 6)
    assert all(
        re.fullmatch(r"api_insights_[0-9a-f]{20}\.json", p.name) and p.parent == tmp_path / "meta_ads" for p in result.files
    )
    assert set(_landed_keys(tmp_path)) == ALL_KEYS and max(_landed_keys(tmp_path).values()) == 1
    assert result.new_cursor == {"since": "2025-03-09"}
    firsts = [args for _, _, args in meta.requests if "after" not in args]
    assert [orjson.loads(a["time_range"]) for a in firsts] == [
        {"since": "2025-03-04", "until": "2025-03-06"},
        {"since": "2025-03-07", "until": "2025-03-09"},
    ]
    assert firsts[0]["limit"] == "4"
    body = orjson.loads(result.files[0].read_bytes())
    assert set(body) == {"data", "paging"} and "access_token=REDACTED" in body["paging"]["next"]


def test_cursor_resumes_from_last_complete_date_minus_refetch_days(server, meta, tmp_path):
    result = fetch("meta_ads", {"since": "2025-03-08"}, tmp_path, _settings(server, meta_refetch_days=2), now=NOW)
    assert result.complete and result.new_cursor == {"since": "2025-03-09"}
    assert orjson.loads(meta.requests[0][2]["time_range"]) == {"since": "2025-03-06", "until": "2025-03-08"}


def test_429_with_retry_after_then_success(server, meta, tmp_path):
    meta.faults[("2025-03-04", 1)] = ["429"]
    result = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 18
    times = [t for key, t, _ in meta.requests if key == ("2025-03-04", 1)]
    assert len(times) == 2 and times[1] - times[0] >= 0.29


def test_rate_limit_error_code_is_retried(server, meta, tmp_path):
    meta.faults[("2025-03-07", 0)] = ["throttled"]
    result = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 18


def test_500_then_success(server, meta, tmp_path):
    meta.faults[("2025-03-07", 2)] = ["500", "500"]
    result = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 18


def test_timeout_then_success(server, meta, tmp_path):
    meta.faults[("2025-03-04", 0)] = ["sleep"]
    result = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)
    assert result.complete and result.records == 18


def test_non_retryable_error_stops_at_once_with_the_platform_message(server, meta, tmp_path, monkeypatch):
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAGwrongtoken0000000000000000")
    result = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)
    assert not result.complete and result.files == [] and result.new_cursor is None
    assert "meta_ads" in result.error and PATH in result.error and "HTTP 400" in result.error and "190" in result.error
    assert "EAAGwrongtoken" not in result.error


def test_truncated_page_keeps_pages_cursor_is_last_complete_day_and_rerun_loses_nothing(server, meta, tmp_path):
    meta.sticky[("2025-03-07", 1)] = "truncate"
    first = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)

    assert not first.complete
    assert "meta_ads" in first.error and PATH in first.error and "HTTP 200" in first.error and "invalid JSON" in first.error
    assert (first.pages, first.records, len(first.files)) == (4, 13, 4)
    assert first.new_cursor == {"since": "2025-03-06"}  # the first window (03-04..03-06) is complete

    meta.sticky.clear()
    second = fetch("meta_ads", first.new_cursor, tmp_path, _settings(server), now=NOW)
    assert second.complete and second.new_cursor == {"since": "2025-03-09"}
    keys = _landed_keys(tmp_path)
    assert set(keys) == ALL_KEYS  # nothing lost
    # Only days from the cursor on are read again (the loader keeps one row per campaign_id + date_start).
    assert {d for (_, d), n in keys.items() if n > 1} <= {"2025-03-06", "2025-03-07", "2025-03-08"}


def test_missing_token_raises_naming_the_variable(server, meta, tmp_path, monkeypatch):
    monkeypatch.delenv("META_ACCESS_TOKEN")
    with pytest.raises(MissingSecretError, match="META_ACCESS_TOKEN"):
        fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)
    assert meta.requests == []


def test_token_never_in_files_or_logs_although_paging_next_carries_it(server, meta, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    meta.faults[("2025-03-04", 1)] = ["500"]
    result = fetch("meta_ads", None, tmp_path, _settings(server), now=NOW)
    assert result.complete
    assert any("access_token=REDACTED" in r.getMessage() for r in caplog.records if r.name == "httpx")
    captured = capsys.readouterr()
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    for text in (ours, captured.out, captured.err, *(p.read_text() for p in (tmp_path / "meta_ads").iterdir())):
        assert TOKEN not in text


def test_business_use_case_header_gives_the_wait():
    usage = {
        "123": [{"type": "ads_insights", "estimated_time_to_regain_access": 3}],
        "456": [{"estimated_time_to_regain_access": 1}],
    }
    assert (
        regain_access_seconds(httpx.Response(400, headers={"X-Business-Use-Case-Usage": orjson.dumps(usage).decode()})) == 180.0
    )
    assert regain_access_seconds(httpx.Response(400, headers={"X-Business-Use-Case-Usage": "not json"})) is None
    assert regain_access_seconds(httpx.Response(400)) is None
