"""年终述责 (domain.md §8): 述职报告 and 述职评议 sessions.

Report:  草稿/已退回 --submit (org officers)--> 已提交
         已提交 --return (staff above, reason)--> 已退回
         已提交 --mark reviewed (staff above)--> 已审阅
Every report write is a compare-and-set on DutyReport.version. A session collects ballots
either per rater (one per rater per reporter, changeable until closed) or as tallies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from branches.models import OrgUnit, User
from campaigns import permissions
from campaigns.models import (
    Ballot,
    BallotTally,
    Campaign,
    ChecklistEntry,
    DutyReport,
    EntryEvidence,
    EntryMode,
    Evidence,
    Finding,
    FindingSource,
    Rectification,
    RectificationStatus,
    ReportStatus,
    ReviewSession,
    SessionReporter,
    SessionStatus,
)
from campaigns.models.checklists import DONE_STATUSES, OPEN_STATUSES
from campaigns.services.entries import EntryError, InvalidTransition, PermissionRefused
from campaigns.services.rectification import finding_create

ERR_NOT_ALLOWED = "您没有权限{action}。"
ERR_TRANSITION = "述职报告当前状态为“{status}”，不能{action}。"
ERR_STALE = "该述职报告已被他人修改，您的操作未保存。请查看最新内容后重试。"
ERR_LOCKED = "本年度创建活动已归档，述职材料已锁定。"
ERR_REQUIRED = "请填写{what}。"
ERR_CLOSED = "该述职评议已结束，不能再{action}。"
ERR_MODE = "该述职评议采用“{mode}”，不能{action}。"
ERR_LABEL = "“{label}”不是本次评议的评价档次。"
ERR_NOT_RATER = "您不是本次述职评议的评议人。"
ERR_COUNT = "票数须为不小于 0 的整数。"
ERR_SCOPE = "该党组织不在本次评议范围内。"
ERR_SCALE = "评价档次至少两项且不能重复，计入好评的档次须在评价档次之中。"
ERR_THRESHOLDS = "等次标准须为 0 到 1 之间的好评率，并填写等次名称。"
ERR_DUPLICATE = "{org}已在述职人名单中。"

FOUR_PLACES = Decimal("0.0001")


class ReportError(EntryError):
    """A business-rule refusal with a Chinese `.message`."""


class StaleReport(ReportError):
    def __init__(self, current: DutyReport) -> None:
        super().__init__(ERR_STALE)
        self.current = current


def _require(allowed: bool, action: str) -> None:
    if not allowed:
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action=action))


def _require_unlocked(campaign: Campaign) -> None:
    if campaign.is_locked:
        raise InvalidTransition(ERR_LOCKED)


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ReportError(ERR_REQUIRED.format(what=what))
    return value


# --- permissions ------------------------------------------------------------------------------


def can_write_report(user: User, org: OrgUnit) -> bool:
    """The organisation's 书记/副书记 write and submit its 述职报告."""
    return permissions.is_officer_of(user, org)


def can_review_report(user: User, report: DutyReport) -> bool:
    """Staff strictly above the organisation, or 工委 staff, return or mark it reviewed."""
    return permissions.is_parent_reviewer_for(user, report.org)


# --- the factual draft ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFacts:
    entries_total: int
    entries_done: int
    entries_overdue: int
    self_points: Decimal
    first_review_points: Decimal
    review_points: Decimal
    evidence_count: int
    findings_total: int
    rectification_counts: dict[str, int]


