"""Alert rules (F24): pure functions from small pandas DataFrames to firing alerts.

Each rule takes one input frame with the columns documented below (the orchestration
layer maps warehouse tables onto them), its settings model from
:mod:`reports.settings`, and a :class:`~reports.formatting.Formatter` for the language
of the alert text. Rules return a list of :class:`Alert`; an empty list means quiet.
:func:`evaluate_rules` runs every enabled rule whose input was provided, and
:func:`decide_notifications` turns firing alerts plus the alert history into what to
send now.

Input schemas (extra columns are ignored; months may be dates, ``Period`` or 'YYYY-MM'):

``segment_frequency`` (rule ``segment_frequency_drop``)
    ``segment`` str, ``month``, ``orders_per_customer`` float (orders in the month per
    active customer of the segment); optional ``active_customers`` int. The latest month
    in the frame is evaluated, so pass complete months only.
``churn_rates`` (rule ``churn_rate_spike``)
    ``month``, ``churn_rate`` float in [0, 1]; optional ``segment`` (one series per
    segment, otherwise the whole base is one series keyed ``all``).
``at_risk_current`` / ``at_risk_previous`` (rule ``high_value_newly_at_risk``)
    The high-value, high-risk customer list of this run and of the previous run:
    ``customer_id``, ``value`` float (e.g. predicted CLV, reporting currency),
    ``churn_probability`` float; optional ``customer_name``, ``reasons``,
    ``recommended_action``. The previous list needs ``customer_id`` only.
``cohorts`` (rule ``cohort_second_order_low``)
    ``cohort_month``, ``cohort_size`` int, ``second_order_rate`` float (share of the cohort
    with a second order within the expected window), ``is_complete`` bool (the window has
    fully elapsed for the whole cohort).
``model_runs`` (rule ``model_quality``)
    ``model_name``, ``model_version``, ``evaluated_at``, ``gate_passed`` bool; optional
    ``gate_failures`` str (what failed), ``score_psi`` float (drift of the score
    distribution against the previous run). The latest run per model is evaluated.
``source_health`` (rule ``data_source_health``)
    ``source``, ``last_loaded_at`` (UTC timestamp; empty = never loaded); optional
    ``failed_checks`` int and ``failed_check_names`` str for the latest load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reports.formatting import Formatter, finite, is_missing
from reports.settings import (
    AlertSettings,
    ChurnRateSpikeRule,
    CohortSecondOrderLowRule,
    DataSourceHealthRule,
    HighValueNewlyAtRiskRule,
    ModelQualityRule,
    RuleConfig,
    SegmentFrequencyDropRule,
    Severity,
)

SEVERITY_ORDER: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}

SEGMENT_FREQUENCY_COLUMNS = ("segment", "month", "orders_per_customer")
CHURN_RATE_COLUMNS = ("month", "churn_rate")
AT_RISK_COLUMNS = ("customer_id", "value", "churn_probability")
COHORT_COLUMNS = ("cohort_month", "cohort_size", "second_order_rate", "is_complete")
MODEL_RUN_COLUMNS = ("model_name", "model_version", "evaluated_at", "gate_passed")
SOURCE_HEALTH_COLUMNS = ("source", "last_loaded_at")

HISTORY_COLUMNS = (
    "rule",
    "key",
    "fingerprint",
    "severity",
    "status",
    "first_seen_at",
    "last_seen_at",
    "last_notified_at",
    "resolved_at",
    "notify_count",
)


@dataclass(frozen=True)
class AlertCustomer:
    """One customer named in an alert."""

    customer_id: str
    name: str | None = None
    value: float | None = None
    churn_probability: float | None = None
    reasons: str | None = None
    recommended_action: str | None = None


@dataclass(frozen=True)
class AlertAudience:
    """Who an alert is about: a segment, a customer list, or a system (source, model)."""

    description: str
    segment: str | None = None
    customer_count: int | None = None
    customers: tuple[AlertCustomer, ...] = ()
    audience_path: str | None = None


@dataclass(frozen=True, eq=False)
class Alert:
    """One firing alert: what happened, how much, who is concerned and what to do.

    ``magnitude`` keeps the raw numbers; ``facts`` the same numbers labelled and formatted
    in the alert's locale for emails. ``fingerprint`` hashes rule, key and a rounded
    magnitude bucket, so a materially different reading counts as a change.
    """

    rule: str
    key: str
    severity: Severity
    title: str
    what: str
    magnitude: Mapping[str, float | int | None]
    facts: tuple[tuple[str, str], ...]
    who: AlertAudience
    action: str
    fingerprint: str
    recipients: tuple[str, ...] = ()
    period: str | None = None
    locale: str = "en"
    #: Recent history of the watched metric as ('YYYY-MM', value) pairs, for a small chart.
    trend: tuple[tuple[str, float], ...] = ()
    trend_kind: str = "number"


@dataclass(frozen=True)
class AlertInputs:
    """The frames the rules read; a rule whose input is None is not evaluated."""

    segment_frequency: pd.DataFrame | None = None
    churn_rates: pd.DataFrame | None = None
    at_risk_current: pd.DataFrame | None = None
    at_risk_previous: pd.DataFrame | None = None
    cohorts: pd.DataFrame | None = None
    model_runs: pd.DataFrame | None = None
    source_health: pd.DataFrame | None = None
    #: Optional audience files to point at: segment name (or 'high_value_at_risk') -> path.
    audience_paths: Mapping[str, str] = field(default_factory=dict)


def fingerprint(rule: str, key: str, bucket: Iterable[Any]) -> str:
    """Stable short hash of rule, key and the rounded magnitude bucket."""
    text = "|".join([rule, key, *(str(part) for part in bucket)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}; got {', '.join(map(str, frame.columns))}")


def _months(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.astype("period[M]")
    return pd.to_datetime(values.astype(str) if values.dtype == object else values).dt.to_period("M")


def _bucket(value: float, step: float) -> int:
    return int(round(value / step))


# ------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------
def segment_frequency_drop(
    frame: pd.DataFrame,
    config: SegmentFrequencyDropRule,
    fmt: Formatter,
    audience_paths: Mapping[str, str] | None = None,
) -> list[Alert]:
    """Core segments whose monthly purchase frequency fell more than the threshold MoM.

    Seasonality: when the same two months exist one year earlier, the alert fires only if
    this year's change is worse than last year's same-month change by more than the
    seasonal margin; without last-year data a drop beyond the threshold is enough.
    """
    _require(frame, SEGMENT_FREQUENCY_COLUMNS, "segment_frequency")
    if frame.empty:
        return []
    data = frame.assign(period=_months(frame["month"]))
    latest = data["period"].max()
    segments = config.core_segments if config.core_segments is not None else sorted(data["segment"].unique())
    alerts: list[Alert] = []
    for segment in segments:
        rows = data[data["segment"] == segment].set_index("period")
        series = rows["orders_per_customer"]

        def at(period: pd.Period, series: pd.Series = series) -> float | None:
            value = series.get(period)
            return float(value) if finite(value) else None

        current, previous = at(latest), at(latest - 1)
        if current is None or previous is None or previous <= 0:
            continue
        if "active_customers" in rows.columns:
            active = rows["active_customers"].get(latest)
            if finite(active) and active < config.min_active_customers:
                continue
        change = round(current / previous - 1, 6)
        if change >= -config.drop_threshold:
            continue
        ly_current, ly_previous = at(latest - 12), at(latest - 13)
        last_year_change = None
        if ly_current is not None and ly_previous is not None and ly_previous > 0:
            last_year_change = round(ly_current / ly_previous - 1, 6)
            if change - last_year_change >= -config.effective_seasonal_margin:
                continue  # a dip last year's same month also had: seasonal, not news
        label = fmt.label("segments", segment)
        facts = [
            (fmt.t("alerts.facts.month"), fmt.month(latest)),
            (fmt.t("alerts.facts.frequency_now"), fmt.number(current, 2)),
            (fmt.t("alerts.facts.frequency_before"), fmt.number(previous, 2)),
            (fmt.t("alerts.facts.change_mom"), fmt.signed_percent(change)),
            (fmt.t("alerts.facts.threshold"), fmt.signed_percent(-config.drop_threshold)),
            (
                fmt.t("alerts.facts.change_last_year"),
                fmt.signed_percent(last_year_change) if last_year_change is not None else fmt.t("alerts.facts.no_last_year"),
            ),
        ]
        active_now = rows["active_customers"].get(latest) if "active_customers" in rows.columns else None
        who = AlertAudience(
            description=fmt.t("alerts.segment_frequency_drop.who", segment=label)
            if not finite(active_now)
            else fmt.t("alerts.segment_frequency_drop.who_count", segment=label, count=fmt.integer(active_now)),
            segment=str(segment),
            customer_count=int(active_now) if finite(active_now) else None,
            audience_path=(audience_paths or {}).get(str(segment)),
        )
        what_key = "what" if last_year_change is None else "what_seasonal"
        alerts.append(
            _alert(
                "segment_frequency_drop",
                str(segment),
                config,
                fmt,
                title=fmt.t("alerts.segment_frequency_drop.title", segment=label, change=fmt.signed_percent(change)),
                what=fmt.t(
                    f"alerts.segment_frequency_drop.{what_key}",
                    segment=label,
                    month=fmt.month(latest),
                    current=fmt.number(current, 2),
                    previous=fmt.number(previous, 2),
                    change=fmt.signed_percent(change),
                    last_year=fmt.signed_percent(last_year_change) if last_year_change is not None else "",
                ),
                action=fmt.t("alerts.segment_frequency_drop.action", segment=label),
                magnitude={
                    "orders_per_customer": current,
                    "previous_orders_per_customer": previous,
                    "mom_change": change,
                    "last_year_mom_change": last_year_change,
                },
                facts=facts,
                who=who,
                bucket=[_bucket(change, 0.05)],
                period=str(latest),
                trend=series[series.index >= latest - 13].astype(float),
            )
        )
    return alerts


def churn_rate_spike(frame: pd.DataFrame, config: ChurnRateSpikeRule, fmt: Formatter) -> list[Alert]:
    """The latest month's churn rate above mean + k*std and mean*(1+min increase) of the trailing months."""
    _require(frame, CHURN_RATE_COLUMNS, "churn_rates")
    if frame.empty:
        return []
    data = frame.assign(period=_months(frame["month"]))
    if "segment" not in data.columns:
        data = data.assign(segment="all")
    latest = data["period"].max()
    alerts: list[Alert] = []
    for segment, rows in data.groupby("segment", sort=True):
        series = rows.set_index("period")["churn_rate"].astype(float).sort_index()
        if latest not in series.index or not finite(series[latest]):
            continue
        current = float(series[latest])
        history = series[(series.index < latest) & (series.index >= latest - config.trailing_months)].dropna()
        if len(history) < config.min_history_months:
            continue
        mean, std = float(history.mean()), float(history.std(ddof=1))
        threshold = max(mean + config.k_std * std, mean * (1 + config.min_relative_increase))
        if current <= threshold:
            continue
        key = str(segment)
        scope = fmt.t("alerts.churn_rate_spike.scope_all") if key == "all" else fmt.label("segments", key)
        z = (current - mean) / std if std > 0 else None
        facts = [
            (fmt.t("alerts.facts.month"), fmt.month(latest)),
            (fmt.t("alerts.facts.churn_rate_now"), fmt.percent(current)),
            (fmt.t("alerts.facts.trailing_mean", months=len(history)), fmt.percent(mean)),
            (fmt.t("alerts.facts.change_vs_mean"), fmt.points(current - mean)),
            (fmt.t("alerts.facts.threshold"), fmt.percent(threshold)),
        ]
        alerts.append(
            _alert(
                "churn_rate_spike",
                key,
                config,
                fmt,
                title=fmt.t("alerts.churn_rate_spike.title", scope=scope, rate=fmt.percent(current)),
                what=fmt.t(
                    "alerts.churn_rate_spike.what",
                    scope=scope,
                    month=fmt.month(latest),
                    rate=fmt.percent(current),
                    mean=fmt.percent(mean),
                    months=len(history),
                    diff=fmt.points(current - mean),
                ),
                action=fmt.t("alerts.churn_rate_spike.action"),
                magnitude={
                    "churn_rate": current,
                    "trailing_mean": mean,
                    "trailing_std": std,
                    "threshold": threshold,
                    "z_score": z,
                },
                facts=facts,
                who=AlertAudience(description=scope, segment=None if key == "all" else key),
                bucket=[_bucket(current, 0.01)],
                period=str(latest),
                trend=series[series.index >= latest - config.trailing_months],
                trend_kind="percent",
            )
        )
    return alerts


