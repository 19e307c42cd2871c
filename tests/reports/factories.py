"""Small, hand-made inputs for the reports tests (numbers chosen so results are known)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from reports.alerts import AlertInputs, decide_notifications, evaluate_rules
from reports.formatting import Formatter
from reports.render import DigestContext, RenderedEmail, WeeklyReportContext, render_alert_digest
from reports.settings import RenderSettings

NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
XSS_NAME = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"
SEGMENTS = ("Champions", "Loyal", "Potential Loyalist", "At Risk", "Hibernating")


def months(start: str, count: int) -> list[pd.Period]:
    first = pd.Period(start, freq="M")
    return [first + offset for offset in range(count)]


def segment_frequency(last_year_dip: float | None, this_year_dip: float, segment: str = "Champions") -> pd.DataFrame:
    """26 months of a segment's orders per customer ending 2026-02; February drops by ``this_year_dip``.

    ``last_year_dip`` is February 2025's change against January 2025 (None: no data before 2025-02... i.e.
    the series starts in 2025-03, so there is no last year to compare with).
    """
    periods = months("2024-01", 26)  # 2024-01 .. 2026-02
    values = {period: 1.0 for period in periods}
    if last_year_dip is not None:
        values[pd.Period("2025-02", "M")] = 1.0 * (1 + last_year_dip)
    values[pd.Period("2026-02", "M")] = 1.0 * (1 + this_year_dip)
    frame = pd.DataFrame(
        {
            "segment": segment,
            "month": list(values),
            "orders_per_customer": list(values.values()),
            "active_customers": 500,
        }
    )
    if last_year_dip is None:
        frame = frame[frame["month"] >= pd.Period("2025-03", "M")]
    return frame.reset_index(drop=True)


def churn_rates(latest: float, history: tuple[float, ...] = (0.050, 0.052, 0.049, 0.051, 0.050, 0.048)) -> pd.DataFrame:
    periods = months("2025-08", len(history) + 1)
    return pd.DataFrame({"month": [p.to_timestamp() for p in periods], "churn_rate": [*history, latest]})


def at_risk(ids: list[str], names: dict[str, str] | None = None) -> pd.DataFrame:
    names = names or {}
    return pd.DataFrame(
        {
            "customer_id": ids,
            "customer_name": [names.get(i, f"Customer {i}") for i in ids],
            "value": [1000.0 + 100 * index for index in range(len(ids))],
            "churn_probability": [0.7 + 0.01 * index for index in range(len(ids))],
            "reasons": ["logistics, price"] * len(ids),
            "recommended_action": ["faster_shipping_message"] * len(ids),
        }
    )


def cohorts(newest_rate: float) -> pd.DataFrame:
    periods = months("2025-03", 8)  # seven complete history cohorts, then the newest complete one
    rates = [0.24, 0.26, 0.25, 0.25, 0.24, 0.26, 0.25, newest_rate]
    frame = pd.DataFrame(
        {"cohort_month": [str(p) for p in periods], "cohort_size": 400, "second_order_rate": rates, "is_complete": True}
    )
    # A younger cohort whose window has not elapsed: it must be ignored whatever its rate.
    young = pd.DataFrame({"cohort_month": ["2025-11"], "cohort_size": [400], "second_order_rate": [0.02], "is_complete": [False]})
    return pd.concat([frame, young], ignore_index=True)


def model_runs(gate_passed: bool = True, psi: float | None = 0.05) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_name": ["churn", "churn"],
            "model_version": ["v6", "v7"],
            "evaluated_at": [NOW - dt.timedelta(days=1), NOW],
            "gate_passed": [True, gate_passed],
            "gate_failures": [None, None if gate_passed else "ROC AUC 0.58 < 0.65"],
            "score_psi": [0.01, psi],
        }
    )


def source_health(shopify_age_hours: float = 5, failed_checks: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["shopify", "amazon"],
            "last_loaded_at": [NOW - dt.timedelta(hours=shopify_age_hours), NOW - dt.timedelta(hours=3)],
            "failed_checks": [0, failed_checks],
            "failed_check_names": [None, "order_amount_positive" if failed_checks else None],
        }
    )


def firing_inputs() -> AlertInputs:
    """Inputs on which every rule fires once (model_quality twice: gate and drift)."""
    return AlertInputs(
        segment_frequency=segment_frequency(last_year_dip=0.0, this_year_dip=-0.25),
        churn_rates=churn_rates(0.09),
        at_risk_current=at_risk(["c1", "c2", "c3"], {"c2": XSS_NAME}),
        at_risk_previous=at_risk(["c1"]),
        cohorts=cohorts(0.15),
        model_runs=model_runs(gate_passed=False, psi=0.35),
        source_health=source_health(shopify_age_hours=80),
        audience_paths={"Champions": "audiences/champions_winback.csv", "high_value_at_risk": "audiences/cs_tasks.csv"},
    )


def weekly_context(empty: bool = False) -> WeeklyReportContext:
    """A full weekly report context (or one with every frame empty)."""
    base = WeeklyReportContext(period_start=dt.date(2026, 2, 23), period_end=dt.date(2026, 3, 1), generated_at=NOW)
    if empty:
        return base
    rng = np.random.default_rng(7)
    trend_months = months("2025-03", 12)
    monthly_trends = pd.DataFrame(
        {
            "month": [p.to_timestamp() for p in trend_months],
            "churn_rate": np.round(0.05 + 0.01 * np.sin(np.arange(12) / 2) + rng.uniform(0, 0.005, 12), 4),
            "active_customers": (12000 + np.arange(12) * 150 + rng.integers(0, 300, 12)).astype(int),
        }
    )
    freq_rows = []
    for index, segment in enumerate(SEGMENTS):
        for offset, period in enumerate(trend_months):
            freq_rows.append(
                {
                    "segment": segment,
                    "month": str(period),
                    "orders_per_customer": round(2.2 - 0.4 * index + 0.02 * np.sin(offset), 3),
                }
            )
    cohort_rows = []
    for c_index, cohort in enumerate(months("2025-03", 10)):
        for m in range(0, 10 - c_index):
            cohort_rows.append(
                {
                    "cohort_month": cohort.to_timestamp(),
                    "months_since_first": m,
                    "retention_rate": 1.0 if m == 0 else round(0.35 * 0.85**m, 3),
                }
            )
    return WeeklyReportContext(
        period_start=base.period_start,
        period_end=base.period_end,
        generated_at=NOW,
        kpis=pd.DataFrame(
            {
                "kpi": [
                    "customers",
                    "active_customers",
                    "churn_rate",
                    "repeat_purchase_rate",
                    "predicted_ltv",
                    "purchase_frequency",
                ],
                "value": [48213, 12345, 0.0525, 0.312, 1234.5, 1.84],
                "previous_value": [47001, 12100, 0.0480, 0.305, 1201.0, 1.91],
            }
        ),
        monthly_trends=monthly_trends,
        segment_frequency=pd.DataFrame(freq_rows),
        cohort_retention=pd.DataFrame(cohort_rows),
        rfm_segments=pd.DataFrame(
            {
                "segment": list(SEGMENTS),
                "customers": [3120, 5400, 4100, 2890, 9100],
                "previous_customers": [3300, 5350, 3900, 2500, 9050],
            }
        ),
        rfm_transitions=pd.DataFrame(
            {
                "from_segment": ["Loyal", "Champions", "Potential Loyalist", "At Risk"],
                "to_segment": ["At Risk", "Loyal", "Loyal", "At Risk"],
                "customers": [310, 220, 180, 999],
            }
        ),
        churn_profiles=pd.DataFrame(
            {
                "profile": ["Europe + product A + delivery > 20 days", "Open complaint", "Discount-only buyers"],
                "customers": [812, 230, 1500],
                "churn_rate": [0.21, 0.18, 0.09],
                "lift": [3.2, 2.7, 1.4],
                "lift_ci_low": [2.8, 2.1, 1.2],
                "lift_ci_high": [3.6, 3.3, 1.6],
            }
        ),
        at_risk_customers=pd.DataFrame(
            {
                "customer_id": ["C-1001", "C-1002", "C-1003"],
                "customer_name": ["Alice Martin", XSS_NAME, "Bob & Co"],
                "value": [2450.0, 1980.5, 1500.0],
                "churn_probability": [0.81, 0.77, 0.72],
                "reasons": ["logistics", "price, service", "Delivery took 24 days"],
                "recommended_action": ["faster_shipping_message", "coupon", "personal_contact"],
            }
        ),
        winback=pd.DataFrame(
            {
                "campaign": ["We miss you (30 days)", "Free shipping (90 days, high value)"],
                "treated_customers": [1200, 300],
                "treated_conversion": [0.082, 0.15],
                "control_customers": [400, 100],
                "control_conversion": [0.05, 0.13],
                "uplift": [0.032, 0.02],
                "uplift_ci_low": [0.006, -0.06],
                "uplift_ci_high": [0.058, 0.10],
            }
        ),
        campaign_impact=pd.DataFrame(
            {
                "campaign": ["Spring newsletter"],
                "exposed_customers": [5000],
                "exposed_before": [0.42],
                "exposed_after": [0.55],
                "control_before": [0.40],
                "control_after": [0.43],
            }
        ),
        baseline_churn_rate=0.066,
    )


def render_digest(locale: str = "en") -> RenderedEmail:
    """The digest of :func:`firing_inputs` as a first run would send it (every alert new)."""
    alerts = evaluate_rules(firing_inputs(), now=NOW, fmt=Formatter(locale))
    plan = decide_notifications(alerts, None, NOW)
    return render_alert_digest(DigestContext(plan.notify, NOW, plan.reasons), RenderSettings(locale=locale, shop_name="Acme"))
