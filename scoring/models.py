"""达标创星: scheme versions, rating rounds, compiled ratings and their workflow (domain.md §9).

A campaign holds one rating round per organisation kind (党支部 for 达标创星, 机关党委 for the
模范机关 recognition). The round adopts one immutable ``SchemeVersion``; a compile run rates every
organisation of that kind and upserts one ``Rating`` per organisation. Everything people decide
(tie decisions, 复核, objections, 摘星/降星) is kept in its own row with who and when.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from branches.models import OrgKind, OrgUnit, User
from campaigns.models import Campaign


class SchemeVersion(models.Model):
    """One saved version of a campaign's rating scheme. Never edited: a change is a new version."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="scheme_versions"
    )
    number = models.PositiveIntegerField("版本号")
    name = models.CharField("方案名称", max_length=200)
    applies_to = models.CharField("适用组织类型", max_length=20, choices=OrgKind.choices)
    data = models.JSONField("方案数据")
    note = models.CharField("修改说明", max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("保存时间", auto_now_add=True)

    class Meta:
        verbose_name = "评星方案版本"
        verbose_name_plural = "评星方案版本"
        ordering = ["campaign", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="scheme_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.name}（第 {self.number} 版）"


class RoundStage(models.TextChoices):
    DECLARING = "declaring", "自评申报"
    FIRST_REVIEW = "first_review", "初审"
    COMMITTEE_REVIEW = "committee_review", "工委审核"
    RECHECK = "recheck", "复核"
    PUBLICITY = "publicity", "公示"
    NAMED = "named", "已命名"


STAGE_ORDER: tuple[str, ...] = tuple(RoundStage.values)


class RatingRound(models.Model):
    """The rating of one organisation kind in one campaign, moving through the §9 stages."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="rating_rounds"
    )
    applies_to = models.CharField("参评组织类型", max_length=20, choices=OrgKind.choices)
    title = models.CharField("名称", max_length=200)
    scheme = models.ForeignKey(
        SchemeVersion, verbose_name="采用方案", on_delete=models.PROTECT, related_name="rounds"
    )
    stage = models.CharField("阶段", max_length=20, choices=RoundStage.choices, default=RoundStage.DECLARING)
    publicity_starts_on = models.DateField("公示开始", null=True, blank=True)
    publicity_ends_on = models.DateField("公示结束", null=True, blank=True)
    named_on = models.DateField("命名日期", null=True, blank=True)
    naming_document = models.CharField("命名文号", max_length=100, blank=True)
    named_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "评星定级"
        verbose_name_plural = "评星定级"
        ordering = ["-campaign__year", "applies_to"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "applies_to"], name="rating_round_one_per_kind")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_named(self) -> bool:
        return self.stage == RoundStage.NAMED

    def stage_index(self) -> int:
        return STAGE_ORDER.index(self.stage)


class RunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "计算中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class CompileRun(models.Model):
    """One compile of a round's ratings (Celery job). At most one active run per round."""

    round = models.ForeignKey(RatingRound, verbose_name="评星", on_delete=models.CASCADE, related_name="runs")
    scheme = models.ForeignKey(SchemeVersion, verbose_name="方案", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    fingerprint = models.CharField("输入指纹", max_length=64, blank=True)
    total = models.PositiveIntegerField("参评组织", default=0)
    done = models.PositiveIntegerField("已处理", default=0)
    changed = models.PositiveIntegerField("结果变化", default=0)
    ties = models.PositiveIntegerField("待决并列组", default=0)
    tie_groups = models.JSONField("待决并列", default=list, blank=True)
    distribution = models.JSONField("星级分布", default=list, blank=True)
    dropped_decisions = models.JSONField("失效的并列决定", default=list, blank=True)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "评星计算"
        verbose_name_plural = "评星计算"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round"],
                condition=Q(status__in=["queued", "running"]),
                name="compile_run_one_active_per_round",
            )
        ]

    def __str__(self) -> str:
        return f"{self.round} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


class RatingStatus(models.TextChoices):
    PENDING = "pending", "未申报"
    DECLARED = "declared", "已申报"
    RETURNED = "returned", "初审退回"
    FIRST_REVIEWED = "first_reviewed", "初审通过"


class Rating(models.Model):
    """One organisation's rating in a round: its declaration, first review and compiled result."""

    # Indexes: the unique (round, org) and the (org, round) index serve every lookup; the foreign
    # keys carry no index of their own, as each index costs the compile's upsert of every row (P10).
    round = models.ForeignKey(
        RatingRound, verbose_name="评星", on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    org = models.ForeignKey(
        OrgUnit, verbose_name="党组织", on_delete=models.PROTECT, related_name="ratings", db_index=False
    )
    status = models.CharField(
        "申报状态", max_length=20, choices=RatingStatus.choices, default=RatingStatus.PENDING
    )
    # 自评申报
    declared_level = models.SmallIntegerField("申报星级", null=True, blank=True)
    declaration = models.TextField("申报理由", blank=True)
    declared_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    declared_at = models.DateTimeField("申报时间", null=True, blank=True)
    # 初审 by the parent organisation
    first_review_level = models.SmallIntegerField("初审意见星级", null=True, blank=True)
    first_review_note = models.TextField("初审意见", blank=True)
    first_reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    first_reviewed_at = models.DateTimeField("初审时间", null=True, blank=True)
    # compiled result (written only by a compile run)
    run = models.ForeignKey(
        CompileRun,
        verbose_name="计算批次",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    fingerprint = models.CharField("输入指纹", max_length=64, blank=True)
    total = models.DecimalField("综合得分", max_digits=8, decimal_places=2, null=True, blank=True)
    score_level = models.SmallIntegerField("分数对应星级", null=True, blank=True)
    provisional_level = models.SmallIntegerField("名额前星级", null=True, blank=True)
    computed_level = models.SmallIntegerField("拟定星级", null=True, blank=True)
    computed_label = models.CharField("拟定星级名称", max_length=30, blank=True)
    quota_decision = models.CharField("名额处理", max_length=20, blank=True)
    needs_decision = models.BooleanField("名额边界并列待决", default=False)
    vetoes = models.JSONField("否决情形", default=list, blank=True)
    prerequisites_missing = models.JSONField("未满足的前置条件", default=list, blank=True)
    last_year_level = models.SmallIntegerField("上年星级", null=True, blank=True)
    explanation = models.JSONField("评定说明", default=list, blank=True)
    inputs = models.JSONField("计算输入", default=dict, blank=True)
    compiled_at = models.DateTimeField("计算时间", null=True, blank=True)
    # a level set by a person after the compile (复核 or an upheld objection); wins over computed_level
    is_adjusted = models.BooleanField("人工调整", default=False)
    adjusted_level = models.SmallIntegerField("调整后星级", null=True, blank=True)
    adjusted_reason = models.TextField("调整理由", blank=True)
    # 复核 by the level above, for the top levels
    recheck_note = models.TextField("复核意见", blank=True)
    rechecked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    rechecked_at = models.DateTimeField("复核时间", null=True, blank=True)
    # after naming: the level in force (摘星/降星 change it)
    named_level = models.SmallIntegerField("命名星级", null=True, blank=True)
    current_level = models.SmallIntegerField("现行星级", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "星级评定"
        verbose_name_plural = "星级评定"
        ordering = ["round", "org__path"]
        constraints = [models.UniqueConstraint(fields=["round", "org"], name="rating_one_per_org")]
        indexes = [models.Index(fields=["org", "round"], name="rating_org_round")]

    def __str__(self) -> str:
        return f"{self.org} {self.round}"

    @property
    def level(self) -> int | None:
        """The proposed level now: a person's adjustment, else the compiled one."""
        return self.adjusted_level if self.is_adjusted else self.computed_level

    @property
    def is_compiled(self) -> bool:
        return self.compiled_at is not None


class FactKind(models.TextChoices):
    """Inputs the checklist does not hold, entered by staff with their evidence."""

    VETO = "veto", "否决情形"
    PREREQUISITE = "prerequisite", "前置条件"
    BONUS = "bonus", "加分"
    HONOUR = "honour", "荣誉"
    STAR = "star", "命名星"
    SATISFACTION = "satisfaction", "满意度"
    LAST_YEAR = "last_year", "上年星级"


class RatingFact(models.Model):
    """A fact about an organisation for a campaign's rating: a veto event, a bonus, an honour ..."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="rating_facts"
    )
    org = models.ForeignKey(
        OrgUnit, verbose_name="党组织", on_delete=models.PROTECT, related_name="rating_facts"
    )
    kind = models.CharField("类型", max_length=20, choices=FactKind.choices)
    key = models.CharField("代码", max_length=50, blank=True)
    value = models.DecimalField("数值", max_digits=8, decimal_places=2, null=True, blank=True)
    description = models.CharField("说明", max_length=300, blank=True)
    evidence = models.ForeignKey(
        "campaigns.Evidence",
        verbose_name="佐证",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "评星事实"
        verbose_name_plural = "评星事实"
        ordering = ["campaign", "org__path", "kind", "key"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "org", "kind", "key"], name="rating_fact_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.get_kind_display()} {self.key}"


class TieDecision(models.Model):
    """A person's decision for one organisation in a tie at a quota boundary."""

    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="tie_decisions")
    org = models.ForeignKey(OrgUnit, verbose_name="党组织", on_delete=models.PROTECT, related_name="+")
    tied_level = models.SmallIntegerField("并列所在星级")
    scope = models.CharField("名额范围", max_length=50)
    decided_level = models.SmallIntegerField("决定星级", null=True, blank=True)
    reason = models.TextField("决定理由")
    decided_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("决定时间", auto_now_add=True)
    is_void = models.BooleanField("已失效", default=False)

    class Meta:
        verbose_name = "并列决定"
        verbose_name_plural = "并列决定"
        ordering = ["round", "-tied_level", "org__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "org"], condition=Q(is_void=False), name="tie_decision_one_live_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org} → {self.decided_level}"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "待处理"
    UPHELD = "upheld", "异议成立"
    REJECTED = "rejected", "异议不成立"


class Objection(models.Model):
    """An objection raised during 公示, recorded by staff and resolved with a written answer."""

    rating = models.ForeignKey(
        Rating, verbose_name="评定", on_delete=models.CASCADE, related_name="objections"
    )
    raised_by_name = models.CharField("反映人", max_length=50, blank=True)
    contact = models.CharField("联系方式", max_length=50, blank=True)
    received_on = models.DateField("受理日期")
    content = models.TextField("异议内容")
    status = models.CharField(
        "状态", max_length=20, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    resolution = models.TextField("核查处理情况", blank=True)
    level_after = models.SmallIntegerField("处理后星级", null=True, blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rating.org} 异议"


class ChangeKind(models.TextChoices):
    REVOKE = "revoke", "摘星"
    DEMOTE = "demote", "降星"


class StarChange(models.Model):
    """摘星/降星 of a named rating on a veto event, with its decision record."""

    rating = models.ForeignKey(Rating, verbose_name="评定", on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField("类型", max_length=20, choices=ChangeKind.choices)
    from_level = models.SmallIntegerField("原星级", null=True, blank=True)
    to_level = models.SmallIntegerField("调整后星级", null=True, blank=True)
    veto_key = models.CharField("否决情形", max_length=50, blank=True)
    reason = models.TextField("事由")
    decision_document = models.CharField("决定文号", max_length=100)
    decided_on = models.DateField("决定日期")
    decided_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "摘星降星"
        verbose_name_plural = "摘星降星"
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.rating.org} {self.get_kind_display()}"


# --- dashboards (domain.md §11) ----------------------------------------------------------------


class EntryRollup(models.Model):
    """Checklist entries of an organisation's whole subtree, summed by section and due date.

    Kept only for organisations with descendants (a branch's own entries are read live) and
    rebuilt from the entries by ``scoring.rollups.rollup_refresh``; every figure that depends on
    today (due so far, overdue, 临期) is computed when read, from ``due_date``.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    section = models.ForeignKey("campaigns.Section", on_delete=models.CASCADE, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    done_on_time = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    submitted = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "进度汇总"
        verbose_name_plural = "进度汇总"
        indexes = [models.Index(fields=["campaign", "org"], name="entry_rollup_campaign_org")]

    def __str__(self) -> str:
        return f"{self.org_id}/{self.section_id}/{self.due_date}: {self.done}/{self.total}"


class RollupMetric(models.TextChoices):
    DONE_MONTH = "done_month", "按月完成"
    LETTERS = "letters", "责任书"
    REPORTS = "reports", "述职报告"
    STARS = "stars", "拟定星级"
    SNAPSHOT = "snapshot", "进度快照"


class CountRollup(models.Model):
    """A count over an organisation's whole subtree: ``metric`` names what, ``key`` which bucket.

    done_month: key = month "1".."12" (entries done with a completion date in that month);
    letters: "signed" / "total" checklists; reports: a ReportStatus value;
    stars: "<round id>:<level>" (effective provisional level, "-" for none);
    snapshot: "<snapshot id>:total|due|done|overdue".
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    org = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=20, choices=RollupMetric.choices)
    key = models.CharField(max_length=40)
    value = models.IntegerField(default=0)

    class Meta:
        verbose_name = "统计汇总"
        verbose_name_plural = "统计汇总"
        indexes = [models.Index(fields=["campaign", "org", "metric"], name="count_rollup_campaign_org")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.metric}:{self.key}={self.value}"


class RollupState(models.Model):
    """When a campaign's rollups were last rebuilt, and from which state of the data."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="rollup_state")
    fingerprint = models.CharField("数据指纹", max_length=64, blank=True)
    refreshed_at = models.DateTimeField("更新时间", null=True, blank=True)
    seconds = models.FloatField("耗时（秒）", default=0)
    nodes = models.PositiveIntegerField("汇总组织数", default=0)

    class Meta:
        verbose_name = "汇总状态"
        verbose_name_plural = "汇总状态"

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.refreshed_at}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ExportJob(models.Model):
    """A year-end assessment workbook (domain.md §12) built by a Celery job for one subtree."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="创建活动", on_delete=models.CASCADE, related_name="+"
    )
    org = models.ForeignKey(OrgUnit, verbose_name="导出范围", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        User, verbose_name="导出人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        "状态", max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    done = models.PositiveIntegerField("已写入", default=0)
    total = models.PositiveIntegerField("总数", default=0)
    stage = models.CharField("当前步骤", max_length=50, blank=True)
    file = models.CharField("文件", max_length=255, blank=True)
    filename = models.CharField("文件名", max_length=200, blank=True)
    size = models.PositiveBigIntegerField("大小", default=0)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "考核汇总导出"
        verbose_name_plural = "考核汇总导出"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "created_at"], name="export_job_user_created")]

    def __str__(self) -> str:
        return f"{self.org} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
