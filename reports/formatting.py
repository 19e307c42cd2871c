"""Locale-aware labels and number/date formatting for alerts, emails and charts.

Labels come from the YAML catalogues in ``reports/translations/`` (one per shipped
locale, flat dotted keys, ``str.format`` placeholders). Numbers, currencies,
percentages and dates are formatted with Babel, so ``en`` gives ``$1,234.50`` and
``12.5%`` while ``zh_CN`` gives ``US$1,234.50`` (``¥1,234.50`` for CNY) and
``2026年3月``.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import yaml
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

SUPPORTED_LOCALES = ("en", "zh_CN")
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def load_catalogue(locale: str) -> dict[str, str]:
    """The flat ``key -> template`` catalogue of one shipped locale."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; shipped: {', '.join(SUPPORTED_LOCALES)}")
    with (TRANSLATIONS_DIR / f"{locale}.yaml").open(encoding="utf-8") as handle:
        return _flatten(yaml.safe_load(handle))


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' NA/NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class Formatter:
    """Translate labels and format values for one locale and reporting currency."""

    def __init__(self, locale: str = "en", currency: str = "USD", timezone: str = "UTC") -> None:
        self.locale = locale
        self.currency = currency.upper()
        self.tz = ZoneInfo(timezone)
        self._catalogue = load_catalogue(locale)
        self._babel = Locale.parse(locale)  # parsed once: Babel re-parses locale strings on every call

    # -- labels -----------------------------------------------------------------------
    def t(self, key: str, /, **params: Any) -> str:
        """The label ``key`` with ``{placeholders}`` filled; a missing key is an error."""
        try:
            template = self._catalogue[key]
        except KeyError:
            raise KeyError(f"no translation for {key!r} in locale {self.locale}") from None
        return template.format(**params) if params else template

    def has(self, key: str) -> bool:
        return key in self._catalogue

    def label(self, group: str, value: Any) -> str:
        """Translate a data value (segment name, cause, action code) if known, else show it as is."""
        if is_missing(value):
            return self.na
        key = f"{group}.{value}"
        return self._catalogue.get(key, str(value))

    @property
    def na(self) -> str:
        return self._catalogue["common.na"]

    # -- numbers ----------------------------------------------------------------------
    def integer(self, value: Any) -> str:
        if is_missing(value):
            return self.na
        return babel_numbers.format_decimal(round(float(value)), format="#,##0", locale=self._babel)

    def number(self, value: Any, digits: int = 1) -> str:
        if is_missing(value):
            return self.na
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return babel_numbers.format_decimal(float(value), format=pattern, locale=self._babel)

    def percent(self, value: Any, digits: int = 1) -> str:
        """A fraction as a percentage: 0.125 -> 12.5%."""
        if is_missing(value):
            return self.na
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return babel_numbers.format_percent(float(value), format=pattern, locale=self._babel)

    def signed_percent(self, value: Any, digits: int = 1) -> str:
        """A relative change with its sign: -0.182 -> -18.2%, 0.05 -> +5.0%."""
        if is_missing(value):
            return self.na
        body = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return babel_numbers.format_percent(float(value), format=f"+{body};-{body}", locale=self._babel)

    def points(self, value: Any, digits: int = 1) -> str:
        """A difference of two rates in percentage points: 0.023 -> +2.3 pp."""
        if is_missing(value):
            return self.na
        body = "#,##0" + ("." + "0" * digits if digits else "")
        number = babel_numbers.format_decimal(float(value) * 100, format=f"+{body};-{body}", locale=self._babel)
        return self.t("units.points", value=number)

    def ratio(self, value: Any, digits: int = 1) -> str:
        """A lift or multiplier: 2.34 -> 2.3x."""
        if is_missing(value):
            return self.na
        return self.t("units.times", value=self.number(value, digits))

    def currency_amount(self, value: Any, currency: str | None = None, digits: int | None = None) -> str:
        """Money in the reporting currency (or ``currency``): $1,234.50 / US$1,234.50."""
        if is_missing(value):
            return self.na
        code = (currency or self.currency).upper()
        if digits is None:
            return babel_numbers.format_currency(float(value), code, locale=self._babel)
        pattern = "¤#,##0" + ("." + "0" * digits if digits else "")
        return babel_numbers.format_currency(float(value), code, format=pattern, locale=self._babel, currency_digits=False)

    def compact_currency(self, value: Any) -> str:
        """Whole currency units for KPI cards when the amount is large."""
        if is_missing(value):
            return self.na
        return self.currency_amount(value, digits=0 if abs(float(value)) >= 10_000 else None)

    def hours(self, value: Any) -> str:
        if is_missing(value):
            return self.na
        value = float(value)
        if value >= 48:
            return self.t("units.days", value=self.number(value / 24, 1))
        return self.t("units.hours", value=self.number(value, 1))

    # -- dates ------------------------------------------------------------------------
    def date(self, value: Any) -> str:
        if is_missing(value):
            return self.na
        return babel_dates.format_date(pd.Timestamp(value).date(), "medium", locale=self._babel)

    def month(self, value: Any) -> str:
        """A month (Period, date or 'YYYY-MM'): Mar 2026 / 2026年3月."""
        if is_missing(value):
            return self.na
        return babel_dates.format_skeleton("yMMM", _month_start(value), locale=self._babel)

    def month_short(self, value: Any) -> str:
        """Axis label for a month: 'Mar' / '3月'."""
        if is_missing(value):
            return self.na
        return babel_dates.format_skeleton("MMM", _month_start(value), locale=self._babel)

    def year(self, value: Any) -> str:
        """The year of a date or month: '2026' / '2026年'."""
        if is_missing(value):
            return self.na
        return babel_dates.format_skeleton("y", _month_start(value), locale=self._babel)

    def datetime(self, value: Any) -> str:
        if is_missing(value):
            return self.na
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        local = stamp.tz_convert(self.tz).to_pydatetime()
        text = babel_dates.format_datetime(local, "medium", tzinfo=self.tz, locale=self._babel)
        return f"{text} {self.tz.key}" if self.tz.key != "UTC" else f"{text} UTC"

    def date_range(self, start: Any, end: Any) -> str:
        return self.t("common.date_range", start=self.date(start), end=self.date(end))


def _month_start(value: Any) -> dt.date:
    if isinstance(value, pd.Period):
        return value.start_time.date()
    stamp = pd.Timestamp(value)
    return dt.date(stamp.year, stamp.month, 1)


def finite(value: Any) -> bool:
    """A real, finite number (not None/NaN/inf)."""
    if is_missing(value):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
