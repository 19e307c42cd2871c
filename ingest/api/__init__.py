"""`api` source mode: HTTP connectors that land each fetched page in the platform's own shape.

Shopify (Admin REST orders), Amazon (SP-API getOrders), eBay (Fulfillment getOrders) and
Meta Ads (Marketing API insights). See `fetch` and `ingest/SOURCES.md`.
"""

from .base import FetchResult
from .errors import ApiConfigError, ApiError, MissingSecretError
from .fetch import SOURCES, fetch
from .settings import ApiSettings

__all__ = ["SOURCES", "ApiConfigError", "ApiError", "ApiSettings", "FetchResult", "MissingSecretError", "fetch"]
