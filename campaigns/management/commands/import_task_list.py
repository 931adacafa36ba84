"""manage.py import_task_list CAMPAIGN FILE.xlsx [--dry-run]: the task-list import without the web page.

Same rules as the upload page (domain.md §12): the whole sheet is validated first and written
all-or-nothing; every run leaves an IMPORT audit event. CAMPAIGN is the campaign's id or year.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from branches.imports import error_line
from campaigns.imports import STATUS_CHECKED, STATUS_FAILED, SUM_ERRORS, task_list_import_upload
from campaigns.models import Campaign

MSG_NOT_FOUND = "找不到文件：{path}"
MSG_NO_CAMPAIGN = "找不到创建活动“{key}”（请填写编号或年度）。"
MSG_APPLIED = "已导入“{name}”到 {year} 年度：{summary}"
MSG_CHECKED = "预检通过，未写入任何数据（--dry-run）：{summary}"
MSG_FAILED = "导入失败：共 {count} 处错误，未写入任何数据。"


def find_campaign(key: str) -> Campaign:
    """A campaign by year (2000–2100) or else by id."""
    if not key.isdigit():
        raise CommandError(MSG_NO_CAMPAIGN.format(key=key))
    number = int(key)
    qs = (
        Campaign.objects.filter(year=number) if 2000 <= number <= 2100 else Campaign.objects.filter(pk=number)
    )
    campaign = qs.first()
    if campaign is None:
        raise CommandError(MSG_NO_CAMPAIGN.format(key=key))
    return campaign


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入年度任务清单；先完整校验，全部无误才写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="创建活动的编号或年度")
        parser.add_argument("file", help="导入文件路径（.xlsx，格式同网页上的导入模板）")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入数据")

    def handle(self, *args: Any, campaign: str, file: str, dry_run: bool, **options: Any) -> None:
        target = find_campaign(campaign)
        path = Path(file)
        if not path.is_file():
            raise CommandError(MSG_NOT_FOUND.format(path=path))
        # Passed as a File so the size cap is checked before the content is read.
        with path.open("rb") as handle:
            result = task_list_import_upload(
                campaign=target, upload=File(handle, name=path.name), actor=None, dry_run=dry_run
            )
        summary = "，".join(f"{key} {value}" for key, value in result.summary.items())
        if result.status == STATUS_FAILED:
            for error in result.errors:
                self.stderr.write(error_line(error))
            raise CommandError(MSG_FAILED.format(count=result.summary.get(SUM_ERRORS, len(result.errors))))
        message = MSG_CHECKED if result.status == STATUS_CHECKED else MSG_APPLIED
        self.stdout.write(
            self.style.SUCCESS(message.format(name=path.name, year=target.year, summary=summary))
        )
