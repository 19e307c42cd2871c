"""A synthetic `ml_customer_features` frame for unit tests and the 1M-customer benchmark.

Customers buy as a Poisson process and drop out after each order with a probability that
planted drivers raise (slow delivery, a returned order, an open complaint, discount-only
buyers); features and labels are computed from the simulated orders at each snapshot
exactly as the mart defines them (data up to the snapshot; label = no order in the next
H days). Column names follow the mart's documented names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DRIVERS = ("slow_delivery", "returns", "complaints", "discount_dependence")


def simulate_orders(n_customers: int, days: int = 1095, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, orders): orders have customer, day, amount, delivery_days, returned, discount."""
    rng = np.random.default_rng(seed)
    n = n_customers
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "first_day": rng.integers(0, days, n),
            "rate": rng.gamma(0.9, 1 / 55.0, n),  # orders per day while alive
            "base_dropout": rng.beta(1.2, 4.0, n),
            "region": rng.choice(["north_america", "europe", "asia"], n, p=[0.5, 0.35, 0.15]),
            "price_sensitive": rng.random(n) < 0.2,
            "category": rng.choice(["consumable", "durable"], n, p=[0.6, 0.4]),
        }
    )
    cid = customers["customer_id"].to_numpy()
    t = customers["first_day"].to_numpy().astype(float)
    rate = customers["rate"].to_numpy()
    base = customers["base_dropout"].to_numpy()
    europe = (customers["region"] == "europe").to_numpy()
    price = customers["price_sensitive"].to_numpy()
    alive = np.ones(n, bool)
    parts = []
    k = 0
    while alive.any() and k < 200:
        idx = np.flatnonzero(alive & (t <= days))
        if len(idx) == 0:
            break
        m = len(idx)
        delivery = np.where(europe[idx] & (rng.random(m) < 0.5), rng.integers(21, 35, m), rng.integers(3, 12, m))
        returned = rng.random(m) < 0.08
        complaint = rng.random(m) < 0.05
        discount = np.where(price[idx], rng.random(m) < 0.8, rng.random(m) < 0.15)
        amount = rng.gamma(2.0, 30.0, m)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": cid[idx],
                    "day": t[idx].astype(int),
                    "amount": amount,
                    "delivery_days": delivery,
                    "returned": returned,
                    "complaint": complaint,
                    "discount": discount,
                }
            )
        )
        p_drop = base[idx] * 0.5 + 0.35 * (delivery > 20) + 0.35 * returned + 0.45 * complaint + 0.15 * (price[idx] & ~discount)
        dead = rng.random(m) < np.clip(p_drop, 0, 0.95)
        alive[idx[dead]] = False
        t[idx] = t[idx] + rng.exponential(1.0 / np.maximum(rate[idx], 1e-4))
        k += 1
    orders = pd.concat(parts, ignore_index=True).sort_values(["customer_id", "day"], kind="stable", ignore_index=True)
    return customers, orders


