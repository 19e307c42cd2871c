"""The two emails a run sends: the alert digest (nightly, only when something fires) and the weekly report.

Alert history lives in `reports.alert_history`; it is saved only after the digest is in
the outbox, so a crash never marks an alert as notified that nobody received.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from core.warehouse import table_exists
from reports.alerts import Alert, decide_notifications, empty_history, evaluate_rules
from reports.delivery import DeliveryResult, deliver, flush_outbox
from reports.formatting import Formatter
from reports.render import DigestContext, render_alert_digest, render_weekly_report
from reports.settings import DeliverySettings, ReportsSettings
from reports.warehouse import alert_inputs, weekly_context


@dataclass
class DigestOutcome:
    firing: list[Alert]
    notified: list[Alert]
    delivery: DeliveryResult | None
    retried: list[DeliveryResult] = field(default_factory=list)


def _formatter(settings: ReportsSettings, currency: str) -> Formatter:
    return Formatter(settings.render.locale, currency, settings.render.display_timezone)


def _load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not table_exists(con, "reports", "alert_history"):
        return empty_history()
    return con.execute("select * from reports.alert_history").df()


def _save_history(con: duckdb.DuckDBPyConnection, history: pd.DataFrame) -> None:
    con.execute("create schema if not exists reports")
    con.execute("create or replace table reports.alert_history as select * from history")


def audience_paths(export_dir: Path | None) -> dict[str, str]:
    """Audience files alerts can point at: the CS task list for high-value customers at risk."""
    if export_dir is None:
        return {}
    paths = {}
    cs_tasks = export_dir / "at_risk_high_value" / "cs_tasks.csv"
    if cs_tasks.exists():
        paths["high_value_at_risk"] = str(cs_tasks)
    return paths


def send_alert_digest(
    con: duckdb.DuckDBPyConnection,
    settings: ReportsSettings,
    delivery: DeliverySettings,
    *,
    as_of: dt.date,
    currency: str,
    export_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> DigestOutcome:
    """Evaluate the rules, decide what is news, send one digest (none when nothing is new)."""
    now = now or dt.datetime.now(dt.UTC)
    retried = flush_outbox(delivery, now)
    fmt = _formatter(settings, currency)
    firing = evaluate_rules(alert_inputs(con, as_of, audience_paths(export_dir)), settings.alerts, now, fmt)
    plan = decide_notifications(firing, _load_history(con), now, settings.alerts.renotify_after_days)
    result = None
    if plan.notify or settings.alerts.send_empty_digest:
        message = render_alert_digest(DigestContext(plan.notify, now, plan.reasons), settings.render)
        result = deliver(message, None, delivery, now)
    _save_history(con, plan.history)
    return DigestOutcome(firing, plan.notify, result, retried)


def send_weekly_report(
    con: duckdb.DuckDBPyConnection,
    settings: ReportsSettings,
    delivery: DeliverySettings,
    *,
    as_of: dt.date,
    currency: str,
    now: dt.datetime | None = None,
) -> DeliveryResult:
    """Render the stakeholder report from the marts and deliver it (outbox first, then SMTP)."""
    now = now or dt.datetime.now(dt.UTC)
    flush_outbox(delivery, now)
    context = weekly_context(con, as_of)
    fmt = _formatter(settings, currency)
    context.active_alerts = evaluate_rules(alert_inputs(con, as_of), settings.alerts, now, fmt)
    return deliver(render_weekly_report(context, settings.render), None, delivery, now)
