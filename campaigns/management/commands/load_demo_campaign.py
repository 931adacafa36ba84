"""`manage.py load_demo_campaign`: this year's demo campaign over the demo tree (domain.md §14)."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from branches.demo import ROOT_CODE
from branches.models import OrgUnit
from campaigns import demo


class Command(BaseCommand):
    help = "加载演示创建活动：本年度模范机关创建任务清单、发布到各党支部并模拟年中进展。需先运行 load_demo。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="本年度创建活动已存在时跳过。")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if not OrgUnit.objects.filter(code=ROOT_CODE).exists():
            raise CommandError("没有找到演示组织树，请先运行 manage.py load_demo。")
        if demo.demo_campaign_exists(today=today):
            if options["if_empty"]:
                self.stdout.write(f"{today.year} 年度创建活动已存在，跳过演示创建活动加载。")
                return
            raise CommandError(f"{today.year} 年度创建活动已存在。可使用 --if-empty 跳过。")
        started = time.monotonic()
        campaign, progress = demo.demo_campaign_load(today=today)
        run = campaign.publish_runs.first()
        self.stdout.write(
            self.style.SUCCESS(
                f"已加载“{campaign.name}”：{campaign.items.count()} 项任务，"
                f"发布到 {run.checklists_created if run else 0} 个党组织、{run.entries_created if run else 0} 条清单条目；"
                f"模拟进展 {progress.touched} 条，{progress.letters_signed} 位书记签订目标责任书，"
                f"{progress.evidence_uploaded} 条附佐证材料（用时 {time.monotonic() - started:.1f} 秒）。"
            )
        )
