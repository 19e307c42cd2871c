"""Render the alert digest and the weekly stakeholder report (F25).

The orchestration layer fills one typed context per email (:class:`DigestContext`,
:class:`WeeklyReportContext`) from the warehouse; :func:`render_alert_digest` and
:func:`render_weekly_report` turn it into a :class:`RenderedEmail`: a subject, an HTML
body for mail clients (charts as ``cid:`` references to PNG parts), the same HTML with
the charts inlined as ``data:`` URIs for a browser, a plain-text part with the same key
content, and the PNGs. The HTML is a 640 px table layout with inlined CSS and no
external resources (no web fonts, no remote images, no scripts).

Templates live in ``reports/templates/``; HTML templates are autoescaped, so names from
the data (customer names, segment names, campaign names) can never inject markup.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import css_inline
import jinja2
import pandas as pd

from reports import charts
from reports.alerts import Alert, sort_alerts
from reports.charts import Chart, ChartStyle
from reports.formatting import Formatter, finite, is_missing
from reports.settings import RenderSettings, ReportKind

TEMPLATES_DIR = Path(__file__).parent / "templates"

#: KPI ids the weekly report knows: id -> (value kind, higher is better).
KPI_SPECS: dict[str, tuple[str, bool]] = {
    "customers": ("integer", True),
    "active_customers": ("integer", True),
    "churn_rate": ("percent", False),
    "repeat_purchase_rate": ("percent", True),
    "purchase_frequency": ("number", True),
    "revenue": ("currency", True),
    "historical_ltv": ("currency", True),
    "predicted_ltv": ("currency", True),
    "winback_conversion": ("percent", True),
    "customers_at_risk": ("integer", False),
}

#: Required columns of each weekly-report frame (extra columns are ignored).
REPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "kpis": ("kpi", "value", "previous_value"),
    "monthly_trends": ("month", "churn_rate", "active_customers"),
    "segment_frequency": ("segment", "month", "orders_per_customer"),
    "cohort_retention": ("cohort_month", "months_since_first", "retention_rate"),
    "rfm_segments": ("segment", "customers", "previous_customers"),
    "rfm_transitions": ("from_segment", "to_segment", "customers"),
    "churn_profiles": ("profile", "customers", "churn_rate", "lift", "lift_ci_low", "lift_ci_high"),
    "at_risk_customers": (
        "customer_id",
        "customer_name",
        "value",
        "churn_probability",
        "reasons",
        "recommended_action",
    ),
    "winback": (
        "campaign",
        "treated_customers",
        "treated_conversion",
        "control_customers",
        "control_conversion",
        "uplift",
        "uplift_ci_low",
        "uplift_ci_high",
    ),
    "campaign_impact": (
        "campaign",
        "exposed_customers",
        "exposed_before",
        "exposed_after",
        "control_before",
        "control_after",
    ),
}


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(REPORT_COLUMNS[name]))


@dataclass
class DigestContext:
    """Everything the alert digest shows.

    ``alerts`` are the alerts to send (usually ``NotificationPlan.notify``), already
    worded in the render locale by :func:`reports.alerts.evaluate_rules`; ``reasons`` is
    ``NotificationPlan.reasons`` (new / changed / reminder badges).
    """

    alerts: Sequence[Alert]
    generated_at: dt.datetime
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class WeeklyReportContext:
    """Everything the weekly stakeholder report shows; every frame may be empty ("no data yet").

    Frames and their columns (rates are fractions in [0, 1], money in the reporting currency,
    months as dates, ``Period`` or 'YYYY-MM'):

    - ``kpis``: kpi (an id of :data:`KPI_SPECS`), value, previous_value (same KPI one period earlier).
    - ``monthly_trends``: month, churn_rate, active_customers.
    - ``segment_frequency``: segment, month, orders_per_customer (same as the alert input).
    - ``cohort_retention``: cohort_month, months_since_first (0, 1, ...), retention_rate.
    - ``rfm_segments``: segment, customers, previous_customers (segment sizes and their movement).
    - ``rfm_transitions``: from_segment, to_segment, customers (moves since the previous period).
    - ``churn_profiles``: profile (description), customers, churn_rate, lift (vs baseline churn rate, a
      ratio), lift_ci_low, lift_ci_high.
    - ``at_risk_customers``: customer_id, customer_name, value (e.g. predicted CLV), churn_probability,
      reasons (text or comma-separated cause categories), recommended_action (text or action code).
    - ``winback``: campaign, treated_customers, treated_conversion, control_customers, control_conversion,
      uplift (treated minus control conversion, fraction points), uplift_ci_low, uplift_ci_high.
    - ``campaign_impact``: campaign, exposed_customers, exposed_before, exposed_after, control_before,
      control_after (monthly orders per customer before/after, exposed vs comparable non-exposed);
      the effect shown is the difference in differences.
    """

    period_start: dt.date
    period_end: dt.date
    generated_at: dt.datetime
    kpis: pd.DataFrame = field(default_factory=lambda: _empty("kpis"))
    monthly_trends: pd.DataFrame = field(default_factory=lambda: _empty("monthly_trends"))
    segment_frequency: pd.DataFrame = field(default_factory=lambda: _empty("segment_frequency"))
    cohort_retention: pd.DataFrame = field(default_factory=lambda: _empty("cohort_retention"))
    rfm_segments: pd.DataFrame = field(default_factory=lambda: _empty("rfm_segments"))
    rfm_transitions: pd.DataFrame = field(default_factory=lambda: _empty("rfm_transitions"))
    churn_profiles: pd.DataFrame = field(default_factory=lambda: _empty("churn_profiles"))
    at_risk_customers: pd.DataFrame = field(default_factory=lambda: _empty("at_risk_customers"))
    winback: pd.DataFrame = field(default_factory=lambda: _empty("winback"))
    campaign_impact: pd.DataFrame = field(default_factory=lambda: _empty("campaign_impact"))
    baseline_churn_rate: float | None = None
    active_alerts: Sequence[Alert] = ()


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered email, ready for :func:`reports.delivery.deliver`."""

    kind: ReportKind
    subject: str
    html_for_email: str
    html_standalone: str
    text: str
    images: dict[str, bytes]
    locale: str
    warnings: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------
