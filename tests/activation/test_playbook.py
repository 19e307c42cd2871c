"""Win-back playbook: cause actions, lapse ladder, precedence, one action per customer."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from activation import ActivationConfig, PlaybookConfig, publish, recommend_actions
from activation.audiences import with_reason_lists
from activation.normalize import as_bool, is_missing
from activation.playbook import opening_line, parse_reasons

from .factories import customer, flat_reasons, frame


def reason(cause: str, feature: str = "f", detail: str = "") -> dict:
    return {"feature": feature, "cause": cause, "detail": detail}


def recommend(*rows: dict, cfg: PlaybookConfig | None = None) -> pd.DataFrame:
    customers = frame(*rows).set_index("customer_id", drop=False)
    return recommend_actions(customers, cfg or PlaybookConfig())


@pytest.mark.parametrize(
    ("cause", "action", "detail"),
    [
        ("price", "coupon", "10% coupon"),
        ("logistics", "faster_shipping_message", "delivery 24 days"),
        ("product_quality", "product_follow_up", "delivery 24 days"),
        ("service", "personal_contact", "delivery 24 days"),
        ("engagement", "channel_switch", "switch to sms"),
    ],
)
def test_cause_specific_action(cause, action, detail):
    out = recommend(
        customer(
            "c1",
            value_tier="mid",
            days_since_last_order=40,
            reasons=[reason(cause, "x", "delivery 24 days")],
        )
    )
    assert out.loc["c1", "action"] == action
    assert out.loc["c1", "action_detail"] == detail


def test_channel_switch_falls_back_when_no_sms_consent():
    out = recommend(
        customer("a", value_tier="mid", sms_consent="not_subscribed", reasons=[reason("engagement")]),
        customer(
            "b",
            value_tier="mid",
            sms_consent="unknown",
            ads_consent=False,
            reasons=[reason("engagement")],
        ),
    )
    assert out.loc["a", "action_detail"] == "switch to paid social/search retargeting"
    assert out.loc["b", "action_detail"] == "change email format and send time"


@pytest.mark.parametrize(
    ("lapse", "tier", "action", "rule"),
    [
        (10, "mid", "we_miss_you", "lapse_ladder:<30d_first_rung"),
        (35, "mid", "we_miss_you", "lapse_ladder:>=30d"),
        (65, "mid", "category_offer", "lapse_ladder:>=60d"),
        (95, "mid", "category_offer", "lapse_ladder:>=60d"),
        (95, "high", "free_shipping_or_strong_discount", "lapse_ladder:>=90d_high_value"),
    ],
)
def test_lapse_ladder_for_lifecycle_cause(lapse, tier, action, rule):
    out = recommend(
        customer(
            "c1",
            days_since_last_order=lapse,
            value_tier=tier,
            reasons=[reason("lifecycle", "gap_ratio")],
            favourite_category="Tea",
        )
    )
    assert out.loc["c1", "action"] == action
    assert out.loc["c1", "action_reason"] == rule
    if action == "category_offer":
        assert out.loc["c1", "action_detail"] == "offer on Tea"


def test_precedence_rules():
    out = recommend(
        # service anywhere in the reasons beats a long lapse and a price top reason
        customer(
            "svc",
            days_since_last_order=120,
            reasons=[reason("price"), reason("service", "open_tickets", "2 open tickets")],
        ),
        # 90+ days and high value beats the top reason; logistics -> free shipping
        customer("hv_log", days_since_last_order=100, reasons=[reason("logistics")]),
        customer("hv_price", days_since_last_order=100, reasons=[reason("price")]),
        # a lifecycle top reason goes to the ladder even with a price reason behind it
        customer(
            "life",
            value_tier="mid",
            days_since_last_order=70,
            reasons=[reason("lifecycle"), reason("price")],
        ),
        # no reasons at all -> ladder
        customer("none", value_tier="low", days_since_last_order=31, reasons=[]),
    )
    assert out.loc["svc", "action"] == "personal_contact"
    assert out.loc["svc", "action_reason"] == "service:open_tickets"
    assert out.loc["svc", "action_detail"] == "2 open tickets"
    assert out.loc["hv_log", "action_detail"] == "free shipping"
    assert out.loc["hv_price", "action"] == "free_shipping_or_strong_discount"
    assert out.loc["hv_price", "action_detail"] == "20% discount"
    assert out.loc["life", "action"] == "category_offer"
    assert out.loc["none", "action"] == "we_miss_you"


def test_precedence_is_configurable():
    cfg = PlaybookConfig(precedence=["top_reason", "service", "lapse_ladder"], coupon_pct=15)
    out = recommend(
        customer("c1", days_since_last_order=120, reasons=[reason("price"), reason("service")]),
        cfg=cfg,
    )
    assert out.loc["c1", "action"] == "coupon"
    assert out.loc["c1", "action_detail"] == "15% coupon"
    with pytest.raises(ValidationError, match="lapse_ladder"):
        PlaybookConfig(precedence=["lapse_ladder", "service"])
    with pytest.raises(ValidationError, match="rungs"):
        PlaybookConfig(we_miss_you_days=70, category_offer_days=60)


def test_reasons_accept_json_text_and_arrays():
    assert parse_reasons('[{"feature": "a", "cause": "price", "detail": "x"}]')[0]["cause"] == "price"
    assert parse_reasons(np.array([reason("service")], dtype=object))[0]["cause"] == "service"
    assert parse_reasons(None) == []
    assert parse_reasons(float("nan")) == []
    assert parse_reasons([{"cause": "astrology"}]) == []


def test_opening_line_per_cause():
    cfg = PlaybookConfig()
    row = pd.Series({"first_name": "Zoë", "favourite_category": "Tea"})
    assert opening_line(row, "price", cfg).startswith("Hi Zoë,")
    assert "10% coupon" in opening_line(row, "price", cfg)
    assert "Tea" in opening_line(row, "product_quality", cfg)
    assert "free shipping" in opening_line(row, "lifecycle", cfg, offer="free shipping")
    assert opening_line(pd.Series({"first_name": None}), "service", cfg).startswith("Hi there,")


def test_every_exported_at_risk_customer_gets_exactly_one_action(tmp_path):
    rng = np.random.default_rng(7)
    causes = ["price", "logistics", "product_quality", "service", "engagement", "lifecycle"]
    rows = []
    for i in range(400):
        picked = rng.choice(causes, size=rng.integers(0, 4), replace=False)
        rows.append(
            customer(
                f"c{i:04d}",
                risk_band=rng.choice(["low", "medium", "high"]),
                value_tier=rng.choice(["low", "mid", "high"]),
                days_since_last_order=int(rng.integers(0, 200)),
                is_frequency_declining=bool(rng.integers(0, 2)),
                orders=int(rng.integers(1, 6)),
                reasons=[reason(c) for c in picked],
            )
        )
    result = publish(frame(*rows), date(2024, 5, 1), tmp_path, ActivationConfig(), "m1")
    winback = {a.name for a in ActivationConfig().audiences if a.is_winback}
    members = result.membership[result.membership["audience"].isin(winback)]
    assert len(members) > 200
    assert not members.duplicated(["audience", "customer_id"]).any()
    assert members["action"].notna().all() and (members["action"] != "").all()
    assert members["action_reason"].str.match(r"^(service|top_reason|lapse_ladder):").all()
    # The action is a property of the customer, so it agrees across audiences.
    assert (members.groupby("customer_id")["action"].nunique() == 1).all()
    # And the exported email list carries that same single action per row.
    listed = pd.read_csv(result.export_dir / "at_risk_high_value" / "email_list.csv")
    assert not listed["customer_id"].duplicated().any()
    merged = listed.merge(members, on="customer_id", suffixes=("_file", ""))
    assert (merged["action_file"] == merged["action"]).all()
    loyal = result.membership[result.membership["audience"] == "high_value_loyal"]
    assert set(loyal["action"]) <= {"loyalty_reward"}


def _rules_row_by_row(row: dict, cfg: PlaybookConfig) -> tuple[str, str, str, str]:
    """The playbook rules for one customer, written out plainly (what recommend_actions must give)."""
    reasons = parse_reasons(row["reasons"])
    causes = [r["cause"] for r in reasons]
    top_cause = causes[0] if causes else None
    lapse = 0 if is_missing(row["days_since_last_order"]) else int(row["days_since_last_order"])
    for rule in cfg.precedence:
        if rule == "service" and "service" in causes:
            reason = reasons[causes.index("service")]
            return (cfg.cause_actions.get("service", "personal_contact"), reason["detail"] or reason["feature"],
                    f"service:{reason['feature'] or 'service'}", "service")
        if rule == "high_value_long_lapse" and lapse >= cfg.strong_offer_days and row["value_tier"] in cfg.strong_offer_value_tiers:
            offer = "free shipping" if top_cause == "logistics" else f"{cfg.strong_discount_pct}% discount"
            return ("free_shipping_or_strong_discount", offer, f"lapse_ladder:>={cfg.strong_offer_days}d_high_value", "lifecycle")
        if rule == "top_reason" and top_cause in cfg.cause_actions and top_cause != "lifecycle":
            reason = reasons[0]
            if top_cause == "price":
                detail = f"{cfg.coupon_pct}% coupon"
            elif top_cause == "engagement":
                detail = (
                    "switch to sms" if row["sms_consent"] == "subscribed"
                    else "switch to paid social/search retargeting" if as_bool(row["ads_consent"])
                    else "change email format and send time"
                )
            else:
                detail = reason["detail"] or reason["feature"] or ""
            return (cfg.cause_actions[top_cause], detail, f"top_reason:{top_cause}({reason['feature']})", top_cause)
        if rule == "lapse_ladder":
            if lapse >= cfg.category_offer_days:
                what = "favourite category" if is_missing(row["favourite_category"]) else str(row["favourite_category"])
                return ("category_offer", f"offer on {what}", f"lapse_ladder:>={cfg.category_offer_days}d", "lifecycle")
            rung = f">={cfg.we_miss_you_days}d" if lapse >= cfg.we_miss_you_days else f"<{cfg.we_miss_you_days}d_first_rung"
            return ("we_miss_you", "we miss you message", f"lapse_ladder:{rung}", "lifecycle")
    raise AssertionError("lapse_ladder is last")


@pytest.mark.parametrize(
    "cfg",
    [
        PlaybookConfig(),
        PlaybookConfig(precedence=["top_reason", "service", "lapse_ladder"], strong_offer_value_tiers=["high", "mid"]),
        PlaybookConfig(precedence=["high_value_long_lapse", "lapse_ladder"], cause_actions={"price": "coupon"}),
    ],
)
def test_rules_for_all_customers_at_once_match_row_by_row(cfg):
    rng = np.random.default_rng(3)
    causes = ["price", "logistics", "product_quality", "service", "engagement", "lifecycle", "astrology", None]
    rows = [
        customer(
            f"c{i:04d}",
            days_since_last_order=None if i % 17 == 0 else int(rng.integers(0, 200)),
            value_tier=rng.choice(["low", "mid", "high", None]),
            favourite_category=rng.choice(["Tea", None, " "]),
            sms_consent=rng.choice(["subscribed", "unknown", None]),
            ads_consent=rng.choice([True, False, None, "yes"]),
            reasons=[
                {"feature": rng.choice(["f", "", None]), "cause": rng.choice(causes), "detail": rng.choice(["d", "", " ", None])}
                for _ in range(rng.integers(0, 4))
            ],
        )
        for i in range(600)
    ]
    customers = frame(*rows).set_index("customer_id", drop=False)

    def row_by_row(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            [_rules_row_by_row(dict(zip(frame.columns, values, strict=True)), cfg) for values in frame.to_numpy(dtype=object)],
            columns=["action", "action_detail", "action_reason", "action_cause"],
            index=frame.index,
        )

    pd.testing.assert_frame_equal(recommend_actions(customers, cfg), row_by_row(customers))
    # the warehouse's flat reason columns give the actions of the lists `with_reason_lists` makes of them
    # (not quite those of the original lists: a reason without a feature is dropped)
    flat = flat_reasons(customers)
    pd.testing.assert_frame_equal(recommend_actions(flat, cfg), row_by_row(with_reason_lists(flat)))
