"""The reminders demo (domain.md §10, §14) over the demo tree and campaign.

The default rules and obligations calendar of the 工委; an e-mail address for every demo account
(the embedded runtime prints e-mail to the Celery log); 三会一课, 主题党日 and the other periodic
obligations recorded by most organisations for the periods already due, with some left undone so
that the calendar shows 逾期未开展 and the reminders have something to chase; a few deadlines the
featured branches set themselves, placed around today so that every rung of the escalation
ladder (责任人, 书记, 机关党委, 工委红名单) has something to say whatever the date; one 企业微信 group
robot, switched off, as an example; and the dispatcher's last week, run inline day by day, so
that the inbox, 我的提醒, the preview and the delivery log have realistic content.

Obligation records are written in bulk (a few thousand rows; one audit event each would bury
the audit log), everything else through the services. Deterministic: a fixed seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from branches.demo import AUDIT_BRANCH_CODE, BUDGET_BRANCH_CODE, ROOT_CODE
from branches.models import (
    Delivery,
    DeliveryStatus,
    DigestMode,
    MemberCategory,
    Message,
    MessageKind,
    OrgKind,
    OrgUnit,
    Outbox,
    OutboxStatus,
    Role,
    RoleGrant,
    User,
    WebhookPlatform,
    subtree_q,
)
from branches.notify_services import preference_save, webhook_create
from campaigns.models import (
    Campaign,
    ChecklistEntry,
    DispatchRun,
    Obligation,
    ObligationFrequency,
    ObligationRecord,
    Reminder,
    ReminderRule,
)
from campaigns.models.checklists import OPEN_STATUSES
from campaigns.reminders import calendar
from campaigns.reminders.dispatch import dispatch_day, policy_for
from campaigns.services.entries import entry_assign

DEMO_REMINDERS_SEED = 20260908
EMAIL_DOMAIN = "xunyang.example"  # reserved (RFC 2606): never a real mailbox
HISTORY_DAYS = 7  # the dispatcher's days replayed, ending today
MISS_SHARE = 0.05  # a past period left undone at random
LAGGING_SHARE = 0.12  # organisations that also left their last two periods undone
EARLY_SHARE = 0.35  # the current period already held
READ_SHARE = 0.7  # reminders older than two days already read
# 财政局机关党委: its 党建品牌 "党领财兴" (seeds/003) names the example robot.
ROBOT_ORG_CODE = "XYJ01"
ROBOT_NAME = "“党领财兴”党建工作群"
ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=00000000-0000-0000-0000-000000000000"
ROBOT_ACTOR = "czj_staff"
WEEKLY_DIGEST_USERNAME = "rsj_staff"  # one person who chose a weekly digest
LAGGING_CODES = (BUDGET_BRANCH_CODE,)  # the featured branch has something overdue to show
# Deadlines the featured branches set themselves (支部自定完成时限) on open entries, in days from
# today, so that every rung of the ladder has something to say today, whatever the date:
# (branch, 责任人 username or None for the secretary, days).
OWN_DEADLINES: tuple[tuple[str, str | None, int], ...] = (
    (BUDGET_BRANCH_CODE, "ysg_member", 3),  # 3 days ahead → the 责任人
    (BUDGET_BRANCH_CODE, "ysg_liaison", 0),  # due today → the 责任人
    (BUDGET_BRANCH_CODE, None, -3),  # 3 days overdue → the secretary
    (BUDGET_BRANCH_CODE, None, -7),  # 7 days overdue → the 机关党委's staff
    (AUDIT_BRANCH_CODE, None, -14),  # 14 days overdue → the 工委 red list
)
THEMES = (
    "重温入党誓词",
    "学习党的二十届三中全会精神",
    "“旬速办”窗口志愿服务",
    "红色教育基地参观学习",
    "“党领财兴”主题研讨",
    "学习《中国共产党纪律处分条例》",
    "结对社区共建活动",
)


@dataclass
class RemindersDemoResult:
    rules: int = 0
    obligations: int = 0
    emails_set: int = 0
    records: int = 0
    missed: int = 0
    deadlines: int = 0
    runs: int = 0
    reminders: int = 0
    messages: int = 0
    emails_queued: int = 0
    robot: str = ""


def demo_reminders_exists() -> bool:
    return ObligationRecord.objects.filter(org__path__startswith=_root_path()).exists()


def _root_path() -> str:
    root = OrgUnit.objects.filter(code=ROOT_CODE).only("path").first()
    return root.path if root else "/-none-/"


def _give_addresses(root: OrgUnit) -> int:
    """An e-mail address for every demo account with a grant in the tree that has none."""
    users = list(
        User.objects.filter(email="", grants__org__path__startswith=root.path).distinct().only("username")
    )
    for user in users:
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@{EMAIL_DOMAIN}")
    return len(users)


def _orgs_by_obligation(root: OrgUnit, obligations: list[Obligation]) -> dict[int, list[tuple[int, str]]]:
    """For each obligation, the (id, code) of the organisations it applies to (kind, full members)."""
    kinds = {ob.applies_to for ob in obligations}
    rows = list(
        OrgUnit.objects.filter(subtree_q(root.path), kind__in=kinds, is_active=True)
        .annotate(
            full=Count("members", filter=Q(members__is_active=True, members__category=MemberCategory.FULL))
        )
        .order_by("path")
        .values_list("pk", "code", "kind", "full")
    )
    return {
        ob.pk: [
            (pk, code)
            for pk, code, kind, full in rows
            if kind == ob.applies_to and full >= ob.min_full_members
        ]
        for ob in obligations
    }


def _periods(
    ob: Obligation, today: date
) -> tuple[list[tuple[calendar.Period, date]], calendar.Period | None]:
    """The periods due before ``today`` (this year, and the end of last year), and the current one."""
    past: list[tuple[calendar.Period, date]] = []
    current = None
    for year in (today.year - 1, today.year):
        for period in calendar.periods_in_year(ob.frequency, year):
            due = calendar.due_date(ob.frequency, period, due_day=ob.due_day, due_month=ob.due_month)
            if due < today and due >= date(today.year, 1, 1) - timedelta(days=45):
                past.append((period, due))
            elif due >= today and period.start <= today and year == today.year:
                current = period
    return past, current


def _record_obligations(root: OrgUnit, today: date, rng: random.Random) -> tuple[int, int]:
    """Records of the periodic obligations for most organisations; returns (written, left undone)."""
    obligations = list(
        Obligation.objects.filter(committee=root, is_active=True)
        .exclude(frequency=ObligationFrequency.YEARLY)
        .order_by("sort_order", "pk")
    )
    applies = _orgs_by_obligation(root, obligations)
    secretaries = dict(
        RoleGrant.objects.filter(org__path__startswith=root.path, role=Role.SECRETARY)
        .order_by("org_id", "pk")
        .values_list("org_id", "user_id")
    )
    every_org = sorted({org for orgs in applies.values() for org in orgs})
    lagging = {pk for pk, code in every_org if code in LAGGING_CODES or rng.random() < LAGGING_SHARE}
    rows: list[ObligationRecord] = []
    missed = 0
    for ob in obligations:
        past, current = _periods(ob, today)
        recent = {p.key for p, _ in past[-2:]}
        for org_id, _ in applies[ob.pk]:
            for period, due in past:
                if (org_id in lagging and period.key in recent) or rng.random() < MISS_SHARE:
                    missed += 1
                    continue
                rows.append(
                    _record(ob, org_id, period, min(due, today - timedelta(days=1)), secretaries, rng)
                )
            if current is not None and org_id not in lagging and rng.random() < EARLY_SHARE:
                rows.append(_record(ob, org_id, current, today - timedelta(days=1), secretaries, rng))
    ObligationRecord.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows), missed


def _record(
    ob: Obligation,
    org_id: int,
    period: calendar.Period,
    latest: date,
    secretaries: dict[int, int],
    rng: random.Random,
) -> ObligationRecord:
    first = period.start
    span = max((latest - first).days, 0)
    held = first + timedelta(days=rng.randint(0, span)) if latest >= first else first
    note = f"主题：{rng.choice(THEMES)}" if ob.name == "主题党日" else ""
    return ObligationRecord(
        obligation=ob,
        org_id=org_id,
        period_key=period.key,
        held_on=held,
        note=note,
        recorded_by_id=secretaries.get(org_id),
    )


def _own_deadlines(root: OrgUnit, today: date) -> int:
    """The featured branches' own deadlines on open entries, set by their secretaries (明责)."""
    campaign = Campaign.objects.filter(committee=root, year=today.year).first()
    if campaign is None:
        return 0
    used: set[int] = set()
    count = 0
    for code, username, days in OWN_DEADLINES:
        secretary = (
            RoleGrant.objects.filter(org__code=code, role=Role.SECRETARY, user__is_active=True)
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if secretary is None:
            continue
        entry = (
            ChecklistEntry.objects.filter(campaign=campaign, org__code=code, status__in=OPEN_STATUSES)
            .exclude(pk__in=used)
            .select_related("checklist__org", "org", "campaign")
            .order_by("-due_date", "item__sort_order", "period")
            .first()
        )
        if entry is None:
            continue
        responsible = User.objects.filter(username=username).first() if username else None
        entry_assign(
            entry=entry,
            actor=secretary.user,
            expected_version=entry.version,
            responsible=responsible,
            due_date=today + timedelta(days=days),
        )
        used.add(entry.pk)
        count += 1
    return count


def _at(day: date, clock: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock), timezone.get_current_timezone())


