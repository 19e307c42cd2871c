"""Score every customer at the as-of snapshot (F19, F20), no Dagster.

Output, one row per customer: churn_probability (calibrated), risk_band, probability_alive,
expected_orders_90d, expected_orders_365d, expected_order_value, predicted_clv_12m,
expected_next_order_date, up to three reasons (reason_k, reason_k_cause, reason_k_detail,
reason_k_impact), method, model_version, scored_at.

probability_alive is BTYD's *adjusted* P(alive) (`ml.btyd`): repeat buyers keep the BG/NBD
value, one-time buyers get the MBG/NBD posterior, which falls with the time since their
only order instead of BG/NBD's constant 1.0. When BTYD itself falls back (tiny or
degenerate data) its pooled model's P(alive) is used, which is also below 1. Only if
BTYD cannot run at all is it 1 - churn_probability. Which one was used is in ``notes``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.features import LABEL_COLUMN, WINDOW_COLUMN, FeatureFrameError, add_derived_features, btyd_scores, check_frame
from ml.reasons import MIN_IMPACT, TOP_K, explain
from ml.train import ChurnModel

DEFAULT_RISK_CUTS = (0.3, 0.6)
RISK_BANDS = ("low", "medium", "high")


def risk_band(probability, cuts: tuple[float, float] = DEFAULT_RISK_CUTS) -> np.ndarray:
    """'low' below cuts[0], 'medium' below cuts[1], else 'high' (NaN -> None)."""
    low, high = cuts
    if not (0.0 <= low <= high <= 1.0):
        raise ValueError(f"risk cut points must satisfy 0 <= low <= high <= 1, got {cuts}")
    p = np.asarray(probability, dtype=float)
    bands = np.array(RISK_BANDS, dtype=object)[np.searchsorted([low, high], p, side="right")]
    bands[~np.isfinite(p)] = None
    return bands


@dataclass
class ScoringResult:
    scores: pd.DataFrame
    method: str
    notes: list[str] = field(default_factory=list)
    btyd_method: str | None = None
    timings_seconds: dict = field(default_factory=dict)


def scoring_rows(frame: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The rows of the scoring snapshot: ``as_of`` or the latest snapshot_date."""
    check_frame(frame, need_labels=False)
    dates = pd.to_datetime(frame["snapshot_date"])
    target = dates.max() if as_of is None else pd.Timestamp(as_of)
    rows = frame[dates == target]
    if rows.empty:
        raise FeatureFrameError(f"no rows for snapshot {target.date()} (latest is {dates.max().date()})")
    if rows["customer_id"].duplicated().any():
        raise FeatureFrameError(f"customer_id is not unique within snapshot {target.date()}")
    return rows


