"""Scoring: risk bands, output columns, probability_alive, reasons on synthetic data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml.features import add_derived_features
from ml.reasons import CAUSE_PRIORITY_IMPACT
from ml.score import risk_band, score_customers


def test_risk_bands_default_and_custom_cuts():
    p = np.array([0.0, 0.299, 0.3, 0.59, 0.6, 1.0, np.nan])
    assert risk_band(p).tolist() == ["low", "low", "medium", "medium", "high", "high", None]
    assert risk_band(p, (0.5, 0.9)).tolist() == ["low", "low", "low", "medium", "medium", "high", None]
    with pytest.raises(ValueError, match="cut points"):
        risk_band(p, (0.7, 0.2))


@pytest.fixture(scope="module")
def scored(trained, synthetic_frame):
    at = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
    return score_customers(trained.model, synthetic_frame, model_version="v-test", scored_at=at, risk_cuts=(0.4, 0.8))


def test_every_customer_of_the_as_of_snapshot_is_scored_once(scored, synthetic_frame):
    s = scored.scores
    as_of = pd.to_datetime(synthetic_frame["snapshot_date"]).max()
    expected = synthetic_frame.loc[pd.to_datetime(synthetic_frame["snapshot_date"]) == as_of, "customer_id"]
    assert len(s) == len(expected) and set(s["customer_id"]) == set(expected)
    assert s["customer_id"].is_unique
    for col in (
        "churn_probability",
        "risk_band",
        "probability_alive",
        "expected_orders_90d",
        "expected_orders_365d",
        "predicted_clv_12m",
        "expected_next_order_date",
        "reason_1",
        "reason_1_cause",
        "reason_1_detail",
        "model_version",
        "scored_at",
    ):
        assert col in s.columns, col
    assert s["churn_probability"].between(0, 1).all()
    assert (s["model_version"] == "v-test").all()
    assert s["scored_at"].iloc[0] == pd.Timestamp("2026-11-23 02:00", tz="UTC")
    bands = risk_band(s["churn_probability"].to_numpy(), (0.4, 0.8))
    assert (s["risk_band"].to_numpy(dtype=object) == bands).all()


def test_probability_alive_is_not_one_for_one_time_buyers(scored, synthetic_frame):
    s = scored.scores.merge(
        synthetic_frame[
            pd.to_datetime(synthetic_frame["snapshot_date"]) == pd.to_datetime(synthetic_frame["snapshot_date"]).max()
        ][["customer_id", "frequency_btyd", "recency_days"]],
        on="customer_id",
    )
    one_time = s[s["frequency_btyd"] == 0]
    assert len(one_time) > 100
    assert (one_time["probability_alive"] < 0.999).mean() > 0.9
    # it falls with time since the only order
    assert np.corrcoef(one_time["probability_alive"], one_time["recency_days"])[0, 1] < -0.5
    assert s["probability_alive"].between(0, 1).all()


def test_next_order_dates_and_clv(scored):
    s = scored.scores
    dates = pd.to_datetime(s["expected_next_order_date"])
    assert (dates.dropna() >= pd.Timestamp("2026-11-22")).all()
    assert dates.notna().mean() > 0.9
    assert (s["predicted_clv_12m"].dropna() >= 0).all()
    assert (s["expected_orders_365d"] >= s["expected_orders_90d"] - 1e-9).all()


def test_reasons_are_present_for_risky_customers_and_point_at_the_driver(scored, synthetic_frame):
    s = scored.scores
    risky = s[s["risk_band"] == "high"]
    assert (risky["reason_count"] >= 1).mean() > 0.9
    valid = {"price", "logistics", "product_quality", "service", "engagement", "lifecycle"}
    assert set(s["reason_1_cause"].dropna().unique()) <= valid
    imp = s[["reason_1_impact", "reason_2_impact"]].to_numpy()
    causes = s[["reason_1_cause", "reason_2_cause"]].astype(object).to_numpy()
    names = s[["reason_1", "reason_2"]].astype(object).to_numpy()
    # first tier: actionable causes (not lifecycle, not region) of at least CAUSE_PRIORITY_IMPACT
    first = (causes != "lifecycle") & (names != "region") & (imp >= CAUSE_PRIORITY_IMPACT)
    ok = ~np.isnan(imp[:, 1])
    same_tier = ok & (first[:, 0] == first[:, 1])
    assert (imp[same_tier, 0] >= imp[same_tier, 1]).all()  # larger contribution first within a tier
    assert not (ok & ~first[:, 0] & first[:, 1]).any()  # the first tier comes first
    # planted: an open complaint at the last order triples the dropout -> service reasons there
    rows = synthetic_frame[
        pd.to_datetime(synthetic_frame["snapshot_date"]) == pd.to_datetime(synthetic_frame["snapshot_date"]).max()
    ]
    hit = s.merge(rows[["customer_id", "open_complaints", "recency_days"]], on="customer_id")
    hit = hit[(hit["open_complaints"] > 0) & (hit["recency_days"] < 180)]
    assert len(hit) > 10
    reasons = hit[["reason_1_cause", "reason_2_cause", "reason_3_cause"]].astype(object).to_numpy()
    assert ((reasons == "service").any(axis=1)).mean() > 0.5
    detail = hit.loc[hit["reason_1_cause"] == "service", "reason_1_detail"]
    assert detail.str.contains("unresolved complaint").all()


def test_scoring_a_past_snapshot_and_missing_snapshot(trained, synthetic_frame):
    past = sorted(pd.to_datetime(synthetic_frame["snapshot_date"]).unique())[-2]
    s = score_customers(trained.model, synthetic_frame, as_of=past, with_reasons=False).scores
    assert (pd.to_datetime(s["snapshot_date"]) == past).all() and s["reason_1"].isna().all()
    from ml.features import FeatureFrameError

    with pytest.raises(FeatureFrameError, match="no rows for snapshot"):
        score_customers(trained.model, synthetic_frame, as_of="1999-01-01")


class _DataFrameOnly:
    """The fitted estimator behind the interface of models saved before encoded prediction."""

    def __init__(self, base):
        self.base = base

    def predict_proba(self, X):
        assert isinstance(X, pd.DataFrame), type(X)
        return self.base.predict_proba(X)


def test_binned_what_if_predictions_match_the_dataframe_path(trained, synthetic_frame, scored):
    """Scoring predicts the reasons' what-if rows from binned arrays (`BinnedTrees`); a model
    that only takes DataFrames gets every reason from sklearn's own predict_proba. Same
    scores and reasons, impacts bit for bit."""
    import dataclasses

    model = trained.model
    assert model.predicts_encoded and model.binned_trees() is not None
    older = dataclasses.replace(model, base=_DataFrameOnly(model.base))
    assert not older.predicts_encoded and older.binned_trees() is None
    at = scored.scores["scored_at"].iloc[0].to_pydatetime()
    again = score_customers(older, synthetic_frame, model_version="v-test", scored_at=at, risk_cuts=(0.4, 0.8))
    reason_cols = [c for c in scored.scores.columns if c.startswith("reason_")]
    assert len(reason_cols) == 13 and scored.scores["reason_count"].sum() > 0
    pd.testing.assert_frame_equal(again.scores, scored.scores, check_exact=True)


def test_binned_trees_predict_exactly_what_the_model_predicts(trained, synthetic_frame):
    """Bit for bit, on the scoring rows and on rows made of every split threshold itself, the
    values just above it, missing values and values far outside the training range."""
    from ml.features import encode_matrix, to_matrix
    from ml.train import BinnedTrees

    model = trained.model
    est = model.base.estimator
    binned = BinnedTrees(est)
    X = encode_matrix(to_matrix(add_derived_features(synthetic_frame), model.spec))
    assert np.isnan(X).any()
    edges = []
    for predictors in est._predictors:
        nodes = predictors[0].nodes[predictors[0].nodes["is_leaf"] == 0]
        for feature, threshold in zip(nodes["feature_idx"], nodes["num_threshold"], strict=True):
            for value in (threshold, np.nextafter(threshold, np.inf), np.nan, -1e12, 1e12):
                row = X[len(edges) % len(X)].copy()
                row[feature] = value
                edges.append(row)
    rows = np.vstack([X, np.array(edges)])
    expected = est.predict_proba(rows)[:, 1]
    got = binned.predict_proba(binned.bin(rows))
    assert np.array_equal(got, expected)
    assert binned.bin_value(0, np.nan) == binned.missing


def test_scores_do_not_depend_on_the_order_of_the_feature_rows(trained, synthetic_frame, scored):
    """The warehouse returns the feature mart in no fixed order: scoring the same rows in
    another order gives the same scores, customer for customer (BTYD fits included)."""
    at = scored.scores["scored_at"].iloc[0].to_pydatetime()
    shuffled = synthetic_frame.sample(frac=1.0, random_state=5)
    again = score_customers(trained.model, shuffled, model_version="v-test", scored_at=at, risk_cuts=(0.4, 0.8))
    by_customer = [s.sort_values("customer_id").reset_index(drop=True) for s in (scored.scores, again.scores)]
    pd.testing.assert_frame_equal(by_customer[0], by_customer[1], check_exact=True)
