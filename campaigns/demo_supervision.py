"""The demo of mid-year supervision (年中督责, domain.md §7) over the demo campaign.

One 督查 round by 工委 staff over a seeded 10% sample of the branches, findings recorded on the
visits, then the rectification loop played through the real services by the people who would
act (secretaries write plans and ask for close-out, 工委 staff approve, refuse and close out),
so that every rectification state is present. Plus a self-check finding, one published 通报,
one 约谈 and the 年中晒进度 snapshot of June 30. Deterministic: a fixed seed drives every choice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from branches.demo import BUDGET_BRANCH_CODE, ROOT_CODE
from branches.models import Message, OrgKind, OrgUnit, Role, RoleGrant, User
from campaigns.demo import ADMIN_USERNAME, COMMITTEE_STAFF_USERNAME, demo_pdf, demo_png
from campaigns.models import (
    Campaign,
    ChecklistItem,
    Evidence,
    Finding,
    FindingSource,
    Inspection,
    InspectionKind,
    Interview,
    Rectification,
    SampleMode,
)
from campaigns.models.supervision import CheckOutcome, InspectionCheckItem, Severity
from campaigns.services import inspections as insp
from campaigns.services import rectification as rs
from campaigns.services.evidence import evidence_upload
from campaigns.services.interviews import interview_create
from campaigns.services.notices import notice_draft, notice_publish, notice_update, overdue_entries_in
from campaigns.services.snapshots import snapshot_take

DEMO_SUPERVISION_SEED = 20260615
INSPECTION_SEED = 20260616  # stored on the round: its draw can be reproduced
INSPECTION_TITLE = "{year}年度模范机关创建年中督查"
CHECK_ITEM_CODES = ("ZZ01", "SX01", "ZJ01", "ZJ04", "JL01")
OWN_CHECK_ITEM = "党建工作与业务工作深度融合情况"
SAMPLE_PERCENT = 10

# (problem, category, severity, check item code or None for the own item)
PROBLEMS: tuple[tuple[str, str, str, str | None], ...] = (
    ("“第一议题”学习只学不议，未结合本单位实际研究贯彻措施。", "政治建设", Severity.MAJOR, "ZZ01"),
    ("3月、4月“第一议题”学习无会议记录。", "政治建设", Severity.MINOR, "ZZ01"),
    ("集中学习签到表与会议记录人数不一致。", "思想建设", Severity.MINOR, "SX01"),
    ("集中学习研讨发言材料缺失，学习流于形式。", "思想建设", Severity.MAJOR, "SX01"),
    ("第一季度支部党员大会未召开。", "组织建设", Severity.SERIOUS, "ZJ01"),
    ("支部党员大会会议记录不规范，缺少表决情况。", "组织建设", Severity.MINOR, "ZJ01"),
    ("主题党日活动主题不鲜明，连续两个月内容雷同。", "组织建设", Severity.MINOR, "ZJ04"),
    ("主题党日活动照片和记录未及时归档。", "组织建设", Severity.MINOR, "ZJ04"),
    ("上半年未开展廉政党课或警示教育。", "纪律建设", Severity.MAJOR, "JL01"),
    ("警示教育记录缺少参加人员签到。", "纪律建设", Severity.MINOR, "JL01"),
    ("党建工作与业务工作“两张皮”，年度工作计划未体现党建任务。", "作风建设", Severity.MAJOR, None),
    ("党员活动室制度上墙内容陈旧，未及时更新。", "作风建设", Severity.MINOR, None),
    ("党建园地宣传内容超过半年未更新。", "思想建设", Severity.MINOR, None),
    ("党费收缴公示不及时，个别月份未公示。", "组织建设", Severity.MINOR, None),
)

# How far each rectification is played, in finding order (the loop ends in every state).
PLAN_PENDING, PLAN_REJECTED, SUBMITTED, IN_PROGRESS = "pending", "plan_rejected", "submitted", "progress"
EXTENDED, EXTENSION_REFUSED, OVERDUE, CLOSE_REQUESTED = "extended", "refused", "overdue", "close_req"
CLOSED, REOPENED, IMMEDIATE_CLOSED, IMMEDIATE_OPEN = "closed", "reopened", "imm_closed", "imm_open"
SCENARIOS = (
    CLOSED,
    PLAN_PENDING,
    SUBMITTED,
    IN_PROGRESS,
    EXTENDED,
    EXTENSION_REFUSED,
    OVERDUE,
    CLOSE_REQUESTED,
    REOPENED,
    IMMEDIATE_CLOSED,
    PLAN_REJECTED,
    OVERDUE,
    IMMEDIATE_OPEN,
    CLOSED,
)
IMMEDIATE = (IMMEDIATE_CLOSED, IMMEDIATE_OPEN)
# The open findings a notice names (overdue, refused, reopened, no plan yet).
NOTICED = (OVERDUE, IMMEDIATE_OPEN, EXTENSION_REFUSED, REOPENED, PLAN_REJECTED, PLAN_PENDING)
NOTICED_ENTRIES = 6

MEASURES = (
    "一是召开支委会专题研究，逐条对照问题查找原因；二是建立工作台账，明确完成时限；三是由书记每月检查落实情况。",
    "立即补齐缺失的会议记录和签到表，完善学习研讨材料，今后每次活动结束后三日内归档。",
    "制定专项整改计划，组织全体党员集中补学，邀请上级党组织派员指导。",
)
LEADERS = ("分管副局长", "机关党委书记", "局党组成员")
SUMMARIES = (
    "基础工作较扎实，台账资料齐全，个别记录不够规范。",
    "“三会一课”基本落实，但学习研讨深度不够。",
    "支部工作有特色，宣传阵地需及时更新。",
    "部分制度执行不到位，需加强日常管理。",
)


@dataclass
class SupervisionResult:
    inspection: Inspection
    findings: int = 0
    photos: int = 0
    notice_recipients: int = 0
    snapshot_rows: int = 0


def demo_supervision_exists() -> bool:
    return Inspection.objects.exists()


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _secretary(org: OrgUnit) -> User:
    grant = (
        RoleGrant.objects.filter(org=org, role=Role.SECRETARY, user__is_active=True).order_by("pk").first()
    )
    if grant is None:
        raise LookupError(f"no secretary for {org.code}")
    return grant.user


def _evidence(org: OrgUnit, actor: User, n: int) -> Evidence:
    pdf = SimpleUploadedFile(
        f"整改报告-{n}.pdf", demo_pdf(f"rectification {n}"), content_type="application/pdf"
    )
    return evidence_upload(org=org, file=pdf, title="整改情况报告及佐证材料", actor=actor)


def _fresh(rect: Rectification) -> Rectification:
    return Rectification.objects.select_related("finding__target__inspection", "campaign", "org").get(
        pk=rect.pk
    )


def _plan(rect: Rectification, secretary: User, rng: random.Random, deadline: date) -> Rectification:
    return rs.rectification_submit_plan(
        rect=_fresh(rect),
        actor=secretary,
        expected_version=rect.version,
        measures=rng.choice(MEASURES),
        responsible_name=secretary.display_name,
        leader_name=rng.choice(LEADERS),
        deadline=deadline,
    )


def _play(finding: Finding, scenario: str, *, staff: User, rng: random.Random, today: date, n: int) -> None:
    """Walk one rectification as far as its scenario says, each step by the right person."""
    secretary = _secretary(finding.org)
    rect = _fresh(finding.rectification)
    if scenario == PLAN_PENDING:
        return
    immediate = scenario in IMMEDIATE
    if immediate:
        deadline = finding.target.inspection.ends_on if finding.target else today
    elif scenario == OVERDUE:
        deadline = today - timedelta(days=10 + 7 * n % 20)
    else:
        deadline = today + timedelta(days=30 + 15 * (n % 4))
    rect = _plan(rect, secretary, rng, deadline)
    if scenario == PLAN_REJECTED:
        rs.rectification_reject_plan(
            rect=_fresh(rect),
            actor=staff,
            expected_version=rect.version,
            reason="整改措施不具体，请细化到时间节点和责任人。",
        )
        return
    if scenario == SUBMITTED:
        return
    rect = rs.rectification_approve_plan(
        rect=_fresh(rect), actor=staff, expected_version=rect.version, comment="同意。"
    )
    if scenario == IMMEDIATE_OPEN:
        return
    if scenario in (EXTENDED, EXTENSION_REFUSED):
        rect = _fresh(rect)
        request = rs.rectification_request_extension(
            rect=rect,
            actor=secretary,
            until=deadline + timedelta(days=30),
            reason="需待下次支部党员大会集中补课，申请延期一个月。",
        )
        approve = scenario == EXTENDED
        rs.extension_decide(
            request=request,
            actor=staff,
            approve=approve,
            note="同意延期。" if approve else "理由不充分，请按原时限完成。",
        )
        return
    if scenario in (IN_PROGRESS, OVERDUE):
        rs.rectification_report_progress(
            rect=_fresh(rect),
            actor=secretary,
            expected_version=rect.version,
            progress="已完成部分整改措施，正在推进。",
        )
        return
    rect = rs.rectification_request_close(
        rect=_fresh(rect),
        actor=secretary,
        expected_version=rect.version,
        progress="已按方案完成整改，相关制度和台账已完善。",
        evidence=[_evidence(finding.org, secretary, n)],
    )
    if scenario == CLOSE_REQUESTED:
        return
    if scenario == REOPENED:
        rs.rectification_reject_close(
            rect=_fresh(rect),
            actor=staff,
            expected_version=rect.version,
            reason="佐证材料不足以证明整改到位，请补充会议记录原件。",
        )
        return
    rs.rectification_close(
        rect=_fresh(rect), actor=staff, expected_version=rect.version, comment="整改到位，予以销号。"
    )


def _outcome(has_problem: bool, rng: random.Random) -> str:
    """不符合 or 基本符合 where a problem was found, mostly 符合 elsewhere."""
    if has_problem:
        return str(rng.choice((CheckOutcome.FAIL, CheckOutcome.PARTIAL)))
    return str(rng.choice((CheckOutcome.PASS, CheckOutcome.PASS, CheckOutcome.PARTIAL)))


def _record(inspection: Inspection, staff: User, rng: random.Random) -> list[Finding]:
    """Results for most sampled branches; the problems are spread over the visited ones."""
    check_items = list(InspectionCheckItem.objects.filter(inspection=inspection).select_related("item"))
    by_code = {c.item.code if c.item else None: c for c in check_items}
    targets = list(inspection.targets.select_related("org", "inspection").order_by("org__path"))
    visited = targets[:-1] if len(targets) > 2 else targets  # one branch not visited yet
    problems = list(PROBLEMS)
    rng.shuffle(problems)
    share: dict[int, list[tuple[int, tuple[str, str, str, str | None]]]] = {t.pk: [] for t in visited}
    for i, p in enumerate(problems):
        share[visited[i % len(visited)].pk].append((i, p))
    findings: list[tuple[int, Finding]] = []
    for t_index, target in enumerate(visited):
        mine = share[target.pk]
        failing = {by_code[p[3]].pk for _, p in mine}
        results = {c.pk: (_outcome(c.pk in failing, rng), "") for c in check_items}
        created = insp.inspection_record(
            target=target,
            actor=staff,
            summary=rng.choice(SUMMARIES),
            results=results,
            findings=[
                {
                    "description": p[0],
                    "category": p[1],
                    "severity": p[2],
                    "item_id": by_code[p[3]].pk,
                    "is_immediate": SCENARIOS[i] in IMMEDIATE,
                }
                for i, p in mine
            ],
        )
        findings.extend((i, f) for (i, _), f in zip(mine, created, strict=True))
        if t_index < 2:
            png = SimpleUploadedFile(
                f"现场照片-{t_index + 1}.png",
                demo_png((30 + 80 * t_index, 120, 200)),
                content_type="image/png",
            )
            insp.inspection_attach(target=target, file=png, title="督查现场照片", actor=staff)
    return [f for _, f in sorted(findings, key=lambda x: x[0])]


@transaction.atomic
def demo_supervision_load(*, today: date, seed: int = DEMO_SUPERVISION_SEED) -> SupervisionResult:
    """The whole supervision demo over the loaded demo campaign of `today`'s year."""
    rng = random.Random(seed)
    campaign = Campaign.objects.get(committee__code=ROOT_CODE, year=today.year)
    root = campaign.committee
    staff, admin = _user(COMMITTEE_STAFF_USERNAME), _user(ADMIN_USERNAME)
    items = ChecklistItem.objects.filter(campaign=campaign, owner__isnull=True, code__in=CHECK_ITEM_CODES)
    year = campaign.year
    inspection = insp.inspection_create(
        campaign=campaign,
        actor=staff,
        kind=InspectionKind.SUPERVISION,
        title=INSPECTION_TITLE.format(year=year),
        scope=root,
        target_kind=OrgKind.BRANCH,
        sample_mode=SampleMode.PERCENT,
        sample_size=SAMPLE_PERCENT,
        exclude_months=0,
        starts_on=date(year, 6, 16),
        ends_on=date(year, 7, 15),
        team=[staff, admin],
        item_ids=sorted(items.values_list("pk", flat=True)),
        own_items=[OWN_CHECK_ITEM],
        seed=INSPECTION_SEED,
    )
    insp.inspection_draw(inspection=inspection, actor=staff, today=date(year, 6, 16))
    result = SupervisionResult(inspection=inspection)
    findings = _record(inspection, staff, rng)
    result.photos = inspection.targets.filter(evidence__isnull=False).count()
    for n, finding in enumerate(findings):
        _play(finding, SCENARIOS[n], staff=staff, rng=rng, today=today, n=n)
    insp.inspection_complete(inspection=inspection, actor=staff)

    budget = OrgUnit.objects.get(code=BUDGET_BRANCH_CODE)
    rs.finding_create(
        campaign=campaign,
        org=budget,
        source=FindingSource.SELF_CHECK,
        description="自查发现：党员学习强国积分排名靠后，部分党员日常学习不够主动。",
        actor=_secretary(budget),
        category="思想建设",
        item=ChecklistItem.objects.filter(campaign=campaign, code="SX01").first(),
    )
    result.findings = len(findings) + 1

    notice = notice_draft(
        campaign=campaign,
        actor=staff,
        scope=root,
        finding_ids=[f.pk for n, f in enumerate(findings) if SCENARIOS[n] in NOTICED],
        entry_ids=_overdue_entry_ids(campaign, staff, today, inspection),
        today=today,
    )
    notice = notice_update(
        notice=notice,
        actor=staff,
        title=notice.title,
        number=f"旬机工委通〔{year}〕5号",
        body=notice.body,
        kind=notice.kind,
    )
    notice_publish(notice=notice, actor=staff)
    result.notice_recipients = Message.objects.filter(source_key=f"notice:{notice.pk}").count()

    _interview(campaign, staff, today)
    snapshot = snapshot_take(
        campaign=campaign, actor=staff, taken_on=date(year, 6, 30), title=f"{year}年年中晒进度（6月30日）"
    )
    result.snapshot_rows = snapshot.rows.count()
    return result


