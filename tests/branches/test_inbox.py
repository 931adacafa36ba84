"""The inbox (站内消息): own messages only, unread first, read by POST with a safe redirect."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches import inbox
from branches.models import Message, MessageKind, User

pytestmark = pytest.mark.django_db


def send(user: User, title: str, url: str = "/campaigns/notices/", key: str = "") -> Message:
    return Message.objects.create(
        recipient=user, kind=MessageKind.NOTICE, title=title, url=url, source_key=key
    )


def test_send_many_delivers_once_per_recipient_and_source(
    branch_secretary: User, branch_member: User
) -> None:
    for _ in range(2):
        inbox.message_send_many(
            recipients=[branch_secretary, branch_member, branch_secretary],
            kind=MessageKind.NOTICE,
            title="通报",
            body="",
            url="/x/",
            source_key="notice:1",
        )

    assert Message.objects.filter(source_key="notice:1").count() == 2


def test_inbox_lists_unread_messages_before_read_ones(branch_secretary: User, login: Any) -> None:
    old_unread = send(branch_secretary, "较早的未读消息")
    read = send(branch_secretary, "已读消息")
    inbox.message_mark_read(message=read)

    html = login(branch_secretary).get(reverse("branches:inbox")).content.decode()

    assert html.index(old_unread.title) < html.index(read.title)


def test_inbox_shows_only_the_users_own_messages(
    branch_secretary: User, branch_member: User, login: Any
) -> None:
    send(branch_member, "别人的消息")

    html = login(branch_secretary).get(reverse("branches:inbox")).content.decode()

    assert "别人的消息" not in html


def test_header_bell_shows_the_unread_count(branch_secretary: User, login: Any) -> None:
    send(branch_secretary, "一")
    send(branch_secretary, "二")
    inbox.message_mark_read(message=send(branch_secretary, "三"))

    html = login(branch_secretary).get(reverse("home")).content.decode()

    assert (
        '<span class="position-absolute top-0 start-100 translate-middle badge rounded-pill bg-danger" data-testid="inbox-unread">2</span>'
        in html
    )


def test_header_bell_has_no_badge_when_everything_is_read(branch_secretary: User, login: Any) -> None:
    html = login(branch_secretary).get(reverse("home")).content.decode()

    assert 'data-testid="inbox-bell"' in html and 'data-testid="inbox-unread"' not in html


def test_reading_a_message_marks_it_read_and_opens_its_link(branch_secretary: User, login: Any) -> None:
    message = send(branch_secretary, "通报", url="/campaigns/notices/7/")

    response = login(branch_secretary).post(reverse("branches:message_read", args=[message.pk]))

    message.refresh_from_db()
    assert message.read_at is not None
    assert response.status_code == 302 and response["Location"] == "/campaigns/notices/7/"


def test_get_on_the_read_url_changes_nothing(branch_secretary: User, login: Any) -> None:
    message = send(branch_secretary, "通报")

    response = login(branch_secretary).get(reverse("branches:message_read", args=[message.pk]))

    message.refresh_from_db()
    assert response.status_code == 405 and message.read_at is None


def test_reading_another_users_message_answers_404(
    branch_secretary: User, branch_member: User, login: Any
) -> None:
    message = send(branch_member, "别人的消息")

    response = login(branch_secretary).post(reverse("branches:message_read", args=[message.pk]))

    message.refresh_from_db()
    assert response.status_code == 404 and message.read_at is None


@pytest.mark.parametrize(
    "url", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_a_message_link_to_another_site_lands_on_the_inbox(
    branch_secretary: User, login: Any, url: str
) -> None:
    message = send(branch_secretary, "可疑链接", url=url)

    response = login(branch_secretary).post(reverse("branches:message_read", args=[message.pk]))

    assert response["Location"] == reverse("branches:inbox")


def test_read_all_marks_only_the_users_messages(
    branch_secretary: User, branch_member: User, login: Any
) -> None:
    send(branch_secretary, "一")
    send(branch_secretary, "二")
    theirs = send(branch_member, "别人的")

    login(branch_secretary).post(reverse("branches:inbox_read_all"))

    assert inbox.unread_count(branch_secretary) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_inbox_query_count_does_not_grow_with_messages(branch_secretary: User, login: Any) -> None:
    client = login(branch_secretary)
    send(branch_secretary, "消息0")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("branches:inbox"))
    for n in range(1, 50):
        send(branch_secretary, f"消息{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("branches:inbox"))

    assert response.content.decode().count('data-testid="message-row"') == 30  # one page
    assert len(many) == len(one) <= 20
