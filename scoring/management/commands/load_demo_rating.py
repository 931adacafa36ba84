"""`manage.py load_demo_rating`: the 达标创星 demo over the demo campaign (domain.md §9, §14)."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns import demo as campaign_demo
from scoring import demo


class Command(BaseCommand):
    help = (
        "加载达标创星演示：采用评星方案、述职评议（全部党支部书记述职）、否决与加分等评星事实、"
        "自评申报和初审，并计算一次拟定星级（含一组名额边界并列待决定），停在工委审核阶段。"
        "需先运行 load_demo_campaign 和 load_demo_supervision。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="已有评星时跳过。")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if not campaign_demo.demo_campaign_exists(today=today):
            raise CommandError(
                f"没有找到 {today.year} 年度演示创建活动，请先运行 manage.py load_demo_campaign。"
            )
        if demo.demo_rating_exists():
            if options["if_empty"]:
                self.stdout.write("已有评星，跳过达标创星演示加载。")
                return
            raise CommandError("已有评星。可使用 --if-empty 跳过。")
        started = time.monotonic()
        result = demo.demo_rating_load(today=today)
        run, rnd = result.run, result.round
        vetoed = sum(1 for v in run.round.ratings.values_list("vetoes", flat=True) if v)
        self.stdout.write(
            self.style.SUCCESS(
                f"已加载“{rnd.title}”：采用“{rnd.scheme.name}”（第 {rnd.scheme.number} 版）；"
                f"述职评议 {result.reporters} 名党支部书记述职、{result.ballots} 张评议票；"
                f"评星事实 {result.facts} 条，年终审核记分 {result.entries_scored} 条，"
                f"{result.declared} 个党支部自评申报；拟定星级已计算 {run.total} 个党支部，"
                f"{run.ties} 组名额边界并列待决定，{vetoed} 个党支部一票否决；"
                f"当前阶段：{rnd.get_stage_display()}（用时 {time.monotonic() - started:.1f} 秒）。"
            )
        )
