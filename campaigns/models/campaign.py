"""Campaign per 工委 and year, with its calendar (domain.md §4)."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q

from branches.models import OrgUnit, User


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    ARCHIVED = "archived", "已归档"


DEFAULT_LETTER_TEXT = (
    "为全面落实机关党建工作责任制，扎实推进模范机关创建，本组织书记作为第一责任人，"
    "承诺按照本年度任务清单明确的工作要求和完成时限，逐项落实、按时报送佐证材料，"
    "主动接受上级党组织督导检查，对工作中发现的问题立行立改、限期销号。"
)


class Campaign(models.Model):
    committee = models.ForeignKey(
        OrgUnit, verbose_name="工委", on_delete=models.PROTECT, related_name="campaigns"
    )
    year = models.PositiveSmallIntegerField("年度")
    name = models.CharField("名称", max_length=100)
    status = models.CharField(
        "状态", max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    cloned_from = models.ForeignKey(
        "self", verbose_name="复制自", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duty_starts_on = models.DateField("明责开始", null=True, blank=True)
    duty_ends_on = models.DateField("明责结束", null=True, blank=True)
    supervision_starts_on = models.DateField("督责开始", null=True, blank=True)
    supervision_ends_on = models.DateField("督责结束", null=True, blank=True)
    reporting_starts_on = models.DateField("述责开始", null=True, blank=True)
    reporting_ends_on = models.DateField("述责结束", null=True, blank=True)
    rating_starts_on = models.DateField("评星开始", null=True, blank=True)
    rating_ends_on = models.DateField("评星结束", null=True, blank=True)
    publicity_days = models.PositiveSmallIntegerField("公示天数", default=5)
    letter_text = models.TextField("目标责任书正文", default=DEFAULT_LETTER_TEXT)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "创建活动"
        verbose_name_plural = "创建活动"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "year"], name="campaign_one_per_year"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="campaign_year_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_locked(self) -> bool:
        return self.status == CampaignStatus.ARCHIVED

    def phases(self) -> list[tuple[str, date | None, date | None]]:
        return [
            ("年初明责", self.duty_starts_on, self.duty_ends_on),
            ("年中督责", self.supervision_starts_on, self.supervision_ends_on),
            ("年终述责", self.reporting_starts_on, self.reporting_ends_on),
            ("达标创星", self.rating_starts_on, self.rating_ends_on),
        ]

    def is_open_on(self, day: date) -> bool:
        return self.status == CampaignStatus.PUBLISHED and any(
            start is not None and end is not None and start <= day <= end for _, start, end in self.phases()
        )


class MilestoneKind(models.TextChoices):
    KICKOFF = "kickoff", "动员部署会"
    PROGRESS = "progress", "推进会"
    SYMPOSIUM = "symposium", "座谈会"
    SITE_VISIT = "site_visit", "现场观摩会"
    SURVEY = "survey", "集中调研"
    OTHER = "other", "其他"


class CampaignEvent(models.Model):
    """A milestone of the 工委 (推进会, 座谈会, ...), shown on everyone's calendar."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField("类型", max_length=20, choices=MilestoneKind.choices, default=MilestoneKind.OTHER)
    title = models.CharField("名称", max_length=100)
    starts_on = models.DateField("日期")
    ends_on = models.DateField("结束日期", null=True, blank=True)
    location = models.CharField("地点", max_length=100, blank=True)
    description = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "活动日程"
        verbose_name_plural = "活动日程"
        ordering = ["starts_on", "id"]

    def __str__(self) -> str:
        return self.title
