"""How far can any churn model get above BG/NBD on the demo data? Not a test: it prints figures.

    .venv/bin/python benchmarks/model_ceiling.py --warehouse W/warehouse.duckdb --truth W/demo/truth

Needs a demo warehouse whose feature mart holds the training snapshots (a full run, or
tests/ml/warehouse.py's `build_demo_warehouse`) and the generator's truth folder.

It runs the ordinary `ml.train.train_and_backtest` several times, each time giving the
model more of what the simulation knows, read from the truth files and joined to each
snapshot (customer -> person through the platform order ids):

- as shipped      the features of the feature mart only
- + drivers       which planted churn drivers hit the person's last order before the
                  snapshot (what the delivery, return, complaint and discount features try
                  to see; the truth also knows hits that only show after the snapshot)
- + persona       segment (casual/regular/loyal), price sensitivity, replenisher: traits the
                  seller never sees, only their traces in the orders
- + both
- + who has left  whether the person had died (left for good) by the snapshot: the ceiling

For each it prints the backtest ROC AUC of the model and of BG/NBD on every customer and on
the active customers (an order in the 365 days before the snapshot). Measured at 40,000
customers (seed 42): see the closing note of issue 4 and ingest/demo/DRIVERS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ml.features import DECLARED_FEATURES, load_feature_frame  # noqa: E402
from ml.train import TrainConfig, train_and_backtest  # noqa: E402

DRIVERS = (
    "long_eu_delivery",
    "defective_product_returned",
    "unresolved_complaint",
    "price_sensitive_no_discount",
    "fading_email_engagement",
)
DRIVER_COLUMNS = tuple(f"truth_last_order_{d}" for d in DRIVERS)
PERSONA_COLUMNS = ("truth_segment", "truth_price_sensitive", "truth_replenisher")
VARIANTS = {
    "as shipped": (),
    "+ drivers": DRIVER_COLUMNS,
    "+ persona": PERSONA_COLUMNS,
    "+ both": DRIVER_COLUMNS + PERSONA_COLUMNS,
    "+ who has left": ("truth_left",),
}


def truth_columns(frame: pd.DataFrame, customer_person: pd.DataFrame, orders: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the truth columns of every variant, per (customer, snapshot)."""
    placed = orders[~orders["cancelled"]].assign(ordered_at=lambda o: o["ordered_at"].dt.tz_localize(None))
    placed = placed.sort_values("ordered_at")
    parts = []
    for snapshot in pd.to_datetime(frame["snapshot_date"]).unique():
        last = placed[placed["ordered_at"] < snapshot].groupby("person_id").tail(1)
        part = pd.DataFrame({"person_id": last["person_id"].to_numpy(), "snapshot_date": snapshot})
        for driver, column in zip(DRIVERS, DRIVER_COLUMNS, strict=True):
            part[column] = last["drivers_hit"].map(lambda hits, d=driver: float(d in list(hits))).to_numpy()
        # a person dies right after an order: gone by the snapshot if their last order before it says so
        part["truth_left"] = last["died_after"].astype(float).to_numpy()
        parts.append(part)
    per_snapshot = pd.concat(parts, ignore_index=True)
    per_snapshot["snapshot_date"] = per_snapshot["snapshot_date"].astype(frame["snapshot_date"].dtype)
    persona = pd.DataFrame(
        {
            "person_id": persons["person_id"],
            "truth_segment": persons["segment"].map({"casual": 0.0, "regular": 1.0, "loyal": 2.0}),
            "truth_price_sensitive": persons["is_price_sensitive"].astype(float),
            "truth_replenisher": persons["is_replenisher"].astype(float),
        }
    )
    out = frame.merge(customer_person, on="customer_id", how="left")
    out = out.merge(per_snapshot, on=["person_id", "snapshot_date"], how="left").merge(persona, on="person_id", how="left")
    return out.drop(columns=["person_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True, help="the demo generator's truth folder")
    args = parser.parse_args()

    con = duckdb.connect(str(args.warehouse), read_only=True)
    try:
        frame = load_feature_frame(con)
        fct_orders = con.execute("select platform, platform_order_id, customer_id from marts.fct_orders").df()
    finally:
        con.close()
    orders = pd.read_parquet(args.truth / "orders.parquet")
    persons = pd.read_parquet(args.truth / "persons.parquet")
    customer_person = (
        fct_orders.merge(orders[["platform", "order_id", "person_id"]], left_on=["platform", "platform_order_id"], right_on=["platform", "order_id"])
        [["customer_id", "person_id"]]
        .drop_duplicates("customer_id")
    )
    frame = truth_columns(frame, customer_person, orders, persons)
    print(f"{frame['customer_id'].nunique():,} customers, {frame['snapshot_date'].nunique()} snapshots\n")
    print(f"{'variant':16s} {'all: model':>10s} {'BG/NBD':>7s} {'diff':>7s}   {'active: rows':>12s} {'model':>7s} {'BG/NBD':>7s} {'diff':>7s}")
    for name, extra in VARIANTS.items():
        report = train_and_backtest(frame, TrainConfig(declared_features=DECLARED_FEATURES + extra)).report
        model, bgnbd = report["model"]["roc_auc"], report["baselines"]["bgnbd"]["roc_auc"]
        active = report["active_customers"]
        a_model, a_bgnbd = active["model"]["roc_auc"], active["baselines"]["bgnbd"]["roc_auc"]
        print(
            f"{name:16s} {model:10.4f} {bgnbd:7.4f} {model - bgnbd:+7.4f}   "
            f"{active['rows']:12,d} {a_model:7.4f} {a_bgnbd:7.4f} {a_model - a_bgnbd:+7.4f}"
        )


if __name__ == "__main__":
    main()
