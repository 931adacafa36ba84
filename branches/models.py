"""Who: the organisation tree, user accounts, role grants, the roster and the audit log."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """A person who logs in. The username is the account (账号); `full_name` is 姓名."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.full_name}（{self.username}）" if self.full_name else self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", "工委"
    AGENCY_COMMITTEE = "agency_committee", "机关党委"
    GENERAL_BRANCH = "general_branch", "党总支"
    BRANCH = "branch", "党支部"
    PARTY_GROUP = "party_group", "党小组"


# Parent rules of domain.md §3. The 工委 is the only root.
ALLOWED_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    OrgKind.COMMITTEE: (),
    OrgKind.AGENCY_COMMITTEE: (OrgKind.COMMITTEE,),
    OrgKind.GENERAL_BRANCH: (OrgKind.COMMITTEE, OrgKind.AGENCY_COMMITTEE),
    OrgKind.BRANCH: (OrgKind.COMMITTEE, OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH),
    OrgKind.PARTY_GROUP: (OrgKind.BRANCH,),
}

# Committee terms (换届): 3 years for 支部/总支, 5 for 机关党委 (domain.md §3, §10).
TERM_YEARS: dict[str, int] = {
    OrgKind.AGENCY_COMMITTEE: 5,
    OrgKind.GENERAL_BRANCH: 3,
    OrgKind.BRANCH: 3,
}

PATH_SEPARATOR = "/"


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def subtree(self, path: str) -> OrgUnitQuerySet:
        return self.filter(subtree_q(path))


def subtree_q(path: str, field: str = "path") -> Q:
    """Q for "the organisation with this path and everything below it".

    A half-open B-tree range on the path column: every descendant's path starts
    with `path`, and '0' is the character after '/', so `path <= x < path[:-1]+'0'`
    selects exactly the subtree. Unlike LIKE 'x%', a plain range uses the index on
    SQLite and on PostgreSQL whatever the collation.
    """
    upper = path[:-1] + chr(ord(PATH_SEPARATOR) + 1)
    return Q(**{f"{field}__gte": path, f"{field}__lt": upper})


