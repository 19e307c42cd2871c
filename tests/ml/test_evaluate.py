"""Backtest metrics, calibration table, quality gate and PSI on constructed data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml import evaluate


def test_calibration_table_counts_sum_to_rows_and_bins_are_ordered():
    rng = np.random.default_rng(0)
    p = rng.random(1234)
    y = rng.random(1234) < p
    table = evaluate.calibration_table(y, p)
    assert len(table) == 10
    assert table["n"].sum() == 1234
    assert (table["lower"].diff().dropna() > 0).all()
    inside = (table["mean_predicted"] >= table["lower"] - 1e-12) & (table["mean_predicted"] <= table["upper"] + 1e-12)
    assert inside.all()
    # a calibrated probability: observed close to predicted in every decile
    assert (table["observed_rate"] - table["mean_predicted"]).abs().max() < 0.15
    assert evaluate.expected_calibration_error(table) < 0.06


def test_calibration_table_uniform_bins_and_ties():
    p = np.array([0.05] * 50 + [0.95] * 50)
    y = np.array([0] * 48 + [1] * 2 + [1] * 45 + [0] * 5)
    quant = evaluate.calibration_table(y, p)
    assert quant["n"].sum() == 100  # tied edges merge, no row lost
    uni = evaluate.calibration_table(y, p, strategy="uniform")
    assert len(uni) == 10 and uni["n"].sum() == 100
    assert uni.loc[0, "n"] == 50 and uni.loc[9, "n"] == 50
    assert uni.loc[0, "observed_rate"] == pytest.approx(0.04)
    assert uni.loc[9, "observed_rate"] == pytest.approx(0.90)
    assert math.isnan(uni.loc[4, "observed_rate"])
    with pytest.raises(ValueError, match="strategy"):
        evaluate.calibration_table(y, p, strategy="bogus")


def test_lift_and_auc_on_constructed_scores():
    y = np.array([1] * 10 + [0] * 90)
    perfect = np.arange(100)[::-1].astype(float)  # the 10 churners score highest
    assert evaluate.roc_auc(y, perfect) == 1.0
    assert evaluate.lift_at(y, perfect, 0.10) == pytest.approx(10.0)
    assert evaluate.lift_at(y, -perfect, 0.10) == 0.0
    m = evaluate.score_metrics(y, perfect, np.where(y == 1, 0.9, 0.1))
    assert m["brier"] == pytest.approx(0.01)
    assert m["pr_auc"] == pytest.approx(1.0)
    assert m["churn_rate"] == pytest.approx(0.1)


def test_single_class_gives_nan_metrics_not_errors():
    y = np.ones(20)
    s = np.linspace(0, 1, 20)
    assert math.isnan(evaluate.roc_auc(y, s))
    assert math.isnan(evaluate.pr_auc(y, s))
    m = evaluate.score_metrics(y, s, s)
    assert math.isnan(m["roc_auc"]) and m["lift_top_decile"] == pytest.approx(1.0)
    assert evaluate.json_ready(m)["roc_auc"] is None


def _report(model_auc, recency_auc, method="hgb+isotonic"):
    return {"method": method, "model": {"roc_auc": model_auc}, "baselines": {"recency": {"roc_auc": recency_auc}}}


def test_gate_passes_above_floor_and_recency():
    gate = evaluate.quality_gate(_report(0.85, 0.80), auc_floor=0.70)
    assert gate.passed and gate.reasons == []
    assert {c.name for c in gate.checks} == {"model_trained", "auc_floor", "beats_recency"}


@pytest.mark.parametrize(
    ("report", "failing"),
    [
        (_report(0.65, 0.60), "auc_floor"),  # below the floor
        (_report(0.78, 0.80), "beats_recency"),  # above the floor but not better than the rule
        (_report(0.80, 0.80), "beats_recency"),  # a tie does not beat it
        (_report(None, 0.80), "auc_floor"),  # undefined AUC (single class)
        (_report(float("nan"), 0.80), "auc_floor"),
        (_report(0.90, 0.80, method="fallback:btyd(single_class)"), "model_trained"),
        (_report(0.90, None), "beats_recency"),
    ],
)
def test_gate_failures_name_the_failing_check(report, failing):
    gate = evaluate.quality_gate(report, auc_floor=0.70)
    assert not gate.passed
    failed = {c.name for c in gate.checks if not c.passed}
    assert failing in failed
    assert gate.to_dict()["reasons"]


def test_gate_margin_over_recency():
    assert evaluate.quality_gate(_report(0.83, 0.80), min_margin_over_recency=0.02).passed
    assert not evaluate.quality_gate(_report(0.81, 0.80), min_margin_over_recency=0.02).passed


def test_psi_identical_zero_shift_large():
    rng = np.random.default_rng(1)
    a = rng.beta(2, 5, 20_000)
    assert evaluate.psi(a, a) == pytest.approx(0.0, abs=1e-12)
    same_dist = rng.beta(2, 5, 20_000)
    assert evaluate.psi(a, same_dist) < 0.01
    shifted = rng.beta(5, 2, 20_000)
    value = evaluate.psi(a, shifted)
    assert value > 0.25 and evaluate.psi_level(value) == "significant"
    assert evaluate.psi_level(0.05) == "stable" and evaluate.psi_level(0.2) == "moderate"


def test_psi_matches_hand_computation():
    prev = np.repeat(np.arange(10) / 10 + 0.05, 10)  # 10% in each decile
    new = np.concatenate([np.full(20, 0.05), np.repeat(np.arange(1, 10) / 10 + 0.05, 80 // 9 + 1)[:80]])
    p_prev = np.full(10, 0.1)
    counts = np.array([20] + [np.sum(np.isclose(new, k / 10 + 0.05)) for k in range(1, 10)])
    p_new = counts / counts.sum()
    expected = float(np.sum((p_new - p_prev) * np.log(p_new / p_prev)))
    assert evaluate.psi(prev, new) == pytest.approx(expected)


def test_psi_edge_cases():
    const = np.full(100, 0.3)
    assert evaluate.psi(const, const) == pytest.approx(0.0)
    assert evaluate.psi(const, np.full(100, 0.9)) > 1.0
    with pytest.raises(ValueError, match="finite"):
        evaluate.psi([], [0.1])
    drift = evaluate.score_drift(None, np.array([0.1, 0.2]))
    assert drift["psi"] is None and drift["level"] == "no_previous_run"


def test_headline_figures_are_flat_and_none_where_the_report_has_nothing():
    report = {
        "model": {"roc_auc": 0.9, "pr_auc": 0.95, "brier": 0.05, "lift_top_decile": 1.1},
        "baselines": {"recency": {"roc_auc": 0.85}, "bgnbd": None},
        "active_customers": {"within_days": 365, "rows": 12, "note": "too few"},
    }
    assert evaluate.headline_figures(report) == {
        "roc_auc": 0.9,
        "pr_auc": 0.95,
        "brier": 0.05,
        "top_decile_lift": 1.1,
        "recency_roc_auc": 0.85,
        "bgnbd_roc_auc": None,
        "active_within_days": 365,
        "active_customers": 12,
        "active_roc_auc": None,
        "active_bgnbd_roc_auc": None,
    }
    assert set(evaluate.headline_figures({}).values()) == {None}
