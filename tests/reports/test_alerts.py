"""Alert rules (F24) on constructed data: each must fire, and must stay quiet, when it should."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from reports.alerts import (
    HISTORY_COLUMNS,
    AlertInputs,
    churn_rate_spike,
    cohort_second_order_low,
    data_source_health,
    decide_notifications,
    digest_batches,
    empty_history,
    evaluate_rules,
    high_value_newly_at_risk,
    model_quality,
    segment_frequency_drop,
)
from reports.formatting import Formatter
from reports.settings import (
    AlertSettings,
    ChurnRateSpikeRule,
    CohortSecondOrderLowRule,
    DataSourceHealthRule,
    HighValueNewlyAtRiskRule,
    ModelQualityRule,
    SegmentFrequencyDropRule,
)
from tests.reports import factories as f

FMT = Formatter("en")


# -- segment_frequency_drop ---------------------------------------------------------
def test_seasonal_dip_that_last_year_also_had_does_not_fire():
    frame = f.segment_frequency(last_year_dip=-0.20, this_year_dip=-0.20)
    assert segment_frequency_drop(frame, SegmentFrequencyDropRule(), FMT) == []


def test_same_dip_without_last_year_dip_fires():
    frame = f.segment_frequency(last_year_dip=0.0, this_year_dip=-0.20)
    [alert] = segment_frequency_drop(frame, SegmentFrequencyDropRule(), FMT, {"Champions": "audiences/champions.csv"})
    assert (alert.rule, alert.key, alert.period) == ("segment_frequency_drop", "Champions", "2026-02")
    assert alert.magnitude["mom_change"] == pytest.approx(-0.20)
    assert alert.magnitude["last_year_mom_change"] == pytest.approx(0.0)
    assert "-20.0%" in alert.title and "Champions" in alert.title
    assert "not the usual seasonal dip" in alert.what
    assert alert.who.segment == "Champions" and alert.who.customer_count == 500
    assert alert.who.audience_path == "audiences/champions.csv"
    assert alert.action and alert.severity == "warning"
    assert len(alert.trend) == 14 and alert.trend[-1] == ("2026-02", pytest.approx(0.8))


def test_drop_without_any_last_year_data_fires_on_threshold_alone():
    frame = f.segment_frequency(last_year_dip=None, this_year_dip=-0.20)
    [alert] = segment_frequency_drop(frame, SegmentFrequencyDropRule(), FMT)
    assert alert.magnitude["last_year_mom_change"] is None
    assert ("Same month last year", "no data last year") in alert.facts


def test_drop_much_worse_than_last_years_seasonal_dip_fires():
    frame = f.segment_frequency(last_year_dip=-0.20, this_year_dip=-0.40)
    [alert] = segment_frequency_drop(frame, SegmentFrequencyDropRule(), FMT)
    assert alert.magnitude["mom_change"] == pytest.approx(-0.40)


@pytest.mark.parametrize("dip", [-0.10, -0.15, 0.05])
def test_small_or_no_drop_does_not_fire(dip):
    frame = f.segment_frequency(last_year_dip=None, this_year_dip=dip)
    assert segment_frequency_drop(frame, SegmentFrequencyDropRule(), FMT) == []


def test_only_core_segments_and_large_enough_segments_are_watched():
    frame = f.segment_frequency(last_year_dip=None, this_year_dip=-0.30, segment="Hibernating")
    assert segment_frequency_drop(frame, SegmentFrequencyDropRule(), FMT) == []
    assert len(segment_frequency_drop(frame, SegmentFrequencyDropRule(core_segments=None), FMT)) == 1
    small = f.segment_frequency(last_year_dip=None, this_year_dip=-0.30).assign(active_customers=12)
    assert segment_frequency_drop(small, SegmentFrequencyDropRule(), FMT) == []


def test_missing_column_is_a_clear_error():
    with pytest.raises(ValueError, match="orders_per_customer"):
        segment_frequency_drop(pd.DataFrame({"segment": [], "month": []}), SegmentFrequencyDropRule(), FMT)


# -- churn_rate_spike ----------------------------------------------------------------
def test_churn_spike_fires_against_trailing_mean():
    [alert] = churn_rate_spike(f.churn_rates(0.09), ChurnRateSpikeRule(), FMT)
    assert alert.key == "all" and alert.severity == "critical"
    assert alert.magnitude["churn_rate"] == pytest.approx(0.09)
    assert alert.magnitude["trailing_mean"] == pytest.approx(0.05)
    assert "9.0%" in alert.title and "+4.0 pp" in alert.what
    assert alert.trend_kind == "percent" and len(alert.trend) == 7


def test_churn_within_normal_range_does_not_fire():
    assert churn_rate_spike(f.churn_rates(0.053), ChurnRateSpikeRule(), FMT) == []


def test_flat_history_needs_the_relative_increase_too():
    flat = f.churn_rates(0.052, history=(0.05,) * 6)  # std 0: mean + k*std alone would fire
    assert churn_rate_spike(flat, ChurnRateSpikeRule(), FMT) == []
    assert len(churn_rate_spike(f.churn_rates(0.061, history=(0.05,) * 6), ChurnRateSpikeRule(), FMT)) == 1


def test_churn_spike_needs_enough_history_and_works_per_segment():
    assert churn_rate_spike(f.churn_rates(0.2, history=(0.05, 0.05)), ChurnRateSpikeRule(), FMT) == []
    both = pd.concat([f.churn_rates(0.09).assign(segment="Loyal"), f.churn_rates(0.05).assign(segment="New")])
    [alert] = churn_rate_spike(both, ChurnRateSpikeRule(), FMT)
    assert alert.key == "Loyal" and alert.who.segment == "Loyal"


# -- high_value_newly_at_risk --------------------------------------------------------
def test_newly_at_risk_high_value_customers_fire_with_top_customers():
    current = f.at_risk(["c1", "c2", "c3"], {"c3": "Zoe"})
    [alert] = high_value_newly_at_risk(current, f.at_risk(["c1"]), HighValueNewlyAtRiskRule(top_customers=1), FMT, "out/cs.csv")
    assert alert.magnitude["new_customers"] == 2
    assert alert.magnitude["value_at_risk"] == pytest.approx(1100 + 1200)
    assert [c.customer_id for c in alert.who.customers] == ["c3"]  # top by value, limited to 1
    assert alert.who.customers[0].name == "Zoe" and alert.who.customer_count == 2
    assert alert.who.audience_path == "out/cs.csv"
    assert "2" in alert.title


def test_unchanged_at_risk_list_does_not_fire():
    assert high_value_newly_at_risk(f.at_risk(["c1", "c2"]), f.at_risk(["c2", "c1"]), HighValueNewlyAtRiskRule(), FMT) == []


def test_newly_at_risk_filters_and_first_run():
    current = f.at_risk(["c1", "c2", "c3"])  # values 1000, 1100, 1200
    [first_run] = high_value_newly_at_risk(current, None, HighValueNewlyAtRiskRule(), FMT)
    assert first_run.magnitude["new_customers"] == 3
    assert high_value_newly_at_risk(current, None, HighValueNewlyAtRiskRule(min_value=5000), FMT) == []
    assert high_value_newly_at_risk(current, None, HighValueNewlyAtRiskRule(min_count=4), FMT) == []


def test_different_new_customers_change_the_fingerprint():
    rule = HighValueNewlyAtRiskRule()
    [a] = high_value_newly_at_risk(f.at_risk(["c1", "c2"]), f.at_risk([]), rule, FMT)
    [b] = high_value_newly_at_risk(f.at_risk(["c3", "c4"]), f.at_risk([]), rule, FMT)
    assert a.key == b.key and a.fingerprint != b.fingerprint


# -- cohort_second_order_low ---------------------------------------------------------
def test_low_second_order_conversion_of_newest_complete_cohort_fires():
    [alert] = cohort_second_order_low(f.cohorts(0.15), CohortSecondOrderLowRule(), FMT)
    assert alert.key == "2025-10"  # the incomplete 2025-11 cohort (2% so far) is ignored
    assert alert.magnitude["expected_rate"] == pytest.approx(sum([0.25, 0.25, 0.24, 0.26, 0.25, 0.26]) / 6)
    assert alert.magnitude["second_order_rate"] == pytest.approx(0.15)
    assert "Oct 2025" in alert.title and alert.who.customer_count == 400


def test_normal_second_order_conversion_does_not_fire():
    assert cohort_second_order_low(f.cohorts(0.24), CohortSecondOrderLowRule(), FMT) == []


def test_small_cohorts_and_short_history_do_not_fire():
    assert cohort_second_order_low(f.cohorts(0.15).assign(cohort_size=10), CohortSecondOrderLowRule(), FMT) == []
    short = f.cohorts(0.15).tail(3)  # two complete cohorts only
    assert cohort_second_order_low(short, CohortSecondOrderLowRule(), FMT) == []


# -- model_quality -------------------------------------------------------------------
def test_failed_gate_and_drift_fire_separately():
    alerts = model_quality(f.model_runs(gate_passed=False, psi=0.35), ModelQualityRule(), FMT)
    by_key = {alert.key: alert for alert in alerts}
    assert set(by_key) == {"churn:gate", "churn:drift"}
    assert by_key["churn:gate"].severity == "critical" and "ROC AUC 0.58" in by_key["churn:gate"].what
    assert by_key["churn:drift"].severity == "warning" and by_key["churn:drift"].magnitude["score_psi"] == 0.35


def test_healthy_model_does_not_fire_and_only_latest_run_counts():
    assert model_quality(f.model_runs(gate_passed=True, psi=0.19), ModelQualityRule(), FMT) == []
    older_failure = f.model_runs(gate_passed=True, psi=0.05).assign(gate_passed=[False, True])
    assert model_quality(older_failure, ModelQualityRule(), FMT) == []
    assert len(model_quality(f.model_runs(psi=0.19), ModelQualityRule(psi_threshold=0.1), FMT)) == 1


# -- data_source_health --------------------------------------------------------------
def test_stale_source_fires():
    [alert] = data_source_health(f.source_health(shopify_age_hours=80), DataSourceHealthRule(), FMT, f.NOW)
    assert alert.key == "shopify" and alert.magnitude["age_hours"] == pytest.approx(80)
    assert "3.3 days" in alert.what and "36.0 h" in alert.what


def test_fresh_sources_and_overrides_do_not_fire():
    assert data_source_health(f.source_health(), DataSourceHealthRule(), FMT, f.NOW) == []
    rule = DataSourceHealthRule(max_age_hours_by_source={"shopify": 100})
    assert data_source_health(f.source_health(shopify_age_hours=80), rule, FMT, f.NOW) == []


def test_failed_checks_and_never_loaded_fire():
    [checks] = data_source_health(f.source_health(failed_checks=2), DataSourceHealthRule(), FMT, f.NOW)
    assert checks.key == "amazon" and "order_amount_positive" in checks.what
    never = f.source_health().assign(last_loaded_at=[pd.NaT, f.NOW])
    [alert] = data_source_health(never, DataSourceHealthRule(), FMT, f.NOW)
    assert alert.key == "shopify" and "never loaded" in alert.what


def test_stale_fingerprint_ignores_growing_age():
    rule = DataSourceHealthRule()
    [day1] = data_source_health(f.source_health(shopify_age_hours=40), rule, FMT, f.NOW)
    [day2] = data_source_health(f.source_health(shopify_age_hours=64), rule, FMT, f.NOW)
    assert day1.fingerprint == day2.fingerprint


# -- evaluate_rules ------------------------------------------------------------------
def test_evaluate_rules_runs_enabled_rules_sorted_by_severity():
    settings = AlertSettings.model_validate({"churn_rate_spike": {"recipients": ["cfo@example.com"]}})
    alerts = evaluate_rules(f.firing_inputs(), settings, f.NOW, FMT)
    assert {alert.rule for alert in alerts} == {
        "segment_frequency_drop",
        "churn_rate_spike",
        "high_value_newly_at_risk",
        "cohort_second_order_low",
        "model_quality",
        "data_source_health",
    }
    severities = [alert.severity for alert in alerts]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)
    spike = next(alert for alert in alerts if alert.rule == "churn_rate_spike")
    assert spike.recipients == ("cfo@example.com",)
    disabled = AlertSettings.model_validate({"churn_rate_spike": {"enabled": False}})
    assert "churn_rate_spike" not in {alert.rule for alert in evaluate_rules(f.firing_inputs(), disabled, f.NOW, FMT)}
    assert evaluate_rules(AlertInputs(), now=f.NOW) == []


def test_settings_reject_unknown_fields():
    with pytest.raises(ValueError):
        AlertSettings.model_validate({"churn_rate_spike": {"k_sdt": 3}})


def test_fingerprint_is_stable_within_a_bucket_and_changes_across():
    rule = SegmentFrequencyDropRule()
    [a] = segment_frequency_drop(f.segment_frequency(None, -0.200), rule, FMT)
    [b] = segment_frequency_drop(f.segment_frequency(None, -0.210), rule, FMT)
    [c] = segment_frequency_drop(f.segment_frequency(None, -0.400), rule, FMT)
    assert a.fingerprint == b.fingerprint != c.fingerprint


# -- decide_notifications ------------------------------------------------------------
def _drop(dip: float):
    return segment_frequency_drop(f.segment_frequency(None, dip), SegmentFrequencyDropRule(), FMT)


def test_notification_lifecycle_new_suppressed_reminder_changed_resolved():
    day = dt.timedelta(days=1)
    first = decide_notifications(_drop(-0.20), None, f.NOW)
    assert [a.key for a in first.notify] == ["Champions"] and first.reasons == {("segment_frequency_drop", "Champions"): "new"}
    assert list(first.history.columns) == list(HISTORY_COLUMNS)
    row = first.history.iloc[0]
    assert row["status"] == "active" and row["notify_count"] == 1 and row["last_notified_at"] == pd.Timestamp(f.NOW)

    next_day = decide_notifications(_drop(-0.20), first.history, f.NOW + day)
    assert next_day.notify == [] and [a.key for a in next_day.suppressed] == ["Champions"]
    assert next_day.history.iloc[0]["last_notified_at"] == pd.Timestamp(f.NOW)
    assert next_day.history.iloc[0]["last_seen_at"] == pd.Timestamp(f.NOW + day)

    six_days = decide_notifications(_drop(-0.20), next_day.history, f.NOW + 6 * day)
    assert six_days.notify == []
    week = decide_notifications(_drop(-0.20), six_days.history, f.NOW + 7 * day)
    assert week.reasons == {("segment_frequency_drop", "Champions"): "reminder"}
    assert week.history.iloc[0]["notify_count"] == 2

    worse = decide_notifications(_drop(-0.40), week.history, f.NOW + 8 * day)
    assert worse.reasons == {("segment_frequency_drop", "Champions"): "changed"}

    quiet = decide_notifications([], worse.history, f.NOW + 9 * day)
    assert quiet.notify == [] and quiet.history.iloc[0]["status"] == "resolved"
    assert quiet.history.iloc[0]["resolved_at"] == pd.Timestamp(f.NOW + 9 * day)

    back = decide_notifications(_drop(-0.40), quiet.history, f.NOW + 10 * day)
    assert back.reasons == {("segment_frequency_drop", "Champions"): "new"}
    assert back.history.iloc[0]["status"] == "active" and pd.isna(back.history.iloc[0]["resolved_at"])


def test_renotify_period_is_configurable_and_history_survives_a_csv_roundtrip(tmp_path):
    first = decide_notifications(_drop(-0.20), empty_history(), f.NOW)
    first.history.to_csv(tmp_path / "history.csv", index=False)
    loaded = pd.read_csv(tmp_path / "history.csv")  # timestamps come back as text
    again = decide_notifications(_drop(-0.20), loaded, f.NOW + dt.timedelta(days=2), renotify_after_days=1)
    assert again.reasons == {("segment_frequency_drop", "Champions"): "reminder"}
    assert again.history.iloc[0]["first_seen_at"] == pd.Timestamp(f.NOW)
    still = decide_notifications(_drop(-0.20), loaded, f.NOW + dt.timedelta(days=2), renotify_after_days=7)
    assert still.notify == []
    assert empty_history().empty and list(empty_history().columns) == list(HISTORY_COLUMNS)


def test_digest_batches_give_rule_recipients_only_their_alerts():
    alerts = evaluate_rules(
        f.firing_inputs(),
        AlertSettings.model_validate({"data_source_health": {"recipients": ["data@example.com"]}}),
        f.NOW,
        FMT,
    )
    batches = dict(digest_batches(alerts, ["ops@example.com", "ceo@example.com"]))
    assert batches[("ops@example.com", "ceo@example.com")] == alerts
    assert [a.rule for a in batches[("data@example.com",)]] == ["data_source_health"]
