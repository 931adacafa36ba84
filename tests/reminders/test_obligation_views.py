"""The obligations pages: the 工委 calendar, an organisation's year grid, recording a period."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from branches.models import AuditAction, AuditEvent, Role
from campaigns.models import EntryStatus, Frequency, Obligation, ObligationRecord
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.factories import MemberFactory
from tests.reminders.support import at, person

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 10)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(at(TODAY, 10), tick=False):
        yield TODAY


def _ob(tree: Any, name: str) -> Obligation:
    return Obligation.objects.get(committee=tree.gw, name=name)


def _grid(response: Any) -> dict[str, dict[str, Any]]:
    """{obligation name: {period key: cell}} of the page's year grid."""
    return {
        row.obligation.name: {cell.key: cell for cell in row.cells} for row in response.context["grid"].rows
    }


def _org_url(org: Any, **query: Any) -> str:
    url = reverse("campaigns:obligations_org", args=[org.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _record_url(org: Any) -> str:
    return reverse("campaigns:obligation_record", args=[org.pk])


VALID_OBLIGATION = {
    "name": "党支部书记述职",
    "applies_to": "branch",
    "frequency": "yearly",
    "due_day": "31",
    "due_month": "12",
    "min_full_members": "0",
    "item_code": "",
    "description": "",
    "sort_order": "20",
    "is_active": "on",
}


# --- the 工委 calendar ---------------------------------------------------------------------------


def test_the_calendar_lists_the_default_obligations_to_staff(tree, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("campaigns:obligation_list"))
    assert response.status_code == 200
    names = [row["ob"].name for row in response.context["rows"]]
    assert "支部党员大会" in names and "支部委员会会议" in names
    assert not response.context["can_edit"]
    assert reverse("campaigns:obligation_create") not in response.content.decode()


def test_the_calendar_shows_edit_buttons_to_committee_admins(tree, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).get(reverse("campaigns:obligation_list"))
    ob = _ob(tree, "主题党日")
    html = response.content.decode()
    assert reverse("campaigns:obligation_edit", args=[ob.pk]) in html
    assert "每月15日" in html


def test_unit_staff_read_the_calendar_of_their_committee(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(reverse("campaigns:obligation_list"))
    assert response.status_code == 200
    assert response.context["committee"] == tree.gw


def test_a_committee_admin_adds_an_obligation(tree, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).post(reverse("campaigns:obligation_create"), VALID_OBLIGATION)
    assert response.status_code == 302
    ob = Obligation.objects.get(committee=tree.gw, name="党支部书记述职")
    assert (ob.frequency, ob.due_day, ob.due_month) == ("yearly", 31, 12)
    event = AuditEvent.objects.filter(action=AuditAction.SETTINGS).latest("id")
    assert event.target_id == str(ob.pk)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("due_day", "32", "每期截止日应为 1～31"),
        ("due_day", "0", "每期截止日应为 1～31"),
        ("due_month", "13", "年度截止月应为 1～12"),
        ("due_month", "0", "年度截止月应为 1～12"),
        ("name", "支部党员大会", "已有同名的经常性工作"),
    ],
)
def test_an_invalid_obligation_is_refused_in_chinese(
    tree, committee_admin, login, field, value, message
) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_admin)
    client.get(reverse("campaigns:obligation_list"))  # installs the defaults
    before = Obligation.objects.count()
    response = client.post(reverse("campaigns:obligation_create"), {**VALID_OBLIGATION, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Obligation.objects.count() == before


def test_a_committee_admin_edits_an_obligation(tree, committee_admin, policy, login) -> None:  # type: ignore[no-untyped-def]
    ob = _ob(tree, "主题党日")
    data = {
        **VALID_OBLIGATION,
        "name": "主题党日",
        "frequency": "monthly",
        "due_day": "20",
        "item_code": "ZT01",
    }
    response = login(committee_admin).post(reverse("campaigns:obligation_edit", args=[ob.pk]), data)
    assert response.status_code == 302
    ob.refresh_from_db()
    assert (ob.due_day, ob.item_code) == (20, "ZT01")
    event = AuditEvent.objects.filter(action=AuditAction.SETTINGS).latest("id")
    assert event.detail["fields"]["due_day"] == ["15", "20"]


def test_renaming_an_obligation_to_a_taken_name_is_refused(tree, committee_admin, policy, login) -> None:  # type: ignore[no-untyped-def]
    ob = _ob(tree, "主题党日")
    data = {**VALID_OBLIGATION, "name": "党课"}
    response = login(committee_admin).post(reverse("campaigns:obligation_edit", args=[ob.pk]), data)
    assert "已有同名的经常性工作" in response.content.decode()
    ob.refresh_from_db()
    assert ob.name == "主题党日"


def test_editing_an_unknown_obligation_is_404(tree, committee_admin, policy, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).get(reverse("campaigns:obligation_edit", args=[999999]))
    assert response.status_code == 404


# --- an organisation's year ------------------------------------------------------------------------


def test_the_year_grid_shows_recorded_checklist_overdue_and_upcoming_periods(  # type: ignore[no-untyped-def]
    tree, branch_secretary, policy, login, frozen
) -> None:
    dangke = _ob(tree, "党课")
    Obligation.objects.filter(pk=dangke.pk).update(item_code="DK01")
    campaign = make_campaign(tree.gw, year=2026)
    item = make_item(campaign, code="DK01", frequency=Frequency.QUARTERLY)
    make_entry(campaign, tree.a1, item, period=1, status=EntryStatus.APPROVED)
    ObligationRecord.objects.create(
        obligation=_ob(tree, "支部党员大会"), org=tree.a1, period_key="2026-Q1", held_on=date(2026, 2, 1)
    )
    response = login(branch_secretary).get(_org_url(tree.a1))
    grid = _grid(response)
    assert grid["支部党员大会"]["2026-Q1"].status == "recorded"
    assert grid["支部党员大会"]["2026-Q1"].record.held_on == date(2026, 2, 1)
    assert grid["党课"]["2026-Q1"].status == "checklist"
    assert grid["意识形态工作研判"]["2026-Q1"].status == "overdue"
    assert grid["支部党员大会"]["2026-Q2"].status == "upcoming"
    assert grid["主题党日"]["2026-04"].status == "overdue"  # due on the 15th
    assert grid["主题党日"]["2026-05"].status == "upcoming"
    html = response.content.decode()
    assert "已完成（清单）" in html and "逾期未开展" in html and "未到期" in html


def test_the_summary_counts_the_periods_due_and_held(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    ObligationRecord.objects.create(
        obligation=_ob(tree, "支部党员大会"), org=tree.a1, period_key="2026-Q1", held_on=date(2026, 2, 1)
    )
    response = login(branch_secretary).get(_org_url(tree.a1))
    # 党员大会 4 + 党课 4 + 主题党日 12 + 组织生活会 1 + 谈心谈话 1 + 研判 4 + 党费 12
    assert "本年应开展 <strong>38</strong> 次，已开展 <strong>1</strong> 次" in response.content.decode()


def test_a_small_branch_has_no_branch_committee_meetings(
    tree, branch_secretary, policy, login, frozen
) -> None:  # type: ignore[no-untyped-def]
    response = login(branch_secretary).get(_org_url(tree.a1))  # A1 has 3 full members
    assert "支部委员会会议" not in _grid(response)
    assert "不足 7 人，无需开展" in response.content.decode()


def test_a_branch_of_seven_full_members_holds_branch_committee_meetings(  # type: ignore[no-untyped-def]
    tree, branch_secretary, policy, login, frozen
) -> None:
    for _ in range(4):
        MemberFactory(org=tree.a1)
    grid = _grid(login(branch_secretary).get(_org_url(tree.a1)))
    assert len(grid["支部委员会会议"]) == 12


def test_an_agency_committee_sees_its_own_obligations(tree, agency_staff, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    grid = _grid(login(agency_staff).get(_org_url(tree.a)))
    assert set(grid) == {"意识形态工作专题研究", "意识形态工作书面报告"}
    assert set(grid["意识形态工作专题研究"]) == {"2026-H1", "2026-H2"}


def test_the_year_is_chosen_by_the_query(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    response = login(branch_secretary).get(_org_url(tree.a1, year=2025))
    assert response.context["year"] == 2025
    assert all(c.status == "overdue" for c in _grid(response)["支部党员大会"].values())
    assert login(branch_secretary).get(_org_url(tree.a1, year="abc")).context["year"] == 2026


def test_a_foreign_organisation_is_404_and_recorded(tree, outsider_secretary, policy, login) -> None:  # type: ignore[no-untyped-def]
    response = login(outsider_secretary).get(_org_url(tree.a1))
    assert response.status_code == 404
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("id")
    assert event.detail["reason"] == "out_of_scope"


def test_a_viewer_sees_the_grid_without_the_record_form(tree, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    viewer = person("a1_viewer", tree.a1, Role.VIEWER)
    response = login(viewer).get(_org_url(tree.a1))
    assert response.status_code == 200
    assert not response.context["can_record"]
    assert "obligation-record-form" not in response.content.decode()


# --- recording a period ------------------------------------------------------------------------------


def _record(
    client: Any, org: Any, ob: Obligation, key: str, held_on: str = "2026-05-08", note: str = ""
) -> Any:
    return client.post(
        _record_url(org), {"obligation": ob.pk, "period_key": key, "held_on": held_on, "note": note}
    )


def test_an_officer_records_a_period(tree, branch_member, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    ob = _ob(tree, "支部党员大会")
    response = _record(login(branch_member), tree.a1, ob, "2026-Q2", note="学习党章")
    assert response.status_code == 302
    record = ObligationRecord.objects.get(obligation=ob, org=tree.a1)
    assert (record.period_key, record.held_on, record.recorded_by) == (
        "2026-Q2",
        date(2026, 5, 8),
        branch_member,
    )
    grid = _grid(login(branch_member).get(response["Location"]))
    assert grid["支部党员大会"]["2026-Q2"].status == "recorded"


def test_staff_above_the_organisation_may_record(tree, agency_staff, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    response = _record(login(agency_staff), tree.a1, _ob(tree, "党课"), "2026-Q1", held_on="2026-03-01")
    assert response.status_code == 302
    assert ObligationRecord.objects.filter(org=tree.a1).count() == 1


def test_an_outsider_cannot_record_for_a_foreign_branch(
    tree, outsider_secretary, policy, login, frozen
) -> None:  # type: ignore[no-untyped-def]
    response = _record(login(outsider_secretary), tree.a1, _ob(tree, "党课"), "2026-Q2")
    assert response.status_code == 404
    assert not ObligationRecord.objects.exists()


def test_somebody_who_sees_a_branch_but_is_not_its_officer_cannot_record(  # type: ignore[no-untyped-def]
    tree, leader, policy, login, frozen
) -> None:
    response = _record(login(leader), tree.b1, _ob(tree, "党课"), "2026-Q2")
    assert response.status_code == 403
    assert not ObligationRecord.objects.exists()


def test_an_officer_of_another_organisation_cannot_record(tree, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    a2_member = person("a2_member", tree.a2, Role.COMMITTEE_MEMBER)
    response = _record(login(a2_member), tree.a1, _ob(tree, "党课"), "2026-Q2")
    assert response.status_code == 404
    assert not ObligationRecord.objects.exists()


def test_the_secretary_of_the_parent_is_not_an_officer_of_the_branch(tree, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    a_secretary = person("a_secretary", tree.a, Role.SECRETARY)
    response = _record(login(a_secretary), tree.a1, _ob(tree, "党课"), "2026-Q2")
    assert response.status_code == 403
    assert not ObligationRecord.objects.exists()


@pytest.mark.parametrize(
    ("obligation", "key"), [("支部党员大会", "2026-Q5"), ("主题党日", "2026-Q2"), ("党课", "明年")]
)
def test_a_period_key_not_in_the_calendar_is_refused_in_chinese(  # type: ignore[no-untyped-def]
    tree, branch_secretary, policy, login, frozen, obligation, key
) -> None:
    response = _record(login(branch_secretary), tree.a1, _ob(tree, obligation), key)
    assert response.status_code == 200
    assert "的期次" in response.content.decode()
    assert response.context["form"].errors["period_key"]
    assert not ObligationRecord.objects.exists()


def test_a_lower_case_period_key_is_accepted(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    _record(login(branch_secretary), tree.a1, _ob(tree, "党课"), "2026-q2")
    assert ObligationRecord.objects.get().period_key == "2026-Q2"


def test_a_date_in_the_future_is_refused(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    response = _record(login(branch_secretary), tree.a1, _ob(tree, "党课"), "2026-Q2", held_on="2026-05-11")
    assert "开展日期不能晚于今天" in response.content.decode()
    assert not ObligationRecord.objects.exists()


def test_a_date_before_the_period_is_refused(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    response = _record(login(branch_secretary), tree.a1, _ob(tree, "党课"), "2026-Q2", held_on="2026-03-31")
    assert "开展日期不能早于2026年第2季度的开始日期（2026-04-01）" in response.content.decode()
    assert not ObligationRecord.objects.exists()


def test_a_late_record_of_a_past_period_is_accepted(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    _record(login(branch_secretary), tree.a1, _ob(tree, "党课"), "2026-Q1", held_on="2026-04-20")
    assert ObligationRecord.objects.get().held_on == date(2026, 4, 20)


def test_a_period_is_recorded_once(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_secretary)
    _record(client, tree.a1, _ob(tree, "党课"), "2026-Q2")
    response = _record(client, tree.a1, _ob(tree, "党课"), "2026-Q2", held_on="2026-05-09")
    assert "已登记，如需修改请先删除原记录" in response.content.decode()
    assert ObligationRecord.objects.get().held_on == date(2026, 5, 8)


def test_an_obligation_that_does_not_apply_is_refused(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    response = _record(login(branch_secretary), tree.a1, _ob(tree, "支部委员会会议"), "2026-04")
    assert "该项工作不适用于本组织" in response.content.decode()
    assert not ObligationRecord.objects.exists()


def test_the_record_link_prefills_the_form(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    ob = _ob(tree, "党课")
    response = login(branch_secretary).get(_org_url(tree.a1, obligation=ob.pk, period="2026-Q1"))
    form = response.context["form"]
    assert form.initial["obligation"] == ob.pk and form.initial["period_key"] == "2026-Q1"


def test_an_officer_deletes_a_record(tree, branch_secretary, policy, login, frozen) -> None:  # type: ignore[no-untyped-def]
    record = ObligationRecord.objects.create(
        obligation=_ob(tree, "党课"), org=tree.a1, period_key="2026-Q1", held_on=date(2026, 2, 1)
    )
    response = login(branch_secretary).post(reverse("campaigns:obligation_record_delete", args=[record.pk]))
    assert response.status_code == 302
    assert not ObligationRecord.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.SETTINGS, target_id=str(record.pk)).count() == 1


def test_a_record_of_a_foreign_branch_cannot_be_deleted(tree, outsider_secretary, policy, login) -> None:  # type: ignore[no-untyped-def]
    record = ObligationRecord.objects.create(
        obligation=_ob(tree, "党课"), org=tree.a1, period_key="2026-Q1", held_on=date(2026, 2, 1)
    )
    response = login(outsider_secretary).post(reverse("campaigns:obligation_record_delete", args=[record.pk]))
    assert response.status_code == 404
    assert ObligationRecord.objects.exists()


# --- my obligations -----------------------------------------------------------------------------------


def test_my_obligations_leads_an_officer_to_their_organisation(tree, branch_member, login) -> None:  # type: ignore[no-untyped-def]
    response = login(branch_member).get(reverse("campaigns:my_obligations"))
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:obligations_org", args=[tree.a1.pk])


def test_my_obligations_lists_the_visible_organisations_to_others(tree, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(reverse("campaigns:my_obligations"))
    assert response.status_code == 200
    codes = {org.code for org in response.context["page"].object_list}
    assert codes == {"A", "AG", "AG1", "A1", "A2"}


def test_my_obligations_filters_by_name(tree, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("campaigns:my_obligations"), {"q": "档案馆"})
    assert [org.code for org in response.context["page"].object_list] == ["D1"]


def test_the_org_page_links_to_its_obligations(tree, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    html = login(branch_secretary).get(reverse("branches:org_detail", args=[tree.a1.pk])).content.decode()
    assert reverse("campaigns:obligations_org", args=[tree.a1.pk]) in html
