"""R6, R7, R14: login throttling, no enumeration, session lifetimes and the audit trail of logins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from branches import services
from branches.models import AuditAction, AuditEvent
from branches.signals import SESSION_LOGIN_AT
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _post_login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_with_correct_password_reaches_the_workbench(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = _post_login(client, "a1_secretary", PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_login_rotates_the_session_key(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.sessions.models import Session

    client = Client()
    anonymous_session = client.session
    anonymous_session["probe"] = 1
    anonymous_session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous_session.session_key
    _post_login(client, "a1_secretary", PASSWORD)
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != anonymous_session.session_key
    assert not Session.objects.filter(session_key=anonymous_session.session_key).exists()


def test_wrong_password_and_unknown_account_get_the_same_message(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    wrong_password = _post_login(Client(), "a1_secretary", "nope-nope-1")
    unknown_user = _post_login(Client(), "no_such_account", "nope-nope-1")
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert (
        wrong_password.context["form"].non_field_errors() == unknown_user.context["form"].non_field_errors()
    )
    assert "账号或密码不正确" in wrong_password.content.decode()


def test_repeated_failures_lock_the_account_from_that_address(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "a1_secretary", "wrong-password-1")
    response = _post_login(client, "a1_secretary", PASSWORD)
    assert response.status_code == 429
    assert "暂时锁定" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.LOCKED_OUT, actor_username="a1_secretary").exists()


def test_lockout_of_one_account_does_not_block_another(branch_secretary, outsider_secretary) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "a1_secretary", "wrong-password-1")
    assert _post_login(client, "b1_secretary", PASSWORD).status_code == 302


def test_lockout_does_not_reveal_whether_an_account_exists(db) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "ghost_account", "wrong-password-1")
    assert _post_login(client, "ghost_account", "whatever-1").status_code == 429


def test_passwords_are_hashed_with_argon2_outside_tests(settings) -> None:  # type: ignore[no-untyped-def]
    from config.settings import base

    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    assert make_password("a-long-password-1").startswith("argon2$argon2id$")


def test_idle_session_expires_after_thirty_minutes(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    _post_login(client, "a1_secretary", PASSWORD)
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31)):
        assert client.get(reverse("home")).status_code == 302


def test_active_session_ends_twelve_hours_after_login(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    _post_login(client, "a1_secretary", PASSWORD)
    start = timezone.now()
    # Stay active every 25 minutes: the idle timeout never fires, the absolute one does.
    for step in range(1, 12 * 60 // 25 + 1):
        with time_machine.travel(start + timedelta(minutes=25 * step)):
            assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=10)):
        response = client.get(reverse("home"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED, actor=branch_secretary).exists()


def test_session_without_login_time_is_ended(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    _post_login(client, "a1_secretary", PASSWORD)
    session = client.session
    del session[SESSION_LOGIN_AT]
    session.save()
    assert client.get(reverse("home")).status_code == 302


def test_logout_ends_the_session(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    _post_login(client, "a1_secretary", PASSWORD)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor=branch_secretary).exists()


def test_deactivation_deletes_the_users_sessions(branch_secretary, committee_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    _post_login(client, "a1_secretary", PASSWORD)
    services.user_set_active(user=branch_secretary, active=False, actor=committee_admin)
    assert client.get(reverse("home")).status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.USER_DEACTIVATED)
    assert event.detail["sessions_ended"] == 1


def test_login_and_failed_login_are_audited_with_address(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _post_login(Client(), "a1_secretary", "wrong-password-1", ip="10.1.2.3")
    _post_login(Client(), "a1_secretary", PASSWORD, ip="10.1.2.4")
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    ok = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (failed.actor_username, failed.ip_address) == ("a1_secretary", "10.1.2.3")
    assert (ok.actor, ok.ip_address) == (branch_secretary, "10.1.2.4")


def test_role_changes_are_audited(branch_secretary, committee_admin, tree) -> None:  # type: ignore[no-untyped-def]
    grant = services.role_grant(user=branch_secretary, org=tree.a2, role="viewer", actor=committee_admin)
    services.role_revoke(grant=grant, actor=committee_admin)
    granted = AuditEvent.objects.get(action=AuditAction.ROLE_GRANTED, detail__org="A2")
    revoked = AuditEvent.objects.get(action=AuditAction.ROLE_REVOKED)
    assert granted.actor == revoked.actor == committee_admin
    assert revoked.detail == {"user": "a1_secretary", "org": "A2", "role": "viewer"}


def test_audit_events_cannot_be_updated_through_the_orm(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _post_login(Client(), "a1_secretary", PASSWORD)
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    event.actor_username = "someone_else"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_username="x")


def test_audit_events_cannot_be_deleted_through_the_orm(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _post_login(Client(), "a1_secretary", PASSWORD)
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_events_cannot_be_updated_in_raw_sql(branch_secretary) -> None:  # type: ignore[no-untyped-def]
    _post_login(Client(), "a1_secretary", PASSWORD)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE branches_auditevent SET actor_username = 'forged'")
    assert not AuditEvent.objects.filter(actor_username="forged").exists()


def test_audit_page_shows_details_in_chinese(committee_admin, branch_secretary, tree, login) -> None:  # type: ignore[no-untyped-def]
    services.role_grant(user=branch_secretary, org=tree.a2, role="viewer", actor=committee_admin)
    html = (
        login(committee_admin).get(reverse("branches:audit_log"), {"action": "role_granted"}).content.decode()
    )
    assert "组织编码：A2" in html
    assert "角色：查看" in html
