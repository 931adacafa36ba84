"""Rules × due items × people → the reminders of one day. Reads only; nothing is written here.

People are resolved through the tree, so a reminder only ever reaches someone whose grant covers
the item's organisation: the item's own 责任人 or 书记, the staff of the nearest parent with
staff (机关党委/总支), or the 工委 staff for the red list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q

from branches.models import PATH_SEPARATOR, OrgUnit, Role, RoleGrant, subtree_q
from campaigns.models import Audience, ReminderRule
from campaigns.reminders.sources import REGISTRY, DueItem

# Roles that receive each audience.
SECRETARY_ROLES = (Role.SECRETARY,)
PARENT_STAFF_ROLES = (Role.UNIT_STAFF,)
COMMITTEE_ROLES = (Role.COMMITTEE_STAFF, Role.COMMITTEE_ADMIN)

# Most urgent first when a digest lists items.
AUDIENCE_RANK: dict[str, int] = {
    Audience.COMMITTEE_STAFF: 3,
    Audience.PARENT_STAFF: 2,
    Audience.SECRETARY: 1,
    Audience.RESPONSIBLE: 0,
}


@dataclass
class Planned:
    """One reminder of one item to one person (merged over rules that name the same key)."""

    recipient_id: int
    item: DueItem
    kind: str
    period: str
    audience: str
    rule_id: int
    rule_name: str
    via_inbox: bool
    via_email: bool
    via_webhook: bool

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.recipient_id, self.item.key, self.kind, self.period)


@dataclass
class People:
    """The grants that matter for one part of the tree, indexed for resolution."""

    root: OrgUnit
    by_org: dict[int, dict[str, list[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    org_of_path: dict[str, int] = field(default_factory=dict)
    in_scope: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def at(self, org_id: int | None, roles: Sequence[str]) -> list[int]:
        if org_id is None:
            return []
        found = self.by_org.get(org_id, {})
        return sorted({u for r in roles for u in found.get(r, [])})

    def nearest(self, path: str, roles: Sequence[str], *, include_self: bool) -> list[int]:
        """Holders of ``roles`` at the nearest organisation on the path (self first if allowed)."""
        ids = [int(p) for p in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if p]
        chain = ids if include_self else ids[:-1]
        for org_id in reversed(chain):
            if org_id == self.root.pk:
                break
            found = self.at(org_id, roles)
            if found:
                return found
        return []


def load_people(root: OrgUnit, paths: Sequence[str] | None) -> People:
    """Grants at the organisations in ``paths`` (or the whole tree) and at their ancestors."""
    people = People(root=root)
    roles = {*SECRETARY_ROLES, *PARENT_STAFF_ROLES, *COMMITTEE_ROLES}
    if paths is None:
        where = subtree_q(root.path, "org__path")
        ancestors: set[int] = set()
    else:
        where = Q(pk__in=[])
        ancestors = set()
        for p in paths:
            where |= subtree_q(p, "org__path")
            ancestors.update(int(x) for x in p.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if x)
        where |= Q(org_id__in=ancestors)
    rows = RoleGrant.objects.filter(
        where, role__in=roles, user__is_active=True, org__is_active=True
    ).values_list("user_id", "role", "org_id", "org__path")
    for user_id, role, org_id, path in rows:
        people.by_org[org_id][role].append(user_id)
        people.org_of_path[path] = org_id
        # In scope: grants inside the given subtrees (their roots included), not above them.
        if paths is None or any(path.startswith(p) for p in paths):
            people.in_scope[role].append(user_id)
    return people


def recipients(people: People, item: DueItem, audience: str) -> list[int]:
    """Who an item's reminder goes to for one audience; never anyone outside the item's branch line."""
    if audience == Audience.COMMITTEE_STAFF:
        return people.at(people.root.pk, COMMITTEE_ROLES)
    if item.org_id is None:  # committee-wide item: everyone of that role in scope
        roles = (
            SECRETARY_ROLES if audience in (Audience.SECRETARY, Audience.RESPONSIBLE) else PARENT_STAFF_ROLES
        )
        return sorted({u for r in roles for u in people.in_scope.get(r, [])})
    if audience == Audience.RESPONSIBLE and item.responsible_id:
        return [item.responsible_id]
    if audience in (Audience.RESPONSIBLE, Audience.SECRETARY):
        return people.nearest(item.org_path, SECRETARY_ROLES, include_self=True)
    return people.nearest(item.org_path, PARENT_STAFF_ROLES, include_self=False)


def windows(rules: Sequence[ReminderRule]) -> dict[int, tuple[int, int]]:
    """For each rule, the days-after-due it fires on: its offset, plus a short catch-up.

    Catch-up (``REMINDER_CATCH_UP_DAYS``) lets a day the dispatcher missed be made up the next
    day; it stops before the next rung of the same source and audience so rungs never overlap.
    """
    catch_up = max(int(getattr(settings, "REMINDER_CATCH_UP_DAYS", 2)), 1)
    by_line: dict[tuple[str, str], list[ReminderRule]] = defaultdict(list)
    for r in rules:
        by_line[(r.source, r.audience)].append(r)
    out: dict[int, tuple[int, int]] = {}
    for line in by_line.values():
        line.sort(key=lambda r: r.offset_days)
        for i, r in enumerate(line):
            hi = r.offset_days + catch_up - 1
            if i + 1 < len(line):
                hi = min(hi, line[i + 1].offset_days - 1)
            out[r.pk] = (r.offset_days, hi)
    return out


def active_rules(committee: OrgUnit) -> list[ReminderRule]:
    return list(
        ReminderRule.objects.filter(committee=committee, is_active=True).order_by("source", "offset_days")
    )


def plan(
    *,
    committee: OrgUnit,
    day: date,
    paths: Sequence[str] | None = None,
    rules: Sequence[ReminderRule] | None = None,
    people: People | None = None,
) -> list[Planned]:
    """The reminders due on ``day`` for the organisations under ``paths`` (None: the whole tree)."""
    rules = list(rules) if rules is not None else active_rules(committee)
    if not rules:
        return []
    people = people or load_people(committee, paths)
    spans = windows(rules)
    planned: dict[tuple[int, str, str, str], Planned] = {}
    by_source: dict[str, list[ReminderRule]] = defaultdict(list)
    for r in rules:
        if r.source in REGISTRY:
            by_source[r.source].append(r)
    for source, source_rules in by_source.items():
        # One query per source over the union of its rules' windows, then match in memory.
        lo = min(spans[r.pk][0] for r in source_rules)
        hi = max(spans[r.pk][1] for r in source_rules)
        items = list(
            REGISTRY[source].due(committee, day - timedelta(days=hi), day - timedelta(days=lo), paths)
        )
        for item in items:
            after = (day - item.due_date).days
            for r in source_rules:
                a, b = spans[r.pk]
                if not a <= after <= b:
                    continue
                for uid in recipients(people, item, r.audience):
                    key = (uid, item.key, r.kind, item.due_date.isoformat())
                    p = planned.get(key)
                    if p is None:
                        planned[key] = Planned(
                            recipient_id=uid,
                            item=item,
                            kind=r.kind,
                            period=item.due_date.isoformat(),
                            audience=r.audience,
                            rule_id=r.pk,
                            rule_name=r.name,
                            via_inbox=r.via_inbox,
                            via_email=r.via_email,
                            via_webhook=r.via_webhook,
                        )
                    else:  # two rules of the same rung: one reminder, the wider channels
                        p.via_inbox |= r.via_inbox
                        p.via_email |= r.via_email
                        p.via_webhook |= r.via_webhook
                        if AUDIENCE_RANK[r.audience] > AUDIENCE_RANK[p.audience]:
                            p.audience, p.rule_id, p.rule_name = r.audience, r.pk, r.name
    return sorted(planned.values(), key=lambda p: (p.recipient_id, p.item.due_date, p.item.key))


def describe(item: DueItem, day: date) -> str:
    """One line of a reminder, e.g. ``【逾期5天】财政局机关党支部 · 三会一课（完成时限 11-16）``."""
    after = (day - item.due_date).days
    if item.org_id is None:
        return item.title
    if after > 0:
        tag = f"【逾期{after}天】"
    elif after == 0:
        tag = "【今日到期】"
    else:
        tag = f"【{-after}天后到期】"
    return f"{tag}{item.org_name} · {item.title}（时限 {item.due_date:%Y-%m-%d}）"