def report_facts(*, campaign: Campaign, org: OrgUnit, today: date | None = None) -> ReportFacts:
    """The year's numbers for one organisation: one query per aggregate (entries, evidence, findings)."""
    today = today or timezone.localdate()
    zero = Decimal("0")
    e = ChecklistEntry.objects.filter(campaign=campaign, org=org).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status__in=DONE_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, due_date__lt=today)),
        self_points=Sum("self_score"),
        first_points=Sum("first_review_score"),
        review_points=Sum("review_score"),
    )
    evidence = (
        EntryEvidence.objects.filter(entry__campaign=campaign, entry__org=org)
        .values("evidence")
        .distinct()
        .count()
    )
    rect = dict(
        Rectification.objects.filter(campaign=campaign, org=org)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return ReportFacts(
        entries_total=e["total"],
        entries_done=e["done"],
        entries_overdue=e["overdue"],
        self_points=e["self_points"] or zero,
        first_review_points=e["first_points"] or zero,
        review_points=e["review_points"] or zero,
        evidence_count=evidence,
        findings_total=sum(rect.values()),
        rectification_counts=rect,
    )


def _points(value: Decimal) -> str:
    return f"{value.normalize():f}"


def draft_text(org: OrgUnit, facts: ReportFacts) -> str:
    """Chinese prose sections from the facts; the secretary edits it afterwards."""
    closed = facts.rectification_counts.get(RectificationStatus.CLOSED, 0)
    open_parts = [
        f"{label}{facts.rectification_counts[value]}个"
        for value, label in RectificationStatus.choices
        if value != RectificationStatus.CLOSED and facts.rectification_counts.get(value)
    ]
    findings = (
        f"本年度共发现问题{facts.findings_total}个，已销号{closed}个"
        + (f"，其余{'、'.join(open_parts)}。" if open_parts else "。")
        if facts.findings_total
        else "本年度未发现需要整改的问题。"
    )
    return "\n\n".join(
        [
            "一、履行责任清单情况\n"
            f"{org.name}本年度责任清单共{facts.entries_total}项，已完成{facts.entries_done}项，"
            f"逾期未完成{facts.entries_overdue}项；累计提交佐证材料{facts.evidence_count}份。",
            "二、问题整改情况\n" + findings,
            "三、考核得分情况\n"
            f"截至目前，自评得分{_points(facts.self_points)}分，"
            f"初审得分{_points(facts.first_review_points)}分，"
            f"审核得分{_points(facts.review_points)}分。",
            "四、存在的不足和下一步打算\n（请结合实际补充。）",
        ]
    )


def report_draft(*, campaign: Campaign, org: OrgUnit, actor: User) -> DutyReport:
    """Create the report with a factual draft, or refresh the body of an unsubmitted one."""
    _require(can_write_report(actor, org), "撰写述职报告")
    _require_unlocked(campaign)
    body = draft_text(org, report_facts(campaign=campaign, org=org))
    with transaction.atomic():
        report = DutyReport.objects.select_for_update().filter(campaign=campaign, org=org).first()
        if report is None:
            return DutyReport.objects.create(
                campaign=campaign,
                org=org,
                author=actor,
                title=f"{org.name}{campaign.year}年度述职报告",
                body=body,
            )
        if report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
            raise InvalidTransition(
                ERR_TRANSITION.format(status=report.get_status_display(), action="重新生成草稿")
            )
        report.body = body
        report.author = actor
        report.version = F("version") + 1
        report.save(update_fields=["body", "author", "version", "updated_at"])
        report.refresh_from_db()
        return report


def _cas(report: DutyReport, expected_version: int, **changes: Any) -> DutyReport:
    updated = DutyReport.objects.filter(pk=report.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if not updated:
        raise StaleReport(DutyReport.objects.get(pk=report.pk))
    report.refresh_from_db()
    return report


def _require_status(report: DutyReport, allowed: Iterable[str], action: str) -> None:
    if report.status not in allowed:
        raise InvalidTransition(ERR_TRANSITION.format(status=report.get_status_display(), action=action))


EDITABLE = (ReportStatus.DRAFT, ReportStatus.RETURNED)


def report_save(
    *, report: DutyReport, actor: User, expected_version: int, title: str, body: str
) -> DutyReport:
    _require(can_write_report(actor, report.org), "修改述职报告")
    _require_unlocked(report.campaign)
    _require_status(report, EDITABLE, "修改")
    return _cas(report, expected_version, title=_text(title, "标题")[:200], body=body.strip(), author=actor)


def report_attach(*, report: DutyReport, evidence: Evidence, actor: User) -> None:
    """Link an evidence of the same organisation as a file of the report."""
    _require(can_write_report(actor, report.org), "上传附件")
    _require_unlocked(report.campaign)
    _require_status(report, EDITABLE, "上传附件")
    if evidence.org_id != report.org_id:
        raise ReportError("只能使用本组织的材料作为附件。")
    report.files.add(evidence)


def report_submit(*, report: DutyReport, actor: User, expected_version: int) -> DutyReport:
    _require(can_write_report(actor, report.org), "提交述职报告")
    _require_unlocked(report.campaign)
    _require_status(report, EDITABLE, "提交")
    _text(report.body, "报告正文")
    return _cas(report, expected_version, status=ReportStatus.SUBMITTED, submitted_at=timezone.now())


def report_return(*, report: DutyReport, actor: User, expected_version: int, reason: str) -> DutyReport:
    _require(can_review_report(actor, report), "退回述职报告")
    _require_unlocked(report.campaign)
    _require_status(report, (ReportStatus.SUBMITTED,), "退回")
    return _cas(
        report, expected_version, status=ReportStatus.RETURNED, return_reason=_text(reason, "退回原因")
    )


def report_mark_reviewed(*, report: DutyReport, actor: User, expected_version: int) -> DutyReport:
    _require(can_review_report(actor, report), "审阅述职报告")
    _require_unlocked(report.campaign)
    _require_status(report, (ReportStatus.SUBMITTED,), "标记已审阅")
    return _cas(
        report,
        expected_version,
        status=ReportStatus.REVIEWED,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
        return_reason="",
    )


# --- 述职评议 sessions ------------------------------------------------------------------------


def can_run_session(user: User, scope: OrgUnit) -> bool:
    """Staff whose subtree covers the scope organise the session and enter tallies."""
    return permissions.can_inspect(user, scope)


def _check_config(scale: list[str], good_labels: list[str], thresholds: list[list[str]]) -> None:
    if len(scale) < 2 or len(set(scale)) != len(scale) or not set(good_labels) <= set(scale):
        raise ReportError(ERR_SCALE)
    try:
        rates = [Decimal(str(t[0])) for t in thresholds]
    except (ArithmeticError, IndexError, TypeError):
        raise ReportError(ERR_THRESHOLDS) from None
    if (
        not thresholds
        or any(not (0 <= r <= 1) for r in rates)
        or any(not str(t[1]).strip() for t in thresholds)
    ):
        raise ReportError(ERR_THRESHOLDS)


def session_create(
    *,
    campaign: Campaign,
    scope: OrgUnit,
    title: str,
    held_on: date,
    actor: User,
    entry_mode: str = EntryMode.PER_RATER,
    scale: list[str] | None = None,
    good_labels: list[str] | None = None,
    thresholds: list[list[str]] | None = None,
    raters: Iterable[User] = (),
) -> ReviewSession:
    _require(can_run_session(actor, scope), "组织述职评议")
    _require_unlocked(campaign)
    if not scope.path.startswith(campaign.committee.path):
        raise ReportError(ERR_SCOPE)
    session = ReviewSession(campaign=campaign, scope=scope, title=_text(title, "名称")[:200], held_on=held_on)
    session.entry_mode = entry_mode
    session.created_by = actor
    if scale is not None:
        session.scale = scale
        session.good_labels = good_labels if good_labels is not None else scale[:2]
    elif good_labels is not None:
        session.good_labels = good_labels
    if thresholds is not None:
        session.thresholds = thresholds
    _check_config(session.scale, session.good_labels, session.thresholds)
    with transaction.atomic():
        session.save()
        session.raters.set(list(raters))
    return session


def _require_open(session: ReviewSession, action: str) -> None:
    if session.status != SessionStatus.OPEN:
        raise InvalidTransition(ERR_CLOSED.format(action=action))


def session_add_reporters(
    *, session: ReviewSession, reporters: Iterable[tuple[OrgUnit, User | None, str]], actor: User
) -> list[SessionReporter]:
    """Add (org, reporter user, reporter name) rows; organisations must be inside the scope."""
    _require(can_run_session(actor, session.scope), "添加述职人")
    _require_unlocked(session.campaign)
    _require_open(session, "添加述职人")
    rows = list(reporters)
    if any(not org.path.startswith(session.scope.path) for org, _, _ in rows):
        raise ReportError(ERR_SCOPE)
    taken = set(session.reporters.values_list("org_id", flat=True))
    for org, _, _ in rows:
        if org.pk in taken:
            raise ReportError(ERR_DUPLICATE.format(org=org.name))
        taken.add(org.pk)
    start = session.reporters.count()
    created = []
    with transaction.atomic():
        for i, (org, user, name) in enumerate(rows, start=start + 1):
            name = (name or "").strip() or (user.display_name if user else "")
            created.append(
                SessionReporter.objects.create(
                    session=session, org=org, reporter=user, reporter_name=name[:50], sort_order=i
                )
            )
    return created


def ballot_cast(*, reporter: SessionReporter, rater: User, label: str) -> Ballot:
    """A rater's vote; casting again before the session closes replaces it."""
    session = reporter.session
    if not session.raters.filter(pk=rater.pk).exists():
        raise PermissionRefused(ERR_NOT_RATER)
    _require_unlocked(session.campaign)
    _require_open(session, "投票")
    if session.entry_mode != EntryMode.PER_RATER:
        raise InvalidTransition(ERR_MODE.format(mode=session.get_entry_mode_display(), action="逐人投票"))
    if label not in session.scale:
        raise ReportError(ERR_LABEL.format(label=label))
    ballot, _ = Ballot.objects.update_or_create(reporter=reporter, rater=rater, defaults={"label": label})
    return ballot


def tally_set(*, reporter: SessionReporter, counts: Mapping[str, int], actor: User) -> None:
    """Replace the counted votes of one reporter (labels not given count 0)."""
    session = reporter.session
    _require(can_run_session(actor, session.scope), "录入票数")
    _require_unlocked(session.campaign)
    _require_open(session, "录入票数")
    if session.entry_mode != EntryMode.TALLY:
        raise InvalidTransition(ERR_MODE.format(mode=session.get_entry_mode_display(), action="录入票数"))
    unknown = [label for label in counts if label not in session.scale]
    if unknown:
        raise ReportError(ERR_LABEL.format(label=unknown[0]))
    if any(not isinstance(n, int) or n < 0 for n in counts.values()):
        raise ReportError(ERR_COUNT)
    with transaction.atomic():
        BallotTally.objects.filter(reporter=reporter).delete()
        BallotTally.objects.bulk_create(
            BallotTally(reporter=reporter, label=label, count=counts.get(label, 0)) for label in session.scale
        )


def session_close(*, session: ReviewSession, actor: User) -> ReviewSession:
    _require(can_run_session(actor, session.scope), "结束述职评议")
    _require_open(session, "结束")
    session.status = SessionStatus.CLOSED
    session.save(update_fields=["status"])
    return session


@dataclass(frozen=True)
class ResultRow:
    reporter: SessionReporter
    counts: dict[str, int]
    total: int
    good_rate: Decimal | None
    grade: str

    @property
    def good_rate_display(self) -> str:
        if self.good_rate is None:
            return "—"
        return f"{(self.good_rate * 100).quantize(Decimal('0.01'))}%"


def grade_for(session: ReviewSession, rate: Decimal | None) -> str:
    """The first threshold (highest first) whose minimum the rate reaches; inclusive."""
    if rate is None:
        return "—"
    for minimum, grade in sorted(session.thresholds, key=lambda t: Decimal(str(t[0])), reverse=True):
        if rate >= Decimal(str(minimum)):
            return str(grade)
    return "—"


def session_results(session: ReviewSession) -> list[ResultRow]:
    """Counts per label, total, good rate (4 places) and grade per reporter; one aggregate query."""
    reporters = list(session.reporters.select_related("org", "reporter"))
    pairs: Iterable[dict[str, Any]]
    if session.entry_mode == EntryMode.TALLY:
        pairs = (
            BallotTally.objects.filter(reporter__session=session)
            .values("reporter_id", "label")
            .annotate(n=Sum("count"))
        )
    else:
        pairs = (
            Ballot.objects.filter(reporter__session=session)
            .values("reporter_id", "label")
            .annotate(n=Count("pk"))
        )
    counts: dict[int, dict[str, int]] = {r.pk: dict.fromkeys(session.scale, 0) for r in reporters}
    for p in pairs:
        if p["reporter_id"] in counts and p["label"] in counts[p["reporter_id"]]:
            counts[p["reporter_id"]][p["label"]] = int(p["n"] or 0)
    rows = []
    for r in reporters:
        c = counts[r.pk]
        total = sum(c.values())
        good = sum(c[label] for label in session.good_labels if label in c)
        rate = (Decimal(good) / Decimal(total)).quantize(FOUR_PLACES, ROUND_HALF_UP) if total else None
        rows.append(
            ResultRow(reporter=r, counts=c, total=total, good_rate=rate, grade=grade_for(session, rate))
        )
    return rows


def review_finding_create(
    *,
    reporter: SessionReporter,
    description: str,
    actor: User,
    category: str = "",
    severity: str = "minor",
    deadline: date | None = None,
) -> Finding:
    """A 述职点评 problem for the reporter's organisation; it flows into rectification."""
    session = reporter.session
    return finding_create(
        campaign=session.campaign,
        org=reporter.org,
        source=FindingSource.DUTY_REPORT,
        description=description,
        actor=actor,
        category=category,
        severity=severity,
        deadline=deadline,
    )


# --- visibility -------------------------------------------------------------------------------
