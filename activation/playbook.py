"""Win-back playbook (F23): one recommended action per at-risk customer.

Actions by cause (the customer's reasons come from the churn model, ranked):

====================  ===========================  ====================================
cause                 action                       detail
====================  ===========================  ====================================
price                 ``coupon``                   "<coupon_pct>% coupon"
logistics             ``faster_shipping_message``  faster shipping / local stock message
product_quality       ``product_follow_up``        follow-up on the product problem
service               ``personal_contact``         a person from CS gets in touch
engagement            ``channel_switch``           sms -> paid social -> email format
lifecycle             (lapse ladder)               see below
====================  ===========================  ====================================

Lapse ladder (days since last order): 30 -> ``we_miss_you``; 60 -> ``category_offer`` on
the favourite category; 90 and a high value tier -> ``free_shipping_or_strong_discount``
(free shipping when the top cause is logistics, else a strong discount).

Precedence (first rule that applies wins; configurable, ``lapse_ladder`` must be last
because it always applies and so guarantees exactly one action):

1. ``service``: any service reason -> personal contact. A customer with an unresolved
   complaint gets a human before any offer; a coupon to an angry customer reads as a
   brush-off.
2. ``high_value_long_lapse``: lapse >= 90 days and high value -> free shipping or strong
   discount. After three months the original cause is stale and the customer is worth a
   strong incentive.
3. ``top_reason``: the top-ranked reason's cause action (price, logistics,
   product_quality, engagement). A ``lifecycle`` top reason falls through to the ladder.
4. ``lapse_ladder``: 60+ days -> category offer, otherwise "we miss you" (customers under
   30 days get the first rung too).

``action_reason`` names the rule that picked the action, e.g.
``top_reason:price(discount_share)`` or ``lapse_ladder:>=60d``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from activation.normalize import as_bool, is_missing

__all__ = [
    "CAUSES",
    "PlaybookConfig",
    "format_reasons",
    "opening_line",
    "parse_reasons",
    "recommend_actions",
]

Cause = Literal["price", "logistics", "product_quality", "service", "engagement", "lifecycle"]
Rule = Literal["service", "high_value_long_lapse", "top_reason", "lapse_ladder"]
CAUSES: tuple[str, ...] = (
    "price",
    "logistics",
    "product_quality",
    "service",
    "engagement",
    "lifecycle",
)

DEFAULT_OPENING_LINES: dict[str, str] = {
    "price": (
        "Hi {first_name}, thanks for being a customer. I've set aside a {coupon_pct}% "
        "coupon for your next order - can I help you find something?"
    ),
    "logistics": (
        "Hi {first_name}, I saw your last delivery took longer than it should have - sorry "
        "about that. We now have faster shipping to your area and I'd like your next order "
        "to arrive on time."
    ),
    "product_quality": (
        "Hi {first_name}, I'm following up on your recent {category} purchase. Was "
        "everything as expected? If not, I'd like to put it right."
    ),
    "service": (
        "Hi {first_name}, I'm reaching out personally about your recent experience with our "
        "support. I'm sorry it wasn't better - can we talk about how to fix it?"
    ),
    "engagement": (
        "Hi {first_name}, it's been a while! Is there a better way for us to keep you posted on new {category} products?"
    ),
    "lifecycle": (
        "Hi {first_name}, we've missed you! As one of our most valued customers I wanted to "
        "check in personally and offer you {offer} on your next order."
    ),
}


class PlaybookConfig(BaseModel):
    """Tunables of the win-back playbook; defaults implement the F23 rules above."""

    model_config = ConfigDict(extra="forbid")

    precedence: list[Rule] = Field(
        default_factory=lambda: ["service", "high_value_long_lapse", "top_reason", "lapse_ladder"],
        description="Rules in the order they are tried; lapse_ladder must be last.",
    )
    cause_actions: dict[Cause, str] = Field(
        default_factory=lambda: {
            "price": "coupon",
            "logistics": "faster_shipping_message",
            "product_quality": "product_follow_up",
            "service": "personal_contact",
            "engagement": "channel_switch",
        },
        description="Action per cause for the top_reason rule; lifecycle uses the ladder.",
    )
    we_miss_you_days: int = Field(30, ge=0, description="First ladder rung.")
    category_offer_days: int = Field(60, ge=0, description="Second ladder rung.")
    strong_offer_days: int = Field(90, ge=0, description="Top rung, high value only.")
    strong_offer_value_tiers: list[str] = Field(default_factory=lambda: ["high"])
    coupon_pct: int = Field(10, ge=1, le=90, description="Coupon for price-driven churn.")
    strong_discount_pct: int = Field(20, ge=1, le=90, description="Top-rung discount.")
    opening_lines: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_OPENING_LINES),
        description="CS opening line per cause; placeholders {first_name} {category} {coupon_pct} {offer}.",
    )

    @field_validator("precedence")
    @classmethod
    def _ladder_last(cls, value: list[str]) -> list[str]:
        if not value or value[-1] != "lapse_ladder" or value.count("lapse_ladder") != 1:
            raise ValueError("precedence must end with 'lapse_ladder' (the catch-all rule)")
        if len(set(value)) != len(value):
            raise ValueError("precedence rules must be unique")
        return value

    @model_validator(mode="after")
    def _rungs_ordered(self) -> PlaybookConfig:
        if not self.we_miss_you_days <= self.category_offer_days <= self.strong_offer_days:
            raise ValueError("ladder rungs must satisfy we_miss_you <= category_offer <= strong")
        missing = set(CAUSES) - set(self.opening_lines)
        if missing:
            raise ValueError(f"opening_lines missing causes: {sorted(missing)}")
        return self


def parse_reasons(value: object) -> list[dict]:
    """Reasons as a list of {feature, cause, detail} dicts (accepts JSON text and arrays)."""
    if value is None:
        return []
    if isinstance(value, str):
        if not value.strip():
            return []
        value = json.loads(value)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, Iterable):
        return []
    out: list[dict] = []
    for item in value:
        if isinstance(item, dict) and item.get("cause") in CAUSES:
            out.append(
                {
                    "feature": str(item.get("feature") or ""),
                    "cause": item["cause"],
                    "detail": "" if is_missing(item.get("detail")) else str(item["detail"]),
                }
            )
    return out


def format_reasons(reasons: list[dict]) -> str:
    """Readable one-liner for people: 'service: 2 open tickets | logistics: 24-day delivery'."""
    return " | ".join(f"{r['cause']}: {r['detail'] or r['feature']}".rstrip(": ") for r in reasons)


def _strong_offer(top_cause: str | None, cfg: PlaybookConfig) -> str:
    if top_cause == "logistics":
        return "free shipping"
    return f"{cfg.strong_discount_pct}% discount"


def _channel_switch(row: dict) -> str:
    if row.get("sms_consent") == "subscribed":
        return "switch to sms"
    if as_bool(row.get("ads_consent")):
        return "switch to paid social/search retargeting"
    return "change email format and send time"


def _cause_detail(action_cause: str, reason: dict, row: dict, cfg: PlaybookConfig) -> str:
    detail = reason.get("detail") or reason.get("feature") or ""
    if action_cause == "price":
        return f"{cfg.coupon_pct}% coupon"
    if action_cause == "engagement":
        return _channel_switch(row)
    return detail


# the customer columns `_recommend_row` reads (with `_cause_detail` and `_channel_switch`)
RULE_INPUTS = ("reasons", "days_since_last_order", "value_tier", "favourite_category", "sms_consent", "ads_consent")


def _recommend_row(row: dict, cfg: PlaybookConfig) -> tuple[str, str, str, str]:
    """(action, action_detail, action_reason, driving_cause) for one customer."""
    reasons = parse_reasons(row.get("reasons"))
    causes = [r["cause"] for r in reasons]
    top_cause = causes[0] if causes else None
    lapse_raw = row.get("days_since_last_order")
    lapse = 0 if is_missing(lapse_raw) else int(lapse_raw)
    value_tier = row.get("value_tier")

    for rule in cfg.precedence:
        if rule == "service" and "service" in causes:
            reason = reasons[causes.index("service")]
            return (
                cfg.cause_actions.get("service", "personal_contact"),
                reason["detail"] or reason["feature"],
                f"service:{reason['feature'] or 'service'}",
                "service",
            )
        if rule == "high_value_long_lapse" and lapse >= cfg.strong_offer_days and value_tier in cfg.strong_offer_value_tiers:
            return (
                "free_shipping_or_strong_discount",
                _strong_offer(top_cause, cfg),
                f"lapse_ladder:>={cfg.strong_offer_days}d_high_value",
                "lifecycle",
            )
        if rule == "top_reason" and top_cause in cfg.cause_actions and top_cause != "lifecycle":
            reason = reasons[0]
            return (
                cfg.cause_actions[top_cause],
                _cause_detail(top_cause, reason, row, cfg),
                f"top_reason:{top_cause}({reason['feature']})",
                top_cause,
            )
        if rule == "lapse_ladder":
            category = row.get("favourite_category")
            if lapse >= cfg.category_offer_days:
                what = "favourite category" if is_missing(category) else str(category)
                return (
                    "category_offer",
                    f"offer on {what}",
                    f"lapse_ladder:>={cfg.category_offer_days}d",
                    "lifecycle",
                )
            rung = f">={cfg.we_miss_you_days}d" if lapse >= cfg.we_miss_you_days else f"<{cfg.we_miss_you_days}d_first_rung"
            return ("we_miss_you", "we miss you message", f"lapse_ladder:{rung}", "lifecycle")
    raise AssertionError("unreachable: lapse_ladder is validated to be the last rule")


def recommend_actions(customers: pd.DataFrame, cfg: PlaybookConfig) -> pd.DataFrame:
    """Per customer_id: action, action_detail, action_reason, action_cause (one row each)."""
    if customers.empty:
        return pd.DataFrame(
            columns=["action", "action_detail", "action_reason", "action_cause"],
            index=customers.index,
            dtype=object,
        )
    # only the columns the rules read: a dict of every column per customer cost more than the rules
    columns = [c for c in RULE_INPUTS if c in customers.columns]
    rows = [_recommend_row(dict(zip(columns, values, strict=True)), cfg) for values in customers[columns].to_numpy(dtype=object)]
    return pd.DataFrame(
        rows,
        columns=["action", "action_detail", "action_reason", "action_cause"],
        index=customers.index,
    )


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return ""


def opening_line(row: Mapping, cause: str, cfg: PlaybookConfig, offer: str = "") -> str:
    """CS opening line for the cause that drove the action."""
    first = row.get("first_name")
    category = row.get("favourite_category")
    template = cfg.opening_lines.get(cause) or cfg.opening_lines["lifecycle"]
    values = _Defaults(
        first_name="there" if is_missing(first) else str(first).strip(),
        category="recent" if is_missing(category) else str(category),
        coupon_pct=str(cfg.coupon_pct),
        offer=offer or f"{cfg.strong_discount_pct}% off",
    )
    return template.format_map(values)
