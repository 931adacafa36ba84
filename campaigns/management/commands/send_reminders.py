"""manage.py send_reminders --date YYYY-MM-DD [--dry-run] [--committee CODE].

With ``--dry-run``: what the daily dispatcher would send that day, as a table, and nothing is
written. Without: the day's run, inline (no worker needed for the inbox; e-mails and group-robot
messages go to the outbox for the Celery worker), then what it sent. Running it twice sends
nothing the second time: the day's run and every reminder are logged once (R12).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from branches.models import (
    Channel,
    Delivery,
    DigestMode,
    Message,
    MessageKind,
    NotificationPreference,
    OrgKind,
    OrgUnit,
    User,
)
from branches.notify import email_wanted, webhooks_covering
from campaigns.models import Audience, DispatchRun, DispatchStatus, Reminder, ReminderStatus
from campaigns.reminders.dispatch import dispatch_day, policy_for
from campaigns.reminders.planner import Planned, describe, plan

WEEKDAYS = "一二三四五六日"
SENT_LIST_LIMIT = 30  # messages listed after a run (all of them with -v 2)


def parse_day(value: str | None) -> date:
    if not value:
        return timezone.localdate()
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(f"日期“{value}”无效，请按 YYYY-MM-DD 填写，例如 2026-06-13。") from None


def find_committee(code: str | None) -> OrgUnit:
    """The 工委 named by ``code``, or the only one when no code is given."""
    roots = OrgUnit.objects.filter(kind=OrgKind.COMMITTEE, parent__isnull=True, is_active=True)
    if code:
        committee = roots.filter(code=code).first()
        if committee is None:
            raise CommandError(f"没有找到组织代码为 {code} 的工委（须为顶级工委且状态正常）。")
        return committee
    found = list(roots.order_by("code")[:20])
    if not found:
        raise CommandError("还没有工委。请先导入组织架构或运行 manage.py load_demo。")
    if len(found) > 1:
        codes = "、".join(f"{c.code}（{c.name}）" for c in found)
        raise CommandError(f"有多个工委，请用 --committee 指定其中一个：{codes}")
    return found[0]


def text_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned in columns, two spaces apart; the last column is not padded."""
    widths = [max([text_width(h), *(text_width(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [c + " " * (widths[i] - text_width(c)) for i, c in enumerate(cells[:-1])]
        return "  ".join([*padded, cells[-1]]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(headers), rule, *(line(r) for r in rows)]


class Command(BaseCommand):
    help = (
        "按日期预览或发送提醒：--dry-run 只列出当天将发送的提醒（谁、哪个组织、哪项事项、哪条规则、"
        "哪些渠道），不写入任何数据；不加 --dry-run 则立即执行当天的发送（已发送过的不会重复发送）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", dest="day", help="提醒日期，格式 YYYY-MM-DD（默认今天）")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不发送、不写入")
        parser.add_argument("--committee", help="工委的组织代码（只有一个工委时可省略）")

    def handle(self, *args: Any, **options: Any) -> None:
        day = parse_day(options.get("day"))
        committee = find_committee(options.get("committee"))
        if options["dry_run"]:
            self.preview(committee, day, verbosity=options["verbosity"])
        else:
            self.send(committee, day, verbosity=options["verbosity"])

    # --- preview ------------------------------------------------------------------------------

    def preview(self, committee: OrgUnit, day: date, *, verbosity: int) -> None:
        # The dispatcher installs the default rules on first use; so does the preview, in a
        # transaction that is rolled back, so that a dry run writes nothing at all.
        with transaction.atomic():
            policy = policy_for(committee)
            planned = plan(committee=committee, day=day)
            digest, digest_weekday = policy.digest, policy.digest_weekday
            transaction.set_rollback(True)
        run = DispatchRun.objects.filter(committee=committee, date=day).first()
        self.stdout.write(f"提醒预览：{committee.name} · {day:%Y-%m-%d}（仅预览，不发送、不写入任何记录）")
        if run is None:
            self.stdout.write("当天的发送：尚未执行。")
        else:
            state = "已完成" if run.status == DispatchStatus.DONE else "进行中"
            self.stdout.write(
                f"当天的发送：{state}（开始于 {timezone.localtime(run.started_at):%Y-%m-%d %H:%M}）。"
            )
        if not planned:
            self.stdout.write("当天没有需要发送的提醒。")
            return
        logged = self._logged(committee, planned)
        users = {
            u.pk: u
            for u in User.objects.filter(pk__in={p.recipient_id for p in planned}).only(
                "username", "full_name"
            )
        }
        addresses = email_wanted({p.recipient_id for p in planned if p.via_email})
        hooks = webhooks_covering({p.item.org_path for p in planned if p.via_webhook})
        rows: list[list[str]] = []
        previous = None
        for p in planned:
            user = users.get(p.recipient_id)
            who = "" if p.recipient_id == previous else (str(user) if user else f"#{p.recipient_id}")
            previous = p.recipient_id
            rows.append(
                [
                    who,
                    p.item.org_name,
                    describe(p.item, day),
                    p.rule_name,
                    self._channels(p, addresses, hooks),
                    "已记录" if p.key in logged else "新",
                ]
            )
        self.stdout.write("")
        for line in table(["收件人", "组织", "事项", "规则", "渠道", "发送记录"], rows):
            self.stdout.write(line)
        people = {p.recipient_id for p in planned}
        red = {p.item.key for p in planned if p.audience == Audience.COMMITTEE_STAFF}
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"合计：提醒 {len(planned)} 条，涉及 {len(people)} 人，其中红名单 {len(red)} 项。"
            )
        )
        already = sum(1 for p in planned if p.key in logged)
        if already:
            self.stdout.write(
                f"其中 {already} 条已在发送记录中（此前已发送或已排定），不会重复发送；新提醒 {len(planned) - already} 条。"
            )
        else:
            self.stdout.write("这些提醒都还不在发送记录中。")
        weekly = self._weekly_waiting(people, day, digest, digest_weekday)
        if weekly:
            self.stdout.write(
                f"注：其中 {weekly} 人选择每周汇总，提醒将在每周{WEEKDAYS[digest_weekday]}合并发送。"
            )

    @staticmethod
    def _logged(committee: OrgUnit, planned: Sequence[Planned]) -> set[tuple[int, str, str, str]]:
        keys = {p.item.key for p in planned}
        found: set[tuple[int, str, str, str]] = set()
        keys_list = sorted(keys)
        for i in range(0, len(keys_list), 500):
            found |= set(
                Reminder.objects.filter(item_key__in=keys_list[i : i + 500]).values_list(
                    "recipient_id", "item_key", "kind", "period"
                )
            )
        return found

    @staticmethod
    def _channels(p: Planned, addresses: dict[int, str], hooks: dict[str, list[Any]]) -> str:
        out = ["站内消息"]
        if p.via_email:
            out.append("电子邮件" if p.recipient_id in addresses else "电子邮件（无邮箱或已关闭）")
        if p.via_webhook and hooks.get(p.item.org_path):
            out.append(f"群机器人×{len(hooks[p.item.org_path])}")
        return "、".join(out)

    @staticmethod
    def _weekly_waiting(people: set[int], day: date, digest: str, weekday: int) -> int:
        if day.weekday() == weekday:
            return 0
        prefs = dict(
            NotificationPreference.objects.filter(user_id__in=list(people))
            .exclude(digest=DigestMode.FOLLOW)
            .values_list("user_id", "digest")
        )
        return sum(1 for uid in people if (prefs.get(uid) or digest) == DigestMode.WEEKLY)

    # --- send ---------------------------------------------------------------------------------

    def send(self, committee: OrgUnit, day: date, *, verbosity: int) -> None:
        existing = DispatchRun.objects.filter(
            committee=committee, date=day, status=DispatchStatus.DONE
        ).first()
        started = timezone.now()
        last_reminder = Reminder.objects.aggregate(m=Max("id"))["m"] or 0
        last_message = Message.objects.aggregate(m=Max("id"))["m"] or 0
        last_delivery = Delivery.objects.aggregate(m=Max("id"))["m"] or 0
        run = dispatch_day(committee=committee, day=day, inline=True)
        new_reminders = Reminder.objects.filter(committee=committee, pk__gt=last_reminder).count()
        sent = Reminder.objects.filter(committee=committee, status=ReminderStatus.SENT, sent_at__gte=started)
        cancelled = Reminder.objects.filter(
            committee=committee, status=ReminderStatus.CANCELLED, cancelled_at__gte=started
        ).count()
        messages = list(
            Message.objects.filter(pk__gt=last_message, kind=MessageKind.REMINDER)
            .select_related("recipient")
            .order_by("recipient__username", "id")
        )
        deliveries = Delivery.objects.filter(pk__gt=last_delivery)
        emails = deliveries.filter(channel=Channel.EMAIL).count()
        robots = deliveries.filter(channel=Channel.WEBHOOK).count()
        head = f"{committee.name} · {day:%Y-%m-%d}："
        if existing is not None and not messages and not new_reminders:
            self.stdout.write(
                head
                + f"当天的提醒已于 {timezone.localtime(existing.finished_at or existing.started_at):%Y-%m-%d %H:%M} "
                "发送完毕，本次没有重复发送任何提醒。"
            )
            return
        state = "已完成" if run.status == DispatchStatus.DONE else "进行中"
        self.stdout.write(
            self.style.SUCCESS(
                head + f"发送{state}。新增提醒记录 {new_reminders} 条，本次发出 {sent.count()} 条"
                f"（因事项已完成取消 {cancelled} 条）；站内消息 {len(messages)} 条；"
                f"电子邮件 {emails} 封、群机器人消息 {robots} 条已写入发送队列，由 Celery worker 发送。"
            )
        )
        if not messages:
            self.stdout.write("当天没有需要发送的新提醒。")
            return
        shown = messages if verbosity >= 2 else messages[:SENT_LIST_LIMIT]
        self.stdout.write("")
        for line in table(["收件人", "站内消息标题"], [[str(m.recipient), m.title] for m in shown]):
            self.stdout.write(line)
        if len(shown) < len(messages):
            self.stdout.write(f"……等共 {len(messages)} 条（加 -v 2 列出全部）。")
