"""Training and backtest: snapshot plan, no leakage, baselines, fallbacks on odd data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.evaluate import quality_gate
from ml.features import BTYD_FEATURES, FeatureFrameError, select_features
from ml.score import score_customers
from ml.train import TrainConfig, active_customers_block, plan_snapshots, train_and_backtest
from tests.ml.synthetic import make_feature_frame


def test_backtest_snapshot_is_the_latest_complete_one_and_never_trained_on(trained, synthetic_frame):
    report = trained.report
    dates = pd.to_datetime(synthetic_frame["snapshot_date"])
    complete = sorted(dates[synthetic_frame["label_window_complete"]].unique())
    backtest = pd.Timestamp(complete[-1])
    assert report["backtest_snapshot"] == backtest.date().isoformat()
    # only snapshots whose label window ends by the backtest date train the backtest model ...
    expected = [pd.Timestamp(d).date().isoformat() for d in complete if pd.Timestamp(d) + pd.Timedelta(days=90) <= backtest]
    assert len(expected) >= 2 and report["train_snapshots"] == expected
    # ... and the model that scores learns from every complete snapshot
    trained_dates = sorted(set(pd.to_datetime(trained.training_frame["snapshot_date"]).dt.date.astype(str)))
    assert trained_dates == report["scoring_model"]["snapshots"] == [pd.Timestamp(d).date().isoformat() for d in complete]
    assert report["scoring_snapshot"] == dates.max().date().isoformat()
    assert report["split"] == "temporal"


def test_model_beats_baselines_and_report_is_complete(trained):
    r = trained.report
    assert r["method"] == "hgb+isotonic"
    assert r["model"]["roc_auc"] > r["baselines"]["recency"]["roc_auc"]
    assert r["model"]["roc_auc"] > r["baselines"]["bgnbd"]["roc_auc"]
    assert r["model"]["roc_auc"] > 0.8
    for key in ("roc_auc", "pr_auc", "brier", "lift_top_decile"):
        assert r["model"][key] is not None, key
    assert r["baselines"]["recency"]["brier"] is None  # days are not a probability
    assert 0 < r["baselines"]["bgnbd"]["brier"] < 0.5
    assert r["model"]["lift_top_decile"] > 1.0
    cal = pd.DataFrame(r["model"]["calibration"])
    assert len(cal) <= 10 and cal["n"].sum() == r["backtest_rows"]
    assert r["model"]["expected_calibration_error"] < 0.1
    assert set(BTYD_FEATURES) <= set(r["features"]["numeric"])
    assert quality_gate(r, auc_floor=0.7).passed


def test_subsampling_caps_training_rows(synthetic_frame):
    result = train_and_backtest(synthetic_frame, TrainConfig(max_training_rows=3000, calibration="none"))
    assert result.report["train_rows"] == 3000 and result.report["backtest_rows"] <= 3000
    assert any("subsampled" in n for n in result.report["notes"])
    assert result.model.fingerprint == result.report["training_fingerprint"]


def test_extra_and_missing_optional_columns(synthetic_frame):
    frame = synthetic_frame.drop(columns=["last_delivery_days", "region", "email_opens_last_60d"]).assign(
        some_audit_column="x", another_number=1.0, ticket_count=np.nan
    )
    result = train_and_backtest(frame, TrainConfig(calibration="none"))
    used = result.model.spec.columns
    assert "some_audit_column" not in used and "another_number" not in used and "region" not in used
    assert result.model.spec.dropped["ticket_count"] == "all values missing"
    assert result.report["model"]["roc_auc"] > 0.75
    scores = score_customers(result.model, frame).scores
    assert scores["churn_probability"].notna().all()


def test_transaction_only_frame_trains_and_matches_bgnbd():
    frame = make_feature_frame(1500, seed=5, transaction_only=True)
    result = train_and_backtest(frame, TrainConfig(calibration="sigmoid"))
    r = result.report
    assert r["method"].startswith("hgb")
    # Known weakness, measured with the leakage-free backtest: on 1,500 synthetic customers
    # without behavioural data the boosted model is 0.02-0.04 below BG/NBD (too little data
    # for 100 rounds of 31 leaves). The bound (no worse than BG/NBD by more than
    # 0.01 on transaction-only data) is checked on the real CDNOW sample in
    # tests/ml/test_end_to_end.py, where it holds; here only a gross failure is caught.
    assert r["model"]["roc_auc"] >= r["baselines"]["bgnbd"]["roc_auc"] - 0.03
    groups = set(score_customers(result.model, frame).scores["reason_1_cause"].dropna())
    assert groups <= {"lifecycle"}


def test_tiny_all_one_time_buyers_falls_back_with_method_recorded():
    rng = np.random.default_rng(0)
    rows = []
    for snap, complete in (("2026-07-01", True), ("2026-08-01", True), ("2026-11-01", False)):
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": [f"c{i}" for i in range(50)],
                    "snapshot_date": pd.Timestamp(snap).date(),
                    "recency_days": rng.integers(1, 300, 50),
                    "frequency": 1,
                    "frequency_btyd": 0,
                    "recency_btyd": 0,
                    "t_btyd": rng.integers(1, 300, 50),
                    "label_churned": True if complete else None,
                    "label_window_complete": complete,
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    result = train_and_backtest(frame)
    assert result.model.is_fallback
    assert result.report["method"].startswith("fallback:btyd(")
    assert any("no churn model trained" in n for n in result.report["notes"])
    assert not quality_gate(result.report).passed
    scored = score_customers(result.model, frame)
    s = scored.scores
    assert len(s) == 50 and s["churn_probability"].between(0, 1).all()
    assert (s["method"] == result.model.method).all()
    assert s["probability_alive"].lt(1.0).all()  # one-time buyers are not all certainly alive
    assert s["reason_count"].eq(0).all()


def test_single_class_without_btyd_inputs_uses_calibrated_recency(synthetic_frame):
    frame = synthetic_frame.drop(columns=["frequency_btyd", "recency_btyd", "t_btyd"]).assign(
        label_churned=lambda f: f["label_churned"].where(f["label_churned"].isna(), True)
    )
    result = train_and_backtest(frame)
    assert result.model.method.startswith("fallback:recency(single_class")
    assert result.report["baselines"]["bgnbd"] is None
    s = score_customers(result.model, frame).scores
    assert s["churn_probability"].between(0, 1).all()
    assert (s["probability_alive"] == 1 - s["churn_probability"]).all()


def test_clear_errors_for_unusable_frames(synthetic_frame):
    with pytest.raises(FeatureFrameError, match="missing required column"):
        train_and_backtest(synthetic_frame.drop(columns=["label_churned"]))
    with pytest.raises(FeatureFrameError, match="no rows"):
        train_and_backtest(synthetic_frame.iloc[:0])
    incomplete = synthetic_frame.assign(label_window_complete=False, label_churned=None)
    with pytest.raises(FeatureFrameError, match="complete label window"):
        train_and_backtest(incomplete)
    with pytest.raises(FeatureFrameError, match="no usable feature columns"):
        train_and_backtest(synthetic_frame[["customer_id", "snapshot_date", "label_churned", "label_window_complete"]])


def test_one_complete_snapshot_splits_customers(synthetic_frame):
    dates = pd.to_datetime(synthetic_frame["snapshot_date"])
    last_complete = dates[synthetic_frame["label_window_complete"]].max()
    frame = synthetic_frame[(dates >= last_complete)]
    plan = plan_snapshots(frame)
    assert plan.split == "customer_hash"
    result = train_and_backtest(frame)
    r = result.report
    assert r["split"] == "customer_hash" and r["train_snapshots"] == [r["backtest_snapshot"]]
    train_ids = set(result.training_frame["customer_id"])
    assert r["backtest_rows"] > 0 and r["train_rows"] + r["backtest_rows"] == int(
        (pd.to_datetime(frame["snapshot_date"]) == last_complete).sum()
    )
    assert len(train_ids) == r["train_rows"] + r["backtest_rows"]  # the scoring model learns from all of them
    assert r["scoring_model"]["rows"] == len(train_ids)
    assert any("30% of the latest complete snapshot's customers" in n for n in r["notes"])


def test_select_features_by_dtype():
    frame = pd.DataFrame(
        {
            "recency_days": [1, 2, 3],
            "region": ["eu", "us", None],
            "is_unsubscribed": [True, False, True],
            "discount_share": [np.nan] * 3,
            "platform_count": [1, 1, 1],
            "not_declared": [1, 2, 3],
        }
    )
    spec = select_features(frame)
    assert spec.numeric == ["recency_days", "is_unsubscribed"]
    assert spec.categorical == ["region"] and spec.categories["region"] == ["eu", "us"]
    assert spec.dropped == {"discount_share": "all values missing", "platform_count": "constant"}


def test_small_data_uses_logistic_regression_and_still_explains():
    frame = make_feature_frame(400, seed=9)
    result = train_and_backtest(frame)
    assert result.model.method.startswith("logistic+")
    assert any("logistic regression instead" in n for n in result.report["notes"])
    scores = score_customers(result.model, frame).scores
    assert scores["churn_probability"].between(0, 1).all()
    assert (scores["reason_count"] > 0).mean() > 0.5


def test_feature_frame_loads_every_column_but_the_mart_key(tmp_path):
    import duckdb

    from ml.features import load_feature_frame

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts")
    con.execute(
        """
        create table marts.ml_customer_features as
        select * from (values
            ('c1:2026-01-01', 'c1', date '2026-01-01', 3, 'Europe'),
            ('c1:2026-02-01', 'c1', date '2026-02-01', 4, 'Europe'),
            ('c2:2026-02-01', 'c2', date '2026-02-01', 1, 'Asia')
        ) as t(customer_snapshot_id, customer_id, snapshot_date, frequency, region)
        """
    )
    # a history rebuild's copy for a past as-of date sorts before marts and must be ignored
    con.execute("create schema asof_20251201_marts")
    con.execute(
        """
        create table asof_20251201_marts.ml_customer_features as
        select 'c9:2025-12-01' as customer_snapshot_id, 'c9' as customer_id, date '2025-12-01' as snapshot_date,
               9 as frequency, 'Asia' as region
        """
    )
    frame = load_feature_frame(con)
    assert list(frame.columns) == ["customer_id", "snapshot_date", "frequency", "region"]
    assert sorted(zip(frame["customer_id"], frame["frequency"], strict=True)) == [("c1", 3), ("c1", 4), ("c2", 1)]
    latest = load_feature_frame(con, latest_only=True)
    assert sorted(latest["customer_id"]) == ["c1", "c2"]
    assert (pd.to_datetime(latest["snapshot_date"]) == pd.Timestamp("2026-02-01")).all()


def test_active_customers_block_measures_only_the_recent_customers(trained, synthetic_frame):
    block = trained.report["active_customers"]
    backtest = synthetic_frame[
        (pd.to_datetime(synthetic_frame["snapshot_date"]) == pd.Timestamp(trained.report["backtest_snapshot"]))
        & synthetic_frame["label_window_complete"]
    ]
    recent = backtest[backtest["recency_days"] <= 365]
    assert 0 < len(recent) < len(backtest)
    assert block["within_days"] == 365 and block["rows"] == len(recent)
    assert block["churn_rate"] == pytest.approx(recent["label_churned"].astype(float).mean())
    assert block["model"]["rows"] == len(recent) and block["baselines"]["bgnbd"]["rows"] == len(recent)
    assert block["auc_minus_bgnbd"] == pytest.approx(block["model"]["roc_auc"] - block["baselines"]["bgnbd"]["roc_auc"])
    # the long-gone customers make the whole backtest easier than its active part
    assert block["model"]["roc_auc"] < trained.report["model"]["roc_auc"]


def test_active_customers_block_ranks_on_the_restricted_rows_only():
    # among the recent customers (recency <= 100) the score ranks perfectly; the one old,
    # churned customer is scored low, which costs the whole-population AUC but not this one
    y = np.array([1, 1, 0, 0, 1] * 15)
    p = np.array([0.9, 0.8, 0.2, 0.1, 0.05] * 15)
    recency = np.array([50.0, 60.0, 10.0, 20.0, 900.0] * 15)
    expected = np.array([0.1, 0.5, 0.2, 0.4, 0.0] * 15)  # BG/NBD ranks the recent ones half right
    block = active_customers_block(y, p, recency, expected, None, within_days=100)
    assert block["rows"] == 60 and block["churn_rate"] == 0.5
    assert block["model"]["roc_auc"] == 1.0
    assert block["baselines"]["bgnbd"]["roc_auc"] == pytest.approx(0.5)
    assert block["baselines"]["bgnbd"]["brier"] is None
    assert block["auc_minus_bgnbd"] == pytest.approx(0.5)
    assert block["baselines"]["recency"]["roc_auc"] == 1.0


def test_active_customers_block_says_why_it_has_no_metrics():
    y = np.array([1, 0] * 40)
    p = np.linspace(0, 1, 80)
    no_recency = active_customers_block(y, p, np.full(80, np.nan), None, None, within_days=365)
    assert "model" not in no_recency and "no recency" in no_recency["note"]
    few = active_customers_block(y, p, np.r_[np.full(10, 30.0), np.full(70, 999.0)], None, None, within_days=365)
    assert few["rows"] == 10 and "model" not in few and "too few" in few["note"]
    one_class = active_customers_block(np.ones(80, int), p, np.full(80, 30.0), None, None, within_days=365)
    assert one_class["rows"] == 80 and "model" not in one_class and "80 of them churned" in one_class["note"]
