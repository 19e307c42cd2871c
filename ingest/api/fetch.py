"""Entry point of the `api` source mode: `fetch(source, cursor, landing_dir, settings)`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from . import amazon, ebay, meta_ads, shopify
from .base import Context, FetchResult
from .http import install_log_redaction
from .settings import ApiSettings

CONNECTORS: dict[str, Callable[[Context, dict | None], FetchResult]] = {
    "shopify": shopify.fetch,
    "amazon": amazon.fetch,
    "ebay": ebay.fetch,
    "meta_ads": meta_ads.fetch,
}
SOURCES = tuple(CONNECTORS)


def fetch(
    source: str,
    cursor: dict | None,
    landing_dir: Path,
    settings: ApiSettings,
    *,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> FetchResult:
    """Fetch every page changed since `cursor` into `<landing_dir>/<source>/`, one file per page.

    Request failures end the fetch early with `complete=False` (pages already written are kept
    and `new_cursor` is the cursor those pages make safe). Missing secrets or settings raise
    `ApiConfigError` / `MissingSecretError` before any request.
    """
    try:
        connector = CONNECTORS[source]
    except KeyError:
        raise ValueError(f"unknown api source {source!r}; expected one of {', '.join(SOURCES)}") from None
    install_log_redaction()
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    own_client = client is None
    http_client = client or httpx.Client(timeout=settings.timeout(), follow_redirects=False)
    try:
        return connector(Context(client=http_client, settings=settings, landing_dir=Path(landing_dir), now=now), cursor)
    finally:
        if own_client:
            http_client.close()
