"""Writes of the reminder pages: the 工委's rules and settings, and starting a day's run by hand.

Every change is audited. A rule is unique per (工委, source, timing, audience): two rules on the
same rung would name the same dedupe key, so the second is refused with a clear message.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from branches.audit import audit_record
from branches.models import AuditAction, OrgUnit, User
from campaigns.models import Audience, DispatchRun, ReminderPolicy, ReminderRule, ReminderSource
from campaigns.models.reminders import timing_label
from campaigns.reminders.dispatch import dispatch_day

# Rule and settings changes; starting a run by hand is recorded as a publish.
AUDIT_ACTION = AuditAction.SETTINGS

RULE_FIELDS = (
    "name",
    "source",
    "offset_days",
    "audience",
    "via_inbox",
    "via_email",
    "via_webhook",
    "is_active",
)
POLICY_FIELDS = ("dispatch_time", "quiet_start", "quiet_end", "digest", "digest_weekday")


def _duplicate_error(source: str, offset: int, audience: str) -> ValidationError:
    return ValidationError(
        {
            "offset_days": (
                f"已有“{ReminderSource(source).label} · {timing_label(source, offset)} · "
                f"{Audience(audience).label}”的规则，同一时点同一对象只能有一条规则。"
            )
        }
    )


def _check_unique(committee: OrgUnit, data: dict[str, Any], exclude_pk: int | None = None) -> None:
    clash = ReminderRule.objects.filter(
        committee=committee, source=data["source"], offset_days=data["offset_days"], audience=data["audience"]
    )
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _duplicate_error(data["source"], data["offset_days"], data["audience"])


def _rule_detail(rule: ReminderRule, step: str) -> dict[str, Any]:
    return {
        "step": step,
        "what": "提醒规则",
        "name": rule.name,
        "rule": rule.kind,
        "audience": rule.audience,
        "active": rule.is_active,
    }


def reminder_rule_create(*, committee: OrgUnit, actor: User, data: dict[str, Any]) -> ReminderRule:
    """Add one rung; a duplicate (source, timing, audience) is refused."""
    values = {f: data[f] for f in RULE_FIELDS if f in data}
    _check_unique(committee, values)
    try:
        with transaction.atomic():
            rule = ReminderRule.objects.create(committee=committee, **values)
            audit_record(
                action=AUDIT_ACTION, actor=actor, target=rule, detail=_rule_detail(rule, "rule_create")
            )
    except IntegrityError as exc:  # a concurrent create of the same rung
        raise _duplicate_error(values["source"], values["offset_days"], values["audience"]) from exc
    return rule


def reminder_rule_update(*, rule: ReminderRule, actor: User, data: dict[str, Any]) -> ReminderRule:
    values = {f: data[f] for f in RULE_FIELDS if f in data}
    merged = {f: values.get(f, getattr(rule, f)) for f in ("source", "offset_days", "audience")}
    _check_unique(rule.committee, merged, exclude_pk=rule.pk)
    for field, value in values.items():
        setattr(rule, field, value)
    try:
        with transaction.atomic():
            rule.save(update_fields=[*values, "updated_at"])
            audit_record(
                action=AUDIT_ACTION, actor=actor, target=rule, detail=_rule_detail(rule, "rule_update")
            )
    except IntegrityError as exc:
        raise _duplicate_error(merged["source"], merged["offset_days"], merged["audience"]) from exc
    return rule


def reminder_rule_toggle(*, rule: ReminderRule, actor: User) -> ReminderRule:
    """Enable a disabled rule or disable an enabled one; later runs follow at once."""
    with transaction.atomic():
        rule.is_active = not rule.is_active
        rule.save(update_fields=["is_active", "updated_at"])
        audit_record(action=AUDIT_ACTION, actor=actor, target=rule, detail=_rule_detail(rule, "rule_toggle"))
    return rule


def reminder_policy_update(*, policy: ReminderPolicy, actor: User, data: dict[str, Any]) -> ReminderPolicy:
    values = {f: data[f] for f in POLICY_FIELDS if f in data}
    with transaction.atomic():
        for field, value in values.items():
            setattr(policy, field, value)
        policy.updated_by = actor
        policy.save(update_fields=[*values, "updated_by", "updated_at"])
        audit_record(
            action=AUDIT_ACTION,
            actor=actor,
            target=policy,
            detail={
                "step": "reminder_settings",
                "what": "提醒设置",
                "dispatch_time": policy.dispatch_time.strftime("%H:%M"),
                "quiet": (
                    f"{policy.quiet_start:%H:%M}-{policy.quiet_end:%H:%M}"
                    if policy.quiet_start and policy.quiet_end
                    else "无"
                ),
                "digest": policy.get_digest_display(),
            },
        )
    return policy


def reminder_run_start(*, committee: OrgUnit, actor: User, day: date) -> tuple[DispatchRun, bool]:
    """Start the day's run by hand (through the outbox); returns (run, started now).

    A day has one run: when the dispatcher (or another click) already started it, nothing is sent
    again and ``started`` is False.
    """
    existed = DispatchRun.objects.filter(committee=committee, date=day).exists()
    run = dispatch_day(committee=committee, day=day, user=actor)
    if existed:
        return run, False
    audit_record(
        action=AuditAction.PUBLISH,
        actor=actor,
        target=run,
        detail={"step": "reminder_run", "what": "手动发送今日提醒", "date": day.isoformat()},
    )
    return run, True