# Jinja environment
# ------------------------------------------------------------------------------------
def make_environment() -> jinja2.Environment:
    """The templates' environment: HTML autoescaped, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # HTML templates and anything unknown are escaped; only the plain-text parts are not.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2", "htm", "xml"),
            disabled_extensions=("txt", "txt.j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


_ENV = make_environment()
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


def _render(
    kind: ReportKind,
    subject: str,
    variables: dict[str, Any],
    chart_list: Sequence[Chart],
    fmt: Formatter,
    warnings: Sequence[str],
) -> RenderedEmail:
    images = {chart.cid: chart.png for chart in chart_list}
    common = {"t": fmt.t, "fmt": fmt, "subject": subject, "charts": {chart.name: chart for chart in chart_list}}
    html = _ENV.get_template(f"{kind}.html.j2").render(**common, **variables)
    html = _INLINER.inline(html)
    text = _ENV.get_template(f"{kind}.txt.j2").render(**common, **variables)
    standalone = html
    for cid, png in images.items():
        standalone = standalone.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
    return RenderedEmail(
        kind=kind,
        subject=subject,
        html_for_email=html,
        html_standalone=standalone,
        text=text,
        images=images,
        locale=fmt.locale,
        warnings=tuple(warnings),
    )


def _formatter(settings: RenderSettings) -> Formatter:
    return Formatter(settings.locale, settings.currency, settings.display_timezone)


# ------------------------------------------------------------------------------------
# Alert digest
# ------------------------------------------------------------------------------------
def render_alert_digest(context: DigestContext, settings: RenderSettings | None = None) -> RenderedEmail:
    """The alert digest: one card per alert (what, how much, who, what to do)."""
    settings = settings or RenderSettings()
    fmt = _formatter(settings)
    alerts = sort_alerts(context.alerts)
    for alert in alerts:
        if alert.locale != fmt.locale:
            raise ValueError(
                f"alert {alert.rule}/{alert.key} was worded in {alert.locale}, the digest renders in {fmt.locale}: "
                "evaluate the rules with the same Formatter locale"
            )
    counts = {severity: sum(alert.severity == severity for alert in alerts) for severity in ("critical", "warning", "info")}
    if alerts:
        subject = fmt.t("digest.subject", count=len(alerts), critical=counts["critical"], shop=settings.shop_name)
    else:
        subject = fmt.t("digest.subject_none", shop=settings.shop_name)
    style, style_warning = ChartStyle.for_formatter(fmt, settings.chart_dpi)
    cards, chart_list = [], []
    for number, alert in enumerate(alerts, start=1):
        chart = _alert_chart(f"alert_{number}", alert, style)
        if chart is not None:
            chart_list.append(chart)
        cards.append(
            {
                "alert": alert,
                "reason": context.reasons.get((alert.rule, alert.key)),
                "customers": [_customer_row(customer, fmt) for customer in alert.who.customers],
                "chart": chart,
            }
        )
    variables = {
        "shop": settings.shop_name,
        "generated_at": fmt.datetime(context.generated_at),
        "cards": cards,
        "counts": counts,
    }
    warnings = [style_warning] if style_warning and chart_list else []
    return _render("alert_digest", subject, variables, chart_list, fmt, warnings)


def _alert_chart(name: str, alert: Alert, style: ChartStyle) -> Chart | None:
    """A small trend of the alert's metric, when the rule recorded one."""
    if len(alert.trend) < 2:
        return None
    periods = pd.PeriodIndex([period for period, _ in alert.trend], freq="M")
    series = pd.Series([value for _, value in alert.trend], index=periods)
    cfmt = style.fmt
    title = cfmt.t(f"charts.alert.{alert.rule}", key=cfmt.label("segments", alert.key))
    return charts.line_chart(name, title, {title: series}, style, alert.trend_kind, height_in=1.9)


