"""Tunables of the alerts, rendering and delivery layer, as pydantic models.

Every field has a default that works for a small seller out of the box: alerts on with
the thresholds of the product spec (F24), English emails in USD, and delivery to the
``outbox/`` folder only (no SMTP until a host is configured). The project's global
settings embed :class:`ReportsSettings` as one section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["info", "warning", "critical"]
LocaleName = Literal["en", "zh_CN"]
ReportKind = Literal["alert_digest", "weekly_report", "run_failure"]

#: The RFM segments treated as "core" by the frequency-drop rule unless configured.
DEFAULT_CORE_SEGMENTS = ("Champions", "Loyal", "Potential Loyalist", "Can't Lose Them")


class _Model(BaseModel):
    # A typo in a settings file must fail loudly rather than silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


class RuleConfig(_Model):
    """Fields every alert rule shares."""

    enabled: bool = True
    severity: Severity = "warning"
    recipients: list[str] = Field(
        default_factory=list,
        description="Extra addresses for this rule's alerts, on top of the digest list.",
    )


class SegmentFrequencyDropRule(RuleConfig):
    """A core segment's monthly purchase frequency fell month over month.

    Fires when the latest month's change is a drop larger than ``drop_threshold`` and,
    where the same two months exist a year earlier, the drop is also worse than last
    year's same-month change by more than ``seasonal_margin`` (fraction points; defaults
    to ``drop_threshold``). So a -20% January after a -18% January last year is seasonal
    and stays quiet, while a -20% January after a flat one fires.
    """

    drop_threshold: float = Field(0.15, gt=0, lt=1)
    seasonal_margin: float | None = Field(None, ge=0, lt=1)
    core_segments: list[str] | None = Field(
        default_factory=lambda: list(DEFAULT_CORE_SEGMENTS),
        description="Segments watched; None watches every segment in the input.",
    )
    min_active_customers: int = Field(30, ge=0, description="Ignore segments smaller than this (needs active_customers).")

    @property
    def effective_seasonal_margin(self) -> float:
        return self.drop_threshold if self.seasonal_margin is None else self.seasonal_margin


class ChurnRateSpikeRule(RuleConfig):
    """The latest monthly churn rate is unusually high against its trailing months.

    Fires when latest > mean + ``k_std`` x std of the previous ``trailing_months`` AND
    latest > mean x (1 + ``min_relative_increase``): the second condition keeps a very
    flat history (tiny std) from turning a small wobble into an alert.
    """

    severity: Severity = "critical"
    trailing_months: int = Field(6, ge=2)
    min_history_months: int = Field(3, ge=2)
    k_std: float = Field(2.0, ge=0)
    min_relative_increase: float = Field(0.20, ge=0)


class HighValueNewlyAtRiskRule(RuleConfig):
    """High-value customers that are high risk now and were not on the previous run's list."""

    severity: Severity = "critical"
    min_value: float | None = Field(None, description="Optional extra filter on the list's value column (reporting currency).")
    min_churn_probability: float | None = Field(None, ge=0, le=1)
    min_count: int = Field(1, ge=1)
    top_customers: int = Field(10, ge=1)


class CohortSecondOrderLowRule(RuleConfig):
    """The newest complete cohort converts to a second order below its expected level.

    Expected level = mean of the previous ``trailing_cohorts`` complete cohorts; fires when
    the newest complete cohort's rate < expected - ``margin`` (fraction points).
    """

    trailing_cohorts: int = Field(6, ge=1)
    min_history_cohorts: int = Field(3, ge=1)
    margin: float = Field(0.03, ge=0, lt=1)
    min_cohort_size: int = Field(30, ge=0)


class ModelQualityRule(RuleConfig):
    """The churn model failed its quality gate, or its score distribution drifted."""

    severity: Severity = "critical"
    drift_severity: Severity = "warning"
    psi_threshold: float = Field(0.2, gt=0)


class DataSourceHealthRule(RuleConfig):
    """A source has not loaded for too long, or its latest load failed quality checks."""

    max_age_hours: float = Field(36.0, gt=0)
    max_age_hours_by_source: dict[str, float] = Field(
        default_factory=dict, description="Per-source overrides, e.g. {'walmart': 72}."
    )


class AlertSettings(_Model):
    send_empty_digest: bool = Field(False, description="Send a digest saying 'no alerts' when nothing fired.")
    segment_frequency_drop: SegmentFrequencyDropRule = Field(default_factory=SegmentFrequencyDropRule)
    churn_rate_spike: ChurnRateSpikeRule = Field(default_factory=ChurnRateSpikeRule)
    high_value_newly_at_risk: HighValueNewlyAtRiskRule = Field(default_factory=HighValueNewlyAtRiskRule)
    cohort_second_order_low: CohortSecondOrderLowRule = Field(default_factory=CohortSecondOrderLowRule)
    model_quality: ModelQualityRule = Field(default_factory=ModelQualityRule)
    data_source_health: DataSourceHealthRule = Field(default_factory=DataSourceHealthRule)
    renotify_after_days: float = Field(7, ge=0, description="An unchanged alert is sent again after this many days.")


class RenderSettings(_Model):
    locale: LocaleName = "en"
    currency: str = Field("USD", min_length=3, max_length=3, description="Reporting currency (ISO 4217).")
    display_timezone: str = "UTC"
    shop_name: str = "My shop"
    chart_dpi: int = Field(100, ge=50, le=300, description="Charts are 6 in wide: 100 dpi = 600 px.")
    max_table_rows: int = Field(10, ge=1)
    max_chart_segments: int = Field(6, ge=1)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class SmtpSettings(_Model):
    """An SMTP relay. Credentials are read from the named environment variables only."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str = "RETENTION_SMTP_USERNAME"
    password_env: str = "RETENTION_SMTP_PASSWORD"
    timeout_seconds: float = Field(30.0, gt=0)
    ca_file: Path | None = Field(None, description="Extra CA bundle, e.g. for an internal relay.")
    allow_insecure_auth: bool = Field(False, description="Allow sending credentials without TLS (security='none').")


class DeliverySettings(_Model):
    """Where messages go. Without ``smtp`` every message stays in the outbox (the default)."""

    outbox_dir: Path = Path("outbox")
    smtp: SmtpSettings | None = None
    from_address: str = "Retention reports <reports@localhost>"
    reply_to: str | None = None
    recipients: dict[ReportKind, list[str]] = Field(
        default_factory=lambda: {"alert_digest": [], "weekly_report": [], "run_failure": []},
        description="Default recipients per report kind.",
    )

    @model_validator(mode="after")
    def _all_kinds(self) -> DeliverySettings:
        for kind in ("alert_digest", "weekly_report", "run_failure"):
            self.recipients.setdefault(kind, [])
        return self


class ReportsSettings(_Model):
    """The whole ``reports`` section of the project's settings."""

    alerts: AlertSettings = Field(default_factory=AlertSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
