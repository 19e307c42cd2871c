"""Locale formatting and the translation catalogues."""

from __future__ import annotations

import datetime as dt
import string

import pandas as pd
import pytest

from reports.formatting import SUPPORTED_LOCALES, Formatter, load_catalogue


@pytest.mark.parametrize(
    ("locale", "currency", "expected"),
    [
        (
            "en",
            "USD",
            {
                "money": "$1,234.50",
                "pct": "12.5%",
                "change": "-18.2%",
                "pp": "+2.3 pp",
                "month": "Mar 2026",
                "date": "Jan 5, 2026",
            },
        ),
        (
            "zh_CN",
            "USD",
            {
                "money": "US$1,234.50",
                "pct": "12.5%",
                "change": "-18.2%",
                "pp": "+2.3 个百分点",
                "month": "2026年3月",
                "date": "2026年1月5日",
            },
        ),
        ("zh_CN", "CNY", {"money": "¥1,234.50"}),
    ],
)
def test_values_are_formatted_per_locale(locale, currency, expected):
    fmt = Formatter(locale, currency)
    got = {
        "money": fmt.currency_amount(1234.5),
        "pct": fmt.percent(0.125),
        "change": fmt.signed_percent(-0.182),
        "pp": fmt.points(0.023),
        "month": fmt.month(pd.Period("2026-03", "M")),
        "date": fmt.date(dt.date(2026, 1, 5)),
    }
    assert {key: got[key] for key in expected} == expected


def test_missing_values_render_as_a_dash_and_large_money_is_rounded():
    fmt = Formatter("en")
    assert fmt.percent(None) == fmt.integer(float("nan")) == fmt.currency_amount(pd.NA) == "–"
    assert fmt.compact_currency(123456.78) == "$123,457"
    assert fmt.month("2026-03-15") == fmt.month(dt.date(2026, 3, 1)) == "Mar 2026"


def test_datetimes_are_shown_in_the_display_timezone():
    moment = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
    assert Formatter("en").datetime(moment).endswith("UTC")
    assert "14:00" in Formatter("zh_CN", timezone="Asia/Shanghai").datetime(moment)


def test_unknown_labels_fail_and_data_labels_fall_back_to_the_value():
    fmt = Formatter("zh_CN")
    with pytest.raises(KeyError, match="nope"):
        fmt.t("nope")
    assert fmt.label("segments", "Champions") == "冠军客户"
    assert fmt.label("segments", "VIP (custom)") == "VIP (custom)"


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    english = load_catalogue("en")
    for locale in SUPPORTED_LOCALES:
        catalogue = load_catalogue(locale)
        assert set(catalogue) == set(english), f"{locale}: keys differ"
        for key, template in english.items():
            assert _placeholders(catalogue[key]) == _placeholders(template), f"{locale}:{key} placeholders differ"
    chinese = load_catalogue("zh_CN")
    untranslated = [key for key, value in chinese.items() if value == english[key] and any(c.isalpha() for c in value)]
    assert untranslated == [], f"zh_CN labels still in English: {untranslated}"


def test_unsupported_locale_is_rejected():
    with pytest.raises(ValueError, match="fr"):
        Formatter("fr")
