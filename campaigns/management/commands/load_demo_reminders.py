"""`manage.py load_demo_reminders`: the reminders and notifications demo (domain.md §10, §14)."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns import demo, demo_reminders


class Command(BaseCommand):
    help = (
        "加载提醒与通知演示：启用默认提醒规则和经常性工作日历，为演示账号设置邮箱，登记大部分党组织的"
        "“三会一课”、主题党日等经常性工作（留有部分逾期未开展），添加一个未启用的企业微信群机器人示例，"
        f"并补发最近 {demo_reminders.HISTORY_DAYS} 天（含今天）的提醒。需先运行 load_demo_campaign。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="已有经常性工作记录时跳过。")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if not demo.demo_campaign_exists(today=today):
            raise CommandError(
                f"没有找到 {today.year} 年度演示创建活动，请先运行 manage.py load_demo_campaign。"
            )
        if demo_reminders.demo_reminders_exists():
            if options["if_empty"]:
                self.stdout.write("已有经常性工作记录，跳过提醒演示加载。")
                return
            raise CommandError("已有经常性工作记录。可使用 --if-empty 跳过。")
        started = time.monotonic()
        r = demo_reminders.demo_reminders_load(today=today)
        robot = f"；群机器人示例“{r.robot}”（未启用）" if r.robot else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"已加载提醒演示：提醒规则 {r.rules} 条、经常性工作 {r.obligations} 项；"
                f"为 {r.emails_set} 个演示账号设置了邮箱；登记经常性工作 {r.records} 次，"
                f"{r.missed} 期逾期未开展；示范党支部自定完成时限 {r.deadlines} 项{robot}；最近 {r.runs} 天共发送提醒 {r.reminders} 条、"
                f"站内消息 {r.messages} 条，今天的 {r.emails_queued} 封邮件等待 Celery 发送"
                f"（用时 {time.monotonic() - started:.1f} 秒）。"
            )
        )
