import functools
from typing import Any

from django.http import HttpRequest

from branches import inbox, permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_can_manage_people": permissions.can_manage_people(user),
        "nav_can_import": permissions.can_import_orgs(user),
        "nav_can_audit": permissions.can_view_audit(user),
        # One COUNT on the (recipient, read_at) index, lazily and once per request, however
        # many places (the bell, the workbench) show it.
        "nav_unread": functools.cache(lambda: inbox.unread_count(user)),
    }
