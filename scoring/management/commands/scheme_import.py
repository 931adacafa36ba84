"""manage.py scheme_import FILE.json --campaign ID [--note TEXT] [--actor USERNAME]: save a new scheme version.

Same checks as the import page: size, UTF-8, JSON, then the full scheme validation; on any error every
problem is printed in Chinese naming its field and nothing is saved. The version is recorded as saved by
``--actor`` (工委 staff), by default the campaign's first active 工委管理员.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branches.models import Role, RoleGrant, User
from campaigns.management.commands.import_task_list import find_campaign
from campaigns.models import Campaign
from scoring.models import SchemeVersion
from scoring.permissions import can_manage_rating
from scoring.scheme_forms import MAX_SCHEME_BYTES, SchemeFileError, import_error_line, load_scheme_json
from scoring.schemes import SchemeError
from scoring.services import RatingRefused, scheme_save


def actor_for(campaign: Campaign, username: str | None) -> User:
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到启用的账号“{username}”。")
        if not can_manage_rating(user):
            raise CommandError(f"账号“{username}”不是工委工作人员，不能修改评星方案。")
        return user
    grant = (
        RoleGrant.objects.filter(org=campaign.committee, role=Role.COMMITTEE_ADMIN, user__is_active=True)
        .select_related("user")
        .order_by("granted_at", "pk")
        .first()
    )
    if grant is None:
        raise CommandError("本工委没有启用的工委管理员账号，请用 --actor 指定保存人。")
    return grant.user


class Command(BaseCommand):
    help = "从 JSON 文件导入评星方案，保存为活动的新版本；先完整校验，有任何错误都不保存。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="方案文件路径（.json，UTF-8）")
        parser.add_argument("--campaign", required=True, help="创建活动的编号或年度")
        parser.add_argument("--note", default="", help="修改说明")
        parser.add_argument("--actor", help="保存人账号（须为工委工作人员；默认本工委第一位工委管理员）")

    def handle(
        self, *args: Any, file: str, campaign: str, note: str, actor: str | None, **options: Any
    ) -> None:
        target = find_campaign(campaign)
        user = actor_for(target, actor)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        if path.stat().st_size > MAX_SCHEME_BYTES:
            raise CommandError(f"文件过大，方案文件不能超过 {MAX_SCHEME_BYTES // 1024} KB。")
        try:
            data = load_scheme_json(path.read_bytes())
        except SchemeFileError as exc:
            raise CommandError(exc.message) from None
        latest = SchemeVersion.objects.filter(campaign=target).order_by("-number").first()
        try:
            version = scheme_save(campaign=target, data=data, actor=user, note=note or "从文件导入")
        except SchemeError as exc:
            for path_, message in exc.errors:
                self.stderr.write(import_error_line(path_, message))
            raise CommandError(f"方案文件有 {len(exc.errors)} 处错误，未保存。") from None
        except RatingRefused as exc:
            raise CommandError(exc.message) from None
        if latest is not None and version.pk == latest.pk:
            self.stdout.write(f"与{target.name}第 {version.number} 版完全相同，未生成新版本。")
            return
        self.stdout.write(self.style.SUCCESS(f"已保存为{target.name}第 {version.number} 版：{version.name}"))
