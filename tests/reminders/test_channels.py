"""Channels: e-mail to those who want it, signed group-robot webhooks, and bounded retries of failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from branches.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    NotificationPreference,
    OrgWebhook,
    Outbox,
    OutboxStatus,
    Role,
    WebhookPlatform,
)
from branches.notify import email_wanted, outbox_run
from tests.reminders.support import entry_due, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_obligations")]

DUE = date(2026, 6, 10)
DAY3 = DUE + timedelta(days=3)


# --- a group robot on 127.0.0.1 ----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Robot:
    url: str
    received: list[Received] = field(default_factory=list)
    replies: list[tuple[int, bytes]] = field(default_factory=list)  # consumed in order; then 200 errcode 0


@pytest.fixture
def robot() -> Iterator[Robot]:
    state = Robot(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            parsed = urllib.parse.urlsplit(self.path)
            state.received.append(
                Received(
                    path=parsed.path,
                    query=dict(urllib.parse.parse_qsl(parsed.query)),
                    headers=dict(self.headers.items()),
                    body=body,
                )
            )
            status, reply = state.replies.pop(0) if state.replies else (200, b'{"errcode":0,"errmsg":"ok"}')
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def hook(org, url, platform=WebhookPlatform.GENERIC, secret="s3cret", **fields) -> OrgWebhook:
    return OrgWebhook.objects.create(
        org=org, platform=platform, name="工作群", url=url, secret=secret, **fields
    )


def webhook_deliveries():
    return Delivery.objects.filter(channel=Channel.WEBHOOK)


def webhook_job(delivery: Delivery) -> Outbox:
    return next(
        row
        for row in Outbox.objects.filter(task="branches.tasks.send_deliveries")
        if delivery.pk in row.kwargs["ids"]
    )


# --- e-mail ----------------------------------------------------------------------------------------------


def test_email_goes_only_to_people_with_an_address_who_have_not_turned_it_off(
    tree, campaign, run_day, branch_secretary, outsider_secretary
):
    a2_secretary = person("a2_secretary", tree.a2, Role.SECRETARY, email="a2@example.com")
    NotificationPreference.objects.create(user=a2_secretary, email_enabled=False)
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    for org in (tree.a1, tree.a2, tree.b1):  # the B1 secretary has no address
        entry_due(campaign, org, DUE)
    run_day(DAY3)
    assert [m.to for m in mail.outbox] == [["a1@example.com"]]
    assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 1


def test_the_email_carries_the_reminder_and_an_absolute_link(
    tree, campaign, run_day, branch_secretary, settings
):
    settings.SITE_URL = "https://mofan.example.gov.cn"
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    entry = entry_due(campaign, tree.a1, DUE, title="落实三会一课制度")
    run_day(DAY3)
    [email] = mail.outbox
    assert (
        email.subject == "【模范机关创建】【逾期3天】财政局预算股党支部 · 落实三会一课制度（时限 2026-06-10）"
    )
    link = "https://mofan.example.gov.cn" + reverse("campaigns:entry_detail", args=[entry.pk])
    assert f"查看详情：{link}" in email.body
    delivery = Delivery.objects.get(channel=Channel.EMAIL)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)


def test_a_rung_without_email_sends_no_email(tree, campaign, run_day, committee_staff):
    committee_staff.email = "gw@example.com"
    committee_staff.save()
    entry_due(campaign, tree.a1, DUE)
    run_day(DUE + timedelta(days=14))  # the red list rung is inbox only by default
    assert mail.outbox == []


def test_an_inactive_user_is_not_emailed(branch_secretary):
    branch_secretary.email = "a1@example.com"
    branch_secretary.is_active = False
    branch_secretary.save()
    assert email_wanted([branch_secretary.pk]) == {}


# --- webhooks --------------------------------------------------------------------------------------------


def test_a_group_robot_receives_the_items_of_its_subtree_only(
    tree, campaign, run_day, robot, outsider_secretary, branch_secretary
):
    hook(tree.a, f"{robot.url}/hook")
    entry_due(campaign, tree.a1, DUE, title="预算股事项")
    entry_due(campaign, tree.b1, DUE, title="旬速办事项")
    run_day(DAY3)
    [post] = robot.received
    text = post.json["text"]
    assert "预算股事项" in text and "旬速办" not in text
    assert post.json["title"] == "模范机关创建 · 6月13日提醒（1项）"


def test_a_group_robot_of_the_committee_receives_every_branch(
    tree, campaign, run_day, robot, branch_secretary, outsider_secretary
):
    hook(tree.gw, f"{robot.url}/hook")
    entry_due(campaign, tree.a1, DUE, title="预算股事项")
    entry_due(campaign, tree.b1, DUE, title="旬速办事项")
    run_day(DAY3)
    [post] = robot.received
    assert "预算股事项" in post.json["text"] and "旬速办事项" in post.json["text"]


def test_a_robot_gets_one_message_per_run_however_many_people_are_told(
    tree, campaign, run_day, robot, branch_secretary, outsider_secretary
):
    hook(tree.gw, f"{robot.url}/hook")
    for _ in range(3):
        entry_due(campaign, tree.a1, DUE)
    run_day(DAY3)
    run_day(DAY3)
    assert len(robot.received) == 1
    assert robot.received[0].json["title"].endswith("（3项）")


def test_a_generic_webhook_is_signed_with_hmac_sha256_of_the_body(
    tree, campaign, run_day, robot, branch_secretary
):
    hook(tree.a, f"{robot.url}/hook", secret="s3cret")
    entry_due(campaign, tree.a1, DUE)
    run_day(DAY3)
    [post] = robot.received
    expected = hmac.new(b"s3cret", post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-Mofan-Signature"] == expected


def test_a_generic_webhook_without_a_secret_is_not_signed(tree, campaign, run_day, robot, branch_secretary):
    hook(tree.a, f"{robot.url}/hook", secret="")
    entry_due(campaign, tree.a1, DUE)
    run_day(DAY3)
    [post] = robot.received
    assert "X-Mofan-Signature" not in post.headers


def test_a_dingtalk_robot_is_signed_with_timestamp_and_sign_in_the_query(
    tree, campaign, run_day, robot, branch_secretary
):
    hook(
        tree.a, f"{robot.url}/robot/send?access_token=abc", platform=WebhookPlatform.DINGTALK, secret="SECxyz"
    )
    entry_due(campaign, tree.a1, DUE, title="预算股事项")
    run_day(DAY3)
    [post] = robot.received
    assert post.path == "/robot/send" and post.query["access_token"] == "abc"
    ts = post.query["timestamp"]
    digest = hmac.new(b"SECxyz", f"{ts}\nSECxyz".encode(), hashlib.sha256).digest()
    assert post.query["sign"] == base64.b64encode(digest).decode()
    assert abs(int(ts) / 1000 - timezone.now().timestamp()) < 600
    assert post.json["msgtype"] == "markdown"
    assert "预算股事项" in post.json["markdown"]["text"]


def test_a_wecom_robot_receives_markdown(tree, campaign, run_day, robot, branch_secretary):
    hook(tree.a, f"{robot.url}/cgi-bin/webhook/send?key=k", platform=WebhookPlatform.WECOM, secret="")
    entry_due(campaign, tree.a1, DUE, title="预算股事项")
    run_day(DAY3)
    [post] = robot.received
    assert post.json["msgtype"] == "markdown"
    assert post.json["markdown"]["content"].startswith("**模范机关创建 · 6月13日提醒（1项）**")


def test_an_inactive_robot_receives_nothing(tree, campaign, run_day, robot, branch_secretary):
    hook(tree.a, f"{robot.url}/hook", is_active=False)
    entry_due(campaign, tree.a1, DUE)
    run_day(DAY3)
    assert robot.received == [] and not webhook_deliveries().exists()


def test_a_rung_without_the_webhook_channel_posts_nothing(tree, campaign, run_day, robot, agency_staff):
    hook(tree.a, f"{robot.url}/hook")
    entry_due(campaign, tree.a1, DUE)
    run_day(DUE + timedelta(days=7))  # the parent-staff rung: inbox and e-mail only
    assert robot.received == []


# --- failures and retries ----------------------------------------------------------------------------------


@pytest.fixture
def failing_setup(tree, campaign, branch_secretary):
    branch_secretary.email = "a1@example.com"
    branch_secretary.save()
    entry_due(campaign, tree.a1, DUE)


def test_a_failing_webhook_is_retried_later_and_never_holds_up_the_email(failing_setup, tree, run_day, robot):
    robot.replies.append((500, b"server error"))
    hook(tree.a, f"{robot.url}/hook")
    run_day(DAY3)
    assert [m.to for m in mail.outbox] == [["a1@example.com"]]
    [delivery] = webhook_deliveries()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "500" in delivery.last_error
    assert delivery.not_before > timezone.now()
    job = webhook_job(delivery)
    assert (job.status, job.available_at) == (OutboxStatus.PENDING, delivery.not_before)


def test_a_webhook_that_recovers_is_sent_on_the_retry(failing_setup, tree, run_day, robot):
    robot.replies.append((500, b"server error"))
    hook(tree.a, f"{robot.url}/hook")
    run_day(DAY3)
    [delivery] = webhook_deliveries()
    with time_machine.travel(delivery.not_before + timedelta(seconds=1)):
        assert outbox_run(webhook_job(delivery).pk) == "done"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(robot.received) == 2


def test_a_retry_before_its_time_sends_nothing(failing_setup, tree, run_day, robot):
    robot.replies.append((500, b"server error"))
    hook(tree.a, f"{robot.url}/hook")
    run_day(DAY3)
    [delivery] = webhook_deliveries()
    assert outbox_run(webhook_job(delivery).pk) == "deferred"
    assert len(robot.received) == 1


def test_a_webhook_failing_every_time_is_marked_failed_after_the_last_attempt(
    failing_setup, tree, run_day, robot, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    robot.replies.extend([(500, b"x"), (500, b"x"), (500, b"x")])
    hook(tree.a, f"{robot.url}/hook")
    run_day(DAY3)
    [delivery] = webhook_deliveries()
    job = webhook_job(delivery)
    with time_machine.travel(delivery.not_before + timedelta(seconds=1)):
        assert outbox_run(job.pk) == "done"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert len(robot.received) == 2
    assert Delivery.objects.get(channel=Channel.EMAIL).status == DeliveryStatus.SENT


def test_retries_of_a_webhook_wait_longer_each_time(failing_setup, tree, run_day, robot, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 4
    settings.OUTBOX_BACKOFF_SECONDS = 30
    robot.replies.extend([(500, b"x")] * 4)
    hook(tree.a, f"{robot.url}/hook")
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        run_day(DAY3)
    [delivery] = webhook_deliveries()
    waits = [delivery.not_before - start]
    for _ in range(2):
        now = delivery.not_before
        with time_machine.travel(now, tick=False):
            outbox_run(webhook_job(delivery).pk)
        delivery.refresh_from_db()
        waits.append(delivery.not_before - now)
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]


def test_a_dingtalk_refusal_with_a_non_zero_errcode_is_a_failure(failing_setup, tree, run_day, robot):
    robot.replies.append((200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode()))
    hook(tree.a, f"{robot.url}/robot/send?access_token=abc", platform=WebhookPlatform.DINGTALK)
    run_day(DAY3)
    [delivery] = webhook_deliveries()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "310000" in delivery.last_error and "sign not match" in delivery.last_error
    assert len(mail.outbox) == 1


def test_a_refused_connection_is_a_failure_retried_later(failing_setup, tree, run_day):
    hook(tree.a, closed_port_url())
    run_day(DAY3)
    [delivery] = webhook_deliveries()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.last_error.startswith("URLError")
    assert len(mail.outbox) == 1


def test_a_robot_deactivated_before_its_retry_fails_without_posting(
    failing_setup, tree, run_day, robot, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    robot.replies.append((500, b"x"))
    robot_hook = hook(tree.a, f"{robot.url}/hook")
    run_day(DAY3)
    [delivery] = webhook_deliveries()
    robot_hook.is_active = False
    robot_hook.save()
    with time_machine.travel(delivery.not_before + timedelta(seconds=1)):
        outbox_run(webhook_job(delivery).pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "停用" in delivery.last_error
    assert len(robot.received) == 1