def high_value_newly_at_risk(
    current: pd.DataFrame,
    previous: pd.DataFrame | None,
    config: HighValueNewlyAtRiskRule,
    fmt: Formatter,
    audience_path: str | None = None,
) -> list[Alert]:
    """High-value customers on this run's at-risk list that were not on the previous run's.

    The fingerprint hashes the set of new customer ids, so a different set of newly
    at-risk customers is always a change worth sending.
    """
    _require(current, AT_RISK_COLUMNS, "at_risk_current")
    data = current
    if config.min_value is not None:
        data = data[data["value"] >= config.min_value]
    if config.min_churn_probability is not None:
        data = data[data["churn_probability"] >= config.min_churn_probability]
    known: set[str] = set()
    if previous is not None:
        _require(previous, ("customer_id",), "at_risk_previous")
        known = set(previous["customer_id"].astype(str))
    new = data[~data["customer_id"].astype(str).isin(known)].drop_duplicates("customer_id")
    if len(new) < config.min_count:
        return []
    new = new.sort_values(["value", "churn_probability"], ascending=False)
    count, total_value = len(new), float(new["value"].sum())

    def text(row: pd.Series, column: str) -> str | None:
        value = row.get(column)
        return None if is_missing(value) else str(value)

    customers = tuple(
        AlertCustomer(
            customer_id=str(row["customer_id"]),
            name=text(row, "customer_name"),
            value=float(row["value"]),
            churn_probability=float(row["churn_probability"]),
            reasons=text(row, "reasons"),
            recommended_action=text(row, "recommended_action"),
        )
        for _, row in new.head(config.top_customers).iterrows()
    )
    facts = [
        (fmt.t("alerts.facts.new_at_risk"), fmt.integer(count)),
        (fmt.t("alerts.facts.value_at_risk"), fmt.currency_amount(total_value)),
        (fmt.t("alerts.facts.mean_churn_probability"), fmt.percent(new["churn_probability"].mean())),
        (fmt.t("alerts.facts.on_list_now"), fmt.integer(len(data))),
    ]
    ids_digest = hashlib.sha256("\n".join(sorted(new["customer_id"].astype(str))).encode()).hexdigest()[:12]
    return [
        _alert(
            "high_value_newly_at_risk",
            "high_value_at_risk",
            config,
            fmt,
            title=fmt.t("alerts.high_value_newly_at_risk.title", count=fmt.integer(count)),
            what=fmt.t(
                "alerts.high_value_newly_at_risk.what",
                count=fmt.integer(count),
                value=fmt.currency_amount(total_value),
            ),
            action=fmt.t("alerts.high_value_newly_at_risk.action"),
            magnitude={"new_customers": count, "value_at_risk": total_value, "customers_on_list": len(data)},
            facts=facts,
            who=AlertAudience(
                description=fmt.t("alerts.high_value_newly_at_risk.who", count=fmt.integer(count), shown=len(customers)),
                customer_count=count,
                customers=customers,
                audience_path=audience_path,
            ),
            bucket=[count, ids_digest],
        )
    ]


