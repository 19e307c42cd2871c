"""Control groups and win-back effect tracking (F26).

Hold-out: for every win-back audience a configurable share of the contactable members is
held out. The draw is a pure function of (salt, audience, customer_id):
``u = int(sha256(f"{salt}:{audience}:{customer_id}")[:16], 16) / 2**64`` and the customer
is control when ``u < share``. So it is stable across runs and machines, independent per
audience, and monotone in ``share`` (raising 10% to 15% keeps every existing control
customer in control). Control customers are recorded in the publish history, never
written to an export file.

Effect: :func:`winback_effect` compares conversion (any order within ``window_days``
after the publish date) and revenue per customer between treated and control, with a
Newcombe hybrid-score 95% interval for the difference of proportions (method 10 of
Newcombe 1998, built from Wilson intervals; well behaved for small groups and rates near
0) and a Katz log interval for the relative lift.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd

__all__ = [
    "assign_groups",
    "holdout_uniform",
    "newcombe_diff_ci",
    "wilson_interval",
    "winback_effect",
]

_Z95 = 1.959963984540054


def holdout_uniform(customer_id: str, audience: str, salt: str) -> float:
    """Stable pseudo-uniform number in [0, 1) for one customer in one audience."""
    digest = hashlib.sha256(f"{salt}:{audience}:{customer_id}".encode()).hexdigest()
    return int(digest[:16], 16) / 2**64


def assign_groups(customer_ids: pd.Series, audience: str, share: float, salt: str) -> pd.Series:
    """'control' or 'treated' per customer id (same index as the input)."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"control share must be in [0, 1), got {share}")
    u = customer_ids.astype(str).map(lambda cid: holdout_uniform(cid, audience, salt))
    return pd.Series(np.where(u < share, "control", "treated"), index=customer_ids.index)


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_diff_ci(x1: int, n1: int, x2: int, n2: int, z: float = _Z95) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval: (diff, low, high)."""
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    diff = p1 - p2
    low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (diff, low, high)


def _relative_lift_ci(x1: int, n1: int, x2: int, n2: int, z: float = _Z95) -> tuple[float, float, float]:
    """Relative lift p1/p2 - 1 with a Katz log risk-ratio interval."""
    if n1 <= 0 or n2 <= 0 or x2 == 0:
        return (math.nan, math.nan, math.nan)
    rr = (x1 / n1) / (x2 / n2)
    if x1 == 0:
        return (rr - 1, math.nan, math.nan)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    return (rr - 1, rr * math.exp(-z * se) - 1, rr * math.exp(z * se) - 1)


EFFECT_COLUMNS = [
    "audience",
    "publish_date",
    "window_days",
    "window_end",
    "window_complete",
    "treated_n",
    "control_n",
    "treated_conversions",
    "control_conversions",
    "treated_rate",
    "control_rate",
    "lift_abs",
    "lift_abs_ci_low",
    "lift_abs_ci_high",
    "lift_rel",
    "lift_rel_ci_low",
    "lift_rel_ci_high",
    "significant",
    "revenue_per_treated",
    "revenue_per_control",
    "incremental_revenue_per_customer",
    "incremental_revenue_total",
]


def _as_day(values: pd.Series) -> pd.Series:
    """Timestamps or dates -> tz-naive UTC midnight timestamps."""
    ts = pd.to_datetime(values, utc=True, format="ISO8601")
    return ts.dt.tz_localize(None).dt.normalize()


def winback_effect(
    publish_history: pd.DataFrame,
    orders: pd.DataFrame,
    window_days: int = 30,
    as_of: date | None = None,
    *,
    include_partial: bool = False,
    first_entry_only: bool = False,
) -> pd.DataFrame:
    """Treated vs control conversion and revenue per audience and publish date.

    ``publish_history``: customer_id, audience, group ('treated'/'control'), as_of (the
    membership frame returned by ``publish``, accumulated over runs). ``orders``:
    customer_id, ordered_at, amount_usd. A customer converts when they order on a day in
    (publish date, publish date + window_days]. Windows not yet over at ``as_of`` (default
    today) are dropped unless ``include_partial`` (then ``window_complete`` is False).
    ``first_entry_only`` keeps each customer only in the first publish that put them in an
    audience, so a customer listed on many daily publishes is counted once.
    """
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    required = {"customer_id", "audience", "group", "as_of"}
    missing = required - set(publish_history.columns)
    if missing:
        raise ValueError(f"publish_history lacks columns: {sorted(missing)}")
    missing = {"customer_id", "ordered_at", "amount_usd"} - set(orders.columns)
    if missing:
        raise ValueError(f"orders lacks columns: {sorted(missing)}")

    eval_day = pd.Timestamp(as_of or date.today())
    hist = publish_history.loc[
        publish_history["group"].isin(["treated", "control"]),
        ["customer_id", "audience", "group", "as_of"],
    ].copy()
    hist["customer_id"] = hist["customer_id"].astype(str)
    hist["publish_day"] = _as_day(hist["as_of"])
    hist = hist.drop_duplicates(["customer_id", "audience", "publish_day"])
    if first_entry_only:
        first = hist.groupby(["customer_id", "audience"])["publish_day"].transform("min")
        hist = hist[hist["publish_day"] == first]
    hist["window_end"] = hist["publish_day"] + pd.Timedelta(days=window_days)
    hist["window_complete"] = hist["window_end"] <= eval_day
    if not include_partial:
        hist = hist[hist["window_complete"]]
    if hist.empty:
        return pd.DataFrame(columns=EFFECT_COLUMNS)

    ords = orders[["customer_id", "ordered_at", "amount_usd"]].copy()
    ords["customer_id"] = ords["customer_id"].astype(str)
    ords["order_day"] = _as_day(ords["ordered_at"])
    ords["amount_usd"] = pd.to_numeric(ords["amount_usd"], errors="coerce").fillna(0.0)
    ords = ords[ords["customer_id"].isin(hist["customer_id"].unique())]

    joined = hist.merge(ords[["customer_id", "order_day", "amount_usd"]], on="customer_id")
    in_window = (
        (joined["order_day"] > joined["publish_day"])
        & (joined["order_day"] <= joined["window_end"])
        & (joined["order_day"] <= eval_day)
    )
    per_customer = (
        joined[in_window]
        .groupby(["customer_id", "audience", "publish_day"], as_index=False)
        .agg(revenue=("amount_usd", "sum"), n_orders=("amount_usd", "size"))
    )
    hist = hist.merge(per_customer, on=["customer_id", "audience", "publish_day"], how="left")
    hist["converted"] = hist["n_orders"].fillna(0) > 0
    hist["revenue"] = hist["revenue"].fillna(0.0)

    rows = []
    for (audience, day), grp in hist.groupby(["audience", "publish_day"], sort=True):
        t = grp[grp["group"] == "treated"]
        c = grp[grp["group"] == "control"]
        nt, nc = len(t), len(c)
        xt, xc = int(t["converted"].sum()), int(c["converted"].sum())
        diff, low, high = newcombe_diff_ci(xt, nt, xc, nc)
        rel, rel_low, rel_high = _relative_lift_ci(xt, nt, xc, nc)
        rev_t = float(t["revenue"].sum()) / nt if nt else math.nan
        rev_c = float(c["revenue"].sum()) / nc if nc else math.nan
        rows.append(
            {
                "audience": audience,
                "publish_date": day.date(),
                "window_days": window_days,
                "window_end": (day + timedelta(days=window_days)).date(),
                "window_complete": bool(grp["window_complete"].iloc[0]),
                "treated_n": nt,
                "control_n": nc,
                "treated_conversions": xt,
                "control_conversions": xc,
                "treated_rate": xt / nt if nt else math.nan,
                "control_rate": xc / nc if nc else math.nan,
                "lift_abs": diff,
                "lift_abs_ci_low": low,
                "lift_abs_ci_high": high,
                "lift_rel": rel,
                "lift_rel_ci_low": rel_low,
                "lift_rel_ci_high": rel_high,
                "significant": bool(low > 0 or high < 0) if not math.isnan(low) else False,
                "revenue_per_treated": rev_t,
                "revenue_per_control": rev_c,
                "incremental_revenue_per_customer": rev_t - rev_c,
                "incremental_revenue_total": (rev_t - rev_c) * nt,
            }
        )
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)
