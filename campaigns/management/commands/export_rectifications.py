"""manage.py export_rectifications CAMPAIGN --unit CODE -o FILE.xlsx: the 整改台账 of a subtree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branches.models import OrgUnit
from campaigns.ledger import rectification_ledger_workbook
from campaigns.management.commands.import_task_list import find_campaign

MSG_NO_UNIT = "没有找到组织代码为 {code} 的党组织。"


class Command(BaseCommand):
    help = "把某党组织及其下级的整改台账导出为 Excel（.xlsx）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="创建活动的编号或年度")
        parser.add_argument("--unit", required=True, help="党组织代码（导出该组织及其全部下级）")
        parser.add_argument("-o", "--output", required=True, help="输出文件路径（.xlsx）")

    def handle(self, *args: Any, campaign: str, unit: str, output: str, **options: Any) -> None:
        target = find_campaign(campaign)
        org = OrgUnit.objects.filter(code=unit).first()
        if org is None:
            raise CommandError(MSG_NO_UNIT.format(code=unit))
        Path(output).write_bytes(rectification_ledger_workbook(campaign=target, unit=org))
        self.stdout.write(self.style.SUCCESS(f"已导出 {org.name} {target.year} 年度整改台账：{output}"))
