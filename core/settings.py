"""One settings file for the whole pipeline, validated on load.

`settings.yaml` at the project root is the default; `RETENTION_SETTINGS` points elsewhere.
`DUCKDB_PATH` (environment) overrides `warehouse.duckdb_path` so that tests and ad-hoc
runs can use another warehouse without editing the file. Secrets never live here: the
file names the environment variables that hold them.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from activation.config import ActivationConfig
from reports.settings import DeliverySettings, ReportsSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "settings.yaml"

SOURCES = (
    "shopify",
    "amazon",
    "ebay",
    "walmart",
    "meta_ads",
    "google_ads",
    "email",
    "web",
    "support",
    "shipments",
    "returns",
    "catalog",
    "fx",
    "generic",
)
API_SOURCES = ("shopify", "amazon", "ebay", "meta_ads")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class WarehouseSettings(StrictModel):
    duckdb_path: Path = Path("data/warehouse.duckdb")
    memory_limit: str = Field("6GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    threads: int = Field(2, ge=1, le=256)
    temp_directory: Path = Path("data/tmp")


class PathSettings(StrictModel):
    landing_dir: Path = Path("data/landing")
    demo_dir: Path = Path("data/demo")
    exports_dir: Path = Path("data/exports")
    artifacts_dir: Path = Path("data/artifacts")
    parquet_dir: Path = Path("data/parquet")


class SourceSettings(StrictModel):
    enabled: bool = True
    mode: Literal["demo", "files", "api"] = "demo"


class DemoSettings(StrictModel):
    customers: int = Field(5000, ge=100, le=20_000_000)
    seed: int = 42
    as_of: dt.date = dt.date(2026, 11, 22)
    years: int = Field(3, ge=1, le=10)


class GenericImportSettings(StrictModel):
    """Column mapping for any shop's order export (CSV or Parquet), see README."""

    file_pattern: str = "*"
    delimiter: str = ","  # "whitespace" for files aligned with runs of spaces
    has_header: bool = True
    columns: dict[str, str] = Field(
        default_factory=lambda: {
            "customer_id": "customer_id",
            "ordered_at": "ordered_at",
            "amount": "amount",
        }
    )
    timestamp_format: str | None = None  # strptime format, e.g. "%Y%m%d"; None = ISO 8601
    default_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    default_country: str | None = Field(None, pattern=r"^[A-Z]{2}$")

    @field_validator("columns")
    @classmethod
    def _required_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        allowed = {"customer_id", "ordered_at", "amount", "order_id", "currency", "country", "sku", "email", "quantity"}
        unknown = sorted(set(columns) - allowed)
        if unknown:
            raise ValueError(f"unknown target column(s) {unknown}; allowed: {sorted(allowed)}")
        missing = sorted({"customer_id", "ordered_at", "amount"} - set(columns))
        if missing:
            raise ValueError(f"required mapping(s) missing: {missing}")
        return columns


class ChurnSettings(StrictModel):
    """When a customer counts as churned (F13); no SQL needed to change it."""

    preset_days: Literal[60, 90, 180] = 90  # global inactivity threshold presets
    threshold_days: int | None = Field(None, ge=7, le=1095)  # overrides preset_days when set
    category_days: dict[Literal["consumable", "durable"], int] = Field(
        default_factory=lambda: {"consumable": 90, "durable": 365}
    )
    personal_interval_k: float = Field(2.0, gt=1.0, le=10.0)  # churned after k x own typical interval
    wake_up_days: int = Field(90, ge=7, le=730)

    @property
    def global_days(self) -> int:
        return self.threshold_days or self.preset_days


class ModelSettings(StrictModel):
    """Churn model training and its quality gate (F18, F21)."""

    horizon_days: int = Field(90, ge=14, le=365)  # label: no order in the H days after the snapshot
    snapshot_count: int = Field(6, ge=2, le=36)  # past snapshots for training and backtest
    snapshot_step_days: int = Field(45, ge=7, le=180)
    auc_floor: float = Field(0.70, ge=0.5, le=1.0)
    max_training_rows: int = Field(400_000, ge=1_000)
    retrain_every_days: int = Field(7, ge=0)  # nightly runs reuse a younger model in charge; 0: train every run
    active_within_days: int = Field(365, ge=30, le=1095)  # the backtest is also reported on customers with an order in these days


class AnalysisSettings(StrictModel):
    min_profile_customers: int = Field(30, ge=5)  # minimum support of a churn profile (F16)


