"""Presets for small sellers: one `preset:` line in settings.yaml picks sensible defaults.

A preset only fills in what the settings file leaves out: anything set explicitly wins.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # replenishable goods (cosmetics, pet food, supplements): short cycles, churn noticed early
    "fast_moving_consumables": {
        "churn": {
            "preset_days": 60,
            "category_days": {"consumable": 60, "durable": 365},
            "personal_interval_k": 1.5,
            "wake_up_days": 45,
        },
        "model": {"horizon_days": 60},
    },
    # furniture, electronics, tools: customers come back rarely, churn judged over a long window
    "durable_goods": {
        "churn": {
            "preset_days": 180,
            "category_days": {"consumable": 120, "durable": 365},
            "personal_interval_k": 2.5,
            "wake_up_days": 180,
        },
        "model": {"horizon_days": 180, "snapshot_step_days": 90},
    },
    # sells only on Amazon, eBay and Walmart: no own shop, email tool or web analytics
    "marketplace_only": {
        "sources": {
            "shopify": {"enabled": False},
            "email": {"enabled": False},
            "web": {"enabled": False},
        },
        "churn": {"preset_days": 90},
    },
}


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Nested dict merge: values in `override` win, dicts merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
