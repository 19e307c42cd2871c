"""Meta Marketing API insights: GET /{version}/act_{account_id}/insights, daily rows per campaign.

`level=campaign&time_increment=1&fields=...&time_range={"since","until"}&access_token=...`,
then `paging.next` until it is absent. Days run up to yesterday (UTC) and are requested in
windows of `meta_window_days`, oldest first, so the cursor `{"since": <last complete date>}`
can advance window by window even if a later window fails. The next run starts at that date
minus `meta_refetch_days`, because attribution keeps changing the last days' numbers.
Each page is written in the native body shape `{"data": [...], "paging": {...}}`; the
`access_token` that Meta echoes inside `paging.next`/`previous` is replaced by REDACTED.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, timedelta
from typing import Any

import httpx
import orjson

from .auth import require_secret
from .base import Context, FetchResult, Run
from .errors import ApiConfigError, ApiError
from .http import Requester, same_origin

SOURCE = "meta_ads"
CURSOR_KEY = "since"
FIELDS = "campaign_id,campaign_name,spend,impressions,clicks,actions,account_currency,date_start,date_stop"
# Graph API error codes worth waiting for: 1/2 transient, 4/17/32/613 and 8000x rate limits.
_RETRY_CODES = frozenset({1, 2, 4, 17, 32, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014})


def _data_body(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return 'expected {"data": [...], "paging": {...}}'
    return None


def regain_access_seconds(response: httpx.Response) -> float | None:
    """Wait from `X-Business-Use-Case-Usage` (`estimated_time_to_regain_access` is in minutes)."""
    raw = response.headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access", 0)
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    longest = max((m for m in minutes if isinstance(m, int | float)), default=0)
    return float(longest) * 60 if longest > 0 else None


def _retry_hint(response: httpx.Response, body: Any) -> tuple[bool, float | None]:
    """Meta reports throttling and transient faults as 4xx/5xx with an `error.code` / `is_transient`."""
    if response.status_code < 400:
        return False, None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False, None
    if error.get("code") in _RETRY_CODES or error.get("is_transient") is True:
        return True, regain_access_seconds(response)
    return False, None


def _windows(since: date, until: date, days: int) -> Iterator[tuple[date, date]]:
    start = since
    while start <= until:
        end = min(until, start + timedelta(days=max(1, days) - 1))
        yield start, end
        start = end + timedelta(days=1)


def fetch(ctx: Context, cursor: dict | None) -> FetchResult:
    s = ctx.settings
    account = s.meta_ad_account_id.strip().removeprefix("act_")
    if not account:
        raise ApiConfigError("meta_ads: settings.meta_ad_account_id is empty")
    token = require_secret(SOURCE, s.meta_access_token_env)
    base = s.meta_graph_url.rstrip("/")
    requester = Requester(ctx.client, s, SOURCE, secrets=lambda: [token], retry_hint=_retry_hint)
    run = Run(SOURCE, "insights", ctx.landing_dir, secrets=lambda: [token])

    until = ctx.now.astimezone(UTC).date() - timedelta(days=1)  # today is not complete yet
    stored = (cursor or {}).get(CURSOR_KEY)
    try:
        stored_since = date.fromisoformat(stored) if stored else None
    except ValueError as exc:
        raise ApiConfigError(f"meta_ads: stored cursor since={stored!r} is not a YYYY-MM-DD date") from exc
    if stored_since is not None:
        since = stored_since - timedelta(days=s.meta_refetch_days)
    else:
        since = until - timedelta(days=max(1, s.initial_lookback_days) - 1)

    last_complete: date | None = None
    try:
        for w_since, w_until in _windows(since, until, s.meta_window_days):
            url: str | None = f"{base}/{s.meta_api_version}/act_{account}/insights"
            params: dict[str, Any] | None = {
                "level": "campaign",
                "time_increment": 1,
                "fields": FIELDS,
                "time_range": orjson.dumps({"since": w_since.isoformat(), "until": w_until.isoformat()}).decode(),
                "limit": s.meta_page_size,
                "access_token": token,
            }
            seen_urls: set[str] = set()
            while url is not None:
                if run.pages >= s.max_pages:
                    raise ApiError(f"meta_ads: stopped after max_pages={s.max_pages} pages")
                page = requester.request_json("GET", url, params=params, validate=_data_body)
                run.save_page(page.content, len(page.body["data"]))
                paging = page.body.get("paging")
                url = paging.get("next") if isinstance(paging, dict) else None
                params = None  # paging.next is complete (cursor `after`, fields, token)
                if url is not None and not same_origin(url, base):
                    raise ApiError("meta_ads: paging.next points to another host; not following it with the token")
                if url is not None and url in seen_urls:
                    raise ApiError("meta_ads: paging.next repeats a page already fetched; stopping")
                if url is not None:
                    seen_urls.add(url)
            last_complete = w_until
    except ApiError as exc:
        return run.result(new_cursor=_cursor(last_complete, stored_since), error=str(exc))
    return run.result(new_cursor=_cursor(last_complete, stored_since))


def _cursor(last_complete: date | None, stored_since: date | None) -> dict | None:
    if last_complete is None or (stored_since is not None and last_complete <= stored_since):
        return None
    return {CURSOR_KEY: last_complete.isoformat()}
