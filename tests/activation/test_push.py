"""Optional pushes against a loopback HTTP server, with faults."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import stamina
from werkzeug import Request, Response

from activation import ActivationConfig, publish, push_export
from activation.push import (
    META_SCHEMA,
    KlaviyoPushConfig,
    MetaPushConfig,
    PushConfig,
    PushError,
    RetryConfig,
    _backoff_hook,
    _klaviyo_batches,
    _parse_retry_after,
    _RetryableResponse,
    push_meta_rows,
)

from .factories import customer, frame, sha

TOKEN = "EAAB-super-secret-token-123"
KEY = "pk_live_secret_klaviyo_key"
ENV = {"META_ACCESS_TOKEN": TOKEN, "KLAVIYO_API_KEY": KEY}


@pytest.fixture(autouse=True)
def no_backoff_sleep():
    # stamina's test mode: no waiting between attempts, attempts capped by our config.
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture(autouse=True)
def capture_everything(caplog):
    """Every log record of every library, at DEBUG, must be free of credentials."""
    caplog.set_level(logging.DEBUG)
    yield
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.get_records("setup") + caplog.get_records("call")
    text = "\n".join(formatter.format(r) for r in records)
    assert "HTTP Request: POST" in text or "push disabled" in text or not records
    assert TOKEN not in text
    assert KEY not in text


def config(httpserver, **retry) -> PushConfig:
    base = httpserver.url_for("/").rstrip("/")
    return PushConfig(
        enabled=True,
        meta=MetaPushConfig(graph_url=base, audience_ids={"at_risk_high_value": "AUD1"}),
        klaviyo=KlaviyoPushConfig(base_url=base, list_ids={"at_risk_high_value": "LIST1"}),
        retry=RetryConfig(attempts=3, **retry),
    )


def meta_rows(n: int) -> list[list[str]]:
    return [[sha(f"user{i}@example.com"), "", "", "", "", "", "", "", f"c{i:05d}"] for i in range(n)]


def form(request: Request) -> dict:
    # Parse the raw body ourselves: werkzeug's form parser caps fields at 500 kB.
    fields = parse_qs(request.get_data(as_text=True))
    return {k: v[0] for k, v in fields.items()}


class Recorder:
    """Request handler that records Meta batches and can fail on demand."""

    def __init__(self, fail_first_id: str | None = None, script: list[Response] | None = None):
        self.calls: list[dict] = []
        self.fail_first_id = fail_first_id
        self.script = list(script or [])

    def __call__(self, request: Request) -> Response:
        body = form(request)
        payload = json.loads(body["payload"])
        self.calls.append(
            {
                "payload": payload,
                "session": json.loads(body["session"]),
                "token": body.get("access_token"),
                "query": request.query_string.decode(),
            }
        )
        if self.script:
            return self.script.pop(0)
        if self.fail_first_id and payload["data"][0][-1] == self.fail_first_id:
            return Response("upstream exploded", status=500)
        return Response(
            json.dumps({"audience_id": "AUD1", "num_received": len(payload["data"])}),
            content_type="application/json",
        )


def test_meta_batches_are_at_most_10000(httpserver, tmp_path):
    recorder = Recorder()
    httpserver.expect_request("/v25.0/AUD1/users", method="POST").respond_with_handler(recorder)
    state = tmp_path / "state.json"
    result = push_meta_rows(meta_rows(25_000), "AUD1", config(httpserver), state, env=ENV)
    assert (result.sent, result.failed, result.skipped) == (3, 0, 0)
    assert [len(c["payload"]["data"]) for c in recorder.calls] == [10_000, 10_000, 5_000]
    assert all(c["payload"]["schema"] == META_SCHEMA for c in recorder.calls)
    sessions = [c["session"] for c in recorder.calls]
    assert len({s["session_id"] for s in sessions}) == 1
    assert [s["batch_seq"] for s in sessions] == [1, 2, 3]
    assert [s["last_batch_flag"] for s in sessions] == [False, False, True]
    assert {s["estimated_num_total"] for s in sessions} == {25_000}
    assert recorder.calls[2]["payload"]["data"][-1][-1] == "c24999"
    # The token goes in the form body, never in the URL.
    assert all(c["token"] == TOKEN and c["query"] == "" for c in recorder.calls)
    saved = json.loads(state.read_text())
    assert [b["rows"] for b in saved["batches"].values()] == [10_000, 10_000, 5_000]
    assert TOKEN not in state.read_text()


def test_meta_429_then_success(httpserver, tmp_path):
    recorder = Recorder(
        script=[
            Response("slow down", status=429, headers={"Retry-After": "0"}),
            Response(
                json.dumps({"error": {"code": 17, "is_transient": True}}),
                status=400,
                content_type="application/json",
            ),
        ]
    )
    httpserver.expect_request("/v25.0/AUD1/users", method="POST").respond_with_handler(recorder)
    result = push_meta_rows(meta_rows(10), "AUD1", config(httpserver), tmp_path / "s.json", env=ENV)
    assert result.ok and result.sent == 1
    assert len(recorder.calls) == 3  # 429, Meta throttling code 17, then 200
    assert recorder.calls[0]["payload"] == recorder.calls[2]["payload"]


def test_backoff_hook_honours_retry_after():
    hook = _backoff_hook(RetryConfig(max_retry_after=30))
    assert hook(_RetryableResponse(429, 7.0, "x")) == 7.0
    assert hook(_RetryableResponse(429, 600.0, "x")) == 30.0  # capped
    assert hook(_RetryableResponse(503, None, "x")) is True  # exponential backoff
    assert hook(httpx.ConnectError("refused")) is True
    assert hook(ValueError("bug")) is False
    assert _parse_retry_after("12") == 12.0
    assert _parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert _parse_retry_after("soon") is None


def test_failing_batch_then_resume_sends_only_missing(httpserver, tmp_path):
    rows = meta_rows(25_000)
    state = tmp_path / "state.json"
    broken = Recorder(fail_first_id="c10000")  # the second batch always gets a 500
    httpserver.expect_request("/v25.0/AUD1/users", method="POST").respond_with_handler(broken)
    first = push_meta_rows(rows, "AUD1", config(httpserver), state, env=ENV)
    assert (first.sent, first.failed) == (2, 1)
    assert [b.status for b in first.batches] == ["sent", "failed", "sent"]
    assert "HTTP 500" in first.batches[1].error
    assert len(broken.calls) == 5  # 1 + 3 attempts + 1
    with pytest.raises(PushError, match="1 batch"):
        first.raise_for_failures()

    httpserver.clear()
    healthy = Recorder()
    httpserver.expect_request("/v25.0/AUD1/users", method="POST").respond_with_handler(healthy)
    second = push_meta_rows(rows, "AUD1", config(httpserver), state, env=ENV)
    assert [b.status for b in second.batches] == ["skipped", "sent", "skipped"]
    assert len(healthy.calls) == 1
    assert healthy.calls[0]["payload"]["data"] == rows[10_000:20_000]
    assert healthy.calls[0]["session"]["batch_seq"] == 1
    assert healthy.calls[0]["session"]["last_batch_flag"] is True
    assert len(json.loads(state.read_text())["batches"]) == 3

    httpserver.clear()
    idle = Recorder()
    httpserver.expect_request("/v25.0/AUD1/users", method="POST").respond_with_handler(idle)
    third = push_meta_rows(rows, "AUD1", config(httpserver), state, env=ENV)
    assert third.skipped == 3 and idle.calls == []


def test_client_error_is_not_retried_and_token_is_scrubbed(httpserver, tmp_path):
    recorder = Recorder(script=[Response(f"bad token {TOKEN}", status=400)])
    httpserver.expect_request("/v25.0/AUD1/users", method="POST").respond_with_handler(recorder)
    result = push_meta_rows(meta_rows(3), "AUD1", config(httpserver), tmp_path / "s.json", env=ENV)
    assert result.failed == 1 and len(recorder.calls) == 1
    assert TOKEN not in result.batches[0].error and "***" in result.batches[0].error
    with pytest.raises(PushError) as excinfo:
        result.raise_for_failures()
    assert TOKEN not in str(excinfo.value)


def test_missing_credentials_fail_before_any_request(httpserver, tmp_path):
    with pytest.raises(PushError, match="META_ACCESS_TOKEN"):
        push_meta_rows(meta_rows(1), "AUD1", config(httpserver), tmp_path / "s.json", env={})
    assert httpserver.log == []


def test_klaviyo_batches_respect_payload_size():
    profiles = [{"type": "profile", "attributes": {"email": f"u{i}@example.com", "external_id": str(i)}} for i in range(200)]
    cfg = KlaviyoPushConfig(batch_size=150, max_payload_bytes=10_000)
    batches = _klaviyo_batches(profiles, "L", cfg)
    assert [p for b in batches for p in b] == profiles
    assert all(len(b) <= 150 for b in batches)
    from activation.push import _klaviyo_body

    assert all(len(json.dumps(_klaviyo_body(b, "L")).encode()) <= 10_000 for b in batches)


def test_push_export_meta_and_klaviyo(httpserver, tmp_path):
    customers = frame(*(customer(f"c{i:03d}", first_name="Zoë") for i in range(30)))
    cfg = ActivationConfig(control_share=0.0)
    result = publish(customers, date(2024, 5, 1), tmp_path / "out", cfg, "m")

    meta = Recorder()
    httpserver.expect_request("/v25.0/AUD1/users", method="POST").respond_with_handler(meta)
    klaviyo_calls: list[Request] = []
    bodies: list[dict] = []
    script = [Response("oops", status=502)]

    def klaviyo(request: Request) -> Response:
        klaviyo_calls.append(request)
        bodies.append(json.loads(request.get_data()))
        if script:
            return script.pop(0)
        return Response(
            json.dumps({"data": {"type": "profile-bulk-import-job", "id": "JOB1"}}),
            status=202,
            content_type="application/vnd.api+json",
        )

    httpserver.expect_request("/api/profile-bulk-import-jobs", method="POST").respond_with_handler(klaviyo)
    push_cfg = config(httpserver)
    results = push_export(result.export_dir, push_cfg, env=ENV)
    assert [(r.platform, r.target, r.sent) for r in results] == [
        ("meta", "AUD1", 1),
        ("klaviyo", "LIST1", 1),
    ]
    # Meta got exactly the rows of the published meta.csv.
    meta_file = (result.export_dir / "at_risk_high_value" / "meta.csv").read_text().splitlines()
    assert [",".join(r) for r in meta.calls[0]["payload"]["data"]] == meta_file[1:]
    # Klaviyo: 502 retried, then a bulk import job adding the profiles to the list.
    assert len(klaviyo_calls) == 2
    request = klaviyo_calls[-1]
    assert request.headers["Authorization"] == f"Klaviyo-API-Key {KEY}"
    assert request.headers["revision"] == "2026-01-15"
    assert request.headers["Content-Type"] == "application/vnd.api+json"
    body = bodies[-1]["data"]
    assert body["type"] == "profile-bulk-import-job"
    assert body["relationships"]["lists"]["data"] == [{"type": "list", "id": "LIST1"}]
    profiles = body["attributes"]["profiles"]["data"]
    assert len(profiles) == 30
    first = profiles[0]["attributes"]
    assert first["email"] == "c000@example.com" and first["external_id"] == "c000"
    assert first["first_name"] == "Zoë" and first["phone_number"] == "+442070313000"
    assert first["properties"]["retention_action"] == "coupon"
    state_dir = tmp_path / "out" / ".push_state"
    assert sorted(p.name for p in state_dir.iterdir()) == [
        "2024-05-01_klaviyo_at_risk_high_value_LIST1.json",
        "2024-05-01_meta_at_risk_high_value_AUD1.json",
    ]
    # A re-run resumes from the state files: nothing is sent twice.
    again = push_export(result.export_dir, push_cfg, env=ENV)
    assert [(r.sent, r.skipped) for r in again] == [(0, 1), (0, 1)]
    assert len(meta.calls) == 1 and len(klaviyo_calls) == 2
    for path in state_dir.iterdir():
        assert TOKEN not in path.read_text() and KEY not in path.read_text()


def test_push_disabled_by_default_sends_nothing(httpserver, tmp_path):
    result = publish(frame(customer("a")), date(2024, 5, 1), tmp_path, None, "m")
    assert ActivationConfig().push.enabled is False
    assert push_export(result.export_dir, ActivationConfig().push, env=ENV) == []
    assert httpserver.log == []
    assert not Path(tmp_path / ".push_state").exists()
