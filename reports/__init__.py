"""Alerts, email rendering and delivery for the retention pipeline (F24, F25).

No Dagster imports: orchestration calls these plain functions.

- :mod:`reports.alerts`: alert rules on small DataFrames, alert history / re-notification.
- :mod:`reports.render`: typed contexts -> :class:`RenderedEmail` (HTML + text + PNG charts).
- :mod:`reports.delivery`: MIME building, outbox folder, SMTP sending and retries.
- :mod:`reports.settings`: pydantic settings with documented defaults.

Names are imported lazily, so loading ``reports.settings`` (e.g. from the project's settings
file) does not pull in matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "reports.alerts": (
        "Alert",
        "AlertAudience",
        "AlertCustomer",
        "AlertInputs",
        "NotificationPlan",
        "decide_notifications",
        "digest_batches",
        "empty_history",
        "evaluate_rules",
    ),
    "reports.delivery": ("DeliveryResult", "build_message", "deliver", "flush_outbox"),
    "reports.formatting": ("Formatter",),
    "reports.render": (
        "DigestContext",
        "RenderedEmail",
        "WeeklyReportContext",
        "render_alert_digest",
        "render_weekly_report",
    ),
    "reports.settings": ("AlertSettings", "DeliverySettings", "RenderSettings", "ReportsSettings", "SmtpSettings"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'reports' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
