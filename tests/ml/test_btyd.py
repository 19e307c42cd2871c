"""BTYD models against the published CDNOW figures, plus fallbacks on synthetic data.

The CDNOW files ship inside the `lifetimes` package (a dev dependency used as data only:
it is never imported because it breaks on pandas 3).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from ml import btyd

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = CALIBRATION_END + pd.Timedelta(weeks=39)


def _datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None, "lifetimes (dev dependency) provides the CDNOW data files"
    return Path(spec.submodule_search_locations[0]) / "datasets"


def sig3(value: float) -> str:
    """A number to three significant digits, for comparing with published figures."""
    return f"{float(value):.3g}"


@cache
def cdnow_summary() -> pd.DataFrame:
    """Published calibration summary in weeks: ID, frequency, recency, T."""
    return pd.read_csv(_datasets() / "cdnow_customers_summary.csv")


@cache
def cdnow_summary_monetary() -> pd.DataFrame:
    """Same customers with x, t_x, T and zbar (mean repeat-purchase value)."""
    return pd.read_csv(_datasets() / "cdnow_customers_summary_with_transactions.csv")


@cache
def cdnow_derived() -> tuple[pd.DataFrame, pd.Series]:
    """Calibration summary (days) and holdout repeat purchases derived from CDNOW_sample.txt."""
    tx = pd.read_csv(
        _datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "quantity", "amount"],
        dtype={"date": str},
    )
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    days = tx.groupby(["customer_id", "date"], as_index=False)["amount"].sum().sort_values(["customer_id", "date"])
    cal = days[days["date"] <= CALIBRATION_END]
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= HOLDOUT_END)]
    grouped = cal.groupby("customer_id")["date"]
    first, last, n = grouped.min(), grouped.max(), grouped.size()
    repeat_value = cal[cal.groupby("customer_id").cumcount() > 0].groupby("customer_id")["amount"].mean()
    summary = pd.DataFrame(
        {
            "customer_id": first.index,
            "frequency": (n - 1).to_numpy(),
            "recency": (last - first).dt.days.to_numpy(),
            "T": (CALIBRATION_END - first).dt.days.to_numpy(),
            "monetary_value": repeat_value.reindex(first.index).fillna(0.0).to_numpy(),
        }
    )
    holdout_counts = holdout.groupby("customer_id").size().reindex(first.index, fill_value=0)
    return summary, holdout_counts


@cache
def cdnow_bgnbd() -> btyd.BGNBDParams:
    s = cdnow_summary()
    return btyd.fit_bgnbd(s["frequency"], s["recency"], s["T"])


@cache
def cdnow_gamma_gamma() -> btyd.GammaGammaParams:
    m = cdnow_summary_monetary()
    return btyd.fit_gamma_gamma(m["x"], m["zbar"])


def simulate_summary(n, seed=0, r=0.5, alpha=60.0, a=0.8, b=2.5, p=6.0, q=4.0, v=60.0, homogeneous=False) -> pd.DataFrame:
    """Customers drawn from BG/NBD + Gamma-Gamma, times in days (alpha in days)."""
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 731, n).astype(float)
    lam = np.full(n, r / alpha) if homogeneous else rng.gamma(r, 1.0 / alpha, n)
    drop = rng.beta(a, b, n)
    x, tx, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0 / lam[idx])
        inside = clock[idx] <= T[idx]
        hit = idx[inside]
        x[hit] += 1
        tx[hit] = np.maximum(np.floor(clock[hit]), 1.0)
        active[idx[~inside]] = False
        active[hit[rng.random(len(hit)) < drop[hit]]] = False
    tx = np.minimum(tx, T)
    nu = rng.gamma(q, 1.0 / v, n)
    z = np.where(x > 0, rng.gamma(np.maximum(p * x, 1e-9), 1.0 / (nu * np.maximum(x, 1.0))), 0.0)
    return pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(n)], "frequency": x, "recency": tx, "T": T, "monetary_value": np.round(z, 2)}
    )


# ---- CDNOW data ------------------------------------------------------------------------


def test_derived_cdnow_calibration_matches_published_summary():
    summary, holdout = cdnow_derived()
    published = cdnow_summary()
    assert len(summary) == 2357
    assert int(summary["frequency"].sum()) == 2457
    assert int(holdout.sum()) == 1882
    np.testing.assert_array_equal(summary["frequency"].to_numpy(), published["frequency"].to_numpy())
    np.testing.assert_allclose(summary["recency"].to_numpy() / 7, published["recency"], atol=0.006)
    np.testing.assert_allclose(summary["T"].to_numpy() / 7, published["T"], atol=0.006)
    np.testing.assert_allclose(summary["monetary_value"], cdnow_summary_monetary()["zbar"], atol=0.006)


# ---- BG/NBD ----------------------------------------------------------------------------


def test_bgnbd_reproduces_published_cdnow_parameters():
    params = cdnow_bgnbd()
    assert params.converged and not params.at_bound
    fitted = [sig3(v) for v in (params.r, params.alpha, params.a, params.b)]
    assert fitted == [sig3(v) for v in (0.242593, 4.413532, 0.792886, 2.425752)]
    assert params.r == pytest.approx(0.242593, rel=1e-4)  # in fact to about 5 digits
    assert params.b == pytest.approx(2.425752, rel=1e-4)
    assert params.log_likelihood == pytest.approx(-9582.43, abs=0.01)


def test_bgnbd_fit_is_unit_free_and_penalizer_shrinks():
    s = cdnow_summary()
    in_days = btyd.fit_bgnbd(s["frequency"], s["recency"] * 7, s["T"] * 7)
    assert in_days.r == pytest.approx(0.242593, rel=1e-3)
    assert in_days.alpha == pytest.approx(4.413532 * 7, rel=1e-3)
    penalised = btyd.fit_bgnbd(s["frequency"], s["recency"], s["T"], penalizer=0.01)
    assert penalised.alpha < 0.9 * cdnow_bgnbd().alpha


@pytest.mark.parametrize("theta", [np.zeros(4), np.log([0.3, 0.2, 0.8, 2.4]), np.log([2.0, 5.0, 0.1, 10.0])])
def test_bgnbd_analytic_gradient(theta):
    s = cdnow_summary()
    x, tx, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    ux, inv = np.unique(x, return_inverse=True)
    args = (ux, inv, x, tx / 30, T / 30, 0.001, 30.0)
    err = optimize.check_grad(
        lambda th: btyd._bgnbd_objective(th, *args)[0], lambda th: btyd._bgnbd_objective(th, *args)[1], theta
    )
    assert err < 1e-6


def test_expected_purchases_single_cdnow_customer():
    value = btyd.bgnbd_expected_purchases(cdnow_bgnbd(), 39, 2, 30.43, 38.86)
    assert value[0] == pytest.approx(1.226, abs=5e-4)


def test_expected_purchases_match_untransformed_formula():
    from scipy.special import hyp2f1

    s = cdnow_summary()
    p = cdnow_bgnbd()
    x, tx, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    t = 39.0
    z = t / (p.alpha + T + t)
    bracket = (
        (p.a + p.b + x - 1)
        / (p.a - 1)
        * (1 - ((p.alpha + T) / (p.alpha + T + t)) ** (p.r + x) * hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z))
    )
    odds = np.where(x > 0, p.a / (p.b + np.maximum(x, 1) - 1) * ((p.alpha + T) / (p.alpha + tx)) ** (p.r + x), 0.0)
    np.testing.assert_allclose(btyd.bgnbd_expected_purchases(p, t, x, tx, T), bracket / (1 + odds), rtol=1e-9)


def test_cdnow_holdout_totals():
    s = cdnow_summary()
    p = cdnow_bgnbd()
    _, holdout = cdnow_derived()
    conditional = btyd.bgnbd_expected_purchases(p, 39, s["frequency"], s["recency"], s["T"]).sum()
    # The published 1,667 is the cohort-level (unconditional) holdout forecast ...
    T = s["T"].to_numpy()
    cohort = (btyd.bgnbd_expected_purchases_new(p, T + 39) - btyd.bgnbd_expected_purchases_new(p, T)).sum()
    assert cohort == pytest.approx(1667, abs=1)
    # ... the sum of per-customer conditional expectations is within 2% of it.
    assert conditional == pytest.approx(1667, rel=0.02)
    # Both under-forecast the 1,882 actual holdout repeat purchases, as in the paper.
    assert int(holdout.sum()) == 1882 and conditional < 1882


def test_expected_purchases_new_starts_at_mean_rate_and_grows():
    p = cdnow_bgnbd()
    small = btyd.bgnbd_expected_purchases_new(p, 1e-6)
    assert small / 1e-6 == pytest.approx(p.r / p.alpha, rel=1e-4)
    values = btyd.bgnbd_expected_purchases_new(p, np.array([13.0, 39.0, 78.0]))
    assert np.all(np.diff(values) > 0)
    assert values[1] == pytest.approx(1.195, abs=1e-3)  # E[X(39)] for a new CDNOW customer


def test_probability_alive_behaviour():
    p = cdnow_bgnbd()
    assert btyd.bgnbd_probability_alive(p, 0, 0, 38.86)[0] == 1.0
    recent_to_old = btyd.bgnbd_probability_alive(p, [5, 5, 5], [38.0, 25.0, 5.0], [38.86] * 3)
    assert np.all(np.diff(recent_to_old) < 0)
    assert btyd.bgnbd_probability_alive(p, 2, 30.43, 38.86)[0] == pytest.approx(0.7266, abs=5e-4)


def test_probability_alive_adjusted_for_one_time_buyers():
    p = cdnow_bgnbd()
    T = np.array([1.0, 10.0, 27.0, 38.86, 100.0])
    adjusted = btyd.bgnbd_probability_alive_adjusted(p, np.zeros(5), np.zeros(5), T)
    assert np.all(np.diff(adjusted) < 0)
    assert adjusted[3] == pytest.approx(1 / (1 + (p.a / p.b) * ((p.alpha + 38.86) / p.alpha) ** p.r))
    assert adjusted[3] < 0.7
    # Repeat buyers keep the BG/NBD value.
    assert btyd.bgnbd_probability_alive_adjusted(p, 2, 30.43, 38.86)[0] == pytest.approx(
        btyd.bgnbd_probability_alive(p, 2, 30.43, 38.86)[0]
    )


def test_expected_next_order_days():
    p = cdnow_bgnbd()
    days = btyd.expected_next_order_days(p, [1, 5, 20], [30.0, 30.0, 30.0], [38.86] * 3, time_unit_days=7)
    assert np.all(np.diff(days) < 0)
    # Lomax median: survival at the median is one half.
    x, T = 5, 38.86
    w = days[1] / 7
    assert ((p.alpha + T) / (p.alpha + T + w)) ** (p.r + x) == pytest.approx(0.5)
    heavy = btyd.expected_next_order_days(p, 200, 38.0, 38.86, statistic="inverse_rate")
    median = btyd.expected_next_order_days(p, 200, 38.0, 38.86)
    assert median[0] == pytest.approx(np.log(2) * heavy[0], rel=0.01)
    with pytest.raises(ValueError, match="statistic"):
        btyd.expected_next_order_days(p, 1, 1, 2, statistic="mean")


# ---- Gamma-Gamma and CLV -----------------------------------------------------------------


def test_gamma_gamma_reproduces_cdnow():
    gg = cdnow_gamma_gamma()
    assert gg.n_fit == 946 and gg.converged
    assert [sig3(gg.p), sig3(gg.q), sig3(gg.v)] == [sig3(6.25), sig3(3.74), sig3(15.44)]
    assert [round(gg.p, 2), round(gg.q, 2), round(gg.v, 2)] == [6.25, 3.74, 15.45]
    assert btyd.gamma_gamma_population_mean(gg) == pytest.approx(35.17, abs=0.01)
    m = cdnow_summary_monetary()
    expected = btyd.gamma_gamma_expected_spend(gg, m["x"], m["zbar"])
    # lifetimes' "expected conditional average profit" (all 2,357, one-time buyers at the mean).
    assert expected.mean() == pytest.approx(35.25, abs=0.01)
    assert np.all(expected[m["x"] == 0] == pytest.approx(35.17, abs=0.01))


def test_gamma_gamma_analytic_gradient():
    m = cdnow_summary_monetary()
    keep = m["x"] > 0
    x = m.loc[keep, "x"].to_numpy(dtype=float)
    zs = m.loc[keep, "zbar"].to_numpy() / 35.0
    ux, inv = np.unique(x, return_inverse=True)
    args = (ux, inv, x, np.log(zs), np.log(x), x * zs, 0.001, 35.0)
    for theta in (np.zeros(3), np.log([6.0, 4.0, 0.4])):
        err = optimize.check_grad(lambda th: btyd._gg_objective(th, *args)[0], lambda th: btyd._gg_objective(th, *args)[1], theta)
        assert err < 1e-6


def test_clv_sanity():
    bg, gg = cdnow_bgnbd(), cdnow_gamma_gamma()
    m = cdnow_summary_monetary().iloc[:200]
    args = (m["x"], m["t_x"], m["T"], m["zbar"])

    def clv(**kw):
        return btyd.customer_lifetime_value(bg, gg, *args, **kw)

    base = clv()
    assert np.all(base >= 0) and base.max() > 100
    assert np.all(clv(months=24) > base)
    assert np.all(clv(discount_rate_annual=0.30) < base)
    assert np.all(clv(months=0) == 0)
    # Undiscounted CLV is expected purchases over 12 months times expected order value.
    months12 = 12 * btyd.DAYS_PER_MONTH / 7
    purchases = btyd.bgnbd_expected_purchases(bg, months12, m["x"], m["t_x"], m["T"])
    spend = btyd.gamma_gamma_expected_spend(gg, m["x"], m["zbar"])
    np.testing.assert_allclose(clv(discount_rate_annual=0.0), purchases * spend, rtol=1e-10)
    # Month i's purchases are discounted by 1.10 ** (i / 12) (10% a year, compounded monthly).
    month = btyd.DAYS_PER_MONTH / 7
    cumulative = [btyd.bgnbd_expected_purchases(bg, i * month, m["x"], m["t_x"], m["T"]) for i in range(13)]
    manual = sum(spend * (cumulative[i] - cumulative[i - 1]) / 1.10 ** (i / 12) for i in range(1, 13))
    np.testing.assert_allclose(base, manual, rtol=1e-10)
    # More (recent) purchases at the same spend mean more value.
    more = btyd.customer_lifetime_value(bg, gg, [1, 3, 6], [38.0] * 3, [38.86] * 3, [30.0] * 3)
    assert np.all(np.diff(more) > 0)


# ---- fit_and_score ------------------------------------------------------------------------

SCORE_COLUMNS = [
    "customer_id",
    "probability_alive",
    "probability_alive_adjusted",
    "expected_orders_90d",
    "expected_orders_365d",
    "expected_order_value",
    "predicted_clv_12m",
    "expected_next_order_days",
]


def test_fit_and_score_on_cdnow_days():
    summary, _ = cdnow_derived()
    result = btyd.fit_and_score(summary, time_unit_days=7.0)
    assert result.method == "bgnbd+gamma_gamma"
    assert list(result.scores.columns) == SCORE_COLUMNS
    bg, gg = result.bgnbd, result.gamma_gamma
    assert [sig3(v) for v in (bg.r, bg.alpha, bg.a, bg.b)] == ["0.243", "4.41", "0.793", "2.43"]
    assert [sig3(v) for v in (gg.p, gg.q, gg.v)] == ["6.25", "3.74", "15.4"]
    s = result.scores
    assert s.drop(columns="customer_id").notna().all().all()
    assert (s["expected_orders_365d"] > s["expected_orders_90d"]).all()
    assert s["probability_alive"].between(0, 1).all()
    one_time = summary["frequency"].to_numpy() == 0
    assert (s.loc[one_time, "probability_alive"] == 1.0).all()
    adjusted = s.loc[one_time, "probability_alive_adjusted"].to_numpy()
    assert adjusted.max() < 0.7
    order = np.argsort(summary.loc[one_time, "T"].to_numpy(), kind="stable")
    assert np.all(np.diff(adjusted[order]) <= 0)
    assert np.all(np.diff(adjusted[order])[np.diff(summary.loc[one_time, "T"].to_numpy()[order]) > 0] < 0)
    # 365 days over 52.18 weeks: summing the CDNOW cohort's next-year purchases.
    assert s["expected_orders_365d"].sum() == pytest.approx(
        btyd.bgnbd_expected_purchases(result.bgnbd, 365 / 7, summary["frequency"], summary["recency"] / 7, summary["T"] / 7).sum()
    )


def test_fit_and_score_does_not_depend_on_the_row_order():
    """The fits subsample customers at random; the same customers in another order (as the
    warehouse may return them) must give the same fit and the same scores, row for row."""
    summary = simulate_summary(3_000, seed=4)
    shuffled = summary.sample(frac=1.0, random_state=9).reset_index(drop=True)
    first = btyd.fit_and_score(summary, time_unit_days=1.0, max_fit_customers=1_000)
    second = btyd.fit_and_score(shuffled, time_unit_days=1.0, max_fit_customers=1_000)
    assert first.bgnbd == second.bgnbd and first.gamma_gamma == second.gamma_gamma
    assert second.scores["customer_id"].tolist() == shuffled["customer_id"].tolist()  # the caller's order
    pd.testing.assert_frame_equal(
        first.scores.sort_values("customer_id").reset_index(drop=True),
        second.scores.sort_values("customer_id").reset_index(drop=True),
    )


def test_fit_and_score_recovers_simulated_parameters():
    result = btyd.fit_and_score(simulate_summary(20_000, seed=1), time_unit_days=1.0)
    assert result.method == "bgnbd+gamma_gamma"
    assert result.bgnbd.r == pytest.approx(0.5, rel=0.15)
    assert result.bgnbd.alpha == pytest.approx(60.0, rel=0.2)
    assert btyd.gamma_gamma_population_mean(result.gamma_gamma) == pytest.approx(6.0 * 60.0 / 3.0, rel=0.1)


def test_fallback_too_few_customers():
    summary = simulate_summary(50, seed=2)
    result = btyd.fit_and_score(summary)
    assert result.method.startswith("fallback:") and "too_few_customers" in result.method
    assert result.orders_model == "pooled_gamma_poisson" and result.bgnbd is None
    s = result.scores
    assert list(s.columns) == SCORE_COLUMNS and len(s) == 50
    assert s.drop(columns="customer_id").notna().all().all()
    assert s["probability_alive"].between(0, 1).all() and (s["probability_alive"] < 1).any()
    assert (s["expected_orders_365d"] > s["expected_orders_90d"]).all()
    # Pooled rate: the 365-day expectations of always-alive customers sum near the observed rate.
    rate = (summary["frequency"].sum() + 0.5) / summary["T"].sum()
    assert s["expected_orders_365d"].mean() < 365 * rate * 3


def test_fallback_all_one_time_buyers():
    summary = simulate_summary(500, seed=3)
    summary = summary.assign(frequency=0.0, recency=0.0, monetary_value=0.0)
    result = btyd.fit_and_score(summary)
    assert "no_repeat_customers" in result.method
    assert "gamma_gamma_too_few_repeat_customers" in result.method
    s = result.scores
    order = np.argsort(summary["T"].to_numpy(), kind="stable")
    p = s["probability_alive_adjusted"].to_numpy()[order]
    assert p.max() < 1.0 and np.all(np.diff(p) <= 0) and p[0] > p[-1]
    assert (s["expected_orders_365d"] < 0.05).all() and (s["expected_orders_365d"] > 0).all()
    assert s["expected_order_value"].isna().all() and s["predicted_clv_12m"].isna().all()
    assert any("NaN" in note for note in result.notes)


def test_fallback_one_huge_order():
    clean = simulate_summary(3000, seed=4)
    dirty = clean.copy()
    whale = int(np.flatnonzero(dirty["frequency"].to_numpy() == 1)[0])
    dirty.loc[whale, "monetary_value"] = 5_000_000.0
    base = btyd.fit_and_score(clean)
    result = btyd.fit_and_score(dirty)
    assert result.spend_model == "gamma_gamma"
    cap = btyd.monetary_cap(dirty["monetary_value"], dirty["frequency"])
    assert cap < 10_000
    assert any("capped" in note for note in result.notes)
    value = result.scores["expected_order_value"].to_numpy()
    assert value[whale] <= cap
    others = np.arange(len(dirty)) != whale
    np.testing.assert_allclose(value[others], base.scores["expected_order_value"].to_numpy()[others], rtol=0.05)


def test_fallback_too_few_repeat_customers_for_spend():
    summary = simulate_summary(400, seed=5)
    repeaters = np.flatnonzero(summary["frequency"].to_numpy() > 0)
    drop = repeaters[15:]
    summary.loc[drop, ["frequency", "recency", "monetary_value"]] = 0.0
    result = btyd.fit_and_score(summary)
    assert result.spend_model == "capped_mean" and result.gamma_gamma is None
    assert "gamma_gamma_too_few_repeat_customers" in result.method
    value = result.scores["expected_order_value"].to_numpy()
    m0 = summary["monetary_value"].to_numpy()[repeaters[:15]].mean()
    assert np.allclose(value[summary["frequency"].to_numpy() == 0], m0)
    assert result.scores["predicted_clv_12m"].notna().all()


def test_fallback_spend_with_a_handful_of_repeat_customers_uses_the_median():
    summary = simulate_summary(60, seed=10)
    repeaters = np.flatnonzero(summary["frequency"].to_numpy() > 0)
    summary.loc[repeaters[3:], ["frequency", "recency", "monetary_value"]] = 0.0
    summary.loc[repeaters[0], "monetary_value"] = 5_000_000.0
    result = btyd.fit_and_score(summary)
    assert result.spend_model == "capped_mean"
    median = np.median(summary["monetary_value"].to_numpy()[repeaters[:3]])
    one_time = summary["frequency"].to_numpy() == 0
    assert np.allclose(result.scores["expected_order_value"].to_numpy()[one_time], median)
    assert median < 10_000


def test_fallback_degenerate_bgnbd_fit():
    # Identical purchase rates for everyone push r and alpha to the optimiser bounds.
    result = btyd.fit_and_score(simulate_summary(3000, seed=6, homogeneous=True))
    assert "bgnbd_params_at_bounds" in result.method
    assert result.orders_model == "pooled_gamma_poisson"
    assert np.isfinite(result.scores.drop(columns="customer_id").to_numpy()).all()


def test_fallback_when_optimiser_does_not_converge(monkeypatch):
    real_fit = btyd.fit_bgnbd

    def not_converged(*args, **kwargs):
        params = real_fit(*args, **kwargs)
        return dataclasses.replace(params, converged=False)

    monkeypatch.setattr(btyd, "fit_bgnbd", not_converged)
    result = btyd.fit_and_score(simulate_summary(1000, seed=7))
    assert result.method == "fallback:bgnbd_not_converged"
    assert result.spend_model == "gamma_gamma"
    assert any("bgnbd_not_converged" in note for note in result.notes)


@pytest.mark.parametrize(
    ("column", "value"),
    [("frequency", np.nan), ("recency", np.nan), ("T", -1.0), ("monetary_value", -5.0), ("monetary_value", np.nan)],
)
def test_invalid_inputs_raise_naming_the_column(column, value):
    summary = simulate_summary(200, seed=8)
    summary.loc[3, column] = value
    with pytest.raises(ValueError, match=column):
        btyd.fit_and_score(summary)


def test_inconsistent_inputs_raise():
    summary = simulate_summary(200, seed=9)
    bad = summary.copy()
    bad.loc[0, "recency"] = bad.loc[0, "T"] + 10
    with pytest.raises(ValueError, match="recency"):
        btyd.fit_and_score(bad)
    with pytest.raises(ValueError, match="customer_id"):
        btyd.fit_and_score(pd.concat([summary, summary.iloc[:1]]))
    with pytest.raises(ValueError, match="monetary_value"):
        btyd.fit_and_score(summary.drop(columns="monetary_value"))
    with pytest.raises(ValueError, match="frequency"):
        btyd.fit_and_score(summary.assign(frequency=summary["frequency"] + 0.5))


def test_bracket_by_distinct_pairs_equals_the_per_customer_bracket():
    """Scoring computes the BG/NBD bracket once per distinct (x, T): the values must be the
    per-customer ones exactly, in the customers' order."""
    params = btyd.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 5_000).astype(float)
    T = rng.integers(1, 80, 5_000) / 7.0  # whole days in weeks: many customers share a pair
    bracket = btyd._bgnbd_bracket_by_pairs(params, x, T)
    for t in (0.0, 90 / 7, 365.25 / 12 / 7, 52.0):
        np.testing.assert_array_equal(bracket(t), btyd._bgnbd_bracket(params, t, x, T))
    assert len(np.unique(np.column_stack([x, T]), axis=0)) < len(x) / 5
