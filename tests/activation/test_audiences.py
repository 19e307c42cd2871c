"""Audience definitions and selection."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from activation import ActivationConfig, AudienceDefinition, default_audiences
from activation.audiences import validate_scored

from .factories import customer, frame


def selected(definition: AudienceDefinition, customers: pd.DataFrame) -> set[str]:
    return set(customers.loc[definition.select(customers), "customer_id"])


def test_default_audiences_select_the_documented_customers():
    customers = frame(
        customer("hr_hv", risk_band="high", value_tier="high"),
        customer("hr_mid", risk_band="high", value_tier="mid"),
        customer("declining", risk_band="medium", value_tier="mid", is_frequency_declining=True),
        customer("wake", risk_band="medium", value_tier="low", orders=3, days_since_last_order=90),
        customer("wake_89", risk_band="medium", value_tier="low", orders=3, days_since_last_order=89),
        customer("one_shot", risk_band="medium", value_tier="low", orders=1, days_since_last_order=30),
        customer("one_91", risk_band="medium", value_tier="low", orders=1, days_since_last_order=91),
        customer("one_20", risk_band="medium", value_tier="low", orders=1, days_since_last_order=20),
        customer("loyal", risk_band="low", value_tier="high", days_since_last_order=10),
    )
    by_name = {a.name: a for a in default_audiences()}
    assert selected(by_name["at_risk_high_value"], customers) == {"hr_hv"}
    assert selected(by_name["frequency_declining"], customers) == {"declining"}
    assert selected(by_name["needs_wake_up"], customers) == {"wake"}
    assert selected(by_name["new_no_second_order"], customers) == {"one_shot"}
    assert selected(by_name["high_value_loyal"], customers) == {"loyal"}
    assert by_name["at_risk_high_value"].destinations == [
        "email_list",
        "meta",
        "google",
        "cs_tasks",
    ]
    assert not by_name["high_value_loyal"].is_winback
    assert all(a.is_winback for n, a in by_name.items() if n != "high_value_loyal")


def test_custom_definition_filters_segments_and_stages():
    definition = AudienceDefinition(
        name="cant_lose",
        segments=["Can't Lose Them"],
        lifecycle_stages=["loyal", "lapsed"],
        max_lapse_days=200,
        destinations=["meta"],
    )
    customers = frame(
        customer("a", segment="Can't Lose Them", lifecycle_stage="loyal", days_since_last_order=100),
        customer("b", segment="Can't Lose Them", lifecycle_stage="new"),
        customer("c", segment="Champions", lifecycle_stage="loyal"),
        customer("d", segment="Can't Lose Them", lifecycle_stage="lapsed", days_since_last_order=300),
        customer("e", segment="Can't Lose Them", lifecycle_stage="lapsed", days_since_last_order=None),
    )
    assert selected(definition, customers) == {"a"}


def test_definition_validation():
    with pytest.raises(ValidationError, match="min_lapse_days"):
        AudienceDefinition(name="x", min_lapse_days=90, max_lapse_days=30)
    with pytest.raises(ValidationError):
        AudienceDefinition(name="Bad Name!")
    with pytest.raises(ValidationError):
        AudienceDefinition(name="x", destinations=["tiktok"])
    with pytest.raises(ValidationError, match="duplicate audience names"):
        ActivationConfig(audiences=[AudienceDefinition(name="x"), AudienceDefinition(name="x")])
    with pytest.raises(ValidationError):
        ActivationConfig(control_share=0.7)


def test_config_from_plain_dict_has_documented_defaults():
    cfg = ActivationConfig.model_validate({"control_share": 0.2})
    assert cfg.control_share == 0.2
    assert [a.name for a in cfg.audiences] == [
        "at_risk_high_value",
        "frequency_declining",
        "needs_wake_up",
        "new_no_second_order",
        "high_value_loyal",
    ]
    assert cfg.playbook.coupon_pct == 10
    assert cfg.push.enabled is False
    assert ActivationConfig().control_share == 0.10


def test_input_contract_is_checked():
    with pytest.raises(ValueError, match=r"lack required columns.*ads_consent"):
        validate_scored(frame(customer("a")).drop(columns=["ads_consent"]))
    with pytest.raises(ValueError, match="unique"):
        validate_scored(frame(customer("a"), customer("a")))
