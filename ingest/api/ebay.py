"""eBay Sell Fulfillment API getOrders: GET /sell/fulfillment/v1/order, paged by limit/offset.

`filter=lastmodifieddate:[<cursor>..]`, `limit=200` (eBay's maximum), `offset=0, 200, ...` until
`offset + limit >= total`. Each page is written in the native body shape
`{"href", "total", "limit", "offset", "next"?, "orders": [...]}`.
Auth: `Authorization: Bearer <token>`, the token minted at {auth_url}/identity/v1/oauth2/token
with HTTP Basic base64(client_id:client_secret), refresh_token grant (a user token, which
getOrders needs) or client_credentials; re-minted once if the API answers 401.
getOrders documents no sort order, so after a failure the cursor stays where it was.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .auth import AccessToken, ebay_token, require_secret, with_token_refresh
from .base import Context, FetchResult, Run, iso_z, latest
from .errors import ApiConfigError, ApiError
from .http import JsonResponse, Requester

SOURCE = "ebay"
CURSOR_KEY = "lastmodifieddate"
AUTH_STATUSES = (401,)


def _orders_body(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("total"), int):
        return 'expected {"total": <int>, "orders": [...]}'
    if not isinstance(body.get("orders", []), list):
        return '"orders" is not a list'
    return None


def fetch(ctx: Context, cursor: dict | None) -> FetchResult:
    s = ctx.settings
    if s.ebay_grant_type not in ("refresh_token", "client_credentials"):
        raise ApiConfigError(
            f"ebay: settings.ebay_grant_type must be refresh_token or client_credentials, not {s.ebay_grant_type!r}"
        )
    client_id = require_secret(SOURCE, s.ebay_client_id_env)
    client_secret = require_secret(SOURCE, s.ebay_client_secret_env)
    refresh_token = require_secret(SOURCE, s.ebay_refresh_token_env) if s.ebay_grant_type == "refresh_token" else None

    token: AccessToken | None = None

    def secrets() -> list[str]:
        return [client_secret, *([refresh_token] if refresh_token else []), *(token.issued if token else [])]

    requester = Requester(ctx.client, s, SOURCE, secrets=secrets)
    token = ebay_token(
        requester,
        s.ebay_auth_url,
        grant_type=s.ebay_grant_type,
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
        scopes=s.ebay_scopes,
    )
    run = Run(SOURCE, "orders", ctx.landing_dir, secrets=secrets)

    start = (cursor or {}).get(CURSOR_KEY) or iso_z(ctx.now - timedelta(days=s.initial_lookback_days), millis=True)
    url = f"{s.ebay_api_url.rstrip('/')}/sell/fulfillment/v1/order"
    limit = s.ebay_page_size
    offset = 0
    seen_max: str | None = None
    try:
        while True:
            if run.pages >= s.max_pages:
                raise ApiError(f"ebay: stopped after max_pages={s.max_pages} pages")
            params = {"filter": f"{CURSOR_KEY}:[{start}..]", "limit": limit, "offset": offset}
            page = _get(requester, token, url, params)
            orders = page.body.get("orders") or []
            run.save_page(page.content, len(orders))
            seen_max = latest((o.get("lastModifiedDate") for o in orders if isinstance(o, dict)), seen_max or start) or seen_max
            total = page.body["total"]
            if offset + limit >= total:
                break
            if not orders:
                raise ApiError(f"ebay: empty page at offset {offset} although total={total}; stopping")
            offset += limit
    except ApiError as exc:
        return run.result(new_cursor=None, error=str(exc))
    return run.result(new_cursor={CURSOR_KEY: seen_max} if seen_max else None)


def _get(requester: Requester, token: AccessToken, url: str, params: dict[str, Any]) -> JsonResponse:
    """One getOrders page; on 401 mint a fresh token and try once more."""
    return with_token_refresh(
        token,
        lambda access: requester.request_json(
            "GET", url, params=params, headers={"Authorization": f"Bearer {access}"}, validate=_orders_body
        ),
        statuses=AUTH_STATUSES,
    )
