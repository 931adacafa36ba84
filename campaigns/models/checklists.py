"""The task list (sections, items), the per-organisation checklists and their entries (§5–6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from branches.models import OrgUnit, User
from campaigns.models.campaign import Campaign

# 临期: due within this many days (domain.md §6).
DUE_SOON_DAYS = 7

CHECK_METHODS = ("查阅资料", "实地查看", "个别访谈", "测评")


class Frequency(models.TextChoices):
    ONCE = "once", "一次"
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    HALF_YEARLY = "half_yearly", "每半年"
    YEARLY = "yearly", "每年"


# Periods per year; one entry per period for recurring items.
PERIODS_PER_YEAR: dict[str, int] = {
    Frequency.ONCE: 1,
    Frequency.YEARLY: 1,
    Frequency.HALF_YEARLY: 2,
    Frequency.QUARTERLY: 4,
    Frequency.MONTHLY: 12,
}


class Section(models.Model):
    """A category (类别) of the task list, e.g. 政治建设."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="sections"
    )
    name = models.CharField("类别", max_length=50)
    sort_order = models.IntegerField("排序", default=0)

    class Meta:
        verbose_name = "类别"
        verbose_name_plural = "类别"
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="section_unique_name")]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(models.Model):
    """One task of the list. `owner` is null for the 工委's list, else the unit that added it (本级增加)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="items"
    )
    section = models.ForeignKey(Section, verbose_name="类别", on_delete=models.PROTECT, related_name="items")
    owner = models.ForeignKey(
        OrgUnit,
        verbose_name="本级增加单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="local_items",
        help_text="为空表示工委统一下发；否则为机关党委/党总支本级增加、仅适用于其下级的任务",
    )
    code = models.CharField("任务编码", max_length=30)
    title = models.CharField("任务名称", max_length=200)
    requirement = models.TextField("工作要求", blank=True)
    evidence_guidance = models.TextField("佐证材料", blank=True)
    points = models.DecimalField(
        "分值", max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    scoring_rule = models.TextField("评分细则", blank=True)
    check_method = models.CharField("考评方式", max_length=50, blank=True)
    due_date = models.DateField("完成时限", null=True, blank=True)
    frequency = models.CharField("频次", max_length=20, choices=Frequency.choices, default=Frequency.ONCE)
    applicable_kinds = models.JSONField("适用组织类型", default=list, blank=True)
    responsible_role = models.CharField("责任人角色", max_length=30, blank=True)
    sort_order = models.IntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "任务"
        verbose_name_plural = "任务"
        ordering = ["section__sort_order", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="item_unique_code"),
            models.CheckConstraint(condition=Q(points__gte=0), name="item_points_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_local(self) -> bool:
        return self.owner_id is not None

    def applies_to_kind(self, kind: str) -> bool:
        return not self.applicable_kinds or kind in self.applicable_kinds


class Checklist(models.Model):
    """One organisation's checklist for a campaign; also holds its signed 目标责任书."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="checklists"
    )
    org = models.ForeignKey(OrgUnit, verbose_name="组织", on_delete=models.PROTECT, related_name="checklists")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    letter_signed_at = models.DateTimeField("责任书签订时间", null=True, blank=True)
    letter_signed_by = models.ForeignKey(
        User, verbose_name="签订人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    letter_text_signed = models.TextField("签订的责任书正文", blank=True)

    class Meta:
        verbose_name = "任务清单"
        verbose_name_plural = "任务清单"
        constraints = [models.UniqueConstraint(fields=["campaign", "org"], name="checklist_one_per_org")]
        # The dashboard rollups' change check: the latest signed letter from the index alone.
        indexes = [models.Index(fields=["campaign", "letter_signed_at"], name="checklist_letter_signed")]

    def __str__(self) -> str:
        return f"{self.org} · {self.campaign}"


class EntryStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未开始"
    IN_PROGRESS = "in_progress", "进行中"
    SUBMITTED = "submitted", "待审核"
    APPROVED = "approved", "已通过"
    RETURNED = "returned", "已退回"
    NOT_APPLICABLE = "not_applicable", "不适用"


class ReviewStage(models.TextChoices):
    """Who reviews a submitted entry next: the parent (初审) or the 工委 (审核)."""

    NONE = "", "—"
    PARENT = "parent", "上级初审"
    COMMITTEE = "committee", "工委审核"


OPEN_STATUSES = (EntryStatus.NOT_STARTED, EntryStatus.IN_PROGRESS, EntryStatus.RETURNED)
DONE_STATUSES = (EntryStatus.APPROVED, EntryStatus.NOT_APPLICABLE)


class ChecklistEntry(models.Model):
    """One item (or one period of a recurring item) on one organisation's checklist."""

    checklist = models.ForeignKey(
        Checklist, verbose_name="任务清单", on_delete=models.CASCADE, related_name="entries"
    )
    # Denormalised from the checklist so scoped queries use one index (campaign, org).
    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="+"
    )
    org = models.ForeignKey(OrgUnit, verbose_name="组织", on_delete=models.PROTECT, related_name="entries")
    item = models.ForeignKey(
        ChecklistItem, verbose_name="任务", on_delete=models.PROTECT, related_name="entries"
    )
    period = models.PositiveSmallIntegerField(
        "期次", default=0, help_text="0 表示一次性/年度任务，否则为第几期"
    )
    due_date = models.DateField("完成时限", null=True, blank=True)
    responsible = models.ForeignKey(
        User, verbose_name="责任人", null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    status = models.CharField(
        "状态", max_length=20, choices=EntryStatus.choices, default=EntryStatus.NOT_STARTED
    )
    review_stage = models.CharField(
        "审核环节", max_length=20, choices=ReviewStage.choices, default=ReviewStage.NONE, blank=True
    )
    not_applicable_requested = models.BooleanField("申请不适用", default=False)
    progress_note = models.TextField("工作进展", blank=True)
    completed_on = models.DateField("完成日期", null=True, blank=True)
    self_score = models.DecimalField("自评得分", max_digits=6, decimal_places=2, null=True, blank=True)
    first_review_score = models.DecimalField(
        "初审得分", max_digits=6, decimal_places=2, null=True, blank=True
    )
    review_score = models.DecimalField("审核得分", max_digits=6, decimal_places=2, null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)
    # Set when a committee admin reopens an entry of an archived campaign (the only way to edit it).
    reopened = models.BooleanField("已重新打开", default=False)
    # Optimistic versioning (R11): every write is compare-and-set on this counter.
    version = models.PositiveIntegerField("版本", default=1)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "清单条目"
        verbose_name_plural = "清单条目"
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "item", "period"], name="entry_one_per_item_period"),
        ]
        indexes = [
            models.Index(fields=["campaign", "org", "status"], name="entry_campaign_org_status"),
            models.Index(fields=["campaign", "status", "review_stage"], name="entry_review_queue"),
            models.Index(fields=["responsible", "status"], name="entry_responsible_status"),
            # The dashboard rollup's change check: MAX(updated_at) of a campaign from the index alone.
            models.Index(fields=["campaign", "updated_at"], name="entry_campaign_updated"),
            # The dashboard's 逾期/临期 lists: the first open entries by due date, read in index order.
            models.Index(fields=["campaign", "due_date"], name="entry_campaign_due"),
        ]

    def __str__(self) -> str:
        return f"{self.org} · {self.item.code}" + (f" 第{self.period}期" if self.period else "")

    def is_overdue(self, today: date) -> bool:
        return self.due_date is not None and self.due_date < today and self.status in OPEN_STATUSES

    def is_due_soon(self, today: date) -> bool:
        return (
            self.due_date is not None
            and today <= self.due_date <= date.fromordinal(today.toordinal() + DUE_SOON_DAYS)
            and self.status in OPEN_STATUSES
        )


