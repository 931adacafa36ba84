"""年中督责 (domain.md §7): inspections, findings, rectification, notices, interviews, snapshots."""

from __future__ import annotations

from datetime import date

from django.db import models

from branches.models import OrgKind, OrgUnit, User
from campaigns.models.campaign import Campaign
from campaigns.models.checklists import ChecklistEntry, ChecklistItem
from campaigns.models.evidence import Evidence

# --- inspections ---------------------------------------------------------------------------------


class InspectionKind(models.TextChoices):
    SUPERVISION = "supervision", "督查"
    RANDOM_SURVEY = "random_survey", "随机调研"
    SPECIAL = "special", "专项检查"


class SampleMode(models.TextChoices):
    ALL = "all", "全部"
    COUNT = "count", "按数量抽取"
    PERCENT = "percent", "按比例抽取"


class InspectionStatus(models.TextChoices):
    PLANNED = "planned", "计划中"
    SAMPLED = "sampled", "已抽样"
    DONE = "done", "已完成"


class Inspection(models.Model):
    """An inspection round over a sample of a subtree; the draw is reproducible from `seed`."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="inspections"
    )
    kind = models.CharField(
        "类型", max_length=20, choices=InspectionKind.choices, default=InspectionKind.SUPERVISION
    )
    title = models.CharField("名称", max_length=200)
    scope = models.ForeignKey(OrgUnit, verbose_name="检查范围", on_delete=models.PROTECT, related_name="+")
    target_kind = models.CharField(
        "抽查对象类型", max_length=20, choices=OrgKind.choices, default=OrgKind.BRANCH
    )
    sample_mode = models.CharField(
        "抽样方式", max_length=20, choices=SampleMode.choices, default=SampleMode.ALL
    )
    sample_size = models.PositiveIntegerField("数量或比例(%)", default=0)
    seed = models.BigIntegerField("随机种子", null=True, blank=True)
    exclude_months = models.PositiveSmallIntegerField(
        "排除近几个月已检查的组织", default=0, help_text="0 表示不排除"
    )
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    status = models.CharField(
        "状态", max_length=20, choices=InspectionStatus.choices, default=InspectionStatus.PLANNED
    )
    team = models.ManyToManyField(User, verbose_name="检查组成员", blank=True, related_name="inspections")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sampled_at = models.DateTimeField("抽样时间", null=True, blank=True)

    class Meta:
        verbose_name = "督查检查"
        verbose_name_plural = "督查检查"
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.title


class InspectionCheckItem(models.Model):
    """What the inspectors check: an item of the campaign's list, or the round's own item."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="check_items")
    item = models.ForeignKey(
        ChecklistItem,
        verbose_name="清单任务",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField("检查内容", max_length=200)
    sort_order = models.IntegerField("排序", default=0)

    class Meta:
        verbose_name = "检查内容"
        verbose_name_plural = "检查内容"
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.title


class TargetStatus(models.TextChoices):
    PENDING = "pending", "待检查"
    CHECKED = "checked", "已检查"


class InspectionTarget(models.Model):
    """One sampled organisation of a round, with the inspectors' overall record."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="targets")
    org = models.ForeignKey(
        OrgUnit, verbose_name="被检查组织", on_delete=models.PROTECT, related_name="inspection_targets"
    )
    status = models.CharField(
        "状态", max_length=20, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    summary = models.TextField("检查情况", blank=True)
    checked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField("检查时间", null=True, blank=True)
    evidence = models.ManyToManyField(Evidence, verbose_name="照片与材料", blank=True, related_name="+")

    class Meta:
        verbose_name = "被检查组织"
        verbose_name_plural = "被检查组织"
        ordering = ["org__path"]
        constraints = [models.UniqueConstraint(fields=["inspection", "org"], name="inspection_target_unique")]

    def __str__(self) -> str:
        return f"{self.inspection} · {self.org}"


class CheckOutcome(models.TextChoices):
    PASS = "pass", "符合"
    PARTIAL = "partial", "基本符合"
    FAIL = "fail", "不符合"
    NOT_APPLICABLE = "na", "不适用"


class InspectionResult(models.Model):
    target = models.ForeignKey(InspectionTarget, on_delete=models.CASCADE, related_name="results")
    check_item = models.ForeignKey(InspectionCheckItem, on_delete=models.CASCADE, related_name="results")
    outcome = models.CharField("结论", max_length=20, choices=CheckOutcome.choices)
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "检查结果"
        verbose_name_plural = "检查结果"
        constraints = [
            models.UniqueConstraint(fields=["target", "check_item"], name="inspection_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.check_item}: {self.get_outcome_display()}"


# --- findings and rectification ----------------------------------------------------------------------


class FindingSource(models.TextChoices):
    INSPECTION = "inspection", "督查检查"
    REVIEW = "review", "清单审核"
    DUTY_REPORT = "duty_report", "述职点评"
    SELF_CHECK = "self_check", "自查自纠"


class Severity(models.TextChoices):
    MINOR = "minor", "一般"
    MAJOR = "major", "较重"
    SERIOUS = "serious", "严重"


class Finding(models.Model):
    """A problem found (问题); each finding has one rectification sent to the organisation."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="findings"
    )
    org = models.ForeignKey(OrgUnit, verbose_name="党组织", on_delete=models.PROTECT, related_name="findings")
    source = models.CharField("问题来源", max_length=20, choices=FindingSource.choices)
    target = models.ForeignKey(
        InspectionTarget,
        verbose_name="检查",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
    )
    entry = models.ForeignKey(
        ChecklistEntry,
        verbose_name="关联清单条目",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
    )
    item = models.ForeignKey(
        ChecklistItem,
        verbose_name="关联任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.CharField("问题类别", max_length=50, blank=True)
    severity = models.CharField("严重程度", max_length=20, choices=Severity.choices, default=Severity.MINOR)
    description = models.TextField("问题描述")
    is_immediate = models.BooleanField("立行立改", default=False)
    is_repeat = models.BooleanField("重复问题", default=False)
    repeat_of = models.ForeignKey(
        "self",
        verbose_name="上年同类问题",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    evidence = models.ManyToManyField(Evidence, verbose_name="照片与材料", blank=True, related_name="+")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("发现时间", auto_now_add=True)

    class Meta:
        verbose_name = "问题"
        verbose_name_plural = "问题"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "org"], name="finding_campaign_org")]

    def __str__(self) -> str:
        return self.description[:40]


