"""Shared fixtures: one small fixed tree and the personas who act on it.

工委 GW (committee_admin, committee_staff)
├── 机关党委 A  (agency_staff = unit staff)
│   ├── 党总支 AG
│   │   └── 党支部 AG1
│   ├── 党支部 A1   (branch_secretary, branch_member = 支委委员)
│   └── 党支部 A2
├── 机关党委 B  (leader = 联系领导)
│   └── 党支部 B1   (outsider_secretary)
└── 直属党支部 D1
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest
from django.test import Client

from branches import services
from branches.models import OrgKind, OrgUnit, Role, User
from tests.factories import MemberFactory, UserFactory, make_org

PASSWORD = "test-pass-123"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_or_skip(available: bool, reason: str) -> None:
    """Skip with a visible reason locally; in CI a missing dependency is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Tree:
    gw: OrgUnit
    a: OrgUnit
    ag: OrgUnit
    ag1: OrgUnit
    a1: OrgUnit
    a2: OrgUnit
    b: OrgUnit
    b1: OrgUnit
    d1: OrgUnit


@pytest.fixture
def tree(db) -> Tree:  # type: ignore[no-untyped-def]
    gw = make_org(OrgKind.COMMITTEE, None, code="GW", name="中共旬阳市直属机关工作委员会")
    a = make_org(OrgKind.AGENCY_COMMITTEE, gw, code="A", name="中共旬阳市财政局机关委员会", sort_order=1)
    ag = make_org(OrgKind.GENERAL_BRANCH, a, code="AG", name="财政局机关党总支")
    ag1 = make_org(OrgKind.BRANCH, ag, code="AG1", name="国库支付中心党支部")
    a1 = make_org(OrgKind.BRANCH, a, code="A1", name="财政局预算股党支部", sort_order=1)
    a2 = make_org(OrgKind.BRANCH, a, code="A2", name="财政局综合股党支部", sort_order=2)
    b = make_org(
        OrgKind.AGENCY_COMMITTEE, gw, code="B", name="中共旬阳市政务服务中心机关委员会", sort_order=2
    )
    b1 = make_org(OrgKind.BRANCH, b, code="B1", name="旬速办窗口党支部")
    d1 = make_org(OrgKind.BRANCH, gw, code="D1", name="市档案馆党支部", sort_order=3)
    for org, n in ((a1, 3), (a2, 2), (ag1, 2), (b1, 4), (d1, 1)):
        for _ in range(n):
            MemberFactory(org=org)
    return Tree(gw=gw, a=a, ag=ag, ag1=ag1, a1=a1, a2=a2, b=b, b1=b1, d1=d1)


def _person(username: str, org: OrgUnit | None, role: str | None) -> User:
    user = UserFactory(username=username)
    if org is not None and role is not None:
        services.role_grant(user=user, org=org, role=role)
    return user


@pytest.fixture
def committee_admin(tree: Tree) -> User:
    return _person("gw_admin", tree.gw, Role.COMMITTEE_ADMIN)


@pytest.fixture
def committee_staff(tree: Tree) -> User:
    return _person("gw_staff", tree.gw, Role.COMMITTEE_STAFF)


@pytest.fixture
def agency_staff(tree: Tree) -> User:
    return _person("a_staff", tree.a, Role.UNIT_STAFF)


@pytest.fixture
def branch_secretary(tree: Tree) -> User:
    return _person("a1_secretary", tree.a1, Role.SECRETARY)


@pytest.fixture
def branch_member(tree: Tree) -> User:
    return _person("a1_member", tree.a1, Role.COMMITTEE_MEMBER)


@pytest.fixture
def outsider_secretary(tree: Tree) -> User:
    return _person("b1_secretary", tree.b1, Role.SECRETARY)


@pytest.fixture
def leader(tree: Tree) -> User:
    return _person("b_leader", tree.b, Role.LIAISON_LEADER)


@pytest.fixture
def no_role_user(tree: Tree) -> User:
    return _person("nobody", None, None)


PERSONAS = (
    "committee_admin",
    "committee_staff",
    "agency_staff",
    "branch_secretary",
    "branch_member",
    "outsider_secretary",
    "leader",
    "no_role_user",
)


@pytest.fixture
def login(client: Client):  # type: ignore[no-untyped-def]
    """login(user) -> a client logged in as that user (through the real session machinery)."""

    def _login(user: User) -> Client:
        client.force_login(user)
        # force_login bypasses the login view; record the login time the way the signal does.
        session = client.session
        from django.utils import timezone

        from branches.signals import SESSION_LOGIN_AT

        session[SESSION_LOGIN_AT] = timezone.now().timestamp()
        session.save()
        return client

    return _login
