"""Recurring obligations (经常性工作, domain.md §10): the calendar, an organisation's year, records.

Reads build the year grid of one organisation (each applicable obligation × its periods, with the
status of each period); writes edit the 工委's calendar and record or remove a period. A recorded
period needs no reminder: the obligation source checks the records when it composes, so the
pending reminder of that period is cancelled on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from branches.audit import audit_record
from branches.models import (
    OFFICER_ROLES,
    STAFF_ROLES,
    AuditAction,
    MemberCategory,
    OrgUnit,
    User,
)
from branches.selectors import grants_of
from campaigns.models import Obligation, ObligationFrequency, ObligationRecord
from campaigns.reminders import calendar
from campaigns.reminders.sources import obligations_met, period_label

SETTINGS_ACTION = AuditAction.SETTINGS

OBLIGATION_FIELDS = (
    "name",
    "applies_to",
    "frequency",
    "due_day",
    "due_month",
    "min_full_members",
    "item_code",
    "description",
    "is_active",
    "sort_order",
)


class ObligationError(Exception):
    """A refused write, with a message for the user (Chinese)."""


# --- permissions (pure) -------------------------------------------------------------------------


def can_record_for(user: User, org: OrgUnit) -> bool:
    """The organisation's officers (书记/副书记/支委委员/联络员) and staff whose subtree covers it."""
    if user.is_superuser and user.is_active:
        return True
    return any(
        (g.org_id == org.pk and g.role in OFFICER_ROLES)
        or (g.role in STAFF_ROLES and org.path.startswith(g.org_path))
        for g in grants_of(user)
    )


# --- reads --------------------------------------------------------------------------------------


def due_rule_label(ob: Obligation) -> str:
    """截止 in words, e.g. 每期末月15日 / 期末最后一天 / 每年12月31日."""
    day = f"{ob.due_day}日" if ob.due_day else "最后一天"
    if ob.frequency == ObligationFrequency.YEARLY:
        return f"每年{ob.due_month}月{day}"
    if ob.frequency == ObligationFrequency.MONTHLY:
        return f"每月{day}" if ob.due_day else "每月最后一天"
    return f"每期末月{day}" if ob.due_day else "期末最后一天"


def full_member_count(org: OrgUnit) -> int:
    return org.members.filter(is_active=True, category=MemberCategory.FULL).count()


def obligations_for_org(committee: OrgUnit, org: OrgUnit) -> list[Obligation]:
    """The active obligations of the 工委 that apply to this organisation (kind, member threshold)."""
    obligations = list(Obligation.objects.filter(committee=committee, is_active=True, applies_to=org.kind))
    if any(ob.min_full_members for ob in obligations):
        full = full_member_count(org)
        obligations = [ob for ob in obligations if full >= ob.min_full_members]
    return obligations


class CellStatus:
    RECORDED = "recorded"
    CHECKLIST = "checklist"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"


STATUS_LABELS = {
    CellStatus.RECORDED: "已开展",
    CellStatus.CHECKLIST: "已完成（清单）",
    CellStatus.OVERDUE: "逾期未开展",
    CellStatus.UPCOMING: "未到期",
}


@dataclass
class Cell:
    obligation: Obligation
    period: calendar.Period
    due: date
    status: str
    record: ObligationRecord | None = None

    @property
    def key(self) -> str:
        return self.period.key

    @property
    def label(self) -> str:
        return period_label(self.period.key)

    @property
    def short_label(self) -> str:
        _, _, rest = self.period.key.partition("-")
        if not rest:
            return "全年"
        if rest.startswith("Q"):
            return f"第{rest[1:]}季度"
        if rest.startswith("H"):
            return "上半年" if rest == "H1" else "下半年"
        return f"{int(rest)}月"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_done(self) -> bool:
        return self.status in (CellStatus.RECORDED, CellStatus.CHECKLIST)


@dataclass
class Row:
    obligation: Obligation
    cells: list[Cell] = field(default_factory=list)


@dataclass
class YearGrid:
    year: int
    rows: list[Row]

    @property
    def total(self) -> int:
        return sum(len(r.cells) for r in self.rows)

    @property
    def done(self) -> int:
        return sum(1 for r in self.rows for c in r.cells if c.is_done)

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.rows for c in r.cells if c.status == CellStatus.OVERDUE)


def year_grid(*, obligations: list[Obligation], org: OrgUnit, year: int, today: date) -> YearGrid:
    """Each obligation × its periods of ``year``, with the status of each period (a few queries)."""
    records = {
        (r.obligation_id, r.period_key): r
        for r in ObligationRecord.objects.filter(
            org=org, obligation__in=obligations, period_key__startswith=str(year)
        )
    }
    plan = [
        (ob, period, calendar.due_date(ob.frequency, period, due_day=ob.due_day, due_month=ob.due_month))
        for ob in obligations
        for period in calendar.periods_in_year(ob.frequency, year)
    ]
    met = obligations_met((ob.pk, org.pk, p.key) for ob, p, _ in plan)
    rows: dict[int, Row] = {ob.pk: Row(obligation=ob) for ob in obligations}
    for ob, period, due in plan:
        record = records.get((ob.pk, period.key))
        if record is not None:
            status = CellStatus.RECORDED
        elif (ob.pk, org.pk, period.key) in met:
            status = CellStatus.CHECKLIST
        elif due < today:
            status = CellStatus.OVERDUE
        else:
            status = CellStatus.UPCOMING
        rows[ob.pk].cells.append(Cell(obligation=ob, period=period, due=due, status=status, record=record))
    return YearGrid(year=year, rows=list(rows.values()))


