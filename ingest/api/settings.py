"""Settings for the `api` source mode: endpoints, page sizes, timeouts, retries, secret names.

Only the *names* of the environment variables that hold secrets live here; the values are
read from `os.environ` when a fetch runs (see `ingest.api.auth.require_secret`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx


@dataclass(frozen=True)
class ApiSettings:
    """Everything the HTTP connectors need apart from secrets; base URLs are overridable for tests."""

    # --- Shopify Admin REST API: GET /admin/api/{version}/orders.json
    shopify_shop_url: str = ""  # e.g. "https://my-shop.myshopify.com"
    shopify_api_version: str = "2026-04"
    shopify_page_size: int = 250  # Shopify's maximum `limit`
    shopify_access_token_env: str = "SHOPIFY_ACCESS_TOKEN"

    # --- Amazon SP-API Orders v0 getOrders + Login with Amazon (LWA)
    amazon_lwa_url: str = "https://api.amazon.com"  # token endpoint: {lwa_url}/auth/o2/token
    amazon_sp_api_url: str = "https://sellingpartnerapi-na.amazon.com"  # -eu / -fe for other regions
    amazon_marketplace_ids: tuple[str, ...] = ("ATVPDKIKX0DER",)  # Amazon.com
    amazon_page_size: int = 100  # getOrders MaxResultsPerPage (1..100)
    amazon_client_id_env: str = "AMAZON_LWA_CLIENT_ID"
    amazon_client_secret_env: str = "AMAZON_LWA_CLIENT_SECRET"
    amazon_refresh_token_env: str = "AMAZON_LWA_REFRESH_TOKEN"

    # --- eBay Sell Fulfillment API getOrders + OAuth token endpoint
    ebay_auth_url: str = "https://api.ebay.com"  # token endpoint: {auth_url}/identity/v1/oauth2/token
    ebay_api_url: str = "https://api.ebay.com"
    ebay_page_size: int = 200  # getOrders maximum `limit`
    # getOrders reads a seller's orders, which needs a *user* token: mint it from the seller's
    # refresh token. "client_credentials" mints an application token (for sandboxes/proxies).
    ebay_grant_type: Literal["refresh_token", "client_credentials"] = "refresh_token"
    ebay_scopes: tuple[str, ...] = ("https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",)
    ebay_client_id_env: str = "EBAY_CLIENT_ID"
    ebay_client_secret_env: str = "EBAY_CLIENT_SECRET"
    ebay_refresh_token_env: str = "EBAY_REFRESH_TOKEN"

    # --- Meta Marketing API: GET /{version}/act_{account_id}/insights
    meta_graph_url: str = "https://graph.facebook.com"
    meta_api_version: str = "v25.0"
    meta_ad_account_id: str = ""  # with or without the "act_" prefix
    meta_page_size: int = 500  # `limit` per insights page
    meta_window_days: int = 30  # days per time_range request; the cursor advances window by window
    meta_refetch_days: int = 2  # extra days re-read before the cursor: late attribution changes recent days
    meta_access_token_env: str = "META_ACCESS_TOKEN"

    # --- shared
    initial_lookback_days: int = 30  # first run (no cursor): how far back to start
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5  # retries after the first attempt, per request
    backoff_initial: float = 1.0  # seconds; exponential: initial * exp_base ** (attempt - 1) + jitter
    backoff_max: float = 60.0
    backoff_jitter: float = 1.0
    backoff_exp_base: float = 2.0
    retry_after_max: float = 120.0  # cap on a server-requested wait (Retry-After and friends)
    retry_total_timeout: float | None = 900.0  # give up retrying one request after this many seconds
    max_pages: int = 100_000  # guard against a server that never stops paginating
    user_agent: str = "retention-pipeline-ingest/0.1"

    def timeout(self) -> httpx.Timeout:
        """The per-request httpx timeout built from these settings."""
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)
