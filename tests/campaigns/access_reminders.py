"""Access cases for the reminder pages: my reminders, the staff preview and log, rules and settings."""

from __future__ import annotations

from typing import Any

from campaigns.models import Audience, ReminderRule, ReminderSource
from tests.access_matrix import ANON_REDIRECT, Case, Spec

ANON_POST = Case("anonymous", "post", 302)
RULE_EDIT = {
    "name": "篡改",
    "source": "entry",
    "offset_days": "30",
    "audience": "secretary",
    "via_inbox": "on",
    "is_active": "on",
}
SETTINGS_EDIT = {
    "dispatch_time": "03:00",
    "quiet_start": "",
    "quiet_end": "",
    "digest": "weekly",
    "digest_weekday": "2",
}


def build_world(world: dict[str, Any]) -> None:
    world["reminders_rule"] = ReminderRule.objects.create(
        committee=world["tree"].gw,
        name="访问控制规则",
        source=ReminderSource.ENTRY,
        offset_days=5,
        audience=Audience.SECRETARY,
    )


def _rule(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["reminders_rule"].pk}


MATRIX: dict[str, Spec] = {
    "campaigns:my_reminders": Spec("authenticated", (ANON_REDIRECT,)),
    "campaigns:reminder_preview": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("branch_secretary"),
            Case("branch_member"),
            Case("leader"),
            Case("no_role_user"),
            # Unit staff see the preview and log of their subtree, never the outside channels.
            Case("agency_staff", "get", 403, {"tab": "deliveries"}),
        ),
    ),
    "campaigns:red_list": Spec(
        "staff", (ANON_REDIRECT, Case("branch_secretary"), Case("outsider_secretary"), Case("leader"))
    ),
    "campaigns:reminder_run": Spec(
        "committee_admin",
        (
            ANON_POST,
            Case("committee_staff", "post", 403),
            Case("agency_staff", "post", 403),
            Case("branch_secretary", "post", 403),
        ),
        writes=True,
    ),
    "campaigns:reminder_rules": Spec(
        "committee_admin",
        (ANON_REDIRECT, Case("committee_staff"), Case("agency_staff"), Case("branch_secretary")),
    ),
    "campaigns:reminder_rule_create": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("committee_staff", "post", 403, RULE_EDIT),
            Case("agency_staff", "post", 403, RULE_EDIT),
        ),
    ),
    "campaigns:reminder_rule_edit": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("agency_staff", "post", 403, RULE_EDIT),
            Case("branch_secretary", "post", 403, RULE_EDIT),
        ),
        args=_rule,
    ),
    "campaigns:reminder_rule_toggle": Spec(
        "committee_admin",
        (ANON_POST, Case("committee_staff", "post", 403), Case("agency_staff", "post", 403)),
        args=_rule,
        writes=True,
    ),
    "campaigns:reminder_settings": Spec(
        "committee_admin",
        (
            ANON_REDIRECT,
            Case("committee_staff"),
            Case("agency_staff", "post", 403, SETTINGS_EDIT),
            Case("leader", "post", 403, SETTINGS_EDIT),
        ),
    ),
}
