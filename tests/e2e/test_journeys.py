"""Journeys through a real browser: what a secretary, committee staff and an admin actually do.

Data comes from the shared fixtures (the small fixed tree and its personas); every test starts
logged out, in a fresh browser context, and logs in through the real form. Screenshots of each
page at desktop and phone width land in test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from branches.models import OrgKind, Role, RoleGrant, User
from tests.conftest import PASSWORD, Tree
from tests.e2e.helpers import nav as _nav
from tests.factories import make_org

pytestmark = pytest.mark.e2e


def _node(tab, code: str):  # type: ignore[no-untyped-def]
    return tab.locator(f'[data-testid="tree-node"][data-code="{code}"]')


def test_branch_secretary_sees_only_their_branch(  # type: ignore[no-untyped-def]
    tab, log_in, screenshot, tree: Tree, branch_secretary: User
) -> None:
    # A 党小组 under the branch, so the secretary's tree has something below the root.
    make_org(OrgKind.PARTY_GROUP, tree.a1, code="A1G1", name="预算股第一党小组")

    tab.goto("/")
    expect(tab).to_have_url(re.compile(r"/accounts/login/"))  # anonymous users are sent to log in
    expect(tab.get_by_role("button", name="登录")).to_be_visible()
    screenshot(tab, "login")

    log_in(tab, branch_secretary.username)
    expect(tab.get_by_role("heading", name="工作台")).to_be_visible()
    roles = tab.get_by_test_id("my-roles")
    expect(roles).to_contain_text("财政局预算股党支部")
    expect(roles).to_contain_text("书记")
    expect(tab.get_by_test_id("current-user")).to_contain_text(branch_secretary.display_name)
    expect(tab.locator("nav.app-navbar")).not_to_contain_text("人员与角色")
    screenshot(tab, "home-secretary")

    # The tree starts at the secretary's own branch, open, with its party group below.
    _nav(tab, "组织架构")
    tree_list = tab.get_by_test_id("org-tree")
    expect(_node(tab, "A1")).to_be_visible()
    expect(_node(tab, "A1G1")).to_be_visible()
    expect(tree_list).not_to_contain_text("旬速办窗口党支部")
    expect(tree_list).not_to_contain_text("财政局综合股党支部")
    # The root's toggle collapses and expands its already-loaded children (no request needed).
    toggle = _node(tab, "A1").locator("[data-tree-toggle]")
    toggle.click()
    expect(_node(tab, "A1G1")).to_be_hidden()
    toggle.click()
    expect(_node(tab, "A1G1")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")

    # Search finds by name inside the scope and nothing outside it.
    search = tab.get_by_role("searchbox", name="搜索组织")
    search.fill("党小组")
    with tab.expect_navigation():
        search.press("Enter")
    expect(tab.get_by_test_id("search-results")).to_contain_text("预算股第一党小组")
    search = tab.get_by_role("searchbox", name="搜索组织")
    search.fill("旬速办")
    with tab.expect_navigation():
        search.press("Enter")
    expect(tab.get_by_test_id("search-results")).to_contain_text("没有找到匹配的组织")

    # The organisation page: officers and roster.
    with tab.expect_navigation():
        tab.get_by_role("link", name="返回树形").click()
    with tab.expect_navigation():
        _node(tab, "A1").get_by_role("link", name="财政局预算股党支部").click()
    expect(tab.get_by_test_id("org-name")).to_have_text("财政局预算股党支部")
    officers = tab.get_by_test_id("officers")
    expect(officers).to_contain_text(branch_secretary.display_name)
    expect(officers).to_contain_text("书记")
    expect(tab.get_by_test_id("roster").locator("tbody tr")).to_have_count(3)
    # Ancestors outside the secretary's scope are named, not linked.
    expect(tab.locator(".breadcrumb").get_by_role("link")).to_have_count(0)
    screenshot(tab, "org-detail-secretary")

    # Another branch's page, typed in directly, does not exist for this user.
    response = tab.goto(reverse("branches:org_detail", kwargs={"pk": tree.b1.pk}))
    assert response is not None and response.status == 404
    expect(tab.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(tab.locator("body")).not_to_contain_text("旬速办窗口党支部")


def test_committee_staff_browses_the_whole_tree(  # type: ignore[no-untyped-def]
    tab, log_in, screenshot, tree: Tree, committee_staff: User
) -> None:
    log_in(tab, committee_staff.username)
    expect(tab.get_by_test_id("my-roles")).to_contain_text("工委工作人员")
    screenshot(tab, "home-staff")

    _nav(tab, "组织架构")
    for code in ("GW", "A", "B", "D1"):
        expect(_node(tab, code)).to_be_visible()
    expect(_node(tab, "AG")).to_have_count(0)  # deeper levels are not loaded yet

    # Expanding a 机关党委 loads its children with htmx; a 党总支 below it loads the next level.
    with tab.expect_response(re.compile(rf"/orgs/{tree.a.pk}/children/")):
        _node(tab, "A").locator("[data-tree-toggle]").click()
    for code in ("AG", "A1", "A2"):
        expect(_node(tab, code)).to_be_visible()
    expect(tab.locator(f"#kids-{tree.a.pk} > li")).to_have_count(3)
    with tab.expect_response(re.compile(rf"/orgs/{tree.ag.pk}/children/")):
        _node(tab, "AG").locator("[data-tree-toggle]").click()
    expect(_node(tab, "AG1")).to_be_visible()
    screenshot(tab, "tree-expanded")

    # A branch's page from the tree.
    with tab.expect_navigation():
        _node(tab, "A2").get_by_role("link", name="财政局综合股党支部").click()
    expect(tab.get_by_test_id("org-name")).to_have_text("财政局综合股党支部")
    expect(tab.get_by_test_id("roster").locator("tbody tr")).to_have_count(2)
    expect(tab.locator(".breadcrumb").get_by_role("link", name="中共旬阳市财政局机关委员会")).to_be_visible()
    screenshot(tab, "org-detail-staff")

    # The flat list, filtered to 党支部: every branch of the tree and nothing else.
    _nav(tab, "组织列表")
    expect(tab.get_by_test_id("org-table").locator("tbody tr")).to_have_count(9)  # the whole fixed tree
    tab.locator("select[name=kind]").select_option(OrgKind.BRANCH.value)
    with tab.expect_navigation():
        tab.get_by_role("button", name="筛选").click()
    rows = tab.get_by_test_id("org-table").locator("tbody tr")
    expect(rows).to_have_count(5)
    for name in (
        "国库支付中心党支部",
        "财政局预算股党支部",
        "财政局综合股党支部",
        "旬速办窗口党支部",
        "市档案馆党支部",
    ):
        expect(rows.filter(has_text=name)).to_have_count(1)
    expect(tab.get_by_test_id("org-table").locator(".kind-badge", has_text="机关党委")).to_have_count(0)
    expect(tab.locator("select[name=kind]")).to_have_value(OrgKind.BRANCH.value)
    screenshot(tab, "org-list")


def test_committee_admin_creates_an_account_that_can_log_in(  # type: ignore[no-untyped-def]
    tab, log_in, screenshot, tree: Tree, committee_admin: User
) -> None:
    log_in(tab, committee_admin.username)
    _nav(tab, "人员与角色")
    expect(tab.get_by_role("heading", name="人员与角色")).to_be_visible()
    expect(tab.get_by_test_id("people-table")).to_contain_text(committee_admin.username)
    screenshot(tab, "people-list")

    with tab.expect_navigation():
        tab.get_by_role("link", name="新建账号").click()
    tab.get_by_label("账号").fill("a2_secretary")
    tab.get_by_label("姓名").fill("王小红")
    with tab.expect_navigation():
        tab.get_by_role("button", name="创建").click()
    notice = tab.locator(".alert-success")
    expect(notice).to_contain_text("已创建账号 a2_secretary")
    one_time_password = re.search(r"初始密码：(\w+)", notice.inner_text())
    assert one_time_password, notice.inner_text()

    tab.get_by_label("组织编码").fill(tree.a2.code)
    tab.get_by_label("角色").select_option(Role.SECRETARY.value)
    with tab.expect_navigation():
        tab.get_by_role("button", name="授予角色").click()
    expect(tab.locator(".alert-success")).to_contain_text("已授予角色")
    expect(tab.get_by_test_id("grants")).to_contain_text("财政局综合股党支部")
    screenshot(tab, "person-detail")
    assert RoleGrant.objects.filter(user__username="a2_secretary", org=tree.a2, role=Role.SECRETARY).exists()

    with tab.expect_navigation():
        tab.get_by_role("button", name="退出").click()
    log_in(tab, "a2_secretary", one_time_password.group(1))
    expect(tab.get_by_role("heading", name="工作台")).to_be_visible()
    expect(tab.get_by_test_id("current-user")).to_contain_text("王小红")
    expect(tab.get_by_test_id("my-roles")).to_contain_text("财政局综合股党支部")
    expect(tab.get_by_test_id("my-roles")).to_contain_text("书记")


def test_repeated_wrong_passwords_lock_the_account(  # type: ignore[no-untyped-def]
    tab, log_in, screenshot, settings, branch_secretary: User
) -> None:
    log_in(tab, branch_secretary.username, "wrong-password")
    # One message for a wrong account or password: the form does not say which (no enumeration).
    expect(tab.locator("form")).to_contain_text("账号或密码不正确")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(tab, branch_secretary.username, "wrong-password")
    expect(tab.get_by_role("heading", name="暂时无法登录")).to_be_visible()
    expect(tab.locator("body")).to_contain_text("登录失败次数过多")
    screenshot(tab, "locked-out")

    # Once locked, even the right password does not get in.
    log_in(tab, branch_secretary.username, PASSWORD)
    expect(tab.get_by_role("heading", name="暂时无法登录")).to_be_visible()
    expect(tab.get_by_role("heading", name="工作台")).to_have_count(0)
