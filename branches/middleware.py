"""Absolute session lifetime (R7): 12 hours after login the session ends whatever the activity."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from branches.audit import audit_record
from branches.models import AuditAction
from branches.signals import SESSION_LOGIN_AT


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            login_at = request.session.get(SESSION_LOGIN_AT)
            now = timezone.now().timestamp()
            if login_at is None or now - float(login_at) > settings.SESSION_ABSOLUTE_SECONDS:
                audit_record(action=AuditAction.SESSION_EXPIRED, actor=user, request=request)
                logout(request)
                messages.info(request, "登录已超过最长时限，请重新登录。")
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)
