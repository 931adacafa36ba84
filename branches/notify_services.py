"""Writes behind the notification settings pages: personal preferences and organisation robots.

``webhook_test_send`` sends one test message synchronously and answers (ok, Chinese message); it
never raises, whatever the other side does (refuses, times out, answers garbage or an error code).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from branches.audit import audit_record
from branches.models import AuditAction, NotificationPreference, OrgUnit, OrgWebhook, User
from branches.notify import DeliveryError, RobotRefused, webhook_post

SETTINGS_ACTION = AuditAction.SETTINGS

WEBHOOK_FIELDS = ("platform", "name", "url", "is_active")

# Error codes the robots answer most often, explained.
ROBOT_HINTS = {
    310000: "签名校验失败：请核对签名密钥是否与机器人“加签”设置中的密钥一致",
    300001: "Webhook 地址中的 access_token 无效",
    300005: "Webhook 地址中的 access_token 不存在",
    93000: "Webhook 地址无效或机器人已被移除",
    45009: "发送过于频繁，请稍后再试",
}


def mask_secret(secret: str) -> str:
    """Enough to recognise the key, never the key: ``SEC••••••3f9a``."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "••••••"
    return f"{secret[:3]}••••••{secret[-4:]}"


def mask_url(url: str) -> str:
    """The address without its query (robots carry their token in it): ``https://host/path?…``."""
    parts = urllib.parse.urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return shown + ("?••••••" if parts.query else "")


# --- preferences ----------------------------------------------------------------------------------


@transaction.atomic
def preference_save(*, user: User, email_enabled: bool, digest: str) -> NotificationPreference:
    pref, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_enabled": email_enabled, "digest": digest}
    )
    return pref


def preference_of(user: User) -> NotificationPreference:
    """The stored choices, or the defaults (unsaved) for somebody who never chose."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


# --- organisation robots --------------------------------------------------------------------------


def _audit_detail(hook: OrgWebhook, change: str) -> dict[str, Any]:
    return {
        "object": "群机器人",
        "org": hook.org.code,
        "name": hook.name,
        "platform": hook.get_platform_display(),
        "address": mask_url(hook.url),
        "change": change,
    }


@transaction.atomic
def webhook_create(
    *, org: OrgUnit, actor: User, platform: str, name: str, url: str, secret: str, is_active: bool = True
) -> OrgWebhook:
    hook = OrgWebhook.objects.create(
        org=org,
        platform=platform,
        name=name,
        url=url,
        secret=secret,
        is_active=is_active,
        created_by=actor,
    )
    audit_record(action=SETTINGS_ACTION, actor=actor, target=hook, detail=_audit_detail(hook, "新增"))
    return hook


@transaction.atomic
def webhook_update(
    *,
    hook: OrgWebhook,
    actor: User,
    platform: str,
    name: str,
    url: str,
    is_active: bool,
    secret: str = "",
    clear_secret: bool = False,
) -> OrgWebhook:
    """Save the robot; an empty ``secret`` keeps the stored one unless ``clear_secret``."""
    hook.platform, hook.name, hook.url, hook.is_active = platform, name, url, is_active
    secret_changed = False
    if clear_secret:
        secret_changed = bool(hook.secret)
        hook.secret = ""
    elif secret:
        secret_changed = secret != hook.secret
        hook.secret = secret
    hook.save()
    detail = _audit_detail(hook, "修改")
    if secret_changed:
        detail["secret"] = "已更换" if hook.secret else "已清除"
    audit_record(action=SETTINGS_ACTION, actor=actor, target=hook, detail=detail)
    return hook


@transaction.atomic
def webhook_delete(*, hook: OrgWebhook, actor: User) -> None:
    audit_record(action=SETTINGS_ACTION, actor=actor, target=hook, detail=_audit_detail(hook, "删除"))
    hook.delete()


def _reason(exc: BaseException, timeout: int) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        reason: Any = exc.reason
        if isinstance(reason, BaseException):
            exc = reason
        else:
            return f"无法连接：{reason}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"连接超时（{timeout} 秒内没有应答），请检查地址或网络"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝，请检查地址和端口"
    if isinstance(exc, socket.gaierror):
        return "无法解析域名，请检查地址"
    if isinstance(exc, ssl.SSLError):
        return "HTTPS 安全连接失败（证书或协议有误）"
    if isinstance(exc, ConnectionError):
        return "连接中断，请稍后再试"
    return f"发送失败（{type(exc).__name__}）"


def webhook_test_send(hook: OrgWebhook) -> tuple[bool, str]:
    """Send one test message now; (True, message) on success, else (False, the reason in Chinese)."""
    timeout = int(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))
    try:
        status = webhook_post(
            hook,
            "测试消息",
            f"这是来自“模范机关创建”的测试消息（{hook.org.name} · {hook.name}）。收到即表示群机器人设置正确。",
            reverse("branches:org_detail", args=[hook.org_id]),
        )
    except RobotRefused as exc:
        hint = ROBOT_HINTS.get(exc.code) if isinstance(exc.code, int) else None
        return False, str(exc) + (f"。{hint}" if hint else "")
    except DeliveryError as exc:
        return False, f"{exc}，请检查 Webhook 地址"
    except urllib.error.HTTPError as exc:
        return False, f"对方服务器返回 HTTP {exc.code} 错误，请检查 Webhook 地址"
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return False, _reason(exc, timeout)
    return True, f"测试消息已发送（HTTP {status}），请到群里查看。"


__all__ = [
    "mask_secret",
    "mask_url",
    "preference_of",
    "preference_save",
    "webhook_create",
    "webhook_delete",
    "webhook_test_send",
    "webhook_update",
]