class RectificationStatus(models.TextChoices):
    PLAN_PENDING = "plan_pending", "待制定方案"
    PLAN_SUBMITTED = "plan_submitted", "方案待审"
    IN_PROGRESS = "in_progress", "整改中"
    CLOSE_REQUESTED = "close_requested", "申请销号"
    CLOSED = "closed", "已销号"
    REOPENED = "reopened", "重新整改"


OPEN_RECTIFICATION = (
    RectificationStatus.PLAN_PENDING,
    RectificationStatus.PLAN_SUBMITTED,
    RectificationStatus.IN_PROGRESS,
    RectificationStatus.CLOSE_REQUESTED,
    RectificationStatus.REOPENED,
)


class Rectification(models.Model):
    """The fix of one finding, from plan to close-out (销号) by the issuing side."""

    finding = models.OneToOneField(
        Finding, verbose_name="问题", on_delete=models.CASCADE, related_name="rectification"
    )
    # Denormalised for scoped lists and the ledger.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(
        OrgUnit, verbose_name="党组织", on_delete=models.PROTECT, related_name="rectifications"
    )
    status = models.CharField(
        "状态", max_length=20, choices=RectificationStatus.choices, default=RectificationStatus.PLAN_PENDING
    )
    measures = models.TextField("整改措施", blank=True)
    responsible_name = models.CharField("责任人", max_length=50, blank=True)
    leader_name = models.CharField("责任领导", max_length=50, blank=True)
    deadline = models.DateField("整改时限", null=True, blank=True)
    progress = models.TextField("整改进展", blank=True)
    closed_on = models.DateField("销号日期", null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evidence = models.ManyToManyField(Evidence, verbose_name="整改佐证", blank=True, related_name="+")
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "整改"
        verbose_name_plural = "整改"
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["campaign", "status", "deadline"], name="rect_campaign_status_deadline")
        ]

    def __str__(self) -> str:
        return f"{self.org} · {self.get_status_display()}"

    def is_overdue(self, today: date) -> bool:
        return self.deadline is not None and self.deadline < today and self.status in OPEN_RECTIFICATION


