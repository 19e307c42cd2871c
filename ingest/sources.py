"""What each source's raw table looks like: native columns, keys and row-level checks.

The loader (`ingest/load.py`) reads every file into these tables and quarantines rows that
fail a check. Keep this file in step with `ingest/SOURCES.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "timestamp", "epoch_ms", "date", "amount", "signed_amount", "int", "currency", "country2", "country3", "bool"]


@dataclass(frozen=True)
class Check:
    """A row-level check on one value: `expr` is SQL over the record (`rec` for JSON)."""

    field: str
    kind: Kind
    required: bool = False
    expr: str | None = None  # SQL over the raw columns; None: the column of the same name


@dataclass(frozen=True)
class RawTable:
    source: str
    table: str
    file_format: Literal["json", "csv", "tsv", "generic"]
    patterns: tuple[str, ...]
    columns: tuple[str, ...]  # native names, in file order for CSV; top-level keys for JSON
    key: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    records_path: tuple[str, ...] = ()  # JSON: where the record array sits in the body
    json_columns: tuple[str, ...] = field(default=())  # JSON: nested values kept as JSON

    @property
    def name(self) -> str:
        return f"raw.{self.table}"


def _j(path: str) -> str:
    """SQL for a value nested in a JSON column, e.g. _j("pricingSummary.total.value")."""
    column, *parents, leaf = path.split(".")
    return f'"{column}"' + "".join(f"->'{p}'" for p in parents) + f"->>'{leaf}'"


RAW_TABLES: dict[str, RawTable] = {
    t.table: t
    for t in [
        RawTable(
            source="shopify",
            table="shopify_orders",
            file_format="json",
            patterns=("*.json",),
            records_path=("orders",),
            columns=(
                "id", "name", "email", "phone", "created_at", "updated_at", "processed_at", "cancelled_at",
                "currency", "total_price", "subtotal_price", "total_discounts", "total_shipping_price_set",
                "discount_codes", "financial_status", "fulfillment_status", "customer", "shipping_address",
                "line_items", "refunds",
            ),
            json_columns=("total_shipping_price_set", "discount_codes", "customer", "shipping_address", "line_items", "refunds"),
            key=("id",),
            checks=(
                Check("id", "int", required=True),
                Check("created_at", "timestamp", required=True),
                Check("updated_at", "timestamp"),
                Check("currency", "currency", required=True),
                Check("total_price", "amount", required=True),
                Check("shipping_address.country_code", "country2", expr=_j("shipping_address.country_code")),
            ),
        ),
        RawTable(
            source="amazon",
            table="amazon_order_items",
            file_format="tsv",
            patterns=("*.tsv", "*.txt"),
            columns=(
                "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
                "fulfillment-channel", "sales-channel", "sku", "asin", "product-name", "quantity", "currency",
                "item-price", "item-tax", "shipping-price", "item-promotion-discount", "ship-city", "ship-state",
                "ship-postal-code", "ship-country", "buyer-email", "buyer-name",
            ),
            key=("amazon-order-id", "sku"),
            checks=(
                Check("amazon-order-id", "text", required=True),
                Check("sku", "text", required=True),
                Check("purchase-date", "timestamp", required=True),
                Check("last-updated-date", "timestamp"),
                Check("quantity", "int"),
                Check("currency", "currency", required=True),
                Check("item-price", "amount", required=True),
                Check("ship-country", "country2"),
            ),
        ),
        RawTable(
            source="amazon",
            table="amazon_orders",
            file_format="json",
            patterns=("api_orders_*.json",),
            records_path=("payload", "Orders"),
            columns=(
                "AmazonOrderId", "SellerOrderId", "PurchaseDate", "LastUpdateDate", "OrderStatus", "FulfillmentChannel",
                "SalesChannel", "MarketplaceId", "OrderTotal", "BuyerInfo", "ShippingAddress",
            ),
            json_columns=("OrderTotal", "BuyerInfo", "ShippingAddress"),
            key=("AmazonOrderId",),
            checks=(
                Check("AmazonOrderId", "text", required=True),
                Check("PurchaseDate", "timestamp", required=True),
                Check("LastUpdateDate", "timestamp"),
                Check("OrderTotal.Amount", "amount", expr=_j("OrderTotal.Amount")),
                Check("OrderTotal.CurrencyCode", "currency", expr=_j("OrderTotal.CurrencyCode")),
                Check("ShippingAddress.CountryCode", "country2", expr=_j("ShippingAddress.CountryCode")),
            ),
        ),
        RawTable(
            source="ebay",
            table="ebay_orders",
            file_format="json",
            patterns=("*.json",),
            records_path=("orders",),
            columns=(
                "orderId", "legacyOrderId", "creationDate", "lastModifiedDate", "orderFulfillmentStatus",
                "orderPaymentStatus", "buyer", "pricingSummary", "lineItems", "paymentSummary",
            ),
            json_columns=("buyer", "pricingSummary", "lineItems", "paymentSummary"),
            key=("orderId",),
            checks=(
                Check("orderId", "text", required=True),
                Check("creationDate", "timestamp", required=True),
                Check("lastModifiedDate", "timestamp"),
                Check("pricingSummary.total.value", "amount", required=True, expr=_j("pricingSummary.total.value")),
                Check("pricingSummary.total.currency", "currency", required=True, expr=_j("pricingSummary.total.currency")),
                Check("buyer.username", "text", required=True, expr=_j("buyer.username")),
            ),
        ),
        RawTable(
            source="walmart",
            table="walmart_orders",
            file_format="json",
            patterns=("*.json",),
            records_path=("list", "elements", "order"),
            columns=("purchaseOrderId", "customerOrderId", "customerEmailId", "orderDate", "shippingInfo", "orderLines"),
            json_columns=("shippingInfo", "orderLines"),
            key=("purchaseOrderId",),
            checks=(
                Check("purchaseOrderId", "text", required=True),
                Check("orderDate", "epoch_ms", required=True),
                Check("shippingInfo.postalAddress.country", "country3", expr=_j("shippingInfo.postalAddress.country")),
            ),
        ),
        RawTable(
            source="meta_ads",
            table="meta_ads_insights",
            file_format="json",
            patterns=("*.json",),
            records_path=("data",),
            columns=("date_start", "date_stop", "campaign_id", "campaign_name", "account_currency", "spend", "impressions", "clicks", "actions"),
            json_columns=("actions",),
            key=("campaign_id", "date_start"),
            checks=(
                Check("campaign_id", "text", required=True),
                Check("date_start", "date", required=True),
                Check("spend", "amount", required=True),
                Check("impressions", "int"),
                Check("clicks", "int"),
                Check("account_currency", "currency"),
            ),
        ),
        RawTable(
            source="google_ads",
            table="google_ads_campaign_performance",
            file_format="csv",
            patterns=("*.csv",),
            columns=(
                "segments.date", "campaign.id", "campaign.name", "customer.currency_code", "metrics.cost_micros",
                "metrics.impressions", "metrics.clicks", "metrics.conversions",
            ),
            key=("campaign.id", "segments.date"),
            checks=(
                Check("campaign.id", "text", required=True),
                Check("segments.date", "date", required=True),
                Check("metrics.cost_micros", "amount", required=True),
                Check("metrics.impressions", "int"),
                Check("metrics.clicks", "int"),
                Check("metrics.conversions", "amount"),
                Check("customer.currency_code", "currency"),
            ),
        ),
        RawTable(
            source="email",
            table="email_events",
            file_format="csv",
            patterns=("*.csv",),
            columns=("event_id", "email", "event_type", "campaign_id", "campaign_name", "occurred_at"),
            key=("event_id",),
            checks=(
                Check("event_id", "text", required=True),
                Check("email", "text", required=True),
                Check("event_type", "text", required=True),
                Check("occurred_at", "timestamp", required=True),
            ),
        ),
        RawTable(
            source="web",
            table="web_events",
            file_format="csv",
            patterns=("*.csv",),
            columns=("event_id", "session_id", "email", "event_type", "sku", "occurred_at"),
            key=("event_id",),
            checks=(
                Check("event_id", "text", required=True),
                Check("event_type", "text", required=True),
                Check("occurred_at", "timestamp", required=True),
            ),
        ),
        RawTable(
            source="support",
            table="support_tickets",
            file_format="csv",
            patterns=("*.csv",),
            columns=(
                "ticket_id", "requester_email", "platform", "order_ref", "topic", "is_complaint", "status",
                "created_at", "updated_at", "solved_at",
            ),
            key=("ticket_id",),
            checks=(
                Check("ticket_id", "text", required=True),
                Check("created_at", "timestamp", required=True),
                Check("updated_at", "timestamp"),
                Check("solved_at", "timestamp"),
                Check("is_complaint", "bool"),
            ),
        ),
        RawTable(
            source="shipments",
            table="shipments",
            file_format="csv",
            patterns=("*.csv",),
            columns=("shipment_id", "platform", "order_id", "carrier", "tracking_number", "destination_country", "shipped_at", "delivered_at"),
            key=("shipment_id",),
            checks=(
                Check("shipment_id", "text", required=True),
                Check("order_id", "text", required=True),
                Check("shipped_at", "timestamp", required=True),
                Check("delivered_at", "timestamp"),
                Check("destination_country", "country2"),
            ),
        ),
        RawTable(
            source="returns",
            table="returns",
            file_format="csv",
            patterns=("*.csv",),
            columns=("return_id", "platform", "order_id", "sku", "quantity", "reason", "requested_at", "refund_amount", "currency"),
            key=("return_id",),
            checks=(
                Check("return_id", "text", required=True),
                Check("order_id", "text", required=True),
                Check("requested_at", "timestamp", required=True),
                Check("quantity", "int"),
                Check("refund_amount", "amount"),
                Check("currency", "currency"),
            ),
        ),
        RawTable(
            source="catalog",
            table="products",
            file_format="csv",
            patterns=("*.csv",),
            columns=("sku", "product_id", "title", "category", "category_type", "list_price_usd", "launched_on"),
            key=("sku",),
            checks=(
                Check("sku", "text", required=True),
                Check("category", "text", required=True),
                Check("list_price_usd", "amount"),
                Check("launched_on", "date"),
            ),
        ),
        RawTable(
            source="fx",
            table="fx_rates",
            file_format="csv",
            patterns=("*.csv",),
            columns=("rate_date", "currency", "usd_per_unit"),
            key=("rate_date", "currency"),
            checks=(
                Check("rate_date", "date", required=True),
                Check("currency", "currency", required=True),
                Check("usd_per_unit", "amount", required=True),
            ),
        ),
        RawTable(
            source="generic",
            table="generic_orders",
            file_format="generic",
            patterns=("*.csv", "*.parquet", "*.txt", "*.tsv"),
            columns=("order_id", "customer_id", "ordered_at", "amount", "currency", "country", "sku", "email", "quantity"),
            key=("order_id",),
            checks=(
                Check("order_id", "text", required=True),
                Check("customer_id", "text", required=True),
                Check("ordered_at", "timestamp", required=True),
                Check("amount", "amount", required=True),
                Check("currency", "currency", required=True),
                Check("country", "country2"),
            ),
        ),
    ]
}

TABLES_BY_SOURCE: dict[str, list[RawTable]] = {}
for _table in RAW_TABLES.values():
    TABLES_BY_SOURCE.setdefault(_table.source, []).append(_table)
