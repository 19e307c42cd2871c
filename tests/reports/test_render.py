"""Rendering (F25): content, escaping, self-contained HTML, charts, languages."""

from __future__ import annotations

import base64
import io
import re
import warnings

import jinja2
import pandas as pd
import pytest
from PIL import Image

from reports import charts
from reports.alerts import evaluate_rules
from reports.formatting import Formatter
from reports.render import (
    DigestContext,
    make_environment,
    render_alert_digest,
    render_weekly_report,
)
from reports.settings import RenderSettings
from tests.reports import factories as f
from tests.reports.system_deps import require_cjk_font

ESCAPED_XSS = f.ESCAPED_XSS


def cid_refs(html: str) -> set[str]:
    return set(re.findall(r'src="cid:([^"]+)"', html))


def assert_self_contained(html: str) -> None:
    """No scripts, no stylesheets or fonts to fetch, no remote images."""
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert "@font-face" not in lowered
    for src in re.findall(r'\ssrc="([^"]*)"', html):
        assert src.startswith(("cid:", "data:image/png;base64,")), src
    assert "<style" not in lowered or "@media" in lowered  # only the kept media query survives inlining
    assert 'style="' in html  # CSS was inlined


@pytest.fixture(scope="module")
def weekly_en():
    return render_weekly_report(f.weekly_context(), RenderSettings(shop_name="Acme"))


def test_weekly_report_shows_every_section_with_formatted_values(weekly_en):
    email = weekly_en
    assert email.kind == "weekly_report"
    assert email.subject == "[Acme] Weekly retention report, Feb 23, 2026 – Mar 1, 2026"
    html, text = email.html_for_email, email.text
    for heading in (
        "Key figures",
        "Trends",
        "Cohort retention",
        "RFM segments",
        "Top churn profiles",
        "High-value customers at risk",
        "Win-back results",
        "Campaign impact on purchase frequency",
    ):
        assert heading in html and heading in text
    # KPI cards with change vs the previous period (churn up is bad: shown in the "bad" colour)
    for value in ("48,213", "12,345", "5.2%", "31.2%", "$1,234.50", "1.84", "+2.6%", "+0.4 pp", "Previous: 47,001"):
        assert value in html and value in text, value
    assert re.search(r'color: #b91c1c;?">[^<]*\+0\.4 pp', html)
    # tables
    assert "Europe + product A + delivery &gt; 20 days" in html and "3.2×" in html and "2.8 – 3.6" in html
    assert "Bob &amp; Co" in html and "Bob & Co" in text
    assert "Promise faster shipping" in html and "Logistics" in html and "Price, Service" in html
    assert "+3.2 pp" in html and "significant" in html and "not significant yet" in html
    assert "0.42 → 0.55" in html and "+0.10" in html
    assert "Loyal" in html and "310" in html  # largest movement Loyal -> At Risk; self-moves are not movements
    assert "999" not in html
    assert "Feb 2026: churn rate" in text and "Jul 2025: M1 29.7% · M3 21.5% · M6 –" in text


def test_customer_names_are_escaped_in_html(weekly_en):
    html = weekly_en.html_for_email
    assert ESCAPED_XSS in html and f.XSS_NAME not in html
    assert ESCAPED_XSS in weekly_en.html_standalone and f.XSS_NAME not in weekly_en.html_standalone
    assert f.XSS_NAME in weekly_en.text  # plain text shows the name as typed


def test_html_is_self_contained_with_charts_as_cid_and_data_uris(weekly_en):
    assert_self_contained(weekly_en.html_for_email)
    assert_self_contained(weekly_en.html_standalone)
    assert cid_refs(weekly_en.html_for_email) == set(weekly_en.images)
    assert len(weekly_en.images) == 5
    assert "cid:" not in weekly_en.html_standalone
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', weekly_en.html_standalone)
    assert len(sources) == 5
    for source in sources:
        image = Image.open(io.BytesIO(base64.b64decode(source)))
        image.verify()
    for cid, png in weekly_en.images.items():
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.width == 600, cid
        assert len(png) < 80_000, cid
    assert 'width="640"' in weekly_en.html_for_email


def test_empty_report_renders_placeholders_instead_of_failing():
    email = render_weekly_report(f.weekly_context(empty=True))
    assert email.html_for_email.count("No data yet") >= 5
    assert "No data yet" in email.text
    assert len(email.images) == 5
    assert cid_refs(email.html_for_email) == set(email.images)
    for png in email.images.values():
        Image.open(io.BytesIO(png)).verify()


