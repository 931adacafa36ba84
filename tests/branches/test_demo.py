"""The demo (domain.md §14): the 旬阳 sizes, sound paths, and one working account per role."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from branches import demo
from branches.models import Member, MemberCategory, OrgKind, OrgUnit, Role, RoleGrant, User


@pytest.fixture
def today() -> date:
    return timezone.localdate()


@pytest.fixture
def loaded(db, today: date) -> demo.DemoResult:  # type: ignore[no-untyped-def]
    return demo.demo_load(today=today)


def subtree_ids_by_parent_links(root: OrgUnit) -> set[int]:
    """The subtree walked through `parent` only, so it checks the path column independently."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in OrgUnit.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found, stack = set(), [root.pk]
    while stack:
        pk = stack.pop()
        found.add(pk)
        stack.extend(children[pk])
    return found


def test_tree_has_the_xunyang_sizes(loaded: demo.DemoResult) -> None:
    kinds = Counter(OrgUnit.objects.values_list("kind", flat=True))
    root = OrgUnit.objects.get(parent__isnull=True)

    assert root.name == "中共旬阳市直属机关工作委员会"
    assert kinds[OrgKind.COMMITTEE] == 1
    assert kinds[OrgKind.AGENCY_COMMITTEE] == 8
    assert kinds[OrgKind.GENERAL_BRANCH] == 5
    assert kinds[OrgKind.BRANCH] == 104
    assert 0 < kinds[OrgKind.PARTY_GROUP] <= 10
    assert OrgUnit.objects.filter(kind=OrgKind.BRANCH, parent=root).count() == 44
    # 8 + 5 + 44 = the "57 个部门" of the article.
    assert root.children.count() == 57


def test_roster_has_1950_members_in_branches_of_3_to_50(loaded: demo.DemoResult) -> None:
    sizes = Counter(Member.objects.values_list("org__kind", "org__code"))

    assert Member.objects.count() == 1950
    assert {kind for kind, _ in sizes} == {OrgKind.BRANCH}
    assert len(sizes) == 104
    assert all(3 <= n <= 50 for n in sizes.values())
    assert Member.objects.filter(category=MemberCategory.PROBATIONARY).exists()


def test_paths_and_depths_agree_with_parent_links(loaded: demo.DemoResult) -> None:
    orgs = {o.pk: o for o in OrgUnit.objects.all()}

    for org in orgs.values():
        parent = orgs.get(org.parent_id) if org.parent_id else None
        expected = (parent.path if parent else "/") + f"{org.pk}/"
        assert org.path == expected, org.code
        assert org.depth == (parent.depth + 1 if parent else 0), org.code


def test_names_codes_and_dates_are_realistic(loaded: demo.DemoResult, today: date) -> None:
    orgs = list(OrgUnit.objects.all())

    assert len({o.code for o in orgs}) == len(orgs)
    assert all(o.agency_name and o.established_on for o in orgs)
    assert OrgUnit.objects.filter(name__contains="旬速办").exists()
    assert OrgUnit.objects.filter(agency_name="旬阳市财政局", kind=OrgKind.AGENCY_COMMITTEE).exists()
    # Siblings carry an explicit order; pages never sort by Chinese name.
    siblings: dict[int | None, list[int]] = defaultdict(list)
    for o in orgs:
        siblings[o.parent_id].append(o.sort_order)
    assert all(len(set(v)) == len(v) for v in siblings.values())


def test_a_few_terms_end_soon_and_one_has_expired(loaded: demo.DemoResult, today: date) -> None:
    warned = [o for o in OrgUnit.objects.exclude(term_ends_on=None) if o.term_warning(today)]
    expired = [o for o in warned if o.term_days_left(today) < 0]

    assert 2 <= len(warned) <= 6
    assert [o.code for o in expired] == [demo.AUDIT_BRANCH_CODE]
    assert not OrgUnit.objects.filter(kind=OrgKind.PARTY_GROUP).exclude(term_ends_on=None).exists()


def test_plan_is_deterministic() -> None:
    assert demo.demo_org_plan() == demo.demo_org_plan()
    assert demo.demo_org_plan(seed=1) != demo.demo_org_plan()


def test_every_role_has_an_account(loaded: demo.DemoResult) -> None:
    held = set(RoleGrant.objects.values_list("role", flat=True))

    assert held == set(Role.values)


