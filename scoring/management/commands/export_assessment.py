"""`manage.py export_assessment CAMPAIGN --unit CODE -o FILE.xlsx`: the year-end workbook from the shell."""

from __future__ import annotations

import os
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from branches.audit import audit_record
from branches.models import AuditAction, OrgKind, OrgUnit
from branches.selectors import committee_root
from campaigns.models import Campaign
from scoring.exports import ExportScopeError, assessment_workbook


def _committee_of(org: OrgUnit) -> OrgUnit | None:
    if org.kind == OrgKind.COMMITTEE:
        return org
    ancestors = org.ancestor_ids
    return OrgUnit.objects.filter(pk=ancestors[0]).first() if ancestors else None


class Command(BaseCommand):
    help = (
        "导出年度考核汇总表（Excel：说明、汇总表、评分明细、整改台账、述职评议测评统计、任务清单完成情况，"
        "单个党组织另附申报表），范围为 --unit 指定的党组织及其全部下级。"
        "CAMPAIGN 为该组织所属工委的创建活动年度（如 2026），也可写作 id:<活动编号>。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("campaign", help="创建活动年度（如 2026），或 id:<活动编号>")
        parser.add_argument("--unit", default="", help="党组织编码；默认为工委（全部党组织）")
        parser.add_argument("-o", "--output", required=True, help="输出文件路径（.xlsx）")

    def _unit(self, code: str) -> OrgUnit:
        if not code:
            root = committee_root()
            if root is None:
                raise CommandError("系统中还没有工委，请先导入组织。")
            return root
        org = OrgUnit.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"没有找到组织编码为“{code}”的党组织。")
        return org

    def _campaign(self, value: str, org: OrgUnit) -> Campaign:
        committee = _committee_of(org)
        text = value.strip()
        if text.lower().startswith("id:") and text[3:].isdigit():
            campaign = Campaign.objects.select_related("committee").filter(pk=int(text[3:])).first()
            if campaign is None:
                raise CommandError(f"没有找到编号为 {text[3:]} 的创建活动。")
            return campaign
        if not text.isdigit():
            raise CommandError(f"创建活动应写年度（如 2026）或 id:<活动编号>，不能是“{value}”。")
        campaign = (
            Campaign.objects.select_related("committee").filter(committee=committee, year=int(text)).first()
        )
        if campaign is None:
            owner = committee.name if committee is not None else "该工委"
            raise CommandError(f"没有找到{owner}的 {text} 年度创建活动。")
        return campaign

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError("输出文件须以 .xlsx 结尾。")
        if not output.parent.is_dir():
            raise CommandError(f"输出目录“{output.parent}”不存在。")
        org = self._unit(options["unit"])
        campaign = self._campaign(options["campaign"], org)
        started = time.monotonic()
        last_stage = ""

        def progress(done: int, total: int, stage: str) -> None:
            nonlocal last_stage
            if stage != last_stage or done % 10000 < 2000:
                self.stdout.write(f"{stage}：{done}/{total}")
                last_stage = stage

        partial = output.with_name(output.name + ".part")
        try:
            assessment_workbook(campaign=campaign, org=org, out=str(partial), progress=progress)
        except ExportScopeError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(str(exc)) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, output)
        audit_record(
            action=AuditAction.EXPORT,
            username="manage.py",
            target=campaign,
            detail={"kind": "assessment", "year": campaign.year, "org": org.code, "source": "command"},
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"已导出 {org.name}（{org.code}）{campaign.year} 年度考核汇总表："
                f"{output.resolve()}（{output.stat().st_size // 1024} KB，用时 {time.monotonic() - started:.1f} 秒）"
            )
        )
