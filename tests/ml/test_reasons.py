"""Reasons: feature -> cause map, top-3 ordering, risky-side filter and detail strings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import reasons
from ml.features import DECLARED_FEATURES, FeatureSpec, to_matrix


def _spec():
    return FeatureSpec(
        numeric=[
            "last_delivery_days",
            "returned_last_order",
            "open_complaints",
            "discount_share",
            "recency_days",
            "email_opens_last_60d",
        ],
        categorical=["region"],
        categories={"region": ["europe", "north_america"]},
    )


def _frame():
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "last_delivery_days": [27.0, 3.0, 5.0, np.nan],
            "returned_last_order": [0.0, 1.0, 0.0, 0.0],
            "open_complaints": [2.0, 0.0, 0.0, 0.0],
            "discount_share": [0.1, 0.9, 0.1, 0.1],
            "recency_days": [40.0, 200.0, 10.0, 10.0],
            "email_opens_last_60d": [5.0, 2.0, 5.0, 5.0],
            "region": ["europe", "north_america", "north_america", "north_america"],
        }
    )


# A transparent "model": log-odds add up per feature, so each group's effect is known.
WEIGHTS = {
    "last_delivery_days": 0.08,
    "returned_last_order": 1.2,
    "open_complaints": 0.9,
    "discount_share": 1.0,
    "recency_days": 0.01,
    "email_opens_last_60d": -0.2,
}


def _predict(matrix: pd.DataFrame) -> np.ndarray:
    z = np.full(len(matrix), -2.0)
    for col, w in WEIGHTS.items():
        z += w * np.nan_to_num(matrix[col].to_numpy(dtype=float), nan=10.0)
    z += np.where(matrix["region"].astype(str) == "europe", 0.3, 0.0)
    return 1 / (1 + np.exp(-z))


REFERENCE = {
    "last_delivery_days": 7.0,
    "returned_last_order": 0.0,
    "open_complaints": 0.0,
    "discount_share": 0.1,
    "recency_days": 30.0,
    "email_opens_last_60d": 4.0,
    "region": "north_america",
}
DIRECTIONS = {
    "last_delivery_days": 1,
    "returned_last_order": 1,
    "open_complaints": 1,
    "discount_share": 1,
    "recency_days": 1,
    "email_opens_last_60d": -1,
    "region": ["europe"],
}


def _explain(**kw):
    spec = _spec()
    frame = _frame()
    matrix = to_matrix(frame, spec)
    return reasons.explain(_predict, matrix, frame, REFERENCE, spec, directions=DIRECTIONS, **kw)


def test_every_declared_feature_maps_to_a_known_cause():
    for col in DECLARED_FEATURES:
        assert reasons.cause_for_feature(col) in reasons.CAUSES, col
    assert reasons.FEATURE_CAUSES["last_delivery_days"] == "logistics"
    assert reasons.FEATURE_CAUSES["discount_share"] == "price"
    assert reasons.FEATURE_CAUSES["returned_last_order"] == "product_quality"
    assert reasons.FEATURE_CAUSES["open_complaints"] == "service"
    assert reasons.cause_for_feature("email_opens_last_60d") == "engagement"
    assert reasons.cause_for_feature("last_delivery_over_25d") == "logistics"
    assert reasons.FEATURE_CAUSES["recency_days"] == "lifecycle"


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("avg_shipping_days", "logistics"),
        ("coupon_use_rate", "price"),
        ("refund_amount", "product_quality"),
        ("support_ticket_topics", "service"),
        ("sms_clicks_30d", "engagement"),
        ("lifetime_orders", "lifecycle"),
    ],
)
def test_unmapped_features_get_a_cause_by_name(name, cause):
    assert reasons.cause_for_feature(name) == cause


def test_top_three_are_ordered_by_contribution_and_mapped_to_causes():
    out = _explain()
    a = out.iloc[0]
    # customer a: complaints (2 x 0.9 log-odds) > delivery (20 x 0.08) > region (0.3) > recency (10 x 0.01)
    assert [a["reason_1"], a["reason_2"], a["reason_3"]] == ["complaints", "slow_delivery", "region"]
    assert [a["reason_1_cause"], a["reason_2_cause"], a["reason_3_cause"]] == ["service", "logistics", "logistics"]
    assert a["reason_1_impact"] >= a["reason_2_impact"] >= a["reason_3_impact"] > 0
    assert a["reason_1_detail"] == "2 unresolved complaints open"
    assert a["reason_2_detail"] == "last delivery took 27 days"
    assert a["reason_3_detail"] == "customers in europe churn more often"
    assert a["reason_count"] == 3


def test_contributions_equal_the_probability_drop_in_the_active_context():
    spec = _spec()
    frame = _frame()
    matrix = to_matrix(frame, spec)
    groups = reasons.resolve_groups(spec)
    contrib = reasons.contributions(_predict, matrix, REFERENCE, groups, directions=DIRECTIONS)
    names = [g.name for g in groups]
    # lifecycle: the drop when the silence is set to the healthy 30 days, customer as is
    healthy_recency = matrix.assign(recency_days=np.float32(30.0))
    assert contrib[0, names.index("inactivity")] == pytest.approx(_predict(matrix)[0] - _predict(healthy_recency)[0], rel=1e-5)
    # causes: the same drop measured on the customer with a healthy silence (active context)
    both = healthy_recency.assign(last_delivery_days=np.float32(7.0))
    expected = _predict(healthy_recency)[0] - _predict(both)[0]
    assert contrib[0, names.index("slow_delivery")] == pytest.approx(expected, rel=1e-5)
    assert expected > _predict(matrix)[0] - _predict(matrix.assign(last_delivery_days=np.float32(7.0)))[0]


def test_a_long_silence_does_not_hide_the_cause():
    spec = _spec()
    frame = _frame().assign(recency_days=[900.0, 200.0, 10.0, 10.0])  # customer a: p ~ 1 from silence alone
    matrix = to_matrix(frame, spec)
    out = reasons.explain(_predict, matrix, frame, REFERENCE, spec, directions=DIRECTIONS)
    assert out.loc[0, "reason_1"] == "complaints" and out.loc[0, "reason_2"] == "slow_delivery"
    # measured on the customer as is, the complaint would move the (saturated) probability by nothing
    as_is = _predict(matrix)[0] - _predict(matrix.assign(open_complaints=np.float32(0)))[0]
    assert as_is < 1e-3 < out.loc[0, "reason_1_impact"]


def test_web_silence_is_a_state_like_recency_and_does_not_hide_the_cause():
    """A customer who left stops visiting the shop whatever made them leave: the days since
    the last web session are set to healthy values before a cause is measured, and only
    ranked as lifecycle."""
    assert reasons.cause_for_feature("days_since_last_web_session") == "lifecycle"
    assert reasons.cause_for_feature("web_sessions_last_90d") == "lifecycle"
    spec = FeatureSpec(
        numeric=["last_delivery_days", "recency_days", "days_since_last_web_session", "web_sessions_last_90d"], categorical=[]
    )
    frame = pd.DataFrame(
        {
            "last_delivery_days": [27.0, 3.0],
            "recency_days": [120.0, 120.0],
            "days_since_last_web_session": [110.0, 110.0],
            "web_sessions_last_90d": [0.0, 0.0],
        }
    )
    weights = {
        "last_delivery_days": 0.08,
        "recency_days": 0.01,
        "days_since_last_web_session": 0.05,
        "web_sessions_last_90d": -0.5,
    }

    def predict(matrix: pd.DataFrame) -> np.ndarray:
        z = np.full(len(matrix), -3.0)
        for col, w in weights.items():
            z += w * matrix[col].to_numpy(dtype=float)
        return 1 / (1 + np.exp(-z))

    reference = {
        "last_delivery_days": 7.0,
        "recency_days": 30.0,
        "days_since_last_web_session": 12.0,
        "web_sessions_last_90d": 3.0,
    }
    directions = {"last_delivery_days": 1, "recency_days": 1, "days_since_last_web_session": 1, "web_sessions_last_90d": -1}
    groups = reasons.resolve_groups(spec)
    web = next(g for g in groups if g.name == "web_inactivity")
    assert web.state and web.cause == "lifecycle"
    out = reasons.explain(predict, to_matrix(frame, spec), frame, reference, spec, directions=directions)
    # the web silence weighs 6.4 log-odds, the slow delivery 1.6: the delivery is still the reason
    assert out.loc[0, "reason_1"] == "slow_delivery" and out.loc[0, "reason_1_cause"] == "logistics"
    assert "web_inactivity" in set(out.loc[0, ["reason_2", "reason_3"]])
    assert out.loc[1, "reason_1"] in {"web_inactivity", "inactivity"}
    details = dict(zip(out.loc[1, ["reason_1", "reason_2"]], out.loc[1, ["reason_1_detail", "reason_2_detail"]], strict=True))
    assert details["web_inactivity"] == "no web session for 110 days"


def test_risky_side_only_and_missing_values_are_not_blamed():
    out = _explain()
    b, c, d = out.iloc[1], out.iloc[2], out.iloc[3]
    # b: returned last order, heavy discount use, long inactivity, fewer email opens (4th); short delivery is NOT a reason
    b_reasons = {b["reason_1"], b["reason_2"], b["reason_3"]}
    assert "slow_delivery" not in b_reasons
    # causes rank before the lifecycle symptom, though 170 days x 0.01 = 1.7 log-odds is the largest push
    assert [b["reason_1"], b["reason_2"], b["reason_3"]] == ["returns", "discount_dependence", "email_engagement"]
    assert b["reason_3_detail"] == "2 email opens in the last 60 days"
    assert "returned the last order" in {b["reason_1_detail"], b["reason_2_detail"], b["reason_3_detail"]}
    # c is healthy everywhere: no reasons at all
    assert c["reason_count"] == 0 and pd.isna(c["reason_1"]) and pd.isna(c["reason_1_detail"])
    # d has no delivery data: no delivery reason even though the model imputes a long one
    assert "slow_delivery" not in {d["reason_1"], d["reason_2"], d["reason_3"]}


def test_min_impact_and_top_k():
    out = _explain(top_k=1)
    assert "reason_2" not in out.columns and out.loc[0, "reason_1"] == "complaints"
    strict = _explain(min_impact=0.5)
    assert (strict["reason_count"] <= 1).all()


def test_top_reasons_handles_fewer_groups_than_k():
    groups = [reasons.ReasonGroup("x", "price", ("x",))]
    idx, vals = reasons.top_reasons(np.array([[0.2], [-0.1]]), groups, top_k=3)
    assert idx.tolist() == [[0, -1, -1], [-1, -1, -1]]
    assert vals[0, 0] == pytest.approx(0.2) and np.isnan(vals[1]).all()


def test_healthy_reference_and_risk_directions_from_the_model():
    spec = FeatureSpec(numeric=["bad", "good", "flat"], categorical=["region"], categories={"region": ["eu", "us", "apac"]})
    rng = np.random.default_rng(0)
    n = 4000
    y = rng.random(n) < 0.5
    frame = pd.DataFrame(
        {
            "bad": rng.normal(size=n) + y,
            "good": rng.normal(size=n) - y,
            "flat": rng.normal(size=n),
            "region": np.where(rng.random(n) < 0.3 + 0.4 * y, "eu", np.where(rng.random(n) < 0.5, "us", "apac")),
        }
    )
    matrix = to_matrix(frame, spec)
    ref = reasons.healthy_reference(matrix, y, spec)
    assert ref["region"] == "us"
    assert ref["bad"] == pytest.approx(np.median(frame["bad"][~y]), abs=1e-3)

    def model(m: pd.DataFrame) -> np.ndarray:  # bad raises risk, good lowers it, flat does nothing; eu is risky
        z = m["bad"].to_numpy(float) - 0.5 * m["good"].to_numpy(float) + np.where(m["region"].astype(str) == "eu", 1.0, 0.0)
        z = z - np.where(m["region"].astype(str) == "apac", 0.5, 0.0)
        return 1 / (1 + np.exp(-z))

    directions = reasons.risk_directions(model, matrix, spec, ref)
    assert directions["bad"] == 1 and directions["good"] == -1 and directions["flat"] == 0
    assert directions["region"] == ["eu"]


def test_encoded_matrix_round_trips_with_missing_values_and_levels():
    from ml.features import decode_matrix, encode_matrix

    frame = _frame().assign(region=["europe", None, "asia", "north_america"])
    matrix = to_matrix(frame, _spec())
    X = encode_matrix(matrix)
    assert X.dtype == np.float64 and X.shape == (4, 7)
    region = list(matrix.columns).index("region")
    # levels by code (europe 0, north_america 1); missing and unknown levels are NaN
    assert X[[0, 3], region].tolist() == [0.0, 1.0] and np.isnan(X[[1, 2], region]).all()
    assert np.isnan(X[3, list(matrix.columns).index("last_delivery_days")])
    pd.testing.assert_frame_equal(decode_matrix(X, matrix), matrix.reset_index(drop=True))
