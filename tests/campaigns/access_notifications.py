"""Access cases for notification preferences and organisation group robots (群机器人)."""

from __future__ import annotations

from typing import Any

from branches.models import OrgWebhook, WebhookPlatform
from tests.access_matrix import ANON_REDIRECT, Case, Spec

ANON_POST = Case("anonymous", "post", 302)
HOOK_EDIT = {"platform": "generic", "name": "篡改", "url": "https://evil.example/hook", "is_active": "on"}


def build_world(world: dict[str, Any]) -> None:
    world["notify_hook_b1"] = OrgWebhook.objects.create(
        org=world["tree"].b1,
        platform=WebhookPlatform.DINGTALK,
        name="窗口支部群",
        url="https://oapi.dingtalk.invalid/robot/send?access_token=t",
        secret="SECabcdef123456",
    )


def _b1(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["tree"].b1.pk}


def _hook(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["notify_hook_b1"].pk}


MATRIX: dict[str, Spec] = {
    "branches:notification_preferences": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("anonymous", "post", 302, {"digest": "daily"}),
            Case("branch_member", "put", 405),
        ),
    ),
    "branches:org_webhooks": Spec(
        "staff",
        (
            ANON_REDIRECT,
            # Officers are not staff; unit staff of A do not staff B1.
            Case("outsider_secretary"),
            Case("leader", "post", 403, HOOK_EDIT),
            Case("agency_staff", "get", 404),
            Case("agency_staff", "post", 404, HOOK_EDIT),
        ),
        args=_b1,
    ),
    "branches:webhook_edit": Spec(
        "staff",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "post", 403, HOOK_EDIT),
            Case("agency_staff", "get", 404),
            Case("agency_staff", "post", 404, HOOK_EDIT),
        ),
        args=_hook,
    ),
    "branches:webhook_delete": Spec(
        "staff",
        (ANON_POST, Case("outsider_secretary", "post", 403), Case("agency_staff", "post", 404)),
        args=_hook,
        writes=True,
    ),
    "branches:webhook_test": Spec(
        "staff",
        (ANON_POST, Case("outsider_secretary", "post", 403), Case("agency_staff", "post", 404)),
        args=_hook,
        writes=True,
    ),
}