def snapshot_features(
    customers: pd.DataFrame, orders: pd.DataFrame, snapshot: int, horizon: int, days: int, transaction_only: bool, rng
) -> pd.DataFrame:
    past = orders[orders["day"] <= snapshot]
    g = past.groupby("customer_id", sort=True)
    first = g["day"].min()
    last = g["day"].max()
    n_days = g["day"].nunique()
    feats = pd.DataFrame(
        {
            "customer_id": first.index,
            "recency_days": snapshot - last.to_numpy(),
            "frequency": g.size().to_numpy(),
            "monetary": g["amount"].sum().to_numpy(),
            "tenure_days": snapshot - first.to_numpy(),
            "frequency_btyd": n_days.to_numpy() - 1,
            "recency_btyd": (last - first).to_numpy(),
            "t_btyd": snapshot - first.to_numpy(),
        }
    )
    feats["average_order_value"] = feats["monetary"] / feats["frequency"]
    for w in (90, 180, 365):
        recent = past[past["day"] > snapshot - w].groupby("customer_id").size()
        feats[f"orders_last_{w}d"] = feats["customer_id"].map(recent).fillna(0).astype(int)
    gaps = past.assign(gap=past.groupby("customer_id")["day"].diff()).groupby("customer_id")["gap"]
    feats["mean_interval_days"] = feats["customer_id"].map(gaps.mean())
    feats["median_interval_days"] = feats["customer_id"].map(gaps.median())
    feats["gap_ratio"] = feats["recency_days"] / feats["median_interval_days"]
    if not transaction_only:
        lastrow = past.groupby("customer_id").tail(1).set_index("customer_id")
        c = customers.set_index("customer_id").loc[feats["customer_id"]]
        feats["discount_share"] = feats["customer_id"].map(g["discount"].mean()).to_numpy()
        feats["last_order_had_discount"] = lastrow.loc[feats["customer_id"], "discount"].to_numpy()
        feats["last_delivery_days"] = lastrow.loc[feats["customer_id"], "delivery_days"].to_numpy().astype(float)
        feats["last_delivery_over_20d"] = feats["last_delivery_days"] > 20
        feats["region"] = c["region"].to_numpy()
        feats["returned_last_order"] = lastrow.loc[feats["customer_id"], "returned"].to_numpy()
        feats["returns_count"] = feats["customer_id"].map(g["returned"].sum()).to_numpy()
        feats["open_complaints"] = lastrow.loc[feats["customer_id"], "complaint"].to_numpy().astype(int)
        feats["ticket_count"] = feats["customer_id"].map(g["complaint"].sum()).to_numpy() + rng.poisson(0.2, len(feats))
        active = np.exp(-feats["recency_days"].to_numpy() / 120.0)
        feats["email_opens_last_60d"] = rng.poisson(1 + 4 * active)
        feats["email_opens_prior_60d"] = rng.poisson(
            1 + 4 * np.exp(-np.maximum(feats["recency_days"].to_numpy() - 60, 0) / 120.0)
        )
        feats["is_unsubscribed"] = rng.random(len(feats)) < 0.05
        feats["web_sessions_last_30d"] = rng.poisson(0.3 + 2 * active)
        feats["abandoned_carts"] = rng.poisson(0.2, len(feats))
        feats["platform_count"] = 1 + (rng.random(len(feats)) < 0.1)
        feats["dominant_category_type"] = c["category"].to_numpy()
    future = orders[(orders["day"] > snapshot) & (orders["day"] <= snapshot + horizon)]["customer_id"].unique()
    feats["label_churned"] = ~feats["customer_id"].isin(future)
    feats["label_window_complete"] = snapshot + horizon <= days
    return feats


def make_feature_frame(
    n_customers: int = 3000,
    n_snapshots: int = 6,
    step_days: int = 45,
    horizon_days: int = 90,
    days: int = 1095,
    seed: int = 0,
    transaction_only: bool = False,
    as_of: str = "2026-11-22",
) -> pd.DataFrame:
    """Feature rows for ``n_snapshots`` past snapshots every ``step_days`` plus the as-of date."""
    rng = np.random.default_rng(seed + 1)
    customers, orders = simulate_orders(n_customers, days=days, seed=seed)
    as_of_ts = pd.Timestamp(as_of)
    frames = []
    for k in range(n_snapshots, -1, -1):
        snap = days - k * step_days
        f = snapshot_features(customers, orders, snap, horizon_days, days, transaction_only, rng)
        f.insert(1, "snapshot_date", (as_of_ts - pd.Timedelta(days=days - snap)).date())
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True)
    frame["label_churned"] = frame["label_churned"].astype("boolean").where(frame["label_window_complete"])
    return frame


def _benchmark(argv: list[str] | None = None) -> None:
    """Time training + backtest + scoring on a synthetic frame (not a test).

    python -m tests.ml.synthetic --customers 1000000 [--frame /tmp/frame.parquet]
    The frame is generated (or read from --frame, written there on first use) before
    the clock starts; peak RSS covers the whole process.
    """
    import argparse
    import resource
    import time
    from pathlib import Path

    from ml.evaluate import quality_gate
    from ml.score import score_customers
    from ml.train import train_and_backtest

    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--frame", type=Path)
    args = parser.parse_args(argv)
    if args.frame and args.frame.exists():
        frame = pd.read_parquet(args.frame)
    else:
        t = time.perf_counter()
        frame = make_feature_frame(args.customers, seed=11)
        print(f"generated {len(frame):,} feature rows in {time.perf_counter() - t:.0f} s")
        if args.frame:
            frame.to_parquet(args.frame)
    print(
        f"{frame['customer_id'].nunique():,} customers, {len(frame):,} rows, {frame.memory_usage(deep=True).sum() / 2**30:.2f} GiB"
    )
    t0 = time.perf_counter()
    result = train_and_backtest(frame)
    t1 = time.perf_counter()
    gate = quality_gate(result.report)
    scored = score_customers(result.model, frame)
    t2 = time.perf_counter()
    r = result.report
    print(
        f"train+backtest {t1 - t0:.1f} s {r['timings_seconds']}; model AUC {r['model']['roc_auc']:.3f}, "
        f"recency {r['baselines']['recency']['roc_auc']:.3f}, BG/NBD {r['baselines']['bgnbd']['roc_auc']:.3f}; gate {gate.passed}"
    )
    print(f"scoring {len(scored.scores):,} customers {t2 - t1:.1f} s {scored.timings_seconds}")
    print(f"total {t2 - t0:.1f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    _benchmark()