def cohort_second_order_low(frame: pd.DataFrame, config: CohortSecondOrderLowRule, fmt: Formatter) -> list[Alert]:
    """The newest complete cohort's second-order rate below the trailing cohorts' mean minus a margin."""
    _require(frame, COHORT_COLUMNS, "cohorts")
    data = frame.assign(period=_months(frame["cohort_month"]))
    data = data[data["is_complete"].astype(bool) & (data["cohort_size"] >= config.min_cohort_size)]
    data = data.dropna(subset=["second_order_rate"]).sort_values("period")
    if data.empty:
        return []
    newest = data.iloc[-1]
    history = data.iloc[:-1].tail(config.trailing_cohorts)
    if len(history) < config.min_history_cohorts:
        return []
    rate = float(newest["second_order_rate"])
    expected = float(history["second_order_rate"].mean())
    if rate >= expected - config.margin:
        return []
    cohort = newest["period"]
    facts = [
        (fmt.t("alerts.facts.cohort"), fmt.month(cohort)),
        (fmt.t("alerts.facts.cohort_size"), fmt.integer(newest["cohort_size"])),
        (fmt.t("alerts.facts.second_order_rate"), fmt.percent(rate)),
        (fmt.t("alerts.facts.expected_rate", cohorts=len(history)), fmt.percent(expected)),
        (fmt.t("alerts.facts.gap"), fmt.points(rate - expected)),
    ]
    return [
        _alert(
            "cohort_second_order_low",
            str(cohort),
            config,
            fmt,
            title=fmt.t("alerts.cohort_second_order_low.title", cohort=fmt.month(cohort), rate=fmt.percent(rate)),
            what=fmt.t(
                "alerts.cohort_second_order_low.what",
                cohort=fmt.month(cohort),
                size=fmt.integer(newest["cohort_size"]),
                rate=fmt.percent(rate),
                expected=fmt.percent(expected),
                cohorts=len(history),
                gap=fmt.points(rate - expected),
            ),
            action=fmt.t("alerts.cohort_second_order_low.action"),
            magnitude={
                "second_order_rate": rate,
                "expected_rate": expected,
                "gap": rate - expected,
                "cohort_size": int(newest["cohort_size"]),
            },
            facts=facts,
            who=AlertAudience(
                description=fmt.t(
                    "alerts.cohort_second_order_low.who",
                    cohort=fmt.month(cohort),
                    size=fmt.integer(newest["cohort_size"]),
                ),
                customer_count=int(newest["cohort_size"]),
            ),
            bucket=[_bucket(rate, 0.01)],
            period=str(cohort),
            trend=pd.concat([history, data.iloc[[-1]]]).set_index("period")["second_order_rate"].astype(float),
            trend_kind="percent",
        )
    ]


