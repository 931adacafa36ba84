"""`manage.py load_demo_history`: last year's finished campaign, for the dashboard's year comparison."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns import demo as campaign_demo
from scoring import demo_history


class Command(BaseCommand):
    help = (
        "加载上一年度演示创建活动（由本年度任务清单复制、已发布并归档，大部分任务按时完成），"
        "供数据看板进行“本年与上年同期”对比。需先运行 load_demo_campaign。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="已有上一年度创建活动时跳过。")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if not campaign_demo.demo_campaign_exists(today=today):
            raise CommandError(
                f"没有找到 {today.year} 年度演示创建活动，请先运行 manage.py load_demo_campaign。"
            )
        if demo_history.demo_history_exists(today=today):
            if options["if_empty"]:
                self.stdout.write("已有上一年度创建活动，跳过加载。")
                return
            raise CommandError("已有上一年度创建活动。可使用 --if-empty 跳过。")
        started = time.monotonic()
        result = demo_history.demo_history_load(today=today)
        self.stdout.write(
            self.style.SUCCESS(
                f"已加载“{result.campaign.name}”（已归档）：{result.entries} 个清单条目，"
                f"按时完成 {result.on_time} 个、逾期完成 {result.late} 个、未完成 {result.undone} 个；"
                f"已生成本年与上年的数据看板汇总（用时 {time.monotonic() - started:.1f} 秒）。"
            )
        )
