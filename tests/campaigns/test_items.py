"""The task list (domain.md §5): sections, items and their rules, and 本级增加 by unit staff."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import OrgKind, Role
from campaigns.models import CampaignStatus, ChecklistItem, Frequency, Section
from campaigns.services.items import (
    item_create,
    item_deactivate,
    item_update,
    section_create,
    section_update,
)
from tests.campaigns.factories import make_campaign, make_item, make_section

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw, year=2026)


@pytest.fixture
def section(campaign):  # type: ignore[no-untyped-def]
    return make_section(campaign, "组织建设", 1)


def _item(campaign, section, actor, **overrides):  # type: ignore[no-untyped-def]
    values = {"section": section, "code": "ZZ-01", "title": "按期召开支部党员大会", "points": Decimal("5")}
    return item_create(campaign=campaign, actor=actor, **(values | overrides))


# --- sections ----------------------------------------------------------------------------------


def test_section_create_puts_a_new_section_last(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    created = section_create(campaign=campaign, name="作风建设", actor=committee_admin)
    assert created.sort_order == section.sort_order + 1


def test_section_names_are_unique_per_campaign(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="已经存在"):
        section_create(campaign=campaign, name="组织建设", actor=committee_admin)


def test_section_update_renames(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    section_update(section=section, name="基层组织建设", sort_order=3, actor=committee_admin)
    section.refresh_from_db()
    assert (section.name, section.sort_order) == ("基层组织建设", 3)


def test_unit_staff_cannot_add_sections(campaign, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        section_create(campaign=campaign, name="五型机关", actor=agency_staff)
    assert not Section.objects.exists()


# --- item rules --------------------------------------------------------------------------------


def test_item_create_stores_a_valid_item(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    item = _item(
        campaign,
        section,
        committee_admin,
        check_method="个别访谈、查阅资料",
        frequency=Frequency.QUARTERLY,
        applicable_kinds=[OrgKind.BRANCH],
        responsible_role=Role.SECRETARY,
        due_date=date(2026, 12, 31),
    )
    item.refresh_from_db()
    assert item.owner is None
    assert item.check_method == "查阅资料、个别访谈"
    assert item.applicable_kinds == [OrgKind.BRANCH]


def test_item_codes_are_unique_per_campaign(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    _item(campaign, section, committee_admin)
    with pytest.raises(ValidationError) as exc:
        _item(campaign, section, committee_admin, title="另一项")
    assert "code" in exc.value.message_dict


def test_the_same_code_is_allowed_in_another_year(tree, campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    _item(campaign, section, committee_admin)
    other = make_campaign(tree.gw, year=2027)
    item = _item(other, make_section(other), committee_admin, due_date=date(2027, 6, 30))
    assert item.code == "ZZ-01"


@pytest.mark.parametrize("points", [Decimal("-1"), Decimal("1.234"), Decimal("10000")])
def test_item_points_must_be_0_to_9999_99_with_two_decimals(
    campaign, section, committee_admin, points
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        _item(campaign, section, committee_admin, points=points)
    assert "points" in exc.value.message_dict


def test_item_due_date_must_fall_in_the_campaign_year(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        _item(campaign, section, committee_admin, due_date=date(2027, 1, 15))
    assert exc.value.message_dict["due_date"] == ["完成时限须在 2026 年内。"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("frequency", "weekly"),
        ("applicable_kinds", ["ministry"]),
        ("check_method", "电话抽查"),
        ("responsible_role", "boss"),
    ],
)
def test_item_refuses_values_outside_the_allowed_choices(
    campaign, section, committee_admin, field, value
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        _item(campaign, section, committee_admin, **{field: value})
    assert field in exc.value.message_dict
    assert not ChecklistItem.objects.exists()


def test_item_refuses_a_section_of_another_campaign(tree, campaign, committee_admin) -> None:  # type: ignore[no-untyped-def]
    other = make_campaign(tree.gw, year=2027)
    with pytest.raises(ValidationError) as exc:
        _item(campaign, make_section(other), committee_admin)
    assert "section" in exc.value.message_dict


def test_items_of_a_published_campaign_can_still_be_edited(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section, points="5")
    item_update(item=item, actor=committee_admin, points=Decimal("8"), title="新标题")
    item.refresh_from_db()
    assert (item.points, item.title) == (Decimal("8"), "新标题")


def test_items_of_an_archived_campaign_cannot_change(tree, committee_admin) -> None:  # type: ignore[no-untyped-def]
    archived = make_campaign(tree.gw, year=2026, status=CampaignStatus.ARCHIVED)
    section = make_section(archived)
    item = make_item(archived, section, points="5")
    with pytest.raises(ValidationError, match="已归档"):
        item_update(item=item, actor=committee_admin, points=Decimal("8"))
    with pytest.raises(ValidationError, match="已归档"):
        item_deactivate(item=item, actor=committee_admin)
    with pytest.raises(ValidationError, match="已归档"):
        _item(archived, section, committee_admin, code="NEW")
    item.refresh_from_db()
    assert (item.points, item.is_active) == (Decimal("5"), True)


def test_item_update_keeps_its_own_code_without_a_clash(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section, code="K1")
    item_update(item=item, actor=committee_admin, code="K1", title="改")
    assert ChecklistItem.objects.get(pk=item.pk).title == "改"


def test_item_deactivate_takes_an_item_off_the_list(campaign, section, committee_admin) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section)
    item_deactivate(item=item, actor=committee_admin)
    item.refresh_from_db()
    assert item.is_active is False


# --- 本级增加 -------------------------------------------------------------------------------------


def test_unit_staff_add_a_local_item_for_their_unit(campaign, section, agency_staff, tree) -> None:  # type: ignore[no-untyped-def]
    item = _item(campaign, section, agency_staff, owner=tree.a)
    assert item.owner == tree.a and item.is_local


def test_unit_staff_add_a_local_item_for_a_general_branch_below_them(
    campaign, section, agency_staff, tree
) -> None:  # type: ignore[no-untyped-def]
    assert _item(campaign, section, agency_staff, owner=tree.ag).owner == tree.ag


def test_unit_staff_cannot_add_to_the_committee_list(campaign, section, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="只有工委管理员"):
        _item(campaign, section, agency_staff)


def test_unit_staff_cannot_add_local_items_for_another_unit(campaign, section, agency_staff, tree) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="不能修改该单位"):
        _item(campaign, section, agency_staff, owner=tree.b)


def test_unit_staff_cannot_edit_the_committee_items(campaign, section, agency_staff) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section, title="原标题")
    with pytest.raises(ValidationError):
        item_update(item=item, actor=agency_staff, title="改")
    assert ChecklistItem.objects.get(pk=item.pk).title == "原标题"


def test_unit_staff_cannot_edit_another_units_local_items(campaign, section, agency_staff, tree) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section, owner=tree.b, title="原标题")
    with pytest.raises(ValidationError):
        item_update(item=item, actor=agency_staff, title="改")
    with pytest.raises(ValidationError):
        item_deactivate(item=item, actor=agency_staff)
    item.refresh_from_db()
    assert (item.title, item.is_active) == ("原标题", True)


def test_local_items_can_only_belong_to_an_agency_committee_or_general_branch(
    campaign, section, committee_admin, tree
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="机关党委或党总支"):
        _item(campaign, section, committee_admin, owner=tree.a1)


def test_a_secretary_cannot_add_local_items(campaign, section, branch_secretary, tree) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        _item(campaign, section, branch_secretary, owner=tree.a)


# --- pages ---------------------------------------------------------------------------------------


def _post_item(section, **overrides):  # type: ignore[no-untyped-def]
    return {
        "section": section.pk,
        "code": "P-1",
        "title": "开展主题党日",
        "points": "3",
        "frequency": "monthly",
        "check_methods": ["查阅资料", "测评"],
        "kinds": ["branch"],
        "responsible_role": "secretary",
        "requirement": "",
        "evidence_guidance": "",
        "scoring_rule": "",
        "due_date": "",
        "sort_order": "",
    } | overrides


def test_item_create_page_adds_to_the_committee_list(campaign, section, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).post(
        reverse("campaigns:item_create", args=[campaign.pk]), _post_item(section)
    )
    assert response.status_code == 302
    item = ChecklistItem.objects.get(code="P-1")
    assert (item.owner, item.frequency, item.check_method) == (None, Frequency.MONTHLY, "查阅资料、测评")


def test_item_create_page_shows_the_code_clash(campaign, section, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, section, code="P-1")
    response = login(committee_admin).post(
        reverse("campaigns:item_create", args=[campaign.pk]), _post_item(section)
    )
    assert response.status_code == 200
    assert "任务编码“P-1”在本年度已被使用" in response.content.decode()


def test_local_item_create_page_fixes_the_owner(campaign, section, agency_staff, tree, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("campaigns:local_item_create", args=[campaign.pk, tree.a.pk])
    response = login(agency_staff).post(url, _post_item(section, owner=tree.b.pk))
    assert response["Location"] == reverse("campaigns:local_items", args=[campaign.pk, tree.a.pk])
    assert ChecklistItem.objects.get(code="P-1").owner == tree.a


def test_item_edit_page_lets_unit_staff_edit_their_local_item(
    campaign, section, agency_staff, tree, login
) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section, code="A-1", owner=tree.a)
    login(agency_staff).post(
        reverse("campaigns:item_edit", args=[item.pk]), _post_item(section, code="A-1", title="改")
    )
    item.refresh_from_db()
    assert (item.title, item.owner) == ("改", tree.a)


def test_item_edit_page_refuses_unit_staff_on_a_committee_item(
    campaign, section, agency_staff, login
) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section, title="原标题")
    response = login(agency_staff).post(reverse("campaigns:item_edit", args=[item.pk]), _post_item(section))
    assert response.status_code == 403
    assert ChecklistItem.objects.get(pk=item.pk).title == "原标题"


def test_item_deactivate_page_takes_the_item_off(campaign, section, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    item = make_item(campaign, section)
    login(committee_admin).post(reverse("campaigns:item_deactivate", args=[item.pk]))
    assert ChecklistItem.objects.get(pk=item.pk).is_active is False


def test_section_create_page_adds_a_section(campaign, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    login(committee_admin).post(reverse("campaigns:section_create", args=[campaign.pk]), {"name": "纪律建设"})
    assert Section.objects.filter(campaign=campaign, name="纪律建设").exists()


def test_local_items_page_separates_own_from_inherited_items(
    campaign, section, agency_staff, tree, login
) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, section, code="GW-1", points="10")
    make_item(campaign, section, code="A-1", owner=tree.a, points="2")
    make_item(campaign, section, code="AG-1", owner=tree.ag, points="1")
    make_item(campaign, section, code="B-1", owner=tree.b, points="4")
    response = login(agency_staff).get(reverse("campaigns:local_items", args=[campaign.pk, tree.ag.pk]))
    own = [i.code for g in response.context["own_sections"] for i in g["items"]]
    inherited = [i.code for g in response.context["inherited_sections"] for i in g["items"]]
    assert own == ["AG-1"]
    assert sorted(inherited) == ["A-1", "GW-1"]
    assert (response.context["own_total"], response.context["inherited_total"]) == (
        Decimal("1"),
        Decimal("12"),
    )


def test_local_items_page_query_count_does_not_grow_with_items(
    campaign, section, agency_staff, tree, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(agency_staff)
    url = reverse("campaigns:local_items", args=[campaign.pk, tree.a.pk])
    make_item(campaign, section, owner=tree.a)
    make_item(campaign, section)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(2, 6):
        other = make_section(campaign, f"类别{n}", n)
        for _ in range(5):
            make_item(campaign, other, owner=tree.a)
            make_item(campaign, other)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(one.captured_queries) == len(many.captured_queries) <= 20


def test_admin_renames_a_section_through_the_page(committee_admin, login, tree) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from tests.campaigns.factories import make_campaign, make_section

    campaign = make_campaign(tree.gw, year=2033)
    section = make_section(campaign, "思想建设", 2)
    response = login(committee_admin).post(
        reverse("campaigns:section_edit", kwargs={"pk": section.pk}), {"name": "理论武装", "sort_order": "1"}
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert (section.name, section.sort_order) == ("理论武装", 1)