def model_quality(frame: pd.DataFrame, config: ModelQualityRule, fmt: Formatter) -> list[Alert]:
    """The latest run of each model failed its quality gate, or its score PSI exceeds the threshold."""
    _require(frame, MODEL_RUN_COLUMNS, "model_runs")
    if frame.empty:
        return []
    data = frame.assign(_at=pd.to_datetime(frame["evaluated_at"], utc=True)).sort_values("_at")
    alerts: list[Alert] = []
    for model, rows in data.groupby("model_name", sort=True):
        run = rows.iloc[-1]
        version = str(run["model_version"])
        if not bool(run["gate_passed"]):
            failures = run.get("gate_failures")
            failures = fmt.na if is_missing(failures) else str(failures)
            alerts.append(
                _alert(
                    "model_quality",
                    f"{model}:gate",
                    config,
                    fmt,
                    title=fmt.t("alerts.model_quality.gate_title", model=model, version=version),
                    what=fmt.t("alerts.model_quality.gate_what", model=model, version=version, failures=failures),
                    action=fmt.t("alerts.model_quality.gate_action"),
                    magnitude={"gate_passed": 0},
                    facts=(
                        (fmt.t("alerts.facts.model_version"), version),
                        (fmt.t("alerts.facts.evaluated_at"), fmt.datetime(run["_at"])),
                        (fmt.t("alerts.facts.gate_failures"), failures),
                    ),
                    who=AlertAudience(description=fmt.t("alerts.model_quality.who", model=model)),
                    bucket=[version, failures],
                )
            )
        psi = run.get("score_psi")
        if finite(psi) and float(psi) > config.psi_threshold:
            alerts.append(
                _alert(
                    "model_quality",
                    f"{model}:drift",
                    config,
                    fmt,
                    severity=config.drift_severity,
                    title=fmt.t("alerts.model_quality.drift_title", model=model, psi=fmt.number(psi, 2)),
                    what=fmt.t(
                        "alerts.model_quality.drift_what",
                        model=model,
                        version=version,
                        psi=fmt.number(psi, 2),
                        threshold=fmt.number(config.psi_threshold, 2),
                    ),
                    action=fmt.t("alerts.model_quality.drift_action"),
                    magnitude={"score_psi": float(psi), "psi_threshold": config.psi_threshold},
                    facts=(
                        (fmt.t("alerts.facts.model_version"), version),
                        (fmt.t("alerts.facts.psi"), fmt.number(psi, 2)),
                        (fmt.t("alerts.facts.threshold"), fmt.number(config.psi_threshold, 2)),
                    ),
                    who=AlertAudience(description=fmt.t("alerts.model_quality.who", model=model)),
                    bucket=[_bucket(float(psi), 0.1)],
                )
            )
    return alerts