class EventAction(models.TextChoices):
    CREATED = "created", "下发"
    ASSIGNED = "assigned", "明确责任人"
    SAVED = "saved", "填报进展"
    SUBMITTED = "submitted", "提交审核"
    NA_REQUESTED = "na_requested", "申请不适用"
    WITHDRAWN = "withdrawn", "撤回"
    FIRST_APPROVED = "first_approved", "初审通过"
    APPROVED = "approved", "审核通过"
    RETURNED = "returned", "退回"
    REOPENED = "reopened", "重新打开"
    EVIDENCE_ADDED = "evidence_added", "添加佐证"
    EVIDENCE_REMOVED = "evidence_removed", "移除佐证"


class EntryEvent(models.Model):
    """Every transition of an entry (actor, time, from, to, comment), shown on the entry."""

    entry = models.ForeignKey(
        ChecklistEntry, verbose_name="条目", on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        User, verbose_name="操作人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField("操作", max_length=30, choices=EventAction.choices)
    from_status = models.CharField("原状态", max_length=20, choices=EntryStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=EntryStatus.choices, blank=True)
    comment = models.TextField("说明", blank=True)
    score = models.DecimalField("分数", max_digits=6, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "条目记录"
        verbose_name_plural = "条目记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"


class PublishRunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class PublishRun(models.Model):
    """One publishing job (fan-out of checklists), polled by the progress bar."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="publish_runs"
    )
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(
        "状态", max_length=20, choices=PublishRunStatus.choices, default=PublishRunStatus.QUEUED
    )
    total = models.PositiveIntegerField("组织总数", default=0)
    done = models.PositiveIntegerField("已处理", default=0)
    checklists_created = models.PositiveIntegerField("新建清单", default=0)
    entries_created = models.PositiveIntegerField("新建条目", default=0)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "发布任务"
        verbose_name_plural = "发布任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.campaign} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        return (
            100
            if self.total == 0 and self.status == PublishRunStatus.DONE
            else (int(self.done * 100 / self.total) if self.total else 0)
        )
