"""年终述责 (domain.md §8): the 述职报告 and the 述职评议 sessions with their ballots."""

from __future__ import annotations

from django.db import models

from branches.models import OrgUnit, User
from campaigns.models.campaign import Campaign
from campaigns.models.evidence import Evidence


def default_scale() -> list[str]:
    return ["好", "较好", "一般", "差"]


def default_good_labels() -> list[str]:
    return ["好", "较好"]


def default_thresholds() -> list[list[str]]:
    """(minimum good rate, grade) pairs, highest first; the last grade is the fallback."""
    return [["0.9", "好"], ["0.7", "较好"], ["0.5", "一般"], ["0", "差"]]


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    RETURNED = "returned", "已退回"
    REVIEWED = "reviewed", "已审阅"


class DutyReport(models.Model):
    """One organisation's 述职报告 for a campaign; files are evidence of the organisation."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="duty_reports"
    )
    org = models.ForeignKey(
        OrgUnit, verbose_name="党组织", on_delete=models.PROTECT, related_name="duty_reports"
    )
    author = models.ForeignKey(
        User, verbose_name="撰写人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", blank=True)
    status = models.CharField("状态", max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    return_reason = models.TextField("退回原因", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, verbose_name="审阅人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("审阅时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    files = models.ManyToManyField(Evidence, verbose_name="附件", blank=True, related_name="duty_reports")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "述职报告"
        verbose_name_plural = "述职报告"
        ordering = ["org__path"]
        constraints = [models.UniqueConstraint(fields=["campaign", "org"], name="duty_report_one_per_org")]

    def __str__(self) -> str:
        return self.title


class SessionStatus(models.TextChoices):
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class EntryMode(models.TextChoices):
    PER_RATER = "per_rater", "逐人投票"
    TALLY = "tally", "汇总录入"


class ReviewSession(models.Model):
    """A 述职评议 meeting: reporters are rated on a configurable scale."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="review_sessions"
    )
    title = models.CharField("名称", max_length=200)
    held_on = models.DateField("召开日期")
    scope = models.ForeignKey(
        OrgUnit, verbose_name="评议范围", on_delete=models.PROTECT, related_name="review_sessions"
    )
    scale = models.JSONField("评价档次", default=default_scale)
    good_labels = models.JSONField("计入好评的档次", default=default_good_labels)
    thresholds = models.JSONField("等次标准", default=default_thresholds)
    entry_mode = models.CharField(
        "录入方式", max_length=20, choices=EntryMode.choices, default=EntryMode.PER_RATER
    )
    raters = models.ManyToManyField(User, verbose_name="评议人", blank=True, related_name="review_sessions")
    status = models.CharField(
        "状态", max_length=20, choices=SessionStatus.choices, default=SessionStatus.OPEN
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "述职评议"
        verbose_name_plural = "述职评议"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.title


class SessionReporter(models.Model):
    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="reporters")
    org = models.ForeignKey(OrgUnit, verbose_name="述职组织", on_delete=models.PROTECT, related_name="+")
    reporter = models.ForeignKey(
        User, verbose_name="述职人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter_name = models.CharField("述职人姓名", max_length=50, blank=True)
    sort_order = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "述职人"
        verbose_name_plural = "述职人"
        ordering = ["session", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "org"], name="session_reporter_one_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.reporter_name}"


class Ballot(models.Model):
    """One rater's vote for one reporter (per-rater entry)."""

    reporter = models.ForeignKey(SessionReporter, on_delete=models.CASCADE, related_name="ballots")
    rater = models.ForeignKey(User, verbose_name="评议人", on_delete=models.CASCADE, related_name="+")
    label = models.CharField("评价", max_length=20)
    cast_at = models.DateTimeField("投票时间", auto_now=True)

    class Meta:
        verbose_name = "评议票"
        verbose_name_plural = "评议票"
        constraints = [models.UniqueConstraint(fields=["reporter", "rater"], name="ballot_one_per_rater")]

    def __str__(self) -> str:
        return self.label


class BallotTally(models.Model):
    """Counted votes per label for one reporter (tally entry)."""

    reporter = models.ForeignKey(SessionReporter, on_delete=models.CASCADE, related_name="tallies")
    label = models.CharField("评价", max_length=20)
    count = models.PositiveIntegerField("票数", default=0)

    class Meta:
        verbose_name = "票数汇总"
        verbose_name_plural = "票数汇总"
        constraints = [models.UniqueConstraint(fields=["reporter", "label"], name="tally_one_per_label")]

    def __str__(self) -> str:
        return f"{self.label} {self.count}"