def _customer_row(customer: Any, fmt: Formatter) -> dict[str, str]:
    return {
        "id": str(customer.customer_id),
        "name": customer.name or "",
        "value": fmt.currency_amount(customer.value),
        "risk": fmt.percent(customer.churn_probability, 0),
        "reasons": _labels("causes", customer.reasons, fmt),
        "action": fmt.label("actions", customer.recommended_action) if customer.recommended_action else fmt.na,
    }


def _labels(group: str, value: Any, fmt: Formatter) -> str:
    """Translate a comma-separated list of codes (cause categories, ...), keeping free text as is."""
    if is_missing(value) or value == "":
        return fmt.na
    parts = [part.strip() for part in str(value).split(",")]
    return fmt.t("common.list_separator").join(fmt.label(group, part) for part in parts if part)


# ------------------------------------------------------------------------------------
# Weekly report
# ------------------------------------------------------------------------------------
def _frame(context: WeeklyReportContext, name: str) -> pd.DataFrame:
    frame = getattr(context, name)
    if frame is None:
        return _empty(name)
    missing = [column for column in REPORT_COLUMNS[name] if column not in frame.columns]
    if missing:
        raise ValueError(f"WeeklyReportContext.{name}: missing column(s) {', '.join(missing)}")
    return frame


def _period(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.PeriodDtype):
        return values
    return pd.to_datetime(values.astype(str)).dt.to_period("M")


def _change(value: Any, previous: Any, kind: str, higher_is_better: bool, fmt: Formatter) -> dict[str, str]:
    if not finite(value) or not finite(previous):
        return {"text": fmt.t("report.kpi.no_previous"), "tone": "neutral", "arrow": ""}
    value, previous = float(value), float(previous)
    if kind == "percent":
        diff = value - previous
        text = fmt.points(diff)
    elif previous == 0:
        diff = value - previous
        text = fmt.t("report.kpi.new") if value else fmt.signed_percent(0)
    else:
        diff = value / previous - 1
        text = fmt.signed_percent(diff)
    if abs(diff) < 1e-9:
        return {"text": text, "tone": "neutral", "arrow": "\u2192"}
    good = (diff > 0) == higher_is_better
    return {"text": text, "tone": "good" if good else "bad", "arrow": "\u25b2" if diff > 0 else "\u25bc"}


def _format_kind(value: Any, kind: str, fmt: Formatter) -> str:
    if kind == "integer":
        return fmt.integer(value)
    if kind == "percent":
        return fmt.percent(value)
    if kind == "currency":
        return fmt.compact_currency(value)
    return fmt.number(value, 2)


