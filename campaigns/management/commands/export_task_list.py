"""manage.py export_task_list CAMPAIGN -o FILE.xlsx: a campaign's task list as the import sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campaigns.exports import task_list_export
from campaigns.management.commands.import_task_list import find_campaign


class Command(BaseCommand):
    help = "把年度任务清单导出为 Excel（.xlsx），格式与导入模板相同。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="创建活动的编号或年度")
        parser.add_argument("-o", "--output", required=True, help="输出文件路径（.xlsx）")

    def handle(self, *args: Any, campaign: str, output: str, **options: Any) -> None:
        target = find_campaign(campaign)
        data = task_list_export(campaign=target, actor=None)
        Path(output).write_bytes(data)
        self.stdout.write(self.style.SUCCESS(f"已导出 {target.year} 年度任务清单：{output}"))
