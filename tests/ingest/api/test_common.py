"""Shared pieces of the api connectors: Retry-After, redaction, landing files, config errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from ingest.api import SOURCES, ApiConfigError, ApiSettings, fetch
from ingest.api.base import iso_z, latest, scrub
from ingest.api.http import RedactingFilter, error_detail, parse_retry_after, redact_url
from ingest.api.landing import landing_name, write_atomic

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        ("2.0", 2.0),
        (" 0 ", 0.0),
        ("-5", 0.0),
        ("Mon, 10 Mar 2025 12:00:30 GMT", 30.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header, now=NOW) == expected


def test_redact_url_hides_tokens_but_keeps_the_rest():
    url = "https://graph.facebook.com/v25.0/act_1/insights?limit=25&access_token=EAAsecret123&after=QVFI"
    assert redact_url(url) == "https://graph.facebook.com/v25.0/act_1/insights?limit=25&access_token=REDACTED&after=QVFI"
    assert (
        redact_url(httpx.URL("https://x/y?refresh_token=abc&client_secret=def"))
        == "https://x/y?refresh_token=REDACTED&client_secret=REDACTED"
    )


def test_redacting_filter_rewrites_httpx_style_records():
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s", ("GET", httpx.URL("https://x/y?access_token=EAAsecret")), None
    )
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "HTTP Request: GET https://x/y?access_token=REDACTED"


def test_error_detail_reads_each_platform_error_shape_without_secrets():
    meta = httpx.Response(400, json={"error": {"message": "Invalid OAuth access token", "code": 190}})
    spapi = httpx.Response(403, json={"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]})
    oauth = httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad refresh token s3cr3t-value-123"})
    assert error_detail(meta) == "HTTP 400 Bad Request (190: Invalid OAuth access token)"
    assert error_detail(spapi) == "HTTP 403 Forbidden (Unauthorized: Access to requested resource is denied.)"
    assert error_detail(oauth, ["s3cr3t-value-123"]) == "HTTP 400 Bad Request (invalid_grant: bad refresh token REDACTED)"
    assert error_detail(httpx.Response(502, content=b"<html>")) == "HTTP 502 Bad Gateway"


def test_scrub_removes_tokens_from_bodies_and_keeps_json_valid():
    body = b'{"data":[],"paging":{"next":"https:\\/\\/g\\/v1\\/act_1\\/insights?access_token=EAAtok&after=x"},"note":"longsecretvalue"}'
    out = scrub(body, ["longsecretvalue", "short"])
    assert (
        out
        == b'{"data":[],"paging":{"next":"https:\\/\\/g\\/v1\\/act_1\\/insights?access_token=REDACTED&after=x"},"note":"REDACTED"}'
    )


def test_landing_names_are_content_addressed_and_writes_are_atomic(tmp_path):
    name = landing_name("orders", b'{"orders":[]}')
    assert name == landing_name("orders", b'{"orders":[]}') != landing_name("orders", b'{"orders":[1]}')
    path = write_atomic(tmp_path / "shopify" / name, b'{"orders":[]}')
    write_atomic(path, b'{"orders":[]}')
    assert [p.name for p in (tmp_path / "shopify").iterdir()] == [name]
    assert path.read_bytes() == b'{"orders":[]}'


def test_latest_compares_instants_not_strings():
    values = ["2025-03-02T20:00:00+08:00", "2025-03-02T13:00:00+00:00", None, "garbage"]
    assert latest(values) == "2025-03-02T13:00:00+00:00"
    assert latest(values, floor="2025-03-02T14:00:00Z") is None
    assert iso_z(NOW) == "2025-03-10T12:00:00Z" and iso_z(NOW, millis=True) == "2025-03-10T12:00:00.000Z"


def test_unknown_source_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="walmart"):
        fetch("walmart", None, tmp_path, ApiSettings())
    assert SOURCES == ("shopify", "amazon", "ebay", "meta_ads")


@pytest.mark.parametrize(
    ("source", "settings", "env", "message"),
    [
        ("shopify", ApiSettings(), {"SHOPIFY_ACCESS_TOKEN": "shpat_x"}, "shopify_shop_url"),
        ("meta_ads", ApiSettings(), {"META_ACCESS_TOKEN": "EAAx"}, "meta_ad_account_id"),
        ("amazon", ApiSettings(amazon_marketplace_ids=()), {}, "amazon_marketplace_ids"),
        ("ebay", ApiSettings(ebay_grant_type="password"), {}, "ebay_grant_type"),
    ],
)
def test_missing_settings_raise_before_any_request(tmp_path, monkeypatch, source, settings, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ApiConfigError, match=message):
        fetch(source, None, tmp_path, settings, now=NOW)
    assert not (tmp_path / source).exists()