def _kpi_cards(frame: pd.DataFrame, fmt: Formatter) -> list[dict[str, str]]:
    cards = []
    for row in frame.to_dict("records"):
        kpi = str(row["kpi"])
        if kpi not in KPI_SPECS:
            raise ValueError(f"unknown KPI {kpi!r}; known: {', '.join(KPI_SPECS)}")
        kind, higher_is_better = KPI_SPECS[kpi]
        cards.append(
            {
                "label": fmt.t(f"kpis.{kpi}"),
                "value": _format_kind(row["value"], kind, fmt),
                "previous": _format_kind(row["previous_value"], kind, fmt),
                "change": _change(row["value"], row["previous_value"], kind, higher_is_better, fmt),
            }
        )
    return cards


def _frequency_rows(frame: pd.DataFrame, fmt: Formatter, limit: int) -> tuple[str | None, list[dict[str, str]]]:
    if frame.empty:
        return None, []
    data = frame.assign(period=_period(frame["month"]))
    latest = data["period"].max()
    rows = []
    for segment, group in data.groupby("segment", sort=False):
        series = group.set_index("period")["orders_per_customer"]
        current, previous = series.get(latest), series.get(latest - 1)
        if not finite(current):
            continue
        change = float(current) / float(previous) - 1 if finite(previous) and float(previous) > 0 else None
        rows.append(
            {
                "segment": fmt.label("segments", segment),
                "current": fmt.number(current, 2),
                "previous": fmt.number(previous, 2),
                "change": fmt.signed_percent(change) if change is not None else fmt.na,
                "tone": "neutral" if change is None or abs(change) < 1e-9 else ("good" if change > 0 else "bad"),
                "_sort": -float(current),
            }
        )
    rows.sort(key=lambda row: row["_sort"])
    return fmt.month(latest), rows[:limit]


def _segment_series(frame: pd.DataFrame, fmt: Formatter, limit: int) -> dict[str, pd.Series]:
    if frame.empty:
        return {}
    data = frame.assign(period=_period(frame["month"]))
    latest = data["period"].max()
    # The largest-frequency segments of the latest month, so the chart stays readable.
    order = (
        data[data["period"] == latest].sort_values("orders_per_customer", ascending=False)["segment"].tolist()
        + data["segment"].drop_duplicates().tolist()
    )
    chosen = list(dict.fromkeys(order))[:limit]
    return {
        fmt.label("segments", segment): data[data["segment"] == segment].set_index("period")["orders_per_customer"].astype(float)
        for segment in chosen
    }


def _rfm_rows(frame: pd.DataFrame, fmt: Formatter) -> list[dict[str, str]]:
    rows = []
    for row in frame.sort_values("customers", ascending=False).to_dict("records"):
        current, previous = row["customers"], row["previous_customers"]
        delta = float(current) - float(previous) if finite(current) and finite(previous) else None
        share = float(current) / float(frame["customers"].sum()) if float(frame["customers"].sum()) else None
        rows.append(
            {
                "segment": fmt.label("segments", row["segment"]),
                "customers": fmt.integer(current),
                "share": fmt.percent(share) if share is not None else fmt.na,
                "previous": fmt.integer(previous),
                "delta": (("+" if delta > 0 else "") + fmt.integer(delta)) if delta is not None else fmt.na,
                "delta_pct": fmt.signed_percent(delta / float(previous)) if delta is not None and float(previous) else fmt.na,
            }
        )
    return rows


def _transition_rows(frame: pd.DataFrame, fmt: Formatter, limit: int) -> list[dict[str, str]]:
    moves = frame[frame["from_segment"] != frame["to_segment"]].sort_values("customers", ascending=False).head(limit)
    return [
        {
            "from": fmt.label("segments", row["from_segment"]),
            "to": fmt.label("segments", row["to_segment"]),
            "customers": fmt.integer(row["customers"]),
        }
        for row in moves.to_dict("records")
    ]


def _ci(low: Any, high: Any, formatter: Any) -> str:
    if not finite(low) or not finite(high):
        return ""
    return f"{formatter(low)} \u2013 {formatter(high)}"


def _profile_rows(frame: pd.DataFrame, fmt: Formatter, limit: int) -> list[dict[str, str]]:
    data = frame.sort_values(["lift", "customers"], ascending=False).head(limit)
    return [
        {
            "profile": str(row["profile"]),
            "customers": fmt.integer(row["customers"]),
            "churn_rate": fmt.percent(row["churn_rate"]),
            "lift": fmt.ratio(row["lift"]),
            "ci": _ci(row["lift_ci_low"], row["lift_ci_high"], lambda v: fmt.number(v, 1)),
        }
        for row in data.to_dict("records")
    ]


