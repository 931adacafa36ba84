from typing import Any

from django.http import HttpRequest

from branches.models import OFFICER_ROLES, STAFF_ROLES
from branches.permissions import is_committee_admin
from branches.selectors import grants_of
from campaigns import permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_can_manage_campaign": permissions.can_manage_campaign(user),
        "nav_can_review": permissions.can_review_anything(user),
        # 书记/副书记 of some organisation: they write its 述职报告.
        "nav_can_report": any(g.role in permissions.FILL_ROLES for g in grants_of(user)),
        # 工委 staff: rating schemes, simulation and the other 达标创星 management pages.
        "nav_committee_staff": permissions.is_committee_staff(user),
        # Anyone with a role sees the dashboard of their organisations (scoring:dashboard).
        "nav_dashboard": user.is_superuser or bool(grants_of(user)),
        # 工委 admin: reminder rules and settings.
        "nav_committee_admin": is_committee_admin(user),
        # Officers and staff keep the recurring obligations (经常性工作) of their organisations.
        "nav_obligations": user.is_superuser
        or any(g.role in OFFICER_ROLES or g.role in STAFF_ROLES for g in grants_of(user)),
    }
