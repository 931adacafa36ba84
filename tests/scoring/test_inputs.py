"""Gathering the engine's inputs from the year's data: what counts, and a fixed number of queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.models import OrgKind
from campaigns.models import EntryStatus, Frequency
from campaigns.services.rectification import finding_create
from scoring.inputs import gather_inputs
from scoring.models import FactKind, RatingFact
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.factories import make_org
from tests.scoring.factories import make_round, score

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


@pytest.fixture
def campaign(tree):
    return make_campaign(tree.gw)


def inputs_of(rnd, org):
    return next(i for i in gather_inputs(rnd, today=TODAY).inputs if i.org_id == org.pk)


def test_a_monthly_item_counts_once_with_the_mean_of_its_periods(tree, campaign, committee_staff):
    item = make_item(campaign, points="5", frequency=Frequency.MONTHLY)
    for period in range(1, 13):
        make_entry(
            campaign,
            tree.a1,
            item,
            period=period,
            status=EntryStatus.APPROVED,
            review_score=Decimal("5") if period <= 9 else Decimal("2"),
        )
    rnd = make_round(campaign, committee_staff)
    a1 = inputs_of(rnd, tree.a1)
    assert a1.checklist_points == Decimal("4.25")  # (9 × 5 + 3 × 2) / 12
    assert a1.max_points == Decimal("5.00")


def test_unreviewed_entries_count_with_the_first_review_then_the_self_score(tree, campaign, committee_staff):
    item = make_item(campaign, points="10")
    make_entry(
        campaign,
        tree.a1,
        item,
        status=EntryStatus.SUBMITTED,
        self_score=Decimal("9"),
        first_review_score=Decimal("8"),
    )
    other = make_item(campaign, points="10")
    make_entry(campaign, tree.a1, other, status=EntryStatus.SUBMITTED, self_score=Decimal("7"))
    draft = make_item(campaign, points="10")
    make_entry(campaign, tree.a1, draft, status=EntryStatus.IN_PROGRESS, self_score=Decimal("10"))
    rnd = make_round(campaign, committee_staff)
    assert inputs_of(rnd, tree.a1).checklist_points == Decimal("15.00")  # 8 + 7; a draft is not counted


def test_overdue_entries_unresolved_and_repeated_findings_are_counted(
    tree, campaign, committee_staff, agency_staff
):
    late = make_item(campaign, due_date=date(2026, 6, 30))
    make_entry(campaign, tree.a1, late, status=EntryStatus.IN_PROGRESS)
    make_entry(
        campaign,
        tree.a1,
        make_item(campaign, due_date=date(2026, 6, 30)),
        status=EntryStatus.APPROVED,
        completed_on=date(2026, 7, 5),
    )
    make_entry(
        campaign, tree.a1, make_item(campaign, due_date=date(2026, 12, 31)), status=EntryStatus.IN_PROGRESS
    )
    finding_create(
        campaign=campaign, org=tree.a1, source="inspection", description="会议记录不全", actor=agency_staff
    )
    rnd = make_round(campaign, committee_staff)
    a1 = inputs_of(rnd, tree.a1)
    assert a1.overdue_entries == 2
    assert a1.unresolved_findings == 1


def test_facts_become_vetoes_bonuses_honours_and_satisfaction(tree, campaign, committee_staff):
    for kind, key, value in (
        (FactKind.VETO, "违纪违法", None),
        (FactKind.BONUS, "党建品牌", Decimal("2")),
        (FactKind.HONOUR, "市级先进基层党组织", None),
        (FactKind.SATISFACTION, "", Decimal("96")),
    ):
        RatingFact.objects.create(campaign=campaign, org=tree.a1, kind=kind, key=key, value=value)
    rnd = make_round(campaign, committee_staff)
    a1 = inputs_of(rnd, tree.a1)
    assert a1.veto_conditions == frozenset({"违纪违法"})
    assert [(b.kind, b.points) for b in a1.bonus_items] == [("党建品牌", Decimal("2"))]
    assert a1.honours == frozenset({"市级先进基层党组织"})
    assert a1.satisfaction == Decimal("0.96")


def test_an_organisation_set_up_this_year_is_new(tree, campaign, committee_staff):
    new = make_org(OrgKind.BRANCH, tree.b, established_on=date(2026, 3, 1))
    rnd = make_round(campaign, committee_staff)
    assert inputs_of(rnd, new).is_new
    assert not inputs_of(rnd, tree.b1).is_new


def test_gathering_takes_the_same_number_of_queries_for_more_branches(tree, campaign, committee_staff):
    rnd = make_round(campaign, committee_staff)
    score(campaign, tree.a1, "90")
    with CaptureQueriesContext(connection) as few:
        gather_inputs(rnd, today=TODAY)
    for i in range(6):
        org = make_org(OrgKind.BRANCH, tree.b)
        score(campaign, org, str(60 + i))
        RatingFact.objects.create(
            campaign=campaign, org=org, kind=FactKind.BONUS, key="党建品牌", value=Decimal(1)
        )
    with CaptureQueriesContext(connection) as many:
        gathered = gather_inputs(rnd, today=TODAY)
    assert len(gathered.inputs) == 11
    assert len(many) == len(few)