def _overdue_entry_ids(campaign: Campaign, staff: User, today: date, inspection: Inspection) -> list[int]:
    """One overdue entry per inspected branch (at most NOTICED_ENTRIES), for the notice."""
    orgs = inspection.targets.values("org_id")
    picked: dict[int, int] = {}
    for pk, org_id in (
        overdue_entries_in(user=staff, campaign=campaign, scope=campaign.committee, today=today)
        .filter(org_id__in=orgs)
        .values_list("pk", "org_id")
    ):
        picked.setdefault(org_id, pk)
    return list(picked.values())[:NOTICED_ENTRIES]


def _interview(campaign: Campaign, staff: User, today: date) -> Interview:
    """约谈 the secretary of a branch whose rectification is overdue."""
    rect = (
        Rectification.objects.filter(
            campaign=campaign, deadline__lt=today, finding__source=FindingSource.INSPECTION
        )
        .exclude(status=rs.S.CLOSED)
        .select_related("org")
        .order_by("deadline", "pk")
        .first()
    )
    if rect is None:
        raise LookupError("no overdue rectification for the demo interview")
    org = rect.org
    secretary = _secretary(org)
    held = today - timedelta(days=3)
    return interview_create(
        campaign=campaign,
        org=org,
        actor=staff,
        interviewee=secretary,
        interviewee_name=f"{secretary.display_name}（党支部书记）",
        interviewer_names="刘晓燕、张建平",
        held_at=timezone.make_aware(datetime.combine(held, time(15, 0))),
        location="市直机关工委会议室",
        reason="年中督查发现问题整改逾期未完成。",
        outcome="被约谈人说明了整改滞后的原因，表示将立即召开支委会专题研究，限期完成整改。",
        follow_up="工委每周跟踪整改进展，完成后组织复查。",
        follow_up_due=today + timedelta(days=14),
        finding_ids=list(Finding.objects.filter(campaign=campaign, org=org).values_list("pk", flat=True)),
    )
