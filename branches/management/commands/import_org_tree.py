"""manage.py import_org_tree FILE.xlsx [--dry-run]: the organisation import without the web page.

Same rules as the upload page (domain.md §12): the whole file is validated first
and written all-or-nothing; every run leaves an OrgImport row and an audit event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from branches.imports import SUM_ERRORS, error_line, org_tree_import_upload
from branches.models import ImportStatus

MSG_NOT_FOUND = "找不到文件：{path}"
MSG_APPLIED = "已导入“{name}”：{summary}"
MSG_CHECKED = "预检通过，未写入任何数据（--dry-run）：{summary}"
MSG_FAILED = "导入失败：共 {count} 处错误，未写入任何数据。"


class Command(BaseCommand):
    help = "从 Excel（.xlsx）导入组织树、书记账号和党员名册；先完整校验，全部无误才写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="导入文件路径（.xlsx，格式同网页上的导入模板）")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入数据")

    def handle(self, *args: Any, file: str, dry_run: bool, **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(MSG_NOT_FOUND.format(path=path))
        # Passed as a File so the size cap is checked before the content is read.
        with path.open("rb") as handle:
            run = org_tree_import_upload(upload=File(handle, name=path.name), actor=None, dry_run=dry_run)
        summary = "，".join(f"{key} {value}" for key, value in run.summary.items())
        if run.status == ImportStatus.FAILED:
            for error in run.errors:
                self.stderr.write(error_line(error))
            raise CommandError(MSG_FAILED.format(count=run.summary.get(SUM_ERRORS, len(run.errors))))
        message = MSG_CHECKED if run.status == ImportStatus.CHECKED else MSG_APPLIED
        self.stdout.write(self.style.SUCCESS(message.format(name=path.name, summary=summary)))
