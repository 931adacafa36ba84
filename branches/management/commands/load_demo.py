"""`manage.py load_demo`: the 旬阳-sized demo tree and one account per role (domain.md §14)."""

from __future__ import annotations

import time
import unicodedata
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from branches import demo
from branches.models import OrgUnit

LOCAL_URL = "http://127.0.0.1:8000"


def _width(text: str) -> int:
    """Terminal columns taken by `text`: CJK characters are two columns wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def account_table(rows: list[demo.DemoAccountRow]) -> list[str]:
    header = ("账号", "角色", "组织")
    cells = [header] + [(r.username, r.role_label, r.org_name) for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


class Command(BaseCommand):
    help = "加载演示数据：旬阳市直机关工委组织树、党员名册和各角色演示账号。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="已有组织数据时不加载，只打印演示账号表。"
        )
        parser.add_argument("--accounts", action="store_true", help="只打印演示账号表。")
        parser.add_argument("--base-url", default=LOCAL_URL, help="打印登录地址时使用的站点地址。")

    def handle(self, *args: Any, **options: Any) -> None:
        self.base_url = options["base_url"].rstrip("/")
        if options["accounts"]:
            self._print_accounts()
            return
        if OrgUnit.objects.exists():
            if options["if_empty"]:
                self.stdout.write("数据库中已有组织数据，跳过演示数据加载。")
                self._print_accounts()
                return
            raise CommandError("数据库中已有组织数据，演示数据只能加载到空库。可使用 --if-empty 跳过。")
        started = time.monotonic()
        result = demo.demo_load(today=timezone.localdate())
        self.stdout.write(
            self.style.SUCCESS(
                f"已加载演示数据：{len(result.orgs)} 个党组织、{result.member_count} 名党员、"
                f"{len(result.users)} 个账号（用时 {time.monotonic() - started:.1f} 秒）。"
            )
        )
        self._print_accounts()

    def _print_accounts(self) -> None:
        rows = demo.demo_account_rows()
        if not rows:
            self.stdout.write("尚未加载演示数据（运行 manage.py load_demo）。")
            return
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
        for line in account_table(rows):
            self.stdout.write("  " + line)
        count = demo.branch_secretary_account_count()
        if count:
            self.stdout.write(
                f"  另有 {count} 个党支部书记账号：{demo.BRANCH_SECRETARY_PREFIX}<组织编码小写，- 换成 _>，"
                f"如 {demo.branch_secretary_username('XYD01')}，密码相同。"
            )
        self.stdout.write(f"登录地址：{self.base_url}{reverse('login')}")