def test_every_branch_has_a_secretary_from_its_roster(loaded: demo.DemoResult) -> None:
    secretaries = RoleGrant.objects.filter(role=Role.SECRETARY, org__kind=OrgKind.BRANCH)

    assert secretaries.values("org").distinct().count() == 104
    for grant in secretaries.select_related("user__member"):
        assert grant.user.member.org_id == grant.org_id


def test_passwords_use_the_configured_hasher_and_one_hash(loaded: demo.DemoResult) -> None:
    hashes = set(User.objects.values_list("password", flat=True))

    assert len(hashes) == 1
    assert identify_hasher(hashes.pop()).algorithm == get_hasher().algorithm


def _log_in(client: Client, username: str) -> None:
    response = client.post(reverse("login"), {"username": username, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"


def _org_list_ids(client: Client) -> tuple[int, set[int]]:
    response = client.get(reverse("branches:org_list"))
    assert response.status_code == 200
    page = response.context["page"]
    return page.paginator.count, {row["org"].pk for row in response.context["rows"]}


@pytest.mark.parametrize("account", demo.FEATURED_ACCOUNTS, ids=lambda a: a.username)
def test_each_featured_account_logs_in_and_sees_only_its_subtree(
    loaded: demo.DemoResult, client: Client, account: demo.DemoAccount
) -> None:
    org = loaded.orgs[account.org_code]
    expected = subtree_ids_by_parent_links(org)

    _log_in(client, account.username)
    count, shown = _org_list_ids(client)

    assert count == len(expected)
    assert shown <= expected
    if len(expected) <= 50:
        assert shown == expected
    outside = OrgUnit.objects.exclude(pk__in=expected).order_by("-code").first()
    if outside is not None:
        assert client.get(reverse("branches:org_detail", args=[outside.pk])).status_code == 404


def test_branch_secretary_sees_only_their_branch(loaded: demo.DemoResult, client: Client) -> None:
    branch = loaded.orgs["XYD01"]

    _log_in(client, demo.branch_secretary_username("XYD01"))
    count, shown = _org_list_ids(client)

    assert (count, shown) == (1, {branch.pk})


def test_unit_staff_sees_their_agency_committee_subtree(loaded: demo.DemoResult, client: Client) -> None:
    committee = loaded.orgs["XYJ01"]

    _log_in(client, "czj_staff")
    count, shown = _org_list_ids(client)

    assert shown == set(OrgUnit.objects.filter(path__startswith=committee.path).values_list("pk", flat=True))
    assert loaded.orgs["XYJ02"].pk not in shown
    assert count == 1 + 8 + demo.PARTY_GROUPS["XYJ01-03"]


def test_expired_term_warning_shows_to_the_secretary(loaded: demo.DemoResult, client: Client) -> None:
    _log_in(client, "sjj_secretary")

    response = client.get(reverse("branches:org_detail", args=[loaded.orgs[demo.AUDIT_BRANCH_CODE].pk]))

    assert "已超期" in response.content.decode()


def test_committee_admin_reaches_people_list(loaded: demo.DemoResult, client: Client) -> None:
    _log_in(client, "gw_admin")

    response = client.get(reverse("branches:people_list"), {"q": "ysg_"})

    assert response.status_code == 200
    assert len(response.context["rows"]) == 4


def test_load_demo_prints_the_account_table(db) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()

    call_command("load_demo", stdout=out)

    text = out.getvalue()
    assert demo.DEMO_PASSWORD in text
    assert "账号" in text and "角色" in text and "组织" in text
    for account in demo.FEATURED_ACCOUNTS:
        assert account.username in text
    assert "/accounts/login/" in text


def test_if_empty_is_idempotent(db) -> None:  # type: ignore[no-untyped-def]
    call_command("load_demo", "--if-empty", stdout=StringIO())
    counts = (
        OrgUnit.objects.count(),
        Member.objects.count(),
        User.objects.count(),
        RoleGrant.objects.count(),
    )
    out = StringIO()

    call_command("load_demo", "--if-empty", stdout=out)

    assert (
        OrgUnit.objects.count(),
        Member.objects.count(),
        User.objects.count(),
        RoleGrant.objects.count(),
    ) == counts
    assert "跳过" in out.getvalue()
    assert "gw_admin" in out.getvalue()


def test_load_demo_refuses_a_database_with_organisations(loaded: demo.DemoResult) -> None:
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=StringIO())


def test_accounts_flag_only_prints(db) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()

    call_command("load_demo", "--accounts", stdout=out)

    assert not OrgUnit.objects.exists()
    assert "尚未加载" in out.getvalue()