def _replay(root: OrgUnit, today: date, rng: random.Random) -> int:
    """The dispatcher's last days, one inline run each; the earlier days' rows dated as they were."""
    policy = policy_for(root)
    runs = 0
    for back in range(HISTORY_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        when = _at(day, policy.dispatch_time) if back else timezone.now()
        last_message = Message.objects.aggregate(m=Max("id"))["m"] or 0
        last_delivery = Delivery.objects.aggregate(m=Max("id"))["m"] or 0
        last_job = Outbox.objects.aggregate(m=Max("id"))["m"] or 0
        run = dispatch_day(committee=root, day=day, inline=True, now=when)
        runs += 1
        if not back:
            continue  # today's e-mails wait for the worker, like any day's
        # An earlier day: what it wrote then, it wrote at the dispatch time, and its e-mails went out.
        done = when + timedelta(seconds=rng.randint(20, 90))
        DispatchRun.objects.filter(pk=run.pk).update(started_at=when, finished_at=done)
        Reminder.objects.filter(run=run).update(created_at=when)
        messages = Message.objects.filter(pk__gt=last_message, kind=MessageKind.REMINDER)
        messages.update(created_at=done)
        if back >= 2:
            ids = list(messages.values_list("pk", flat=True))
            read = [pk for pk in ids if rng.random() < READ_SHARE]
            Message.objects.filter(pk__in=read).update(read_at=done + timedelta(hours=rng.randint(1, 8)))
        Delivery.objects.filter(pk__gt=last_delivery).update(
            status=DeliveryStatus.SENT, attempts=1, not_before=done, sent_at=done, created_at=done
        )
        Outbox.objects.filter(pk__gt=last_job).update(
            status=OutboxStatus.DONE, attempts=1, published_at=done, claimed_at=done, done_at=done
        )
    return runs


@transaction.atomic
def demo_reminders_load(*, today: date, seed: int = DEMO_REMINDERS_SEED) -> RemindersDemoResult:
    """The reminders demo over an already loaded demo tree and campaign."""
    rng = random.Random(seed)
    root = OrgUnit.objects.get(code=ROOT_CODE)
    result = RemindersDemoResult()
    policy_for(root)  # the default rules and obligations calendar
    result.rules = ReminderRule.objects.filter(committee=root, is_active=True).count()
    result.obligations = Obligation.objects.filter(committee=root, is_active=True).count()
    result.emails_set = _give_addresses(root)
    weekly = User.objects.filter(username=WEEKLY_DIGEST_USERNAME).first()
    if weekly is not None:
        preference_save(user=weekly, email_enabled=True, digest=DigestMode.WEEKLY)
    result.records, result.missed = _record_obligations(root, today, rng)
    result.deadlines = _own_deadlines(root, today)
    robot_org = OrgUnit.objects.filter(code=ROBOT_ORG_CODE).first()
    actor = User.objects.filter(username=ROBOT_ACTOR).first()
    if robot_org is not None and robot_org.kind == OrgKind.AGENCY_COMMITTEE and actor is not None:
        hook = webhook_create(
            org=robot_org,
            actor=actor,
            platform=WebhookPlatform.WECOM,
            name=ROBOT_NAME,
            url=ROBOT_URL,
            secret="",
            is_active=False,
        )
        result.robot = f"{robot_org.name} · {hook.name}"
    first_reminder = Reminder.objects.aggregate(m=Max("id"))["m"] or 0
    first_message = Message.objects.aggregate(m=Max("id"))["m"] or 0
    first_delivery = Delivery.objects.aggregate(m=Max("id"))["m"] or 0
    result.runs = _replay(root, today, rng)
    result.reminders = Reminder.objects.filter(pk__gt=first_reminder).count()
    result.messages = Message.objects.filter(pk__gt=first_message, kind=MessageKind.REMINDER).count()
    result.emails_queued = Delivery.objects.filter(
        pk__gt=first_delivery, status=DeliveryStatus.PENDING
    ).count()
    return result