def _at_risk_rows(frame: pd.DataFrame, fmt: Formatter, limit: int) -> list[dict[str, str]]:
    data = frame.sort_values(["value", "churn_probability"], ascending=False).head(limit)
    return [
        {
            "id": str(row["customer_id"]),
            "name": "" if is_missing(row["customer_name"]) else str(row["customer_name"]),
            "value": fmt.currency_amount(row["value"]),
            "risk": fmt.percent(row["churn_probability"], 0),
            "reasons": _labels("causes", row["reasons"], fmt),
            "action": fmt.label("actions", row["recommended_action"]),
        }
        for row in data.to_dict("records")
    ]


def _winback_rows(frame: pd.DataFrame, fmt: Formatter) -> list[dict[str, str]]:
    rows = []
    for row in frame.to_dict("records"):
        low, high = row["uplift_ci_low"], row["uplift_ci_high"]
        significant = finite(low) and finite(high) and (float(low) > 0 or float(high) < 0)
        rows.append(
            {
                "campaign": str(row["campaign"]),
                "treated": fmt.t(
                    "report.winback.rate_of",
                    rate=fmt.percent(row["treated_conversion"]),
                    n=fmt.integer(row["treated_customers"]),
                ),
                "control": fmt.t(
                    "report.winback.rate_of",
                    rate=fmt.percent(row["control_conversion"]),
                    n=fmt.integer(row["control_customers"]),
                ),
                "uplift": fmt.points(row["uplift"]),
                "ci": _ci(low, high, fmt.points),
                "verdict": fmt.t("report.winback.significant" if significant else "report.winback.not_significant"),
                "tone": ("good" if float(row["uplift"]) > 0 else "bad") if significant and finite(row["uplift"]) else "neutral",
            }
        )
    return rows


def _campaign_rows(frame: pd.DataFrame, fmt: Formatter) -> list[dict[str, str]]:
    rows = []
    for row in frame.to_dict("records"):
        values = [row[c] for c in ("exposed_before", "exposed_after", "control_before", "control_after")]
        effect = (values[1] - values[0]) - (values[3] - values[2]) if all(finite(v) for v in values) else None
        rows.append(
            {
                "campaign": str(row["campaign"]),
                "customers": fmt.integer(row["exposed_customers"]),
                "exposed": f"{fmt.number(values[0], 2)} \u2192 {fmt.number(values[1], 2)}",
                "control": f"{fmt.number(values[2], 2)} \u2192 {fmt.number(values[3], 2)}",
                "effect": fmt.number(effect, 2) if effect is None else ("+" if effect > 0 else "") + fmt.number(effect, 2),
                "tone": "neutral" if effect is None or abs(effect) < 1e-9 else ("good" if effect > 0 else "bad"),
            }
        )
    return rows


def _cohort_rows(frame: pd.DataFrame, fmt: Formatter, limit: int = 6) -> tuple[list[int], list[dict[str, Any]]]:
    """Latest cohorts' retention at a few checkpoints, for the plain-text part."""
    if frame.empty:
        return [], []
    checkpoints = [m for m in (1, 3, 6, 12) if m in set(frame["months_since_first"].astype(int))]
    data = frame.assign(cohort=_period(frame["cohort_month"]))
    matrix = data.pivot_table(index="cohort", columns="months_since_first", values="retention_rate", aggfunc="mean")
    rows = []
    for cohort in sorted(matrix.index)[-limit:]:
        rows.append(
            {
                "cohort": fmt.month(cohort),
                "values": [
                    fmt.percent(matrix.loc[cohort].get(m)) if finite(matrix.loc[cohort].get(m)) else "\u2013" for m in checkpoints
                ],
            }
        )
    return checkpoints, rows


