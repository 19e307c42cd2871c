"""Amazon SP-API Orders v0 getOrders: GET /orders/v0/orders, paged by payload.NextToken.

Auth: an LWA access token (POST {lwa_url}/auth/o2/token, grant_type=refresh_token) sent as the
`x-amz-access-token` header; it is cached until shortly before `expires_in` and re-minted once
if the API answers 401/403. Each page is written as `amazon/api_orders_<sha>.json` in the
native getOrders body shape `{"payload": {"Orders": [...], "NextToken": ..., "LastUpdatedBefore": ...}}`
-- note: this is not the TSV "All Orders" report of files mode.

getOrders documents no sort order, so after a failure the cursor stays where it was
(`new_cursor=None`) and the next run re-reads from it; pages already written are kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from .auth import AccessToken, lwa_token, require_secret, with_token_refresh
from .base import Context, FetchResult, Run, iso_z, latest
from .errors import ApiConfigError, ApiError
from .http import JsonResponse, Requester

SOURCE = "amazon"
CURSOR_KEY = "LastUpdatedAfter"
AUTH_STATUSES = (401, 403)  # SP-API answers 403 "Unauthorized" for an expired access token


def _orders_body(body: Any) -> str | None:
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("Orders"), list):
        return 'expected {"payload": {"Orders": [...]}}'
    return None


def _rate_limit_hint(response: httpx.Response, _body: Any) -> tuple[bool, float | None]:
    """SP-API 429s carry `x-amzn-RateLimit-Limit` (requests/second) rather than Retry-After."""
    if response.status_code != 429:
        return False, None
    try:
        rate = float(response.headers.get("x-amzn-RateLimit-Limit", ""))
    except ValueError:
        return True, None
    return True, (1.0 / rate if rate > 0 else None)


def fetch(ctx: Context, cursor: dict | None) -> FetchResult:
    s = ctx.settings
    if not s.amazon_marketplace_ids:
        raise ApiConfigError("amazon: settings.amazon_marketplace_ids is empty")
    client_id = require_secret(SOURCE, s.amazon_client_id_env)
    client_secret = require_secret(SOURCE, s.amazon_client_secret_env)
    refresh_token = require_secret(SOURCE, s.amazon_refresh_token_env)

    token: AccessToken | None = None

    def secrets() -> list[str]:
        return [client_secret, refresh_token, *(token.issued if token else [])]

    requester = Requester(ctx.client, s, SOURCE, secrets=secrets, retry_hint=_rate_limit_hint)
    token = lwa_token(requester, s.amazon_lwa_url, client_id=client_id, client_secret=client_secret, refresh_token=refresh_token)
    run = Run(SOURCE, "orders", ctx.landing_dir, secrets=secrets)

    start = (cursor or {}).get(CURSOR_KEY) or iso_z(ctx.now - timedelta(days=s.initial_lookback_days))
    url = f"{s.amazon_sp_api_url.rstrip('/')}/orders/v0/orders"
    base_params: dict[str, Any] = {
        "MarketplaceIds": ",".join(s.amazon_marketplace_ids),
        "LastUpdatedAfter": start,
        "MaxResultsPerPage": s.amazon_page_size,
    }
    next_token: str | None = None
    seen_tokens: set[str] = set()
    seen_max: str | None = None
    try:
        while True:
            if run.pages >= s.max_pages:
                raise ApiError(f"amazon: stopped after max_pages={s.max_pages} pages")
            params = dict(base_params, NextToken=next_token) if next_token else base_params
            page = _get(requester, token, url, params)
            payload = page.body["payload"]
            orders = payload["Orders"]
            run.save_page(page.content, len(orders))
            seen_max = latest((o.get("LastUpdateDate") for o in orders if isinstance(o, dict)), seen_max or start) or seen_max
            next_token = payload.get("NextToken") or None
            if next_token is None:
                break
            if next_token in seen_tokens:
                raise ApiError("amazon: getOrders returned a NextToken already used; stopping")
            seen_tokens.add(next_token)
    except ApiError as exc:
        return run.result(new_cursor=None, error=str(exc))
    return run.result(new_cursor={CURSOR_KEY: seen_max} if seen_max else None)


def _get(requester: Requester, token: AccessToken, url: str, params: dict[str, Any]) -> JsonResponse:
    """One getOrders page; on 401/403 mint a fresh LWA token and try once more."""
    return with_token_refresh(
        token,
        lambda access: requester.request_json(
            "GET", url, params=params, headers={"x-amz-access-token": access}, validate=_orders_body
        ),
        statuses=AUTH_STATUSES,
    )
