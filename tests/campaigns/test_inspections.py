"""Inspection rounds: plan, the reproducible draw, the exclusion window, recording results, pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import OrgKind, OrgUnit, User, subtree_q
from campaigns.models import Campaign, ChecklistItem
from campaigns.models.supervision import (
    CheckOutcome,
    Finding,
    FindingSource,
    Inspection,
    InspectionCheckItem,
    InspectionResult,
    InspectionStatus,
    InspectionTarget,
    Rectification,
    SampleMode,
    Severity,
    TargetStatus,
)
from campaigns.services import inspections as svc
from campaigns.services.entries import InvalidTransition, PermissionRefused
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.conftest import Tree

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(tree.gw)


@pytest.fixture
def item(campaign: Campaign) -> ChecklistItem:
    return make_item(campaign, title="落实“三会一课”制度")


def plan(campaign: Campaign, actor: User, scope: OrgUnit, **overrides: Any) -> Inspection:
    fields: dict[str, Any] = {
        "kind": "supervision",
        "title": "年中督查",
        "target_kind": OrgKind.BRANCH,
        "sample_mode": SampleMode.ALL,
        "sample_size": 0,
        "exclude_months": 0,
        "starts_on": date(2026, 6, 1),
        "ends_on": date(2026, 6, 30),
        "team": [],
        "item_ids": [],
        "own_items": ["查看会议记录"],
    }
    fields.update(overrides)
    return svc.inspection_create(campaign=campaign, actor=actor, scope=scope, **fields)


def drawn(campaign: Campaign, actor: User, scope: OrgUnit, **overrides: Any) -> Inspection:
    inspection = plan(campaign, actor, scope, **overrides)
    svc.inspection_draw(inspection=inspection, actor=actor, today=TODAY)
    inspection.refresh_from_db()
    return inspection


def target_org_ids(inspection: Inspection) -> set[int]:
    return set(inspection.targets.values_list("org_id", flat=True))


def branches_under(org: OrgUnit) -> list[int]:
    qs = OrgUnit.objects.filter(subtree_q(org.path), kind=OrgKind.BRANCH, is_active=True)
    return list(qs.order_by("path").values_list("pk", flat=True))


# --- the draw ---------------------------------------------------------------------------------


def test_draw_sample_gives_the_same_sample_for_the_same_seed_and_candidates() -> None:
    candidates = list(range(1, 201))
    first = svc.draw_sample(candidates, SampleMode.COUNT, 12, 987654321)
    assert svc.draw_sample(list(candidates), SampleMode.COUNT, 12, 987654321) == first
    assert len(set(first)) == 12


def test_draw_sample_differs_for_another_seed() -> None:
    candidates = list(range(1, 201))
    assert svc.draw_sample(candidates, SampleMode.COUNT, 12, 1) != svc.draw_sample(
        candidates, SampleMode.COUNT, 12, 2
    )


def test_the_stored_seed_reproduces_the_stored_targets(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.gw, sample_mode=SampleMode.COUNT, sample_size=3)
    assert inspection.seed is not None
    again = svc.draw_sample(branches_under(tree.gw), SampleMode.COUNT, 3, inspection.seed)
    assert set(again) == target_org_ids(inspection)


def test_a_given_seed_is_kept_and_used(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(
        campaign, committee_staff, tree.gw, sample_mode=SampleMode.COUNT, sample_size=2, seed=7
    )
    assert inspection.seed == 7
    assert target_org_ids(inspection) == set(svc.draw_sample(branches_under(tree.gw), SampleMode.COUNT, 2, 7))


def test_draw_marks_the_round_sampled_with_its_time(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.gw)
    assert inspection.status == InspectionStatus.SAMPLED
    assert inspection.sampled_at is not None


def test_count_sample_draws_n_organisations(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.gw, sample_mode=SampleMode.COUNT, sample_size=2)
    assert inspection.targets.count() == 2


def test_count_sample_is_capped_at_the_number_of_candidates(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.gw, sample_mode=SampleMode.COUNT, sample_size=99)
    assert target_org_ids(inspection) == set(branches_under(tree.gw))


def test_percent_sample_rounds_up(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    # Five branches under the 工委: 30 % of 5 = 1.5 → 2.
    inspection = drawn(campaign, committee_staff, tree.gw, sample_mode=SampleMode.PERCENT, sample_size=30)
    assert inspection.targets.count() == 2


def test_sample_count_per_mode() -> None:
    assert svc.sample_count(5, SampleMode.ALL, 0) == 5
    assert svc.sample_count(5, SampleMode.PERCENT, 1) == 1
    assert svc.sample_count(5, SampleMode.PERCENT, 100) == 5
    assert svc.sample_count(5, SampleMode.COUNT, 7) == 5


def test_all_draws_the_active_organisations_of_the_target_kind_in_the_scope(
    campaign, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    OrgUnit.objects.filter(pk=tree.a2.pk).update(is_active=False)
    inspection = drawn(campaign, agency_staff, tree.a)
    assert target_org_ids(inspection) == {tree.a1.pk, tree.ag1.pk}


def _inspected_before(campaign: Campaign, org: OrgUnit, starts_on: date) -> None:
    earlier = Inspection.objects.create(
        campaign=campaign,
        title="早前的检查",
        scope=org,
        starts_on=starts_on,
        ends_on=starts_on,
        status=InspectionStatus.DONE,
    )
    InspectionTarget.objects.create(inspection=earlier, org=org)


def test_exclusion_window_leaves_out_an_organisation_inspected_within_it(
    campaign, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    # Another campaign's round two months before this one's start.
    _inspected_before(make_campaign(tree.gw, year=2025), tree.a1, date(2026, 4, 1))
    inspection = drawn(campaign, agency_staff, tree.a, exclude_months=3)
    assert target_org_ids(inspection) == {tree.a2.pk, tree.ag1.pk}


def test_exclusion_window_keeps_an_organisation_inspected_before_it(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _inspected_before(make_campaign(tree.gw, year=2025), tree.a1, date(2026, 4, 1))
    inspection = drawn(campaign, agency_staff, tree.a, exclude_months=1)
    assert tree.a1.pk in target_org_ids(inspection)


def test_months_before_clamps_to_the_end_of_a_shorter_month() -> None:
    assert svc.months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert svc.months_before(date(2026, 1, 15), 2) == date(2025, 11, 15)


def test_drawing_twice_is_refused_and_keeps_the_sample(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.gw, sample_mode=SampleMode.COUNT, sample_size=2)
    before = (inspection.seed, target_org_ids(inspection))
    with pytest.raises(InvalidTransition):
        svc.inspection_draw(inspection=inspection, actor=committee_staff, today=TODAY)
    inspection.refresh_from_db()
    assert (inspection.seed, target_org_ids(inspection)) == before


def test_draw_without_candidates_is_refused_and_stores_nothing(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = plan(campaign, agency_staff, tree.a1, target_kind=OrgKind.GENERAL_BRANCH)
    with pytest.raises(svc.InspectionInvalid):
        svc.inspection_draw(inspection=inspection, actor=agency_staff, today=TODAY)
    inspection.refresh_from_db()
    assert (inspection.status, inspection.seed) == (InspectionStatus.PLANNED, None)


# --- plan: permissions and validation -----------------------------------------------------------


def test_unit_staff_plan_a_round_within_their_subtree(campaign, tree, agency_staff, item) -> None:  # type: ignore[no-untyped-def]
    inspection = plan(campaign, agency_staff, tree.a, item_ids=[item.pk], own_items=["查看台账", " "])
    titles = list(inspection.check_items.values_list("title", "item_id"))
    assert titles == [(item.title, item.pk), ("查看台账", None)]


def test_unit_staff_cannot_plan_a_round_outside_their_subtree(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        plan(campaign, agency_staff, tree.b)


def test_a_secretary_cannot_plan_a_round(campaign, tree, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        plan(campaign, branch_secretary, tree.a1)
    assert not Inspection.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_on": date(2026, 5, 31)}, svc.ERR_DATES),
        ({"sample_mode": SampleMode.PERCENT, "sample_size": 0}, svc.ERR_PERCENT),
        ({"sample_mode": SampleMode.PERCENT, "sample_size": 101}, svc.ERR_PERCENT),
        ({"sample_mode": SampleMode.COUNT, "sample_size": 0}, svc.ERR_COUNT),
        ({"own_items": []}, svc.ERR_NO_ITEMS),
    ],
)
def test_invalid_plans_are_refused_in_chinese(campaign, tree, committee_staff, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.InspectionInvalid) as exc:
        plan(campaign, committee_staff, tree.gw, **overrides)
    assert exc.value.message == message


def test_team_members_must_be_staff_who_can_see_the_scope(
    campaign, tree, committee_staff, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(svc.InspectionInvalid) as exc:
        plan(campaign, committee_staff, tree.b, team=[agency_staff])
    assert "检查组成员" in exc.value.message


def test_check_items_must_belong_to_the_campaign(campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    foreign = make_item(make_campaign(tree.gw, year=2025))
    with pytest.raises(svc.InspectionInvalid) as exc:
        plan(campaign, committee_staff, tree.gw, item_ids=[foreign.pk])
    assert exc.value.message == svc.ERR_FOREIGN_ITEM


# --- record --------------------------------------------------------------------------------------


@pytest.fixture
def round_a(campaign, tree, agency_staff, item) -> Inspection:  # type: ignore[no-untyped-def]
    inspection = plan(campaign, agency_staff, tree.a, item_ids=[item.pk], own_items=["查看会议记录"])
    svc.inspection_draw(inspection=inspection, actor=agency_staff, today=TODAY)
    inspection.refresh_from_db()
    return inspection


def _target(inspection: Inspection, org: OrgUnit) -> InspectionTarget:
    return InspectionTarget.objects.select_related("inspection", "org").get(inspection=inspection, org=org)


def _check_item(inspection: Inspection, *, own: bool = False) -> InspectionCheckItem:
    return inspection.check_items.get(item__isnull=own)


def test_recording_marks_the_target_checked_and_stores_results(round_a, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    target = _target(round_a, tree.a1)
    check = _check_item(round_a)
    svc.inspection_record(
        target=target,
        actor=agency_staff,
        summary="会议记录不全",
        results={check.pk: (CheckOutcome.FAIL, "缺两次记录")},
        findings=[],
    )
    target.refresh_from_db()
    assert (target.status, target.checked_by, target.summary) == (
        TargetStatus.CHECKED,
        agency_staff,
        "会议记录不全",
    )
    result = InspectionResult.objects.get(target=target)
    assert (result.check_item, result.outcome, result.note) == (check, CheckOutcome.FAIL, "缺两次记录")


def test_recording_again_updates_the_result_instead_of_adding_one(round_a, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    target = _target(round_a, tree.a1)
    check = _check_item(round_a)
    for outcome in (CheckOutcome.FAIL, CheckOutcome.PASS):
        svc.inspection_record(
            target=target, actor=agency_staff, summary="", results={check.pk: (outcome, "")}, findings=[]
        )
    assert list(InspectionResult.objects.filter(target=target).values_list("outcome", flat=True)) == [
        CheckOutcome.PASS
    ]


def test_recording_a_finding_creates_it_with_its_rectification(
    round_a, campaign, tree, agency_staff, item
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(campaign, tree.a1, item)
    target = _target(round_a, tree.a1)
    check = _check_item(round_a)
    created = svc.inspection_record(
        target=target,
        actor=agency_staff,
        summary="",
        results={},
        findings=[
            {
                "description": "三会一课记录缺失",
                "category": "组织建设",
                "severity": Severity.MAJOR,
                "is_immediate": False,
                "item_id": check.pk,
            }
        ],
    )
    finding = Finding.objects.get()
    assert created == [finding]
    assert (finding.source, finding.org, finding.target, finding.item, finding.entry) == (
        FindingSource.INSPECTION,
        tree.a1,
        target,
        item,
        entry,
    )
    assert (finding.category, finding.severity) == ("组织建设", Severity.MAJOR)
    assert Rectification.objects.filter(finding=finding).exists()


def test_an_immediate_finding_is_due_by_the_end_of_the_inspection(round_a, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    target = _target(round_a, tree.a1)
    svc.inspection_record(
        target=target,
        actor=agency_staff,
        summary="",
        results={},
        findings=[{"description": "桌牌缺失", "is_immediate": True}],
    )
    assert Finding.objects.get().rectification.deadline == round_a.ends_on


def test_a_finding_for_an_item_of_another_round_is_refused_and_nothing_is_stored(
    round_a, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    other = plan(round_a.campaign, agency_staff, tree.a, own_items=["别的"])
    target = _target(round_a, tree.a1)
    with pytest.raises(svc.InspectionInvalid):
        svc.inspection_record(
            target=target,
            actor=agency_staff,
            summary="改动",
            results={},
            findings=[{"description": "x", "item_id": other.check_items.get().pk}],
        )
    target.refresh_from_db()
    assert (target.status, Finding.objects.count()) == (TargetStatus.PENDING, 0)


def test_staff_outside_the_organisation_cannot_record(campaign, tree, committee_staff, agency_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.b)
    with pytest.raises(PermissionRefused):
        svc.inspection_record(
            target=_target(inspection, tree.b1), actor=agency_staff, summary="", results={}, findings=[]
        )


def test_recording_before_the_draw_is_impossible_and_after_completion_refused(
    round_a, tree, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    svc.inspection_complete(inspection=round_a, actor=agency_staff)
    with pytest.raises(InvalidTransition):
        svc.inspection_record(
            target=_target(round_a, tree.a1), actor=agency_staff, summary="", results={}, findings=[]
        )


def test_completing_before_the_draw_is_refused(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = plan(campaign, agency_staff, tree.a)
    with pytest.raises(InvalidTransition):
        svc.inspection_complete(inspection=inspection, actor=agency_staff)


def test_an_inspector_attaches_a_photo_to_the_organisation(round_a, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    target = _target(round_a, tree.a1)
    evidence = svc.inspection_attach(
        target=target, file=upload("现场.jpg", JPEG), title="", actor=agency_staff
    )
    assert list(target.evidence.all()) == [evidence]
    assert (evidence.org, evidence.title) == (tree.a1, "现场")


def test_staff_outside_the_organisation_cannot_attach(campaign, tree, committee_staff, agency_staff) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.b)
    with pytest.raises(PermissionRefused):
        svc.inspection_attach(
            target=_target(inspection, tree.b1), file=upload("x.jpg", JPEG), title="", actor=agency_staff
        )


# --- pages ---------------------------------------------------------------------------------------


def test_staff_plan_draw_and_record_through_the_pages(login, campaign, tree, agency_staff, item) -> None:  # type: ignore[no-untyped-def]
    client = login(agency_staff)
    response = client.post(
        f"{reverse('campaigns:inspection_create')}?campaign={campaign.pk}",
        {
            "kind": "supervision",
            "title": "年中督查",
            "scope": "A",
            "target_kind": OrgKind.BRANCH,
            "sample_mode": SampleMode.COUNT,
            "sample_size": "1",
            "exclude_months": "0",
            "starts_on": "2026-06-01",
            "ends_on": "2026-06-30",
            "items": [str(item.pk)],
            "own_items": "查看会议记录",
        },
    )
    inspection = Inspection.objects.get()
    assert response.status_code == 302
    client.post(reverse("campaigns:inspection_draw", args=[inspection.pk]))
    target = inspection.targets.get()
    check = _check_item(inspection)
    response = client.post(
        reverse("campaigns:inspection_record", args=[target.pk]),
        {
            f"outcome_{check.pk}": CheckOutcome.FAIL,
            f"note_{check.pk}": "记录不全",
            "summary": "总体较好",
            "finding-TOTAL_FORMS": "2",
            "finding-INITIAL_FORMS": "0",
            "finding-0-description": "三会一课记录不全",
            "finding-0-severity": Severity.MINOR,
            "finding-0-check_item": str(check.pk),
            "finding-0-is_immediate": "on",
            "finding-1-description": "",
            "finding-1-severity": Severity.MINOR,
        },
    )
    assert response.status_code == 302
    finding = Finding.objects.get()
    assert (finding.org, finding.item, finding.is_immediate) == (target.org, item, True)
    assert InspectionTarget.objects.get(pk=target.pk).status == TargetStatus.CHECKED


def test_the_create_form_refuses_a_scope_outside_the_users_subtree(login, campaign, agency_staff) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).post(
        f"{reverse('campaigns:inspection_create')}?campaign={campaign.pk}",
        {
            "kind": "supervision",
            "title": "t",
            "scope": "B",
            "target_kind": "branch",
            "sample_mode": "all",
            "exclude_months": "0",
            "starts_on": "2026-06-01",
            "ends_on": "2026-06-30",
            "own_items": "x",
        },
    )
    assert response.status_code == 400
    assert not Inspection.objects.exists()


def test_the_target_page_offers_outcomes_and_a_phone_upload(login, round_a, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(
        reverse("campaigns:inspection_target", args=[_target(round_a, tree.a1).pk])
    )
    body = response.content.decode()
    assert response.status_code == 200
    for label in ("符合", "基本符合", "不符合", "不适用", "立行立改"):
        assert label in body
    assert 'accept="image/*,.pdf"' in body


def test_a_round_outside_the_users_subtree_answers_404(
    login, campaign, tree, committee_staff, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    inspection = drawn(campaign, committee_staff, tree.b)
    client = login(agency_staff)
    assert client.get(reverse("campaigns:inspection_detail", args=[inspection.pk])).status_code == 404
    target = _target(inspection, tree.b1)
    assert client.get(reverse("campaigns:inspection_target", args=[target.pk])).status_code == 404


def test_the_list_shows_only_rounds_in_the_users_subtree(
    login, campaign, tree, committee_staff, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    mine = plan(campaign, committee_staff, tree.a, title="A 的检查")
    plan(campaign, committee_staff, tree.b, title="B 的检查")
    response = login(agency_staff).get(reverse("campaigns:inspection_list"), {"campaign": campaign.pk})
    assert list(response.context["page"].object_list) == [mine]


def _queries(client: Any, url: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rounds(login, campaign, tree, committee_staff) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    drawn(campaign, committee_staff, tree.gw)
    url = reverse("campaigns:inspection_list")
    one = _queries(client, url, campaign=campaign.pk)
    for n in range(5):
        drawn(campaign, committee_staff, tree.gw, title=f"第{n}轮")
    assert _queries(client, url, campaign=campaign.pk) == one <= 20


def test_detail_query_count_does_not_grow_with_targets(
    login, campaign, tree, committee_staff, agency_staff
) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    small = drawn(campaign, committee_staff, tree.b, team=[committee_staff])
    large = drawn(campaign, committee_staff, tree.gw, team=[committee_staff], own_items=["一", "二", "三"])
    assert small.targets.count() == 1 and large.targets.count() == 5
    one = _queries(client, reverse("campaigns:inspection_detail", args=[small.pk]))
    assert _queries(client, reverse("campaigns:inspection_detail", args=[large.pk])) == one <= 20


def test_the_create_form_offers_the_campaigns_items_and_staff(login, campaign, agency_staff, item) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(reverse("campaigns:inspection_create"), {"campaign": campaign.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["items"].queryset) == [item]
    assert agency_staff in form.fields["team"].queryset


def test_the_detail_page_shows_the_stored_seed_once_drawn(login, round_a, agency_staff) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(reverse("campaigns:inspection_detail", args=[round_a.pk]))
    assert f'<code data-testid="seed">{round_a.seed}</code>' in response.content.decode()
    assert response.context["can_draw"] is False


def test_a_second_draw_through_the_page_is_refused_with_a_message(login, round_a, agency_staff) -> None:  # type: ignore[no-untyped-def]
    before = target_org_ids(round_a)
    response = login(agency_staff).post(reverse("campaigns:inspection_draw", args=[round_a.pk]), follow=True)
    assert svc.ERR_ALREADY_DRAWN in response.content.decode()
    assert target_org_ids(round_a) == before


def test_a_photo_uploaded_on_the_target_page_is_attached(login, round_a, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    target = _target(round_a, tree.a1)
    response = login(agency_staff).post(
        reverse("campaigns:inspection_attach", args=[target.pk]),
        {"file": upload("门牌.jpg", JPEG), "title": "门牌"},
    )
    assert response.status_code == 302
    assert list(target.evidence.values_list("title", flat=True)) == ["门牌"]
