"""Notices (通报): drafted from findings and overdue items, edited, published to a subtree's inboxes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from branches.models import MessageKind, OrgUnit, RoleGrant, User, subtree_q
from branches.notify import notify, quiet_until
from campaigns import permissions, selectors
from campaigns.models import Campaign, ChecklistEntry, Finding, Notice, NoticeKind, NoticeStatus
from campaigns.models.checklists import OPEN_STATUSES
from campaigns.reminders.dispatch import committee_of, policy_for
from campaigns.services.entries import InvalidTransition, PermissionRefused

OPENING = "为压实模范机关创建责任，{committee}对{scope}{year}年度创建工作开展了年中督查。现将督查中发现的问题和逾期未完成事项通报如下："
CLOSING = (
    "请各相关党组织对照通报问题，认真查找原因，制定整改措施，明确责任人和整改时限，"
    "按期完成整改并及时上传整改佐证材料；逾期未完成的事项要立即补齐。"
    "整改情况将纳入年终述职评议和达标创星考核。"
)


def overdue_entries_in(
    *, user: User, campaign: Campaign, scope: OrgUnit, today: date
) -> QuerySet[ChecklistEntry]:
    """Open entries past their due date inside `scope` and the user's view (the "逾期事项" list)."""
    return (
        selectors.entries_visible_to(user)
        .filter(subtree_q(scope.path, "org__path"), campaign=campaign)
        .filter(due_date__lt=today, status__in=OPEN_STATUSES)
        .select_related("org", "item")
        .order_by("org__path", "due_date", "pk")
    )


def findings_in(*, user: User, campaign: Campaign, scope: OrgUnit) -> QuerySet[Finding]:
    return (
        selectors.findings_visible_to(user)
        .filter(subtree_q(scope.path, "org__path"), campaign=campaign)
        .select_related("org", "rectification")
        .order_by("org__path", "pk")
    )


def _finding_line(n: int, f: Finding) -> str:
    rect = getattr(f, "rectification", None)
    if rect is None:
        status = "尚未下发整改"
    else:
        status = rect.get_status_display()
        if rect.deadline:
            status += f"，整改时限 {rect.deadline:%Y-%m-%d}"
    return f"{n}. {f.description}（{f.get_severity_display()}；整改状态：{status}）"


def draft_body(
    *, scope: OrgUnit, campaign: Campaign, findings: list[Finding], entries: list[ChecklistEntry], today: date
) -> str:
    parts = [
        OPENING.format(
            committee=campaign.committee.name,
            scope="" if scope.pk == campaign.committee_id else f"{scope.name}",
            year=campaign.year,
        ),
        "",
    ]
    section = 1
    if findings:
        parts.append(f"{'一二三'[section - 1]}、督查发现的问题")
        section += 1
        by_org: dict[int, list[Finding]] = {}
        for f in findings:
            by_org.setdefault(f.org_id, []).append(f)
        for rows in by_org.values():
            parts.append(f"（{rows[0].org.name}）")
            parts.extend(_finding_line(i, f) for i, f in enumerate(rows, 1))
        parts.append("")
    if entries:
        parts.append(f"{'一二三'[section - 1]}、逾期未完成事项")
        section += 1
        for i, e in enumerate(entries, 1):
            days = (today - e.due_date).days if e.due_date else 0
            due = f"{e.due_date:%Y-%m-%d}" if e.due_date else "—"
            parts.append(
                f"{i}. {e.org.name}：{e.item.code} {e.item.title}（应于 {due} 完成，已逾期 {days} 天）"
            )
        parts.append("")
    parts.append(f"{'一二三'[section - 1]}、工作要求")
    parts.append(CLOSING)
    return "\n".join(parts)


@transaction.atomic
def notice_draft(
    *,
    campaign: Campaign,
    actor: User,
    scope: OrgUnit,
    kind: str = NoticeKind.WORK,
    finding_ids: Iterable[int] = (),
    entry_ids: Iterable[int] = (),
    today: date | None = None,
) -> Notice:
    """A draft pre-filled from the data; ids outside the scope or the actor's view are ignored."""
    if not permissions.can_publish_notice(actor, scope):
        raise PermissionRefused("您无权在该范围内起草通报。")
    today = today or timezone.localdate()
    findings = list(findings_in(user=actor, campaign=campaign, scope=scope).filter(pk__in=list(finding_ids)))
    entries = list(
        overdue_entries_in(user=actor, campaign=campaign, scope=scope, today=today).filter(
            pk__in=list(entry_ids)
        )
    )
    notice = Notice.objects.create(
        campaign=campaign,
        kind=kind,
        scope=scope,
        title=f"关于{campaign.year}年度模范机关创建年中督查发现问题的通报",
        body=draft_body(scope=scope, campaign=campaign, findings=findings, entries=entries, today=today),
        created_by=actor,
    )
    notice.findings.set(findings)
    notice.entries.set(entries)
    return notice


def notice_update(*, notice: Notice, actor: User, title: str, number: str, body: str, kind: str) -> Notice:
    if not permissions.can_publish_notice(actor, notice.scope):
        raise PermissionRefused("您无权修改该通报。")
    if notice.status != NoticeStatus.DRAFT:
        raise InvalidTransition("通报已发布，不能再修改。")
    notice.title, notice.number, notice.body, notice.kind = title, number, body, kind
    notice.save(update_fields=["title", "number", "body", "kind"])
    return notice


def notice_recipient_ids(notice: Notice) -> list[int]:
    """Every active user holding any role at an organisation inside the notice's scope (one query)."""
    return list(
        RoleGrant.objects.filter(subtree_q(notice.scope.path, "org__path"), user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )


@transaction.atomic
def notice_publish(*, notice: Notice, actor: User) -> Notice:
    if not permissions.can_publish_notice(actor, notice.scope):
        raise PermissionRefused("您无权发布该通报。")
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if locked.status != NoticeStatus.DRAFT:
        raise InvalidTransition("通报已发布，不能重复发布。")
    notice.status = NoticeStatus.PUBLISHED
    notice.published_by = actor
    notice.published_at = timezone.now()
    notice.save(update_fields=["status", "published_by", "published_at"])
    # Inbox rows now, in this transaction; e-mails go through the outbox, after quiet hours.
    policy = policy_for(committee_of(notice.scope))
    notify(
        recipients=notice_recipient_ids(notice),
        kind=MessageKind.NOTICE,
        title=notice.title,
        body=notice.body[:500],
        url=reverse("campaigns:notice_detail", args=[notice.pk]),
        source_key=f"notice:{notice.pk}",
        not_before=quiet_until(timezone.now(), policy.quiet_start, policy.quiet_end),
    )
    return notice