def data_source_health(frame: pd.DataFrame, config: DataSourceHealthRule, fmt: Formatter, now: dt.datetime) -> list[Alert]:
    """Sources loaded longer ago than their limit (or never), or whose latest load failed checks.

    The fingerprint holds the kind of problem (stale / failed check names), not the age,
    so a source that stays stale is reminded every ``renotify_after_days`` rather than on
    every run.
    """
    _require(frame, SOURCE_HEALTH_COLUMNS, "source_health")
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    alerts: list[Alert] = []
    for _, row in frame.sort_values("source").iterrows():
        source = str(row["source"])
        limit = float(config.max_age_hours_by_source.get(source, config.max_age_hours))
        loaded = row["last_loaded_at"]
        age_hours: float | None = None
        if not is_missing(loaded):
            loaded_ts = pd.Timestamp(loaded)
            loaded_ts = loaded_ts.tz_localize("UTC") if loaded_ts.tzinfo is None else loaded_ts.tz_convert("UTC")
            age_hours = (now_ts - loaded_ts).total_seconds() / 3600
        stale = age_hours is None or age_hours > limit
        failed = row.get("failed_checks")
        failed = int(failed) if finite(failed) else 0
        names = row.get("failed_check_names")
        names = None if is_missing(names) else str(names)
        if not stale and failed == 0:
            continue
        problems = []
        if age_hours is None:
            problems.append(fmt.t("alerts.data_source_health.never_loaded"))
        elif stale:
            problems.append(fmt.t("alerts.data_source_health.stale", age=fmt.hours(age_hours), limit=fmt.hours(limit)))
        if failed:
            problems.append(fmt.t("alerts.data_source_health.checks_failed", count=fmt.integer(failed), names=names or fmt.na))
        facts = [
            (
                fmt.t("alerts.facts.last_loaded_at"),
                fmt.datetime(loaded) if age_hours is not None else fmt.t("alerts.data_source_health.never"),
            ),
            (fmt.t("alerts.facts.max_age"), fmt.hours(limit)),
            (fmt.t("alerts.facts.failed_checks"), fmt.integer(failed)),
        ]
        alerts.append(
            _alert(
                "data_source_health",
                source,
                config,
                fmt,
                title=fmt.t("alerts.data_source_health.title", source=source),
                what=fmt.t("alerts.data_source_health.what", source=source, problems="; ".join(problems)),
                action=fmt.t(
                    "alerts.data_source_health.action_stale" if stale else "alerts.data_source_health.action_checks",
                    source=source,
                ),
                magnitude={"age_hours": age_hours, "max_age_hours": limit, "failed_checks": failed},
                facts=facts,
                who=AlertAudience(description=fmt.t("alerts.data_source_health.who", source=source)),
                bucket=["stale" if stale else "fresh", names or failed],
            )
        )
    return alerts


