"""The organisation tree: parent rules, maintained paths, moves and scope selectors."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from branches import selectors, services
from branches.models import OrgKind, OrgUnit, Role, RoleGrant
from tests.factories import UserFactory, make_org

pytestmark = pytest.mark.django_db


def _assert_paths_consistent() -> None:
    for org in OrgUnit.objects.select_related("parent"):
        expected = (org.parent.path if org.parent else "/") + f"{org.pk}/"
        assert org.path == expected, org.code
        assert org.depth == (org.parent.depth + 1 if org.parent else 0)


def test_created_organisations_get_materialised_paths(tree) -> None:  # type: ignore[no-untyped-def]
    assert tree.ag1.path == f"/{tree.gw.pk}/{tree.a.pk}/{tree.ag.pk}/{tree.ag1.pk}/"
    assert tree.ag1.depth == 3
    _assert_paths_consistent()


@pytest.mark.parametrize(
    ("kind", "parent_attr"),
    [
        (OrgKind.AGENCY_COMMITTEE, "a"),
        (OrgKind.GENERAL_BRANCH, "ag"),
        (OrgKind.BRANCH, "a1"),
        (OrgKind.PARTY_GROUP, "a"),
        (OrgKind.AGENCY_COMMITTEE, "a1"),
    ],
)
def test_parent_kind_rules_are_enforced(tree, kind, parent_attr) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        make_org(kind, getattr(tree, parent_attr))


def test_party_group_may_sit_under_a_branch(tree) -> None:  # type: ignore[no-untyped-def]
    group = make_org(OrgKind.PARTY_GROUP, tree.a1)
    assert group.path.startswith(tree.a1.path)


def test_a_second_committee_is_refused(tree) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="只能有一个工委"):
        make_org(OrgKind.COMMITTEE, None)


def test_database_refuses_a_root_that_is_not_the_committee(tree) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgUnit.objects.create(code="X", name="x", kind=OrgKind.BRANCH, parent=None, path="/x/")


def test_descendants_of_returns_the_subtree_only(tree) -> None:  # type: ignore[no-untyped-def]
    codes = set(selectors.descendants_of(tree.a).values_list("code", flat=True))
    assert codes == {"A", "AG", "AG1", "A1", "A2"}
    assert "A" not in set(selectors.descendants_of(tree.a, include_self=False).values_list("code", flat=True))


def test_subtree_range_does_not_match_sibling_with_longer_id_prefix(tree) -> None:  # type: ignore[no-untyped-def]
    # Paths /1/2/ and /1/23/ share a textual prefix "/1/2"; the range must not mix them.
    for _ in range(25):
        make_org(OrgKind.BRANCH, tree.gw)
    for org in OrgUnit.objects.filter(kind=OrgKind.BRANCH):
        subtree = set(selectors.descendants_of(org).values_list("pk", flat=True))
        assert subtree == {org.pk}


def test_moving_an_organisation_rewrites_its_whole_subtree(tree) -> None:  # type: ignore[no-untyped-def]
    services.org_unit_move(org=tree.ag, new_parent=tree.b)
    _assert_paths_consistent()
    assert set(selectors.descendants_of(tree.b).values_list("code", flat=True)) == {"B", "B1", "AG", "AG1"}


def test_moving_under_own_descendant_is_refused(tree) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="自己或它的下级"):
        services.org_unit_move(org=tree.a, new_parent=tree.ag)
    _assert_paths_consistent()


def test_role_must_be_granted_at_an_allowed_kind(tree) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory()
    with pytest.raises(ValidationError, match="工委管理员"):
        services.role_grant(user=user, org=tree.a, role=Role.COMMITTEE_ADMIN)
    with pytest.raises(ValidationError):
        services.role_grant(user=user, org=tree.a1, role=Role.UNIT_STAFF)
    assert not RoleGrant.objects.filter(user=user).exists()


def test_the_same_grant_twice_is_refused(tree) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory()
    services.role_grant(user=user, org=tree.a1, role=Role.SECRETARY)
    with pytest.raises(ValidationError):
        services.role_grant(user=user, org=tree.a1, role=Role.SECRETARY)


def test_several_roles_at_several_organisations_union_their_subtrees(tree) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory()
    services.role_grant(user=user, org=tree.a1, role=Role.SECRETARY)
    services.role_grant(user=user, org=tree.b, role=Role.LIAISON_LEADER)
    services.role_grant(user=user, org=tree.b1, role=Role.VIEWER)  # nested in B: collapsed
    codes = set(selectors.organisations_visible_to(user).values_list("code", flat=True))
    assert codes == {"A1", "B", "B1"}
    assert len(selectors.scope_roots(user) or []) == 2


def test_grants_on_inactive_organisations_give_no_access(tree) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory()
    services.role_grant(user=user, org=tree.a2, role=Role.SECRETARY)
    services.org_unit_update(org=tree.a2, is_active=False)
    selectors.forget_grants(user)
    assert not selectors.organisations_visible_to(user).exists()


def test_inactive_user_sees_nothing(tree) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory()
    services.role_grant(user=user, org=tree.gw, role=Role.COMMITTEE_STAFF)
    user.is_active = False
    selectors.forget_grants(user)
    assert not selectors.organisations_visible_to(user).exists()


def test_subtree_member_counts_roll_up_to_ancestors(tree) -> None:  # type: ignore[no-untyped-def]
    counts = selectors.subtree_member_counts([tree.gw, tree.a, tree.ag, tree.b1])
    assert counts == {tree.gw.pk: 12, tree.a.pk: 7, tree.ag.pk: 2, tree.b1.pk: 4}


def test_visibility_matches_an_ancestor_walk_on_random_trees(db) -> None:  # type: ignore[no-untyped-def]
    """R3 property: on random trees with random grants, the selector equals a brute-force walk."""
    rng = random.Random(20261121)
    root = make_org(OrgKind.COMMITTEE, None, code="R")
    orgs = [root]
    for _ in range(120):
        parent = rng.choice(orgs)
        kinds = [k for k in OrgKind.values if k != OrgKind.COMMITTEE and parent.kind in _parents(k)]
        if not kinds:
            continue
        orgs.append(make_org(rng.choice(kinds), parent))
    # Also exercise a move, so paths written by org_unit_move are covered.
    movable = [o for o in orgs if o.kind == OrgKind.BRANCH and o.parent_id != root.pk]
    services.org_unit_move(org=movable[0], new_parent=root)
    orgs = list(OrgUnit.objects.all())
    by_id = {o.pk: o for o in orgs}
    for trial in range(25):
        user = UserFactory(username=f"rand{trial}")
        granted = rng.sample(orgs, k=rng.randint(0, 4))
        for org in granted:
            services.role_grant(user=user, org=org, role=Role.VIEWER)

        def walk_visible(org: OrgUnit, granted_ids: set[int] = {g.pk for g in granted}) -> bool:  # noqa: B006
            node: OrgUnit | None = org
            while node is not None:
                if node.pk in granted_ids:
                    return True
                node = by_id.get(node.parent_id) if node.parent_id else None
            return False

        expected = {o.pk for o in orgs if walk_visible(o)}
        assert set(selectors.organisations_visible_to(user).values_list("pk", flat=True)) == expected


def _parents(kind: str) -> tuple[str, ...]:
    from branches.models import ALLOWED_PARENT_KINDS

    return ALLOWED_PARENT_KINDS[kind]