class ScheduleSettings(StrictModel):
    timezone: str = "UTC"
    nightly_cron: str = "0 3 * * *"
    weekly_cron: str = "0 7 * * 1"
    landing_sensor_seconds: int = Field(60, ge=10)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as UTC, Asia/Shanghai, Europe/Berlin") from None
        return value

    @field_validator("nightly_cron", "weekly_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("expected a 5-field cron expression such as '0 3 * * *'")
        return value


class Settings(StrictModel):
    project_root: Path = PROJECT_ROOT
    preset: Literal["fast_moving_consumables", "durable_goods", "marketplace_only"] | None = None
    as_of_date: dt.date | None = None  # None: the latest data
    reporting_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    warehouse: WarehouseSettings = WarehouseSettings()
    paths: PathSettings = PathSettings()
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    demo: DemoSettings = DemoSettings()
    generic_import: GenericImportSettings = GenericImportSettings()
    churn: ChurnSettings = ChurnSettings()
    model: ModelSettings = ModelSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    schedules: ScheduleSettings = ScheduleSettings()
    api: dict[str, Any] = Field(default_factory=dict)  # ingest.api.ApiSettings fields (no secrets)
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    activation: ActivationConfig = Field(default_factory=ActivationConfig)
    ui_url: str = "http://127.0.0.1:3000"  # links to runs in failure emails

    @field_validator("api")
    @classmethod
    def _api_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        from dataclasses import fields

        from ingest.api.settings import ApiSettings

        known = {f.name for f in fields(ApiSettings)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown api setting(s) {unknown}; known: {sorted(known)}")
        secrets = sorted(k for k, v in value.items() if not k.endswith("_env") and any(w in k for w in ("token", "secret", "password")))
        if secrets:
            raise ValueError(f"secrets do not belong in the settings file: {secrets}; set the environment variables named by *_env")
        return value

    def delivery(self) -> DeliverySettings:
        """Delivery settings with the outbox resolved against the project root."""
        delivery = self.reports.delivery
        return delivery.model_copy(update={"outbox_dir": self.path(delivery.outbox_dir)})

    def api_settings(self):
        from ingest.api.settings import ApiSettings

        values = {k: tuple(v) if isinstance(v, list) else v for k, v in self.api.items()}
        return ApiSettings(**values)

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, sources: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        unknown = sorted(set(sources) - set(SOURCES))
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; known: {list(SOURCES)}")
        for name, source in sources.items():
            if source.mode == "api" and name not in API_SOURCES:
                raise ValueError(f"source {name!r} has no api mode; api sources: {list(API_SOURCES)}")
        return sources

    @model_validator(mode="after")
    def _fill_sources(self) -> Settings:
        for name in SOURCES:
            if name not in self.sources:
                # the generic import has no demo data: it is off unless configured
                self.sources[name] = SourceSettings(enabled=name != "generic", mode="files" if name == "generic" else "demo")
        return self

    def path(self, relative: Path) -> Path:
        """Resolve a configured path against the project root."""
        return relative if relative.is_absolute() else self.project_root / relative

    @property
    def models_dir(self) -> Path:
        """Where the versioned churn model artifacts live."""
        return self.path(self.paths.artifacts_dir) / "models"

    @property
    def duckdb_path(self) -> Path:
        override = os.environ.get("DUCKDB_PATH")
        return Path(override) if override else self.path(self.warehouse.duckdb_path)

    def dbt_vars(self) -> dict:
        """The settings the dbt models read, passed as `--vars`."""
        return {
            "as_of_date": self.as_of_date.isoformat() if self.as_of_date else None,
            "reporting_currency": self.reporting_currency,
            "churn_preset": self.churn.preset_days,
            "churn_threshold_days": self.churn.threshold_days,
            "category_churn_days": dict(self.churn.category_days),
            "personal_interval_k": self.churn.personal_interval_k,
            "wake_up_days": self.churn.wake_up_days,
            "ml_snapshot_count": self.model.snapshot_count,
            "ml_snapshot_step_days": self.model.snapshot_step_days,
            "ml_label_horizon_days": self.model.horizon_days,
            "min_profile_customers": self.analysis.min_profile_customers,
        }

    def landing_dir(self, source: str) -> Path:
        """Where a source's files are read from: the demo folder in demo mode."""
        mode = self.sources[source].mode
        root = self.path(self.paths.demo_dir) / "landing" if mode == "demo" else self.path(self.paths.landing_dir)
        return root / source


class SettingsError(ValueError):
    """Raised with one line per problem, each naming the key and what is expected."""

    def __init__(self, source: Path | str, problems: list[str]):
        self.problems = problems
        super().__init__(f"invalid settings in {source}:\n" + "\n".join(f"  - {p}" for p in problems))


def _format_errors(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against settings.yaml's documented keys)"
        got = item.get("input")
        got_text = "" if isinstance(got, dict) or item["type"] == "missing" else f" (got {got!r})"
        problems.append(f"{key}: {message}{got_text}")
    return problems


def _drop_none(tree: dict) -> dict:
    return {k: _drop_none(v) if isinstance(v, dict) else v for k, v in tree.items() if v is not None}


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate the settings file; raise SettingsError listing every problem."""
    path = Path(path or os.environ.get("RETENTION_SETTINGS") or DEFAULT_SETTINGS_FILE)
    if not path.exists():
        raise SettingsError(path, [f"file not found: {path}"])
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise SettingsError(path, ["top level must be a mapping of keys to values"])
    raw.setdefault("project_root", str(path.resolve().parent))
    from core.presets import PRESETS, merge

    # empty values in the file mean "not set": the default (or the preset) applies
    raw = _drop_none(raw)
    if raw.get("preset") in PRESETS:
        raw = merge(PRESETS[raw["preset"]], raw)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(path, _format_errors(exc)) from None
