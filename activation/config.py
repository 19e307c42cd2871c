"""Top-level activation settings (plain pydantic; the global settings file wraps it)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from activation.audiences import AudienceDefinition, default_audiences
from activation.normalize import DEFAULT_RELAY_PATTERNS
from activation.playbook import PlaybookConfig
from activation.push import PushConfig

__all__ = ["ActivationConfig"]


class ActivationConfig(BaseModel):
    """Everything ``publish`` needs besides the data. All fields have working defaults."""

    model_config = ConfigDict(extra="forbid")

    audiences: list[AudienceDefinition] = Field(
        default_factory=default_audiences,
        description="Audience definitions; defaults are the five F22 audiences.",
    )
    playbook: PlaybookConfig = Field(default_factory=PlaybookConfig)
    control_share: float = Field(0.10, ge=0.0, lt=0.5, description="Share of each win-back audience held out.")
    control_salt: str = Field(
        "retention-holdout-v1",
        min_length=1,
        description="Salt of the hold-out hash. Changing it reshuffles every control group.",
    )
    relay_email_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RELAY_PATTERNS),
        description="Regexes (searched in the lowercased address) for marketplace relays.",
    )
    min_ad_audience_rows: int = Field(100, ge=0, description="Warn in the manifest when an ad file has fewer rows.")
    email_list_phone: bool = Field(True, description="Put the E.164 phone in the email list when sms_consent is subscribed.")
    push: PushConfig = Field(default_factory=PushConfig, description="Optional API push.")

    @field_validator("audiences")
    @classmethod
    def _unique_names(cls, value: list[AudienceDefinition]) -> list[AudienceDefinition]:
        names = [a.name for a in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate audience names: {dupes}")
        return value

    @field_validator("relay_email_patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            re.compile(pattern)
        return value