class OrgUnit(models.Model):
    """One Party organisation in the 工委's tree.

    Tree structure: an adjacency list (`parent`) plus a maintained materialised
    path (`path` = "/<root id>/<child id>/.../<own id>/"). We chose the path
    column over django-tree-queries' recursive CTE because every scoped query in
    the product ("this organisation and everything below it", joined to hundreds
    of thousands of checklist entries) becomes one indexed range scan that the
    planner can combine with other indexes, on SQLite and PostgreSQL alike, and it
    stays fast at 100,000 organisations (P5). Trees are written rarely (imports,
    admin edits) and only through `branches.services`, which keeps `path` and
    `depth` consistent, including for moves of whole subtrees.
    """

    code = models.CharField("组织编码", max_length=50, unique=True)
    name = models.CharField("组织名称", max_length=100)
    kind = models.CharField("组织类型", max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("树路径", max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField("层级", default=0, editable=False)
    sort_order = models.IntegerField("排序", default=0)
    agency_name = models.CharField("所在单位", max_length=100, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    established_on = models.DateField("成立日期", null=True, blank=True)
    term_ends_on = models.DateField("届满日期", null=True, blank=True)
    is_active = models.BooleanField("状态正常", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
        ordering = ["path"]
        indexes = [
            models.Index(fields=["parent", "sort_order"], name="orgunit_siblings"),
            models.Index(fields=["kind", "path"], name="orgunit_kind_path"),
            # The dashboard rollups' change check (scoring/rollups.py): the latest tree change.
            models.Index(fields=["updated_at"], name="orgunit_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True, kind=OrgKind.COMMITTEE)
                | Q(parent__isnull=False) & ~Q(kind=OrgKind.COMMITTEE),
                name="orgunit_only_committee_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        allowed = ALLOWED_PARENT_KINDS.get(self.kind, ())
        if self.parent_id is None and self.kind != OrgKind.COMMITTEE:
            raise ValidationError({"parent": "除工委外，每个组织都必须有上级组织。"})
        if self.parent is not None and self.parent.kind not in allowed:
            raise ValidationError(
                {"parent": f"{self.get_kind_display()}的上级不能是{self.parent.get_kind_display()}。"}
            )

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if p][:-1]

    def term_days_left(self, today: date) -> int | None:
        return None if self.term_ends_on is None else (self.term_ends_on - today).days

    def term_warning(self, today: date, horizon_days: int = 90) -> bool:
        left = self.term_days_left(today)
        return left is not None and left <= horizon_days


class Role(models.TextChoices):
    COMMITTEE_ADMIN = "committee_admin", "工委管理员"
    COMMITTEE_STAFF = "committee_staff", "工委工作人员"
    UNIT_STAFF = "unit_staff", "机关党委/总支工作人员"
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    COMMITTEE_MEMBER = "committee_member", "支委委员"
    LIAISON_OFFICER = "liaison_officer", "党建联络员"
    LIAISON_LEADER = "liaison_leader", "联系领导"
    VIEWER = "viewer", "查看"


# Where each role may be granted (domain.md §3).
ROLE_ALLOWED_KINDS: dict[str, tuple[str, ...]] = {
    Role.COMMITTEE_ADMIN: (OrgKind.COMMITTEE,),
    Role.COMMITTEE_STAFF: (OrgKind.COMMITTEE,),
    Role.UNIT_STAFF: (OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH),
    Role.SECRETARY: tuple(OrgKind.values),
    Role.DEPUTY_SECRETARY: tuple(OrgKind.values),
    Role.COMMITTEE_MEMBER: (OrgKind.BRANCH,),
    Role.LIAISON_OFFICER: (OrgKind.BRANCH,),
    Role.LIAISON_LEADER: tuple(OrgKind.values),
    Role.VIEWER: tuple(OrgKind.values),
}

STAFF_ROLES = (Role.COMMITTEE_ADMIN, Role.COMMITTEE_STAFF, Role.UNIT_STAFF)
OFFICER_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.COMMITTEE_MEMBER, Role.LIAISON_OFFICER)


class RoleGrant(models.Model):
    """A role held by a person at an organisation; it covers the whole subtree."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="grants")
    org = models.ForeignKey(OrgUnit, verbose_name="组织", on_delete=models.CASCADE, related_name="grants")
    role = models.CharField("角色", max_length=30, choices=Role.choices)
    granted_by = models.ForeignKey(
        User, verbose_name="授权人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        constraints = [models.UniqueConstraint(fields=["user", "org", "role"], name="rolegrant_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.org} · {self.get_role_display()}"


class MemberCategory(models.TextChoices):
    FULL = "full", "正式党员"
    PROBATIONARY = "probationary", "预备党员"


class Member(models.Model):
    """A roster entry of an organisation. Members need no account to be on the roster."""

    org = models.ForeignKey(
        OrgUnit, verbose_name="所在组织", on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField("姓名", max_length=50)
    category = models.CharField("党员类别", max_length=20, choices=MemberCategory.choices)
    joined_on = models.DateField("入党日期", null=True, blank=True)
    user = models.OneToOneField(
        User, verbose_name="账号", null=True, blank=True, on_delete=models.SET_NULL, related_name="member"
    )
    is_active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "党员"
        verbose_name_plural = "党员"
        ordering = ["org", "id"]
        indexes = [models.Index(fields=["org", "name"], name="member_org_name")]

    def __str__(self) -> str:
        return self.name


class AuditAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKED_OUT = "locked_out", "账号锁定"
    LOGOUT = "logout", "退出"
    SESSION_EXPIRED = "session_expired", "会话超时"
    DENIED = "denied", "拒绝访问"
    PASSWORD_CHANGED = "password_changed", "修改密码"
    PASSWORD_RESET = "password_reset", "重置密码"
    USER_CREATED = "user_created", "创建用户"
    USER_UPDATED = "user_updated", "修改用户"
    USER_DEACTIVATED = "user_deactivated", "停用用户"
    USER_ACTIVATED = "user_activated", "启用用户"
    ROLE_GRANTED = "role_granted", "授予角色"
    ROLE_REVOKED = "role_revoked", "撤销角色"
    IMPORT = "import", "导入"
    EXPORT = "export", "导出"
    REVIEW = "review", "审核"
    REOPEN = "reopen", "重新打开"
    PUBLISH = "publish", "发布"
    ARCHIVE = "archive", "归档"
    RATING = "rating", "评星定级"
    SETTINGS = "settings", "修改设置"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditEvent(models.Model):
    """Append-only audit log (R14). The database also refuses UPDATE (and DELETE on PostgreSQL)."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField("账号", max_length=150, blank=True)
    action = models.CharField("事件", max_length=30, choices=AuditAction.choices, db_index=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    target_type = models.CharField("对象类型", max_length=50, blank=True)
    target_id = models.CharField("对象", max_length=64, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username} {self.get_action_display()}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("审计日志只能追加，不能修改。")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志只能追加，不能删除。")


class ImportStatus(models.TextChoices):
    CHECKED = "checked", "预检通过"
    FAILED = "failed", "有错误，未写入"
    APPLIED = "applied", "已导入"


class OrgImport(models.Model):
    """One upload of the organisation workbook, kept so its errors can be downloaded."""

    created_at = models.DateTimeField("时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(User, verbose_name="上传人", null=True, on_delete=models.SET_NULL)
    file_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    dry_run = models.BooleanField("仅预检", default=False)
    status = models.CharField("结果", max_length=20, choices=ImportStatus.choices)
    errors = models.JSONField("错误", default=list, blank=True)
    summary = models.JSONField("统计", default=dict, blank=True)

    class Meta:
        verbose_name = "组织导入"
        verbose_name_plural = "组织导入"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.get_status_display()}"


class MessageKind(models.TextChoices):
    NOTICE = "notice", "通报"
    RECTIFICATION = "rectification", "整改"
    REMINDER = "reminder", "提醒"
    RATING = "rating", "评星"
    SYSTEM = "system", "系统消息"


class Message(models.Model):
    """An in-app inbox message (站内消息) for one person; the link leads to the item."""

    recipient = models.ForeignKey(
        User, verbose_name="收件人", on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField("类型", max_length=20, choices=MessageKind.choices, default=MessageKind.SYSTEM)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    # Source object, so the same thing is never delivered twice to one person.
    source_key = models.CharField("来源", max_length=100, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="message_recipient_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "source_key"],
                condition=~Q(source_key=""),
                name="message_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.title


# --- notifications: channels, preferences, webhooks, outbox (domain.md §10, R12-R13) -----------


class Channel(models.TextChoices):
    INBOX = "inbox", "站内消息"
    EMAIL = "email", "电子邮件"
    WEBHOOK = "webhook", "群机器人"


class DigestMode(models.TextChoices):
    FOLLOW = "", "跟随工委设置"
    DAILY = "daily", "每日汇总"
    WEEKLY = "weekly", "每周汇总"


class NotificationPreference(models.Model):
    """One person's choices per channel; the inbox always receives everything."""

    user = models.OneToOneField(
        User, verbose_name="用户", on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField("接收电子邮件", default=True)
    digest = models.CharField("提醒汇总", max_length=10, choices=DigestMode.choices, blank=True, default="")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "通知偏好"
        verbose_name_plural = "通知偏好"

    def __str__(self) -> str:
        return f"{self.user} 通知偏好"


class WebhookPlatform(models.TextChoices):
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"
    GENERIC = "generic", "通用 Webhook"


class OrgWebhook(models.Model):
    """A group robot of one organisation: it receives the reminders of that subtree."""

    org = models.ForeignKey(OrgUnit, verbose_name="组织", on_delete=models.CASCADE, related_name="webhooks")
    platform = models.CharField("平台", max_length=20, choices=WebhookPlatform.choices)
    name = models.CharField("名称", max_length=50)
    url = models.URLField("Webhook 地址", max_length=500)
    secret = models.CharField("签名密钥", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "群机器人"
        verbose_name_plural = "群机器人"
        ordering = ["org__path", "id"]

    def __str__(self) -> str:
        return f"{self.org} · {self.name}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "待发布"
    PUBLISHED = "published", "已发布"
    RUNNING = "running", "执行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class Outbox(models.Model):
    """A job written in the same transaction as the change that calls for it (R13).

    A relay publishes due rows to the broker; the worker claims a row, runs the named task's body
    and marks it done. A row published or claimed but not finished within the lease is published
    again, so a lost broker message or a killed worker never loses the job; the jobs themselves
    are idempotent.
    """

    task = models.CharField("任务", max_length=100)
    kwargs = models.JSONField("参数", default=dict, blank=True)
    dedupe_key = models.CharField("去重键", max_length=200, blank=True)
    status = models.CharField(
        "状态", max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    available_at = models.DateTimeField("可执行时间")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    claimed_at = models.DateTimeField("开始执行", null=True, blank=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "任务发件箱"
        verbose_name_plural = "任务发件箱"
        indexes = [models.Index(fields=["status", "available_at"], name="outbox_status_available")]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="outbox_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk} {self.get_status_display()}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    SKIPPED = "skipped", "未发送"


class Delivery(models.Model):
    """One send over an outside channel (e-mail, group robot), written before it is sent.

    The unique (channel, key) makes each send happen once; a failed send is retried with backoff
    a bounded number of times, each delivery on its own, so a failing webhook never holds up mail.
    """

    channel = models.CharField("渠道", max_length=20, choices=Channel.choices)
    key = models.CharField("去重键", max_length=200)
    recipient = models.ForeignKey(
        User, verbose_name="收件人", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    webhook = models.ForeignKey(
        OrgWebhook,
        verbose_name="群机器人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    message = models.ForeignKey(
        Message,
        verbose_name="站内消息",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    address = models.CharField("地址", max_length=500, blank=True)
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    status = models.CharField(
        "状态", max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    not_before = models.DateTimeField("最早发送")
    claimed_at = models.DateTimeField("开始发送", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "外部渠道发送"
        verbose_name_plural = "外部渠道发送"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "not_before"], name="delivery_status_due")]
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="delivery_once_per_key")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.subject}"