class RectificationEvent(models.Model):
    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField("操作", max_length=40)
    from_status = models.CharField("原状态", max_length=20, choices=RectificationStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=RectificationStatus.choices, blank=True)
    comment = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "整改记录"
        verbose_name_plural = "整改记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.created_at:%Y-%m-%d}"


class DecisionStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "未批准"


class ExtensionRequest(models.Model):
    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_until = models.DateField("申请延期至")
    reason = models.TextField("理由")
    status = models.CharField(
        "审批", max_length=20, choices=DecisionStatus.choices, default=DecisionStatus.PENDING
    )
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.rectification} → {self.requested_until}"


# --- notices, interviews, snapshots ------------------------------------------------------------------


class NoticeKind(models.TextChoices):
    WORK = "work", "工作通报"
    CRITICISM = "criticism", "通报批评"
    PRAISE = "praise", "通报表扬"


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"


class Notice(models.Model):
    """通报: drafted from findings and overdue items, published to a subtree's inboxes."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField("类型", max_length=20, choices=NoticeKind.choices, default=NoticeKind.WORK)
    number = models.CharField("文号", max_length=50, blank=True)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文")
    scope = models.ForeignKey(OrgUnit, verbose_name="发布范围", on_delete=models.PROTECT, related_name="+")
    findings = models.ManyToManyField(Finding, verbose_name="涉及问题", blank=True, related_name="notices")
    entries = models.ManyToManyField(
        ChecklistEntry, verbose_name="涉及逾期事项", blank=True, related_name="notices"
    )
    status = models.CharField("状态", max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "通报"
        verbose_name_plural = "通报"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Interview(models.Model):
    """约谈: who, when, why, linked findings, outcome and follow-up."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="interviews"
    )
    org = models.ForeignKey(
        OrgUnit, verbose_name="被约谈组织", on_delete=models.PROTECT, related_name="interviews"
    )
    interviewee_name = models.CharField("被约谈人", max_length=50)
    interviewee = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    interviewer_names = models.CharField("约谈人", max_length=200)
    held_at = models.DateTimeField("约谈时间")
    location = models.CharField("地点", max_length=100, blank=True)
    reason = models.TextField("约谈事由")
    findings = models.ManyToManyField(Finding, verbose_name="涉及问题", blank=True, related_name="interviews")
    outcome = models.TextField("约谈情况", blank=True)
    follow_up = models.TextField("后续跟踪", blank=True)
    follow_up_due = models.DateField("跟踪时限", null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "约谈"
        verbose_name_plural = "约谈"
        ordering = ["-held_at"]

    def __str__(self) -> str:
        return f"{self.org} · {self.interviewee_name}"


class ProgressSnapshot(models.Model):
    """年中晒进度: every organisation's progress frozen at a date, for later comparison."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="snapshots"
    )
    title = models.CharField("名称", max_length=100)
    taken_on = models.DateField("截至日期")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "进度快照"
        verbose_name_plural = "进度快照"
        ordering = ["-taken_on", "-id"]

    def __str__(self) -> str:
        return self.title


class SnapshotRow(models.Model):
    snapshot = models.ForeignKey(ProgressSnapshot, on_delete=models.CASCADE, related_name="rows")
    org = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField("条目总数")
    due = models.PositiveIntegerField("应完成")
    done = models.PositiveIntegerField("已完成")
    overdue = models.PositiveIntegerField("逾期")

    class Meta:
        verbose_name = "快照明细"
        verbose_name_plural = "快照明细"
        constraints = [models.UniqueConstraint(fields=["snapshot", "org"], name="snapshot_row_unique")]

    def __str__(self) -> str:
        return f"{self.org}: {self.done}/{self.total}"
