"""Reminders (domain.md §10): rules as data, recurring obligations, dispatch runs and the log.

The log (`Reminder`) holds one row per (recipient, item, kind, period); it is written before
anything is sent and its unique key is what makes each reminder go out exactly once (R12).
"""

from __future__ import annotations

from datetime import time

from django.db import models

from branches.models import DigestMode, Message, OrgKind, OrgUnit, User


class ReminderSource(models.TextChoices):
    ENTRY = "entry", "任务清单完成时限"
    RECTIFICATION = "rectification", "整改期限"
    OBLIGATION = "obligation", "经常性工作"
    PHASE_START = "phase_start", "阶段开始"
    PHASE_END = "phase_end", "阶段结束"
    PUBLICITY = "publicity", "评星公示开始"
    TERM = "term", "换届（届满）"


class Audience(models.TextChoices):
    RESPONSIBLE = "responsible", "责任人"
    SECRETARY = "secretary", "书记"
    PARENT_STAFF = "parent_staff", "上级党组织工作人员"
    COMMITTEE_STAFF = "committee_staff", "工委工作人员（红名单）"


class ReminderPolicy(models.Model):
    """Per 工委: when the daily dispatcher runs, quiet hours and the default digest cadence."""

    committee = models.OneToOneField(
        OrgUnit, verbose_name="工委", on_delete=models.CASCADE, related_name="reminder_policy"
    )
    dispatch_time = models.TimeField("每日发送时间", default=time(8, 30))
    quiet_start = models.TimeField("免打扰开始", null=True, blank=True, default=time(21, 0))
    quiet_end = models.TimeField("免打扰结束", null=True, blank=True, default=time(8, 0))
    digest = models.CharField(
        "汇总频率", max_length=10, choices=[c for c in DigestMode.choices if c[0]], default=DigestMode.DAILY
    )
    digest_weekday = models.PositiveSmallIntegerField(
        "每周汇总日", default=0, choices=[(i, n) for i, n in enumerate("一二三四五六日")]
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "提醒设置"
        verbose_name_plural = "提醒设置"

    def __str__(self) -> str:
        return f"{self.committee} 提醒设置"


class ReminderRule(models.Model):
    """One rung: when (source + offset in days from its date), whom, and over which channels.

    An escalation ladder is several rules on one source with growing offsets and wider audiences,
    e.g. 逾期 3 天 → 书记, 7 天 → 上级工作人员, 14 天 → 工委红名单.
    """

    committee = models.ForeignKey(OrgUnit, verbose_name="工委", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("规则名称", max_length=100)
    source = models.CharField("事项", max_length=20, choices=ReminderSource.choices)
    offset_days = models.SmallIntegerField(
        "时点（天）", default=0, help_text="负数为到期前若干天，0 为当天，正数为逾期/开始后若干天"
    )
    audience = models.CharField("提醒对象", max_length=20, choices=Audience.choices)
    via_inbox = models.BooleanField("站内消息", default=True)
    via_email = models.BooleanField("电子邮件", default=False)
    via_webhook = models.BooleanField("群机器人", default=False)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "提醒规则"
        verbose_name_plural = "提醒规则"
        ordering = ["source", "offset_days", "audience"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "source", "offset_days", "audience"], name="reminder_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        """The dedupe kind: the source and the rung, e.g. ``entry+7``."""
        return f"{self.source}{self.offset_days:+d}"

    @property
    def timing_label(self) -> str:
        return timing_label(self.source, self.offset_days)

    @property
    def is_red_list(self) -> bool:
        return self.audience == Audience.COMMITTEE_STAFF


def timing_label(source: str, offset: int) -> str:
    if source in (ReminderSource.PHASE_START, ReminderSource.PUBLICITY):
        return "当天" if offset == 0 else (f"开始前{-offset}天" if offset < 0 else f"开始后{offset}天")
    if offset == 0:
        return "到期当天"
    return f"到期前{-offset}天" if offset < 0 else f"逾期{offset}天"


class ObligationFrequency(models.TextChoices):
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    HALF_YEARLY = "half_yearly", "每半年"
    YEARLY = "yearly", "每年"


class Obligation(models.Model):
    """A recurring obligation (三会一课, 主题党日 ...) of the default calendar of domain.md §10.

    Each period is due on ``due_day`` of the period's last month (the last day when empty, clamped
    to the month's length); a yearly obligation is due in ``due_month``. It counts as met when the
    organisation records it for the period, or when the checklist entry of ``item_code`` for that
    period is done.
    """

    committee = models.ForeignKey(OrgUnit, verbose_name="工委", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("名称", max_length=50)
    applies_to = models.CharField(
        "适用组织", max_length=20, choices=[c for c in OrgKind.choices if c[0] != OrgKind.COMMITTEE]
    )
    frequency = models.CharField("频次", max_length=20, choices=ObligationFrequency.choices)
    due_day = models.PositiveSmallIntegerField(
        "每期截止日", null=True, blank=True, help_text="空为期末最后一天"
    )
    due_month = models.PositiveSmallIntegerField("年度截止月", default=12, help_text="仅每年一次的工作")
    min_full_members = models.PositiveSmallIntegerField("正式党员不少于", default=0)
    item_code = models.CharField("对应清单任务编码", max_length=30, blank=True)
    description = models.CharField("依据与说明", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.IntegerField("排序", default=0)

    class Meta:
        verbose_name = "经常性工作"
        verbose_name_plural = "经常性工作"
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["committee", "name"], name="obligation_unique_name")]

    def __str__(self) -> str:
        return self.name


class ObligationRecord(models.Model):
    """The organisation held the obligation in one period (e.g. 2026-Q3)."""

    obligation = models.ForeignKey(
        Obligation, verbose_name="经常性工作", on_delete=models.CASCADE, related_name="records"
    )
    org = models.ForeignKey(OrgUnit, verbose_name="组织", on_delete=models.CASCADE, related_name="+")
    period_key = models.CharField("期次", max_length=10)
    held_on = models.DateField("开展日期")
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "经常性工作记录"
        verbose_name_plural = "经常性工作记录"
        constraints = [
            models.UniqueConstraint(fields=["obligation", "org", "period_key"], name="obligation_record_once")
        ]

    def __str__(self) -> str:
        return f"{self.org} · {self.obligation} · {self.period_key}"


class DispatchStatus(models.TextChoices):
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"


class DispatchRun(models.Model):
    """The dispatcher's day for one 工委; one run per (committee, date)."""

    committee = models.ForeignKey(OrgUnit, verbose_name="工委", on_delete=models.CASCADE, related_name="+")
    date = models.DateField("提醒日期")
    status = models.CharField(
        "状态", max_length=20, choices=DispatchStatus.choices, default=DispatchStatus.RUNNING
    )
    batches_total = models.PositiveIntegerField("批次数", default=0)
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    requested_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "提醒发送批次"
        verbose_name_plural = "提醒发送批次"
        ordering = ["-date", "-id"]
        constraints = [models.UniqueConstraint(fields=["committee", "date"], name="dispatch_once_per_day")]

    def __str__(self) -> str:
        return f"{self.committee} {self.date}"


class DispatchBatch(models.Model):
    """One fan-out unit of a run: a 机关党委's subtree, or a group of directly attached organisations."""

    run = models.ForeignKey(
        DispatchRun, verbose_name="发送", on_delete=models.CASCADE, related_name="batches"
    )
    label = models.CharField("范围", max_length=200)
    org_ids = models.JSONField("组织", default=list)
    status = models.CharField(
        "状态", max_length=20, choices=DispatchStatus.choices, default=DispatchStatus.RUNNING
    )
    planned = models.PositiveIntegerField("提醒数", default=0)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "提醒分批"
        verbose_name_plural = "提醒分批"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.run} · {self.label}"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    CANCELLED = "cancelled", "已取消（事项已完成）"


class Reminder(models.Model):
    """The delivery log: one reminder of one item to one person, keyed (recipient, item, kind, period)."""

    recipient = models.ForeignKey(
        User, verbose_name="收件人", on_delete=models.CASCADE, related_name="reminders"
    )
    item_key = models.CharField("事项", max_length=60)
    kind = models.CharField("规则", max_length=30)
    period = models.CharField("期次", max_length=20)
    committee = models.ForeignKey(OrgUnit, verbose_name="工委", on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(
        OrgUnit, verbose_name="所属组织", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Denormalised for scoped reads of the log (the tree decides visibility).
    org_path = models.CharField("组织路径", max_length=255, db_index=True)
    source = models.CharField("事项类型", max_length=20, choices=ReminderSource.choices)
    audience = models.CharField("提醒对象", max_length=20, choices=Audience.choices)
    rule = models.ForeignKey(
        ReminderRule, verbose_name="规则", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField("内容", max_length=300)
    url = models.CharField("链接", max_length=300, blank=True)
    due_date = models.DateField("到期日")
    via_inbox = models.BooleanField("站内消息", default=True)
    via_email = models.BooleanField("电子邮件", default=False)
    via_webhook = models.BooleanField("群机器人", default=False)
    status = models.CharField(
        "状态", max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    run = models.ForeignKey(
        DispatchRun,
        verbose_name="发送",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminders",
    )
    scheduled_on = models.DateField("提醒日期")
    message = models.ForeignKey(
        Message, verbose_name="站内消息", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)

    class Meta:
        verbose_name = "提醒记录"
        verbose_name_plural = "提醒记录"
        ordering = ["-scheduled_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "item_key", "kind", "period"], name="reminder_once_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["committee", "status", "recipient"], name="reminder_pending"),
            models.Index(fields=["scheduled_on", "status"], name="reminder_day_status"),
        ]

    def __str__(self) -> str:
        return self.title


__all__ = [
    "Audience",
    "DispatchBatch",
    "DispatchRun",
    "DispatchStatus",
    "Obligation",
    "ObligationFrequency",
    "ObligationRecord",
    "Reminder",
    "ReminderPolicy",
    "ReminderRule",
    "ReminderSource",
    "ReminderStatus",
]
