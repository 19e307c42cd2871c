"""Small scored-customer frames for the activation tests."""

from __future__ import annotations

import hashlib

import pandas as pd


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def customer(customer_id: str, **overrides) -> dict:
    """One scored customer that lands in at_risk_high_value and every destination."""
    row = {
        "customer_id": customer_id,
        "email": f"{customer_id}@example.com",
        "phone": "+44 20 7031 3000",
        "first_name": "Ann",
        "last_name": "Lee",
        "city": "London",
        "state": None,
        "zip": "SW1A 1AA",
        "country": "GB",
        "segment": "At Risk",
        "lifecycle_stage": "repeat",
        "churn_probability": 0.81,
        "risk_band": "high",
        "value_tier": "high",
        "predicted_clv_12m": 420.5,
        "days_since_last_order": 45,
        "is_frequency_declining": False,
        "orders": 4,
        "favourite_category": "Kitchen",
        "reasons": [{"feature": "discount_share", "cause": "price", "detail": "buys on sale"}],
        "email_consent": "subscribed",
        "sms_consent": "subscribed",
        "ads_consent": True,
        "is_opted_out": False,
    }
    unknown = set(overrides) - set(row)
    assert not unknown, f"unknown columns {unknown}"
    row.update(overrides)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def flat_reasons(customers: pd.DataFrame) -> pd.DataFrame:
    """The warehouse's shape of the same customers: reason_k / _cause / _detail columns."""
    flat = customers.drop(columns=["reasons"])
    for k in (1, 2, 3):
        picked = [r[k - 1] if len(r) >= k else None for r in customers["reasons"]]
        flat[f"reason_{k}"] = pd.Series([p and p["feature"] for p in picked], dtype="string", index=customers.index)
        flat[f"reason_{k}_cause"] = pd.Series([p and p["cause"] for p in picked], dtype="string", index=customers.index)
        flat[f"reason_{k}_detail"] = pd.Series([p and p["detail"] for p in picked], dtype="string", index=customers.index)
    return flat
