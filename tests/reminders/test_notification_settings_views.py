"""Notification preferences and organisation group robots (群机器人), with a real local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.urls import reverse

from branches.models import AuditAction, AuditEvent, NotificationPreference, OrgWebhook, WebhookPlatform

pytestmark = pytest.mark.django_db

SECRET = "SECf00dfeedbeef1234567890"


# --- preferences -------------------------------------------------------------------------------------


def test_preferences_show_the_inbox_as_always_on(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    html = login(branch_secretary).get(reverse("branches:notification_preferences")).content.decode()
    assert "站内消息" in html and "始终开启" in html
    assert "跟随工委设置" in html and "每日汇总" in html and "每周汇总" in html


def test_preferences_show_the_address_on_file(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    branch_secretary.email = "shuji@example.cn"
    branch_secretary.save()
    html = login(branch_secretary).get(reverse("branches:notification_preferences")).content.decode()
    assert "shuji@example.cn" in html


def test_preferences_say_when_no_address_is_on_file(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    branch_secretary.email = ""
    branch_secretary.save()
    html = login(branch_secretary).get(reverse("branches:notification_preferences")).content.decode()
    assert "未登记邮箱" in html


def test_preferences_are_saved(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    response = login(branch_secretary).post(
        reverse("branches:notification_preferences"), {"digest": "weekly"}
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=branch_secretary)
    assert (pref.email_enabled, pref.digest) == (False, "weekly")


def test_preferences_can_go_back_to_the_committee_default(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    NotificationPreference.objects.create(user=branch_secretary, email_enabled=False, digest="daily")
    login(branch_secretary).post(
        reverse("branches:notification_preferences"), {"email_enabled": "on", "digest": ""}
    )
    pref = NotificationPreference.objects.get(user=branch_secretary)
    assert (pref.email_enabled, pref.digest) == (True, "")


def test_an_unknown_digest_is_refused(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    response = login(branch_secretary).post(
        reverse("branches:notification_preferences"), {"digest": "hourly"}
    )
    assert response.status_code == 200
    assert "请选择提醒汇总方式" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_saved_preferences_are_shown_back(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    NotificationPreference.objects.create(user=branch_secretary, email_enabled=False, digest="weekly")
    form = login(branch_secretary).get(reverse("branches:notification_preferences")).context["form"]
    assert form.initial == {"email_enabled": False, "digest": "weekly"}


# --- webhooks: CRUD, scoped ---------------------------------------------------------------------------


def _hook(org: Any, **fields: Any) -> OrgWebhook:
    values = {
        "platform": WebhookPlatform.DINGTALK,
        "name": "支部群",
        "url": "https://oapi.dingtalk.invalid/robot/send?access_token=tok123",
        "secret": SECRET,
    }
    values.update(fields)
    return OrgWebhook.objects.create(org=org, **values)


NEW_HOOK = {
    "platform": "dingtalk",
    "name": "预算股支部群",
    "url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
    "secret": SECRET,
    "is_active": "on",
}


def test_staff_add_a_robot_to_an_organisation_in_their_subtree(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).post(reverse("branches:org_webhooks", args=[tree.a1.pk]), NEW_HOOK)
    assert response.status_code == 302
    hook = OrgWebhook.objects.get(org=tree.a1)
    assert (hook.name, hook.secret, hook.created_by) == ("预算股支部群", SECRET, agency_staff)
    event = AuditEvent.objects.filter(action=AuditAction.SETTINGS).latest("id")
    assert event.target_id == str(hook.pk)
    assert SECRET not in json.dumps(event.detail) and "access_token=abc" not in json.dumps(event.detail)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "javascript:alert(1)", "file:///etc/passwd", "not a url"]
)
def test_only_http_and_https_addresses_are_accepted(tree, agency_staff, login, url) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).post(
        reverse("branches:org_webhooks", args=[tree.a1.pk]), {**NEW_HOOK, "url": url}
    )
    assert response.status_code == 200
    assert "请填写以 https:// 或 http:// 开头的完整网址" in response.content.decode()
    assert not OrgWebhook.objects.exists()


def test_the_list_never_shows_the_secret_in_full(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    _hook(tree.a1)
    html = login(agency_staff).get(reverse("branches:org_webhooks", args=[tree.a1.pk])).content.decode()
    assert "支部群" in html
    assert SECRET not in html
    assert "SEC••••••7890" in html
    assert "tok123" not in html


def test_the_list_shows_only_the_organisations_own_robots(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    _hook(tree.a1, name="预算股群")
    _hook(tree.a2, name="综合股群")
    rows = login(agency_staff).get(reverse("branches:org_webhooks", args=[tree.a1.pk])).context["rows"]
    assert [r["hook"].name for r in rows] == ["预算股群"]


def test_the_edit_form_never_shows_the_secret(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1)
    html = login(agency_staff).get(reverse("branches:webhook_edit", args=[hook.pk])).content.decode()
    assert SECRET not in html
    assert "留空则保持不变" in html


def test_editing_with_an_empty_secret_keeps_it(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1)
    data = {**NEW_HOOK, "name": "改名", "secret": ""}
    response = login(agency_staff).post(reverse("branches:webhook_edit", args=[hook.pk]), data)
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.secret) == ("改名", SECRET)


def test_editing_with_a_new_secret_replaces_it(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1)
    login(agency_staff).post(
        reverse("branches:webhook_edit", args=[hook.pk]), {**NEW_HOOK, "secret": "SECnew"}
    )
    hook.refresh_from_db()
    assert hook.secret == "SECnew"


def test_the_secret_can_be_cleared(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1)
    data = {**NEW_HOOK, "secret": "", "clear_secret": "on"}
    login(agency_staff).post(reverse("branches:webhook_edit", args=[hook.pk]), data)
    hook.refresh_from_db()
    assert hook.secret == ""


def test_a_robot_can_be_switched_off(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1)
    data = {k: v for k, v in NEW_HOOK.items() if k != "is_active"}
    login(agency_staff).post(reverse("branches:webhook_edit", args=[hook.pk]), data)
    hook.refresh_from_db()
    assert not hook.is_active


def test_staff_cannot_edit_a_robot_outside_their_subtree(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.b1)
    response = login(agency_staff).post(
        reverse("branches:webhook_edit", args=[hook.pk]), {**NEW_HOOK, "name": "x"}
    )
    assert response.status_code == 404
    hook.refresh_from_db()
    assert hook.name == "支部群"


def test_staff_delete_a_robot(tree, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.b1)
    response = login(committee_staff).post(reverse("branches:webhook_delete", args=[hook.pk]))
    assert response.status_code == 302
    assert not OrgWebhook.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.SETTINGS, target_id=str(hook.pk)).exists()


def test_staff_cannot_delete_a_robot_outside_their_subtree(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.b1)
    assert login(agency_staff).post(reverse("branches:webhook_delete", args=[hook.pk])).status_code == 404
    assert OrgWebhook.objects.filter(pk=hook.pk).exists()


def test_the_org_page_links_staff_to_the_robots(tree, agency_staff, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("branches:org_webhooks", args=[tree.a1.pk])
    assert url in login(agency_staff).get(reverse("branches:org_detail", args=[tree.a1.pk])).content.decode()
    assert (
        url
        not in login(branch_secretary).get(reverse("branches:org_detail", args=[tree.a1.pk])).content.decode()
    )


# --- webhooks: sending a test message to a local server ----------------------------------------------


class _Robot:
    """A group robot on 127.0.0.1 that answers every POST with ``status`` and ``body``."""

    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b'{"errcode": 0, "errmsg": "ok"}'
        self.received: list[dict[str, Any]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                robot.received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(robot.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(robot.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=t"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot() -> Iterator[_Robot]:
    r = _Robot()
    yield r
    r.close()


def _test_send(client: Any, hook: OrgWebhook) -> str:
    response = client.post(reverse("branches:webhook_test", args=[hook.pk]), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_a_test_message_reaches_a_generic_robot(tree, agency_staff, login, robot) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1, platform=WebhookPlatform.GENERIC, url=robot.url, secret="s3")
    robot.body = b"ok"
    html = _test_send(login(agency_staff), hook)
    assert "测试消息已发送（HTTP 200）" in html
    assert len(robot.received) == 1
    sent = robot.received[0]
    assert sent["body"]["title"] == "测试消息"
    assert "X-Mofan-Signature" in sent["headers"]


def test_a_test_message_reaches_a_dingtalk_robot_signed(tree, agency_staff, login, robot) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1, url=robot.url)
    html = _test_send(login(agency_staff), hook)
    assert "测试消息已发送" in html
    assert "timestamp=" in robot.received[0]["path"] and "sign=" in robot.received[0]["path"]


def test_a_robot_error_answer_is_shown_as_an_error(tree, agency_staff, login, robot) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1, platform=WebhookPlatform.WECOM, url=robot.url)
    robot.body = json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode()
    html = _test_send(login(agency_staff), hook)
    assert "测试失败" in html
    assert "错误码 310000（sign not match）" in html
    assert "签名校验失败" in html
    assert "alert-danger" in html


def test_an_http_error_is_shown_as_an_error(tree, agency_staff, login, robot) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1, platform=WebhookPlatform.GENERIC, url=robot.url)
    robot.status, robot.body = 500, b"boom"
    html = _test_send(login(agency_staff), hook)
    assert "对方服务器返回 HTTP 500 错误" in html


def test_an_answer_that_is_not_json_is_shown_as_an_error(tree, agency_staff, login, robot) -> None:  # type: ignore[no-untyped-def]
    hook = _hook(tree.a1, platform=WebhookPlatform.WECOM, url=robot.url)
    robot.body = b"<html>portal</html>"
    html = _test_send(login(agency_staff), hook)
    assert "群机器人返回了无法识别的内容" in html


def test_a_refused_connection_is_shown_as_an_error(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hook = _hook(tree.a1, platform=WebhookPlatform.GENERIC, url=f"http://127.0.0.1:{port}/hook")
    html = _test_send(login(agency_staff), hook)
    assert "连接被拒绝" in html


def test_a_silent_robot_times_out_with_an_error(tree, agency_staff, login, settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never answers
        port = listener.getsockname()[1]
        hook = _hook(tree.a1, platform=WebhookPlatform.GENERIC, url=f"http://127.0.0.1:{port}/hook")
        html = _test_send(login(agency_staff), hook)
    assert "连接超时（1 秒内没有应答）" in html
