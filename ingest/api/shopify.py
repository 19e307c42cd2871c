"""Shopify Admin REST API: GET /admin/api/{version}/orders.json, paged by the Link header.

First page: `status=any&limit=250&updated_at_min=<cursor>&order=updated_at asc`. Later pages:
the full `Link: <...page_info=...>; rel="next"` URL as given -- with `page_info` Shopify
rejects any other filter, so nothing is added. Auth: `X-Shopify-Access-Token` header.
Pages come in `updated_at` order, so after a failure the cursor may still advance to the
latest `updated_at` of the pages that did arrive (`updated_at_min` is inclusive, so orders
sharing that second are read again and deduplicated by the loader on `id`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .auth import require_secret
from .base import Context, FetchResult, Run, latest
from .errors import ApiConfigError, ApiError
from .http import Requester, same_origin

SOURCE = "shopify"
CURSOR_KEY = "updated_at_min"


def _orders_body(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
        return 'expected {"orders": [...]}'
    return None


def fetch(ctx: Context, cursor: dict | None) -> FetchResult:
    s = ctx.settings
    if not s.shopify_shop_url:
        raise ApiConfigError("shopify: settings.shopify_shop_url is empty (e.g. https://my-shop.myshopify.com)")
    token = require_secret(SOURCE, s.shopify_access_token_env)
    base = s.shopify_shop_url.rstrip("/")
    requester = Requester(ctx.client, s, SOURCE, secrets=lambda: [token])
    run = Run(SOURCE, "orders", ctx.landing_dir, secrets=lambda: [token])

    start = (cursor or {}).get(CURSOR_KEY) or (ctx.now - timedelta(days=s.initial_lookback_days)).isoformat(timespec="seconds")
    url: str | None = f"{base}/admin/api/{s.shopify_api_version}/orders.json"
    params: dict[str, Any] | None = {
        "status": "any",
        "limit": s.shopify_page_size,
        "updated_at_min": start,
        "order": "updated_at asc",
    }
    headers = {"X-Shopify-Access-Token": token}
    seen_max: str | None = None  # latest updated_at of fully fetched pages, beyond the stored cursor
    seen_urls: set[str] = set()
    try:
        while url is not None:
            if len(seen_urls) >= s.max_pages:
                raise ApiError(f"shopify: stopped after max_pages={s.max_pages} pages")
            seen_urls.add(url)
            page = requester.request_json("GET", url, params=params, headers=headers, validate=_orders_body)
            orders = page.body["orders"]
            run.save_page(page.content, len(orders))
            seen_max = latest((o.get("updated_at") for o in orders if isinstance(o, dict)), seen_max or start) or seen_max
            url = page.response.links.get("next", {}).get("url")
            params = None  # the next URL carries limit + page_info; Shopify refuses other filters with it
            if url is not None and not same_origin(url, base):
                raise ApiError("shopify: Link rel=next points to another host; not following it with the shop token")
            if url is not None and url in seen_urls:
                raise ApiError("shopify: Link rel=next repeats a page already fetched; stopping")
    except ApiError as exc:
        return run.result(new_cursor=_cursor(seen_max), error=str(exc))
    return run.result(new_cursor=_cursor(seen_max))


def _cursor(seen_max: str | None) -> dict | None:
    return {CURSOR_KEY: seen_max} if seen_max else None