def score_customers(
    model: ChurnModel,
    frame: pd.DataFrame,
    *,
    as_of=None,
    risk_cuts: tuple[float, float] = DEFAULT_RISK_CUTS,
    model_version: str | None = None,
    scored_at: dt.datetime | None = None,
    top_k: int = TOP_K,
    min_impact: float = MIN_IMPACT,
    with_reasons: bool = True,
    seed: int = 0,
) -> ScoringResult:
    """Churn probability, band, BTYD quantities and reasons for every customer at ``as_of``.

    ``frame`` is the feature mart (all snapshots or just the scoring one); BG/NBD and
    Gamma-Gamma are fitted on the scoring snapshot itself. A fallback model (no trained
    estimator) scores with its fallback probability and gives no reasons.
    """
    t0 = time.perf_counter()
    rows = add_derived_features(scoring_rows(frame, as_of).drop(columns=[LABEL_COLUMN, WINDOW_COLUMN], errors="ignore"))
    as_of_date = pd.to_datetime(rows["snapshot_date"]).iloc[0].normalize()
    scored_at = scored_at or dt.datetime.now(dt.UTC)
    notes: list[str] = []
    timings: dict[str, float] = {}

    # BTYD on the scoring snapshot: features for the model and the CLV/next-order outputs
    t = time.perf_counter()
    bt, bt_result, bt_note = btyd_scores(rows, model.horizon_days, seed=seed)
    timings["btyd"] = round(time.perf_counter() - t, 2)
    if bt is not None:
        horizon_col = f"expected_orders_{float(model.horizon_days):g}d"
        rows = rows.assign(
            btyd_p_alive=bt["probability_alive"].to_numpy(),
            btyd_p_alive_adjusted=bt["probability_alive_adjusted"].to_numpy(),
            btyd_expected_orders_horizon=bt[horizon_col].to_numpy(),
            btyd_expected_orders_365d=bt["expected_orders_365d"].to_numpy(),
        )
    else:
        notes.append(bt_note)

    t = time.perf_counter()
    prediction = model.predict(rows)
    prob, raw, matrix = prediction.probability, prediction.raw, prediction.matrix
    timings["predict"] = round(time.perf_counter() - t, 2)

    out = pd.DataFrame(
        {
            # .array keeps Arrow strings Arrow: a round trip through Python objects took ~1 s at 1M
            "customer_id": rows["customer_id"].array,
            "snapshot_date": as_of_date.date(),
            "churn_probability": prob,
            "risk_band": risk_band(prob, risk_cuts),
        }
    )
    out["risk_band"] = out["risk_band"].astype("string")
    if bt is not None:
        out["probability_alive"] = bt["probability_alive_adjusted"].to_numpy()
        out["expected_orders_90d"] = bt["expected_orders_90d"].to_numpy()
        out["expected_orders_365d"] = bt["expected_orders_365d"].to_numpy()
        out["expected_order_value"] = bt["expected_order_value"].to_numpy()
        out["predicted_clv_12m"] = bt["predicted_clv_12m"].to_numpy()
        days = bt["expected_next_order_days"].to_numpy(dtype=float)
        finite = np.isfinite(days) & (days < 365 * 50)
        next_date = as_of_date + pd.to_timedelta(np.where(finite, np.ceil(days), 0), unit="D")
        out["expected_next_order_date"] = pd.Series(next_date).where(finite).dt.date.to_numpy()
        notes.append(
            "probability_alive: BTYD adjusted P(alive) ("
            + (
                "BG/NBD; one-time buyers get the MBG/NBD posterior"
                if bt_result.orders_model == "bgnbd"
                else bt_result.orders_model
            )
            + ")."
        )
    else:
        out["probability_alive"] = 1.0 - prob
        for col in ("expected_orders_90d", "expected_orders_365d", "expected_order_value", "predicted_clv_12m"):
            out[col] = np.nan
        out["expected_next_order_date"] = None
        notes.append("probability_alive = 1 - churn_probability (BTYD could not be fitted).")

    t = time.perf_counter()
    if with_reasons and matrix is not None:
        reasons = explain(
            model.predict_raw,
            matrix,
            rows,
            model.reference,
            model.spec,
            top_k=top_k,
            min_impact=min_impact,
            base=raw,
            directions=model.directions,
            predicts_encoded=model.predicts_encoded,
            binned=prediction.trees,
            encoded=prediction.encoded,
            binned_values=prediction.binned,
        )
        for col in reasons.columns:
            # the text columns become the default "str" dtype (missing = NaN) they had
            # through .to_numpy(), without the round trip through Python objects
            values = reasons[col]
            out[col] = (values.astype("str") if isinstance(values.dtype, pd.StringDtype) else values).array
    else:
        for k in range(1, top_k + 1):
            out[f"reason_{k}"] = pd.Series([None] * len(out), dtype="string")
            out[f"reason_{k}_cause"] = pd.Series([None] * len(out), dtype="string")
            out[f"reason_{k}_detail"] = pd.Series([None] * len(out), dtype="string")
            out[f"reason_{k}_impact"] = np.nan
        out["reason_count"] = np.int8(0)
        if matrix is None:
            notes.append(f"no reasons: {model.method} has no trained model to explain.")
    timings["reasons"] = round(time.perf_counter() - t, 2)

    out["method"] = model.method
    out["model_version"] = model_version
    out["scored_at"] = (
        pd.Timestamp(scored_at).tz_convert("UTC") if pd.Timestamp(scored_at).tzinfo else pd.Timestamp(scored_at, tz="UTC")
    )
    timings["total"] = round(time.perf_counter() - t0, 2)
    return ScoringResult(
        scores=out,
        method=model.method,
        notes=notes,
        btyd_method=bt_result.method if bt_result is not None else None,
        timings_seconds=timings,
    )