def render_weekly_report(context: WeeklyReportContext, settings: RenderSettings | None = None) -> RenderedEmail:
    """The weekly stakeholder report: KPIs, trends, cohorts, segments, churn drivers, at-risk customers,
    win-back and campaign results."""
    settings = settings or RenderSettings()
    fmt = _formatter(settings)
    style, style_warning = ChartStyle.for_formatter(fmt, settings.chart_dpi)
    cfmt = style.fmt  # chart labels: the report locale, or English when no CJK font exists
    limit = settings.max_table_rows
    frames = {name: _frame(context, name) for name in REPORT_COLUMNS}
    kpi_cards = _kpi_cards(frames["kpis"], fmt)  # validates KPI ids before any drawing

    trends = frames["monthly_trends"]
    trend_periods = _period(trends["month"]) if not trends.empty else None
    chart_list = [
        charts.line_chart(
            "churn_rate",
            cfmt.t("charts.churn_rate"),
            {}
            if trends.empty
            else {cfmt.t("kpis.churn_rate"): pd.Series(trends["churn_rate"].to_numpy(dtype=float), index=trend_periods)},
            style,
            "percent",
        ),
        charts.line_chart(
            "active_customers",
            cfmt.t("charts.active_customers"),
            {}
            if trends.empty
            else {
                cfmt.t("kpis.active_customers"): pd.Series(trends["active_customers"].to_numpy(dtype=float), index=trend_periods)
            },
            style,
            "integer",
        ),
        charts.line_chart(
            "segment_frequency",
            cfmt.t("charts.segment_frequency"),
            _segment_series(frames["segment_frequency"], cfmt, settings.max_chart_segments),
            style,
            "number",
        ),
        charts.cohort_heatmap("cohort_retention", cfmt.t("charts.cohort_retention"), frames["cohort_retention"], style),
        charts.segment_bars("rfm_segments", cfmt.t("charts.rfm_segments"), frames["rfm_segments"], style),
    ]
    warnings = [style_warning] if style_warning else []

    frequency_month, frequency_rows = _frequency_rows(frames["segment_frequency"], fmt, limit)
    checkpoints, cohort_rows = _cohort_rows(frames["cohort_retention"], fmt)
    period = fmt.date_range(context.period_start, context.period_end)
    subject = fmt.t("report.subject", shop=settings.shop_name, period=period)
    latest_trend = None
    if not trends.empty:
        last = trends.assign(period=trend_periods).sort_values("period").iloc[-1]
        latest_trend = {
            "month": fmt.month(last["period"]),
            "churn_rate": fmt.percent(last["churn_rate"]),
            "active_customers": fmt.integer(last["active_customers"]),
        }
    variables = {
        "shop": settings.shop_name,
        "period": period,
        "generated_at": fmt.datetime(context.generated_at),
        "kpis": kpi_cards,
        "latest_trend": latest_trend,
        "frequency_month": frequency_month,
        "frequency_rows": frequency_rows,
        "cohort_checkpoints": checkpoints,
        "cohort_rows": cohort_rows,
        "rfm_rows": _rfm_rows(frames["rfm_segments"], fmt),
        "transition_rows": _transition_rows(frames["rfm_transitions"], fmt, limit),
        "baseline_churn_rate": fmt.percent(context.baseline_churn_rate) if finite(context.baseline_churn_rate) else None,
        "profile_rows": _profile_rows(frames["churn_profiles"], fmt, limit),
        "at_risk_rows": _at_risk_rows(frames["at_risk_customers"], fmt, limit),
        "at_risk_total": len(frames["at_risk_customers"]),
        "winback_rows": _winback_rows(frames["winback"], fmt),
        "campaign_rows": _campaign_rows(frames["campaign_impact"], fmt),
        "active_alerts": sort_alerts(context.active_alerts),
    }
    return _render("weekly_report", subject, variables, chart_list, fmt, warnings)


@dataclass
class RunFailureContext:
    """A failed pipeline run, for the data team."""

    job_name: str
    run_id: str
    failed_steps: list[tuple[str, str]]  # (step key, error message)
    run_url: str
    failed_at: dt.datetime


def render_run_failure(context: RunFailureContext, settings: RenderSettings | None = None) -> RenderedEmail:
    """The failure notice: which run, which step, the error, and a link to the run."""
    settings = settings or RenderSettings()
    fmt = _formatter(settings)
    subject = fmt.t("failure.subject", shop=settings.shop_name, job=context.job_name)
    variables = {
        "shop": settings.shop_name,
        "generated_at": fmt.datetime(context.failed_at),
        "failure": context,
    }
    return _render("run_failure", subject, variables, [], fmt, [])
