"""`manage.py load_demo_supervision`: the mid-year supervision demo over the demo campaign (§7)."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns import demo, demo_supervision


class Command(BaseCommand):
    help = "加载年中督责演示：一轮年中督查（抽样、检查记录、问题整改全流程）、一份通报、一次约谈和年中晒进度快照。需先运行 load_demo_campaign。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="已有检查记录时跳过。")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if not demo.demo_campaign_exists(today=today):
            raise CommandError(
                f"没有找到 {today.year} 年度演示创建活动，请先运行 manage.py load_demo_campaign。"
            )
        if demo_supervision.demo_supervision_exists():
            if options["if_empty"]:
                self.stdout.write("已有检查记录，跳过年中督责演示加载。")
                return
            raise CommandError("已有检查记录。可使用 --if-empty 跳过。")
        started = time.monotonic()
        result = demo_supervision.demo_supervision_load(today=today)
        self.stdout.write(
            self.style.SUCCESS(
                f"已加载“{result.inspection.title}”：抽取 {result.inspection.targets.count()} 个党支部"
                f"（随机种子 {result.inspection.seed}），发现问题 {result.findings} 个、现场照片 {result.photos} 张，"
                f"整改覆盖全部状态；通报发送 {result.notice_recipients} 人，约谈 1 次，"
                f"年中晒进度快照 {result.snapshot_rows} 个党组织（用时 {time.monotonic() - started:.1f} 秒）。"
            )
        )