def period_for(obligation: Obligation, key: str) -> calendar.Period | None:
    """The calendar period of ``obligation`` with this key, or None when the key is not one of its."""
    year_text = key[:4]
    if len(year_text) != 4 or not year_text.isdigit():
        return None
    year = int(year_text)
    if not 2000 <= year <= 2100:
        return None
    for period in calendar.periods_in_year(obligation.frequency, year):
        if period.key == key:
            return period
    return None


# --- writes: the calendar (committee admins) ------------------------------------------------------


def _changes(obligation: Obligation, data: dict[str, Any]) -> dict[str, Any]:
    return {
        name: data[name]
        for name in OBLIGATION_FIELDS
        if name in data and getattr(obligation, name) != data[name]
    }


@transaction.atomic
def obligation_create(*, committee: OrgUnit, actor: User, data: dict[str, Any]) -> Obligation:
    if Obligation.objects.filter(committee=committee, name=data["name"]).exists():
        raise ObligationError("已有同名的经常性工作。")
    obligation = Obligation(committee=committee, **{k: v for k, v in data.items() if k in OBLIGATION_FIELDS})
    try:
        with transaction.atomic():
            obligation.save()
    except IntegrityError as exc:
        raise ObligationError("已有同名的经常性工作。") from exc
    audit_record(
        action=SETTINGS_ACTION,
        actor=actor,
        target=obligation,
        detail={"object": "经常性工作", "name": obligation.name, "change": "新增"},
    )
    return obligation


@transaction.atomic
def obligation_update(*, obligation: Obligation, actor: User, data: dict[str, Any]) -> Obligation:
    changes = _changes(obligation, data)
    if not changes:
        return obligation
    if (
        "name" in changes
        and Obligation.objects.filter(committee_id=obligation.committee_id, name=changes["name"])
        .exclude(pk=obligation.pk)
        .exists()
    ):
        raise ObligationError("已有同名的经常性工作。")
    before = {name: getattr(obligation, name) for name in changes}
    for name, value in changes.items():
        setattr(obligation, name, value)
    try:
        with transaction.atomic():
            obligation.save(update_fields=list(changes))
    except IntegrityError as exc:
        raise ObligationError("已有同名的经常性工作。") from exc
    audit_record(
        action=SETTINGS_ACTION,
        actor=actor,
        target=obligation,
        detail={
            "object": "经常性工作",
            "name": obligation.name,
            "change": "修改",
            "fields": {k: [str(before[k]), str(v)] for k, v in changes.items()},
        },
    )
    return obligation


# --- writes: records (the organisation's officers) ------------------------------------------------


@transaction.atomic
def obligation_record_create(
    *,
    obligation: Obligation,
    org: OrgUnit,
    period_key: str,
    held_on: date,
    note: str,
    actor: User,
    today: date,
) -> ObligationRecord:
    period = period_for(obligation, period_key)
    if period is None:
        raise ObligationError("期次不正确。")
    if held_on > today:
        raise ObligationError("开展日期不能晚于今天。")
    if held_on < period.start:
        raise ObligationError(f"开展日期不能早于该期开始日期（{period.start:%Y-%m-%d}）。")
    try:
        with transaction.atomic():
            record = ObligationRecord.objects.create(
                obligation=obligation,
                org=org,
                period_key=period.key,
                held_on=held_on,
                note=note,
                recorded_by=actor,
            )
    except IntegrityError as exc:
        raise ObligationError(
            f"{obligation.name}（{period_label(period.key)}）已登记，如需修改请先删除原记录。"
        ) from exc
    audit_record(
        action=SETTINGS_ACTION,
        actor=actor,
        target=record,
        detail={
            "object": "经常性工作记录",
            "org": org.code,
            "name": obligation.name,
            "key": period.key,
            "change": "登记",
        },
    )
    return record


@transaction.atomic
def obligation_record_delete(*, record: ObligationRecord, actor: User) -> None:
    detail = {
        "object": "经常性工作记录",
        "org": record.org.code,
        "name": record.obligation.name,
        "key": record.period_key,
        "held_on": record.held_on.isoformat(),
        "change": "删除",
    }
    audit_record(action=SETTINGS_ACTION, actor=actor, target=record, detail=detail)
    record.delete()


__all__ = [
    "STATUS_LABELS",
    "Cell",
    "CellStatus",
    "ObligationError",
    "YearGrid",
    "can_record_for",
    "due_rule_label",
    "obligation_create",
    "obligation_record_create",
    "obligation_record_delete",
    "obligation_update",
    "obligations_for_org",
    "period_for",
    "year_grid",
]
