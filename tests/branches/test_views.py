"""Pages: what each persona sees, the people-management flows and pinned query counts (P2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from branches import services
from branches.models import AuditAction, AuditEvent, OrgKind, Role, RoleGrant, User
from tests.factories import MemberFactory, UserFactory, make_org

pytestmark = pytest.mark.django_db


def test_home_lists_the_users_roles(branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    html = login(branch_secretary).get(reverse("home")).content.decode()
    assert "财政局预算股党支部" in html and "书记" in html


def test_tree_of_committee_staff_starts_at_the_committee_with_children_open(
    committee_staff, login, tree
) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("branches:org_tree"))
    assert [n["org"].code for n in response.context["roots"]] == ["GW"]
    assert [n["org"].code for n in response.context["open_children"]] == ["A", "B", "D1"]


def test_tree_children_are_ordered_by_sort_order_not_name(agency_staff, login, tree) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(reverse("branches:org_children", kwargs={"pk": tree.a.pk}))
    assert [n["org"].code for n in response.context["nodes"]] == ["AG", "A1", "A2"]


def test_tree_nodes_show_subtree_member_counts(committee_staff, login, tree) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("branches:org_tree"))
    counts = {n["org"].code: n["members"] for n in response.context["open_children"]}
    assert counts == {"A": 7, "B": 4, "D1": 1}


def test_tree_search_finds_by_code(committee_staff, login, tree) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("branches:org_tree"), {"q": "B1"})
    assert [n["org"].code for n in response.context["results"]] == ["B1"]


def test_org_page_shows_officers_and_roster(branch_secretary, login, tree) -> None:  # type: ignore[no-untyped-def]
    html = (
        login(branch_secretary)
        .get(reverse("branches:org_detail", kwargs={"pk": tree.a1.pk}))
        .content.decode()
    )
    assert "a1_secretary" not in html or "书记" in html
    assert "党员名册（3）" in html


def test_org_page_warns_ninety_days_before_term_end(branch_secretary, login, tree) -> None:  # type: ignore[no-untyped-def]
    services.org_unit_update(org=tree.a1, term_ends_on=timezone.localdate() + timedelta(days=60))
    html = (
        login(branch_secretary)
        .get(reverse("branches:org_detail", kwargs={"pk": tree.a1.pk}))
        .content.decode()
    )
    assert "还有 60 天" in html


def test_org_page_has_no_warning_far_from_term_end(branch_secretary, login, tree) -> None:  # type: ignore[no-untyped-def]
    services.org_unit_update(org=tree.a1, term_ends_on=timezone.localdate() + timedelta(days=91))
    response = login(branch_secretary).get(reverse("branches:org_detail", kwargs={"pk": tree.a1.pk}))
    assert response.context["term_warning"] is False


def test_org_page_flags_an_expired_term(branch_secretary, login, tree) -> None:  # type: ignore[no-untyped-def]
    services.org_unit_update(org=tree.a1, term_ends_on=timezone.localdate() - timedelta(days=5))
    html = (
        login(branch_secretary)
        .get(reverse("branches:org_detail", kwargs={"pk": tree.a1.pk}))
        .content.decode()
    )
    assert "已超期 5 天" in html


def test_breadcrumb_does_not_link_ancestors_outside_scope(branch_secretary, login, tree) -> None:  # type: ignore[no-untyped-def]
    response = login(branch_secretary).get(reverse("branches:org_detail", kwargs={"pk": tree.a1.pk}))
    assert [(a["org"].code, a["visible"]) for a in response.context["ancestors"]] == [
        ("GW", False),
        ("A", False),
    ]
    assert reverse("branches:org_detail", kwargs={"pk": tree.a.pk}) not in response.content.decode()


def test_org_list_filters_by_kind(committee_staff, login, tree) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("branches:org_list"), {"kind": OrgKind.AGENCY_COMMITTEE})
    assert [r["org"].code for r in response.context["rows"]] == ["A", "B"]


# --- people and roles --------------------------------------------------------------------


def test_admin_creates_an_account_that_can_log_in_with_the_one_time_password(committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_admin)
    response = client.post(
        reverse("branches:person_create"), {"username": "xy_sec", "full_name": "许燕"}, follow=True
    )
    message = next(iter(response.context["messages"])).message
    password = message.split("初始密码：")[1].split("（")[0]
    login_response = Client().post(reverse("login"), {"username": "xy_sec", "password": password})
    assert login_response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.USER_CREATED, actor=committee_admin).exists()


def test_account_names_are_unique_regardless_of_case(committee_admin, login, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).post(
        reverse("branches:person_create"), {"username": "A1_SECRETARY", "full_name": "重名"}
    )
    assert "已被使用" in response.content.decode()
    assert User.objects.filter(username__iexact="a1_secretary").count() == 1


def test_admin_grants_a_role_by_organisation_code(committee_admin, login, no_role_user, tree) -> None:  # type: ignore[no-untyped-def]
    login(committee_admin).post(
        reverse("branches:person_grant", kwargs={"pk": no_role_user.pk}),
        {"org_code": "B1", "role": Role.VIEWER},
    )
    assert RoleGrant.objects.filter(user=no_role_user, org=tree.b1, role=Role.VIEWER).exists()


def test_granting_a_role_at_a_wrong_kind_shows_the_rule(committee_admin, login, no_role_user) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).post(
        reverse("branches:person_grant", kwargs={"pk": no_role_user.pk}),
        {"org_code": "B1", "role": Role.UNIT_STAFF},
        follow=True,
    )
    assert "只能授予在机关党委、党总支" in response.content.decode()
    assert not RoleGrant.objects.filter(user=no_role_user).exists()


def test_admin_revokes_a_role(committee_admin, login, outsider_secretary) -> None:  # type: ignore[no-untyped-def]
    grant = RoleGrant.objects.get(user=outsider_secretary)
    login(committee_admin).post(reverse("branches:grant_revoke", kwargs={"pk": grant.pk}))
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()


def test_admin_cannot_deactivate_themselves(committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    login(committee_admin).post(
        reverse("branches:person_set_active", kwargs={"pk": committee_admin.pk}), {"active": "0"}
    )
    committee_admin.refresh_from_db()
    assert committee_admin.is_active


def test_reset_password_ends_the_users_sessions(committee_admin, login, outsider_secretary) -> None:  # type: ignore[no-untyped-def]
    victim = Client()
    victim.force_login(outsider_secretary)
    login(committee_admin).post(
        reverse("branches:person_reset_password", kwargs={"pk": outsider_secretary.pk})
    )
    assert victim.get(reverse("home")).status_code == 302


def test_tampered_grant_form_cannot_reach_an_unknown_organisation(
    committee_admin, login, no_role_user
) -> None:  # type: ignore[no-untyped-def]
    login(committee_admin).post(
        reverse("branches:person_grant", kwargs={"pk": no_role_user.pk}),
        {"org_code": "NOPE", "role": Role.COMMITTEE_ADMIN, "user": committee_admin.pk},
    )
    assert not RoleGrant.objects.filter(user=no_role_user).exists()


def test_edit_form_ignores_fields_it_does_not_have(committee_admin, login, outsider_secretary) -> None:  # type: ignore[no-untyped-def]
    login(committee_admin).post(
        reverse("branches:person_detail", kwargs={"pk": outsider_secretary.pk}),
        {"full_name": "新名字", "phone": "", "email": "", "is_superuser": "on", "username": "hijack"},
    )
    outsider_secretary.refresh_from_db()
    assert outsider_secretary.full_name == "新名字"
    assert not outsider_secretary.is_superuser
    assert outsider_secretary.username == "b1_secretary"


# --- query counts do not grow with rows (P2) ----------------------------------------------


def _grow(tree, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        branch = make_org(OrgKind.BRANCH, tree.b, name=f"扩展党支部{i}")
        MemberFactory(org=branch)
        MemberFactory(org=tree.b1)
        services.role_grant(user=UserFactory(), org=branch, role=Role.SECRETARY)


PAGES = [
    ("branches:org_tree", None, {}),
    ("branches:org_list", None, {}),
    ("branches:org_children", "b", {}),
    ("branches:org_detail", "b", {}),
    ("branches:org_detail", "b1", {}),
    ("branches:people_list", None, {}),
    ("branches:org_tree", None, {"q": "党支部"}),
]


@pytest.mark.parametrize(("url_name", "org_attr", "params"), PAGES)
def test_page_query_count_does_not_grow_with_rows(committee_admin, tree, url_name, org_attr, params) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        client = Client()
        client.force_login(committee_admin)
        kwargs = {"pk": getattr(tree, org_attr).pk} if org_attr else {}
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(url_name, kwargs=kwargs), params).status_code == 200
        return len(ctx.captured_queries)

    _grow(tree, 1)
    few = count()
    _grow(tree, 49)
    many = count()
    assert few == many
    assert many <= 20
