"""Activation: audience selection, win-back playbook, export files, hold-outs, push.

Plain Python (no Dagster). Typical use::

    from activation import ActivationConfig, publish, read_previous_members

    previous = read_previous_members(out_root, before=as_of)
    result = publish(scored, as_of, out_root, ActivationConfig(), model_version, previous)
    warehouse.append("publish_history", result.membership)

and later ``winback_effect(publish_history, orders, window_days=30, as_of=today)``.
"""

from activation.audiences import AudienceDefinition, default_audiences
from activation.config import ActivationConfig
from activation.control import assign_groups, winback_effect
from activation.exports import (
    ExportIntegrityError,
    PublishResult,
    list_complete_exports,
    publish,
    read_previous_members,
    verify_export,
)
from activation.playbook import PlaybookConfig, recommend_actions
from activation.push import PushConfig, PushResult, push_export

__all__ = [
    "ActivationConfig",
    "AudienceDefinition",
    "ExportIntegrityError",
    "PlaybookConfig",
    "PublishResult",
    "PushConfig",
    "PushResult",
    "assign_groups",
    "default_audiences",
    "list_complete_exports",
    "publish",
    "push_export",
    "read_previous_members",
    "recommend_actions",
    "verify_export",
    "winback_effect",
]
