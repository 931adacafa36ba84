"""manage.py scheme_export (--campaign ID [--version N] | --preset NAME) [-o FILE.json]: a scheme as JSON.

The file is the canonical scheme dict (``scheme_to_dict``), pretty-printed with Chinese kept as is, so
``scheme_import`` (or the import page) reads it back unchanged. ``-o -`` (the default) writes to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.management.commands.import_task_list import find_campaign
from scoring import presets
from scoring.models import SchemeVersion
from scoring.scheme_forms import scheme_json
from scoring.schemes import Scheme
from scoring.services import scheme_of


def scheme_for(*, campaign: str | None, number: int | None, preset: str | None) -> tuple[Scheme, str]:
    """The scheme to export and how to describe it."""
    if preset:
        try:
            return presets.load(preset), f"预置方案 {preset}"
        except KeyError:
            names = "、".join(presets.available())
            raise CommandError(f"没有名为“{preset}”的预置方案。可用：{names}") from None
    assert campaign is not None
    target = find_campaign(campaign)
    versions = SchemeVersion.objects.filter(campaign=target)
    version = (
        versions.filter(number=number).first() if number is not None else versions.order_by("-number").first()
    )
    if version is None:
        if number is not None:
            raise CommandError(f"{target.name}没有第 {number} 版评星方案。")
        raise CommandError(f"{target.name}还没有评星方案。")
    return scheme_of(version), f"{target.name}第 {version.number} 版评星方案"


class Command(BaseCommand):
    help = "把评星方案导出为 JSON（活动中的某一版，默认最新版；或一个预置方案）。"

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # ``--version N`` picks a scheme version; it replaces Django's built-in --version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--campaign", help="创建活动的编号或年度")
        source.add_argument("--preset", help="预置方案名称，如 scheme_b_city_pingxing")
        parser.add_argument("--version", dest="number", type=int, help="版本号（默认最新版）")
        parser.add_argument("-o", "--output", default="-", help="输出文件路径（.json）；“-”输出到标准输出")

    def handle(
        self,
        *args: Any,
        campaign: str | None,
        preset: str | None,
        number: int | None,
        output: str,
        **options: Any,
    ) -> None:
        if preset and number is not None:
            raise CommandError("--version 只能与 --campaign 一起使用。")
        scheme, what = scheme_for(campaign=campaign, number=number, preset=preset)
        text = scheme_json(scheme)
        if output == "-":
            self.stdout.write(text, ending="")
            return
        Path(output).write_text(text, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"已导出{what}：{output}"))
