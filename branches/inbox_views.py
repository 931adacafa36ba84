"""Inbox pages: the list (unread first), open-and-mark-read (POST) and mark-all-read."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from branches import inbox
from branches.access import AUTHENTICATED, AuthedHttpRequest, access, record_out_of_scope
from branches.models import Message

PAGE_SIZE = 30


def _safe_local_url(url: str) -> str | None:
    """Only a local absolute path ("/..."), never "//host" or a scheme: no open redirect."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return None
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts=None) else None


@require_GET
@access(AUTHENTICATED)
def inbox_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(inbox.messages_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "branches/inbox.html", {"page": page})


@require_POST
@access(AUTHENTICATED)
def message_read(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    message = inbox.messages_for(request.user).filter(pk=pk).first()
    if message is None:
        record_out_of_scope(request, "Message", pk)
        raise Http404("没有找到该消息。")
    inbox.message_mark_read(message=message)
    target = _safe_local_url(message.url)
    return redirect(target) if target else redirect("branches:inbox")


@require_POST
@access(AUTHENTICATED)
def inbox_read_all(request: AuthedHttpRequest) -> HttpResponse:
    n = inbox.messages_mark_all_read(user=request.user)
    messages.success(request, f"已将 {n} 条消息标为已读。")
    return redirect("branches:inbox")


__all__ = ["Message", "inbox_list", "inbox_read_all", "message_read"]
