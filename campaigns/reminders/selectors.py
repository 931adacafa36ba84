"""Scoped reads of reminders for the staff and user pages: the tree decides what anyone sees.

A person sees their own reminders; staff see the log, the preview and the red list of their
subtrees (a 机关党委's staff never see another 机关党委's items); only 工委 staff see the outside
channel deliveries, which are not tied to one organisation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from branches.models import PATH_SEPARATOR, STAFF_ROLES, Delivery, OrgUnit, User
from branches.selectors import committee_root, grants_of, scope_q, scope_roots
from campaigns import permissions
from campaigns.models import (
    Audience,
    DispatchRun,
    DispatchStatus,
    Reminder,
    ReminderRule,
    ReminderSource,
    ReminderStatus,
)
from campaigns.reminders.planner import Planned, plan
from campaigns.reminders.sources import REGISTRY


def committee_for(user: User) -> OrgUnit | None:
    """The 工委 at the root of the user's tree (the first grant decides; superusers: the root)."""
    for g in grants_of(user):
        root_id = int(g.org_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[0])
        return OrgUnit.objects.filter(pk=root_id).first()
    if getattr(user, "is_superuser", False):
        return committee_root()
    return None


def staff_paths(user: User, committee: OrgUnit) -> list[str] | None:
    """The subtrees the user staffs; None when that is the whole 工委 (the planner's "everything")."""
    roots = scope_roots(user, roles=STAFF_ROLES)
    if roots is None or committee.path in roots:
        return None
    return roots


# --- the user's own reminders ---------------------------------------------------------------------


def reminders_of(user: User) -> QuerySet[Reminder]:
    return (
        Reminder.objects.filter(recipient=user).select_related("org", "rule").order_by("-scheduled_on", "-id")
    )


def status_counts(qs: QuerySet[Reminder]) -> dict[str, int]:
    """{status: count} over ``qs`` in one query; every status present, zero when empty."""
    counts = {s: 0 for s in ReminderStatus.values}
    for row in qs.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


# --- the log, the preview and the outside channels (staff) ----------------------------------------


def reminder_log_visible_to(user: User, committee: OrgUnit) -> QuerySet[Reminder]:
    """The log rows of items in the subtrees the user staffs."""
    return Reminder.objects.filter(scope_q(user, field="org_path", roles=STAFF_ROLES), committee=committee)


def deliveries_visible_to(user: User) -> QuerySet[Delivery]:
    """E-mail and group-robot sends: 工委 staff only (a delivery may span several organisations)."""
    if not permissions.is_committee_staff(user):
        return Delivery.objects.none()
    return Delivery.objects.select_related("recipient", "webhook__org")


@dataclass(frozen=True)
class PreviewRow:
    planned: Planned
    recipient: User | None
    logged_status: str  # "" when the key is not in the log yet

    @property
    def logged_label(self) -> str:
        return ReminderStatus(self.logged_status).label if self.logged_status else ""


def reminder_preview(user: User, committee: OrgUnit, day: date) -> list[Planned]:
    """What the dispatcher would send on ``day`` for the organisations the user staffs."""
    paths = staff_paths(user, committee)
    planned = plan(committee=committee, day=day, paths=paths)
    if paths is None:
        return planned
    # The sources already restrict organisation items to ``paths``; committee-wide items (phases)
    # are shown only where they reach someone in the user's subtrees, which ``plan`` resolved.
    return [p for p in planned if p.item.org_id is None or any(p.item.org_path.startswith(r) for r in paths)]


def preview_rows(rows: Sequence[Planned]) -> list[PreviewRow]:
    """Attach recipients and the log status of each key: two queries for any number of rows."""
    if not rows:
        return []
    users = User.objects.in_bulk({p.recipient_id for p in rows})
    logged: dict[tuple[int, str, str, str], str] = {}
    for uid, key, kind, period, status in Reminder.objects.filter(
        recipient_id__in={p.recipient_id for p in rows}, item_key__in={p.item.key for p in rows}
    ).values_list("recipient_id", "item_key", "kind", "period", "status"):
        logged[(uid, key, kind, period)] = status
    return [PreviewRow(p, users.get(p.recipient_id), logged.get(p.key, "")) for p in rows]


def dispatch_run_of(committee: OrgUnit, day: date) -> DispatchRun | None:
    """The day's run with the number of its finished batches (``batches_done``)."""
    return (
        DispatchRun.objects.filter(committee=committee, date=day)
        .select_related("requested_by")
        .annotate(batches_done=Count("batches", filter=Q(batches__status=DispatchStatus.DONE)))
        .first()
    )


# --- the red list ---------------------------------------------------------------------------------

_TAG = re.compile(r"^【[^】]*】")


@dataclass(frozen=True)
class RedListRow:
    item_key: str
    source: str
    title: str
    url: str
    org_name: str
    due_date: date
    days_overdue: int
    listed_on: date

    @property
    def source_label(self) -> str:
        return ReminderSource(self.source).label if self.source in ReminderSource.values else self.source


def red_list(user: User, committee: OrgUnit, today: date) -> list[RedListRow]:
    """Items escalated to the 工委 (audience 工委工作人员) in the user's subtrees, still not done.

    Most overdue first. One query for the log, then one ``still_open`` check per source.
    """
    rows = (
        reminder_log_visible_to(user, committee)
        .filter(audience=Audience.COMMITTEE_STAFF)
        .exclude(status=ReminderStatus.CANCELLED)
        .order_by("due_date", "scheduled_on")
        .values_list("item_key", "source", "title", "url", "org__name", "due_date", "scheduled_on")
    )
    first: dict[str, tuple] = {}
    for row in rows.iterator(chunk_size=2000):
        first.setdefault(row[0], row)  # one line per item, however many staff received it
    by_source: dict[str, list[str]] = defaultdict(list)
    for key, source, *_ in first.values():
        by_source[source].append(key)
    open_keys: set[str] = set()
    for source, keys in by_source.items():
        src = REGISTRY.get(source)
        open_keys |= src.still_open(sorted(keys)) if src else set(keys)
    out = [
        RedListRow(
            item_key=key,
            source=source,
            title=_TAG.sub("", title),
            url=url,
            org_name=org_name or committee.name,
            due_date=due,
            days_overdue=max((today - due).days, 0),
            listed_on=listed,
        )
        for key, source, title, url, org_name, due, listed in first.values()
        if key in open_keys
    ]
    out.sort(key=lambda r: (-r.days_overdue, r.org_name, r.item_key))
    return out


# --- rules (committee admins) ---------------------------------------------------------------------


def rules_of(committee: OrgUnit) -> QuerySet[ReminderRule]:
    return ReminderRule.objects.filter(committee=committee).order_by("source", "offset_days", "audience")


def rules_by_source(committee: OrgUnit) -> list[tuple[str, str, list[ReminderRule]]]:
    """[(source, label, rules ordered as the escalation ladder)] in the order of ``ReminderSource``."""
    grouped: dict[str, list[ReminderRule]] = defaultdict(list)
    for rule in rules_of(committee):
        grouped[rule.source].append(rule)
    return [(s.value, s.label, grouped[s.value]) for s in ReminderSource if grouped.get(s.value)]