def _alert(
    rule: str,
    key: str,
    config: RuleConfig,
    fmt: Formatter,
    *,
    title: str,
    what: str,
    action: str,
    magnitude: dict[str, Any],
    facts: Sequence[tuple[str, str]],
    who: AlertAudience,
    bucket: Sequence[Any],
    period: str | None = None,
    severity: Severity | None = None,
    trend: pd.Series | None = None,
    trend_kind: str = "number",
) -> Alert:
    return Alert(
        rule=rule,
        key=key,
        severity=severity or config.severity,
        title=title,
        what=what,
        magnitude=magnitude,
        facts=tuple(facts),
        who=who,
        action=action,
        fingerprint=fingerprint(rule, key, bucket),
        recipients=tuple(config.recipients),
        period=period,
        locale=fmt.locale,
        trend=_trend(trend),
        trend_kind=trend_kind,
    )


def _trend(series: pd.Series | None) -> tuple[tuple[str, float], ...]:
    if series is None:
        return ()
    clean = series.dropna().sort_index()
    return tuple((str(period), float(value)) for period, value in clean.items())


def evaluate_rules(
    inputs: AlertInputs,
    settings: AlertSettings | None = None,
    now: dt.datetime | None = None,
    fmt: Formatter | None = None,
) -> list[Alert]:
    """Run every enabled rule whose input is present; most severe first."""
    settings = settings or AlertSettings()
    fmt = fmt or Formatter()
    now = now or dt.datetime.now(dt.UTC)
    alerts: list[Alert] = []
    if settings.segment_frequency_drop.enabled and inputs.segment_frequency is not None:
        alerts += segment_frequency_drop(inputs.segment_frequency, settings.segment_frequency_drop, fmt, inputs.audience_paths)
    if settings.churn_rate_spike.enabled and inputs.churn_rates is not None:
        alerts += churn_rate_spike(inputs.churn_rates, settings.churn_rate_spike, fmt)
    if settings.high_value_newly_at_risk.enabled and inputs.at_risk_current is not None:
        alerts += high_value_newly_at_risk(
            inputs.at_risk_current,
            inputs.at_risk_previous,
            settings.high_value_newly_at_risk,
            fmt,
            inputs.audience_paths.get("high_value_at_risk"),
        )
    if settings.cohort_second_order_low.enabled and inputs.cohorts is not None:
        alerts += cohort_second_order_low(inputs.cohorts, settings.cohort_second_order_low, fmt)
    if settings.model_quality.enabled and inputs.model_runs is not None:
        alerts += model_quality(inputs.model_runs, settings.model_quality, fmt)
    if settings.data_source_health.enabled and inputs.source_health is not None:
        alerts += data_source_health(inputs.source_health, settings.data_source_health, fmt, now)
    return sort_alerts(alerts)


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda alert: (SEVERITY_ORDER[alert.severity], alert.rule, alert.key))