def test_placeholder_charts_are_flagged():
    style, _ = charts.ChartStyle.for_formatter(Formatter("en"))
    chart = charts.line_chart("x", "Title", {}, style)
    assert chart.is_placeholder and chart.alt == "Title: No data yet"
    assert not charts.line_chart(
        "x", "Title", {"a": pd.Series([1.0, 2.0], index=pd.period_range("2026-01", periods=2, freq="M"))}, style
    ).is_placeholder


def test_bad_context_fails_with_a_clear_message():
    context = f.weekly_context()
    context.kpis = context.kpis.drop(columns=["previous_value"])
    with pytest.raises(ValueError, match="kpis.*previous_value"):
        render_weekly_report(context)
    context = f.weekly_context()
    context.kpis = pd.DataFrame({"kpi": ["mystery"], "value": [1], "previous_value": [1]})
    with pytest.raises(ValueError, match="unknown KPI 'mystery'"):
        render_weekly_report(context)


def test_environment_is_strict_and_escapes_html():
    env = make_environment()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert env.autoescape("weekly_report.html.j2") is True and env.autoescape("weekly_report.txt.j2") is False


def test_digest_lists_what_how_much_who_and_action():
    email = f.render_digest()
    assert email.kind == "alert_digest" and email.subject == "[Acme] Retention alerts: 7 (3 critical)"
    html, text = email.html_for_email, email.text
    for label in ("What happened", "How much", "Who", "What to do:"):
        assert label in html and label in text
    assert "Champions: purchase frequency -25.0% month over month" in html
    assert "Churn rate spiked to 9.0% (all customers)" in text
    assert "audiences/cs_tasks.csv" in html and "audiences/champions_winback.csv" in text
    assert ESCAPED_XSS in html and f.XSS_NAME not in html
    assert "$1,100.00" in html and "Promise faster shipping" in html
    assert html.count(">New</span>") == 7
    assert_self_contained(email.html_for_email)
    assert cid_refs(email.html_for_email) == set(email.images) and len(email.images) == 3  # trend charts
    assert_self_contained(email.html_standalone)


def test_digest_without_alerts_and_locale_mismatch():
    email = render_alert_digest(DigestContext([], f.NOW))
    assert email.subject == "[My shop] Retention alerts: none" and "Nothing needs attention" in email.text
    english_alerts = evaluate_rules(f.firing_inputs(), now=f.NOW, fmt=Formatter("en"))
    with pytest.raises(ValueError, match="worded in en"):
        render_alert_digest(DigestContext(english_alerts, f.NOW), RenderSettings(locale="zh_CN"))


def test_zh_cn_report_is_translated_and_formatted_per_locale():
    require_cjk_font()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn
        email = render_weekly_report(f.weekly_context(), RenderSettings(locale="zh_CN", shop_name="Acme"))
    assert email.subject == "[Acme] 每周客户留存报告，2026年2月23日 至 2026年3月1日"
    html, text = email.html_for_email, email.text
    for label in (
        "关键指标",
        "流失率",
        "同期群留存",
        "RFM 客户群",
        "主要流失客户画像",
        "有流失风险的高价值客户",
        "挽回效果",
        "营销活动对购买频率的影响",
    ):
        assert label in html and label in text, label
    for value in ("US$1,234.50", "48,213", "5.2%", "+0.4 个百分点", "冠军客户", "告知更快的配送", "物流", "2026年2月"):
        assert value in html, value
    assert 'lang="zh-CN"' in html
    assert email.warnings == ()
    alts = re.findall(r'alt="([^"]+)"', html)
    assert "月度流失率" in alts and "首单同期群留存率" in alts
    assert ESCAPED_XSS in html and f.XSS_NAME not in html


def test_zh_cn_digest_is_translated():
    email = f.render_digest("zh_CN")
    assert email.subject == "[Acme] 客户流失预警：7 条（3 条严重）"
    assert "建议措施" in email.html_for_email and "新增有流失风险的高价值客户：2 位" in email.text
    assert "严重" in email.html_for_email and "冠军客户：购买频率环比 -25.0%" in email.html_for_email


def test_zh_cn_charts_fall_back_to_english_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    email = render_weekly_report(f.weekly_context(), RenderSettings(locale="zh_CN"))
    assert email.warnings == ("no CJK font installed: chart labels are in English",)
    alts = re.findall(r'alt="([^"]+)"', email.html_for_email)
    assert "Monthly churn rate" in alts
    assert "关键指标" in email.html_for_email  # the email itself stays Chinese
