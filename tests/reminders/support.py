"""Helpers of the reminder specification tests: time, people and items on the shared tree."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from branches import services
from branches.models import Message, OrgUnit, User
from campaigns.models import (
    Campaign,
    ChecklistEntry,
    EntryStatus,
    Finding,
    FindingSource,
    Rectification,
    RectificationStatus,
    Reminder,
)
from tests.campaigns.factories import make_entry, make_item
from tests.factories import UserFactory


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware datetime in the project's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def person(username: str, org: OrgUnit | None = None, role: str | None = None, **fields: Any) -> User:
    user = UserFactory(username=username, **fields)
    if org is not None and role is not None:
        services.role_grant(user=user, org=org, role=role)
    return user


def entry_due(
    campaign: Campaign, org: OrgUnit, due: date, *, title: str | None = None, **fields: Any
) -> ChecklistEntry:
    item = make_item(campaign, due_date=due, **({"title": title} if title else {}))
    return make_entry(campaign, org, item, status=fields.pop("status", EntryStatus.IN_PROGRESS), **fields)


def rectification_due(
    campaign: Campaign, org: OrgUnit, deadline: date, text: str = "三会一课记录不全"
) -> Rectification:
    finding = Finding.objects.create(
        campaign=campaign, org=org, source=FindingSource.INSPECTION, description=text
    )
    return Rectification.objects.create(
        finding=finding,
        campaign=campaign,
        org=org,
        status=RectificationStatus.IN_PROGRESS,
        deadline=deadline,
    )


def keys_of(user: User, **filters: Any) -> set[tuple[str, str]]:
    """(item_key, kind) of every reminder logged for ``user``."""
    return set(Reminder.objects.filter(recipient=user, **filters).values_list("item_key", "kind"))


def planned_for(planned: list, user: User) -> set[tuple[str, str]]:
    return {(p.item.key, p.kind) for p in planned if p.recipient_id == user.pk}


def inbox(user: User) -> list[Message]:
    return list(Message.objects.filter(recipient=user).order_by("id"))