# ------------------------------------------------------------------------------------
# Notification history
# ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotificationPlan:
    """What to send now. ``reasons`` maps (rule, key) to 'new', 'changed' or 'reminder'."""

    notify: list[Alert]
    suppressed: list[Alert]
    reasons: dict[tuple[str, str], str]
    history: pd.DataFrame


def empty_history() -> pd.DataFrame:
    """An alert history with no rows and the documented columns."""
    return pd.DataFrame({column: pd.Series(dtype=_HISTORY_DTYPES[column]) for column in HISTORY_COLUMNS})


_HISTORY_DTYPES = {
    "rule": "object",
    "key": "object",
    "fingerprint": "object",
    "severity": "object",
    "status": "object",
    "first_seen_at": "datetime64[ns, UTC]",
    "last_seen_at": "datetime64[ns, UTC]",
    "last_notified_at": "datetime64[ns, UTC]",
    "resolved_at": "datetime64[ns, UTC]",
    "notify_count": "int64",
}


def decide_notifications(
    firing: Sequence[Alert],
    history: pd.DataFrame | None,
    now: dt.datetime,
    renotify_after_days: float = 7,
) -> NotificationPlan:
    """Choose which firing alerts to send and return the updated history (one row per rule+key).

    Sent: alerts never seen or resolved since (``new``), alerts whose fingerprint changed
    (``changed``), and unchanged alerts last notified at least ``renotify_after_days`` ago
    (``reminder``). Others are suppressed. History rows whose alert no longer fires are
    marked ``resolved``. Persist ``plan.history`` once the digest has been handed to
    :func:`reports.delivery.deliver` (the outbox keeps it even if SMTP is down).
    """
    now_ts = pd.Timestamp(now)
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    if history is not None and not history.empty:
        _require(history, ("rule", "key", "fingerprint", "last_notified_at", "status"), "alert history")
        for record in history.to_dict("records"):
            record = {column: record.get(column) for column in HISTORY_COLUMNS}
            rows[(str(record["rule"]), str(record["key"]))] = record
    notify: list[Alert] = []
    suppressed: list[Alert] = []
    reasons: dict[tuple[str, str], str] = {}
    firing_keys: set[tuple[str, str]] = set()
    for alert in firing:
        ident = (alert.rule, alert.key)
        firing_keys.add(ident)
        previous = rows.get(ident)
        if previous is None or previous.get("status") == "resolved":
            reason = "new"
        elif previous.get("fingerprint") != alert.fingerprint:
            reason = "changed"
        else:
            last = previous.get("last_notified_at")
            due = is_missing(last) or now_ts - _utc(last) >= pd.Timedelta(days=renotify_after_days)
            reason = "reminder" if due else None
        record = dict(previous or {})
        if reason == "new":
            record = {"first_seen_at": now_ts, "notify_count": 0}
        record.update(
            rule=alert.rule,
            key=alert.key,
            fingerprint=alert.fingerprint,
            severity=alert.severity,
            status="active",
            last_seen_at=now_ts,
            resolved_at=pd.NaT,
        )
        if reason is not None:
            notify.append(alert)
            reasons[ident] = reason
            record["last_notified_at"] = now_ts
            record["notify_count"] = int(record.get("notify_count") or 0) + 1
        else:
            suppressed.append(alert)
        rows[ident] = record
    for ident, record in rows.items():
        if ident not in firing_keys and record.get("status") != "resolved":
            record.update(status="resolved", resolved_at=now_ts)
    updated = pd.DataFrame([{column: row.get(column) for column in HISTORY_COLUMNS} for row in rows.values()])
    updated = updated if not updated.empty else empty_history()
    for column, dtype in _HISTORY_DTYPES.items():
        if dtype.startswith("datetime"):
            updated[column] = pd.to_datetime(updated[column], utc=True)
        elif dtype == "int64":
            updated[column] = updated[column].fillna(0).astype("int64")
    updated = updated.sort_values(["rule", "key"], ignore_index=True)
    return NotificationPlan(notify=sort_alerts(notify), suppressed=suppressed, reasons=reasons, history=updated)


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def digest_batches(alerts: Sequence[Alert], digest_recipients: Sequence[str]) -> list[tuple[tuple[str, ...], list[Alert]]]:
    """Group alerts by who receives them: everyone on the digest list gets every alert,
    a rule's extra recipients only that rule's alerts. One batch per distinct alert set."""
    per_person: dict[str, list[Alert]] = {}
    for alert in alerts:
        for address in dict.fromkeys([*digest_recipients, *alert.recipients]):
            per_person.setdefault(address, []).append(alert)
    batches: dict[tuple[int, ...], tuple[list[str], list[Alert]]] = {}
    for address, mine in per_person.items():
        ident = tuple(id(alert) for alert in mine)
        batches.setdefault(ident, ([], mine))[0].append(address)
    return [(tuple(addresses), mine) for addresses, mine in batches.values()]
