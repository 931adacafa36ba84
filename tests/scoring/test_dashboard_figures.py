"""Dashboard figures (domain.md §11) on a small tree whose every number is known by hand.

TODAY = 2026-06-15; 临期 = due from today to today + 7 (06-22) inclusive and still open.

    A1 (branch under 机关党委 A), ten entries:
      E1  政治建设 approved       due 03-31 done 03-20   on time
      E2  政治建设 approved       due 03-31 done 04-10   late
      E3  政治建设 not_applicable due 05-31 (no date)    on time
      E4  政治建设 submitted      due 06-01              not overdue: waiting for review
      E5  政治建设 in_progress    due 06-10              overdue
      E6  组织建设 returned       due 06-15 (today)      临期, not overdue
      E7  组织建设 not_started    due 06-22 (today+7)    临期
      E8  组织建设 not_started    due 06-23 (today+8)    neither
      E9  组织建设 approved       due 09-30 done 06-01   done, not due yet
      E10 组织建设 not_started    no due date
    AG1: F1 政治建设 approved due 04-30 done 04-29.   A itself: G1 组织建设 in_progress due 06-01.
    B1:  H1 政治建设 in_progress due 05-01; H2 政治建设 approved due 05-01 done 05-01.
    D1:  J1 组织建设 not_started due 06-20.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from branches.models import OrgKind, OrgUnit, Role
from branches.services import role_grant
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Checklist,
    ChecklistEntry,
    DutyReport,
    EntryStatus,
    Finding,
    FindingSource,
    ReportStatus,
    SnapshotRow,
)
from campaigns.models.supervision import Rectification, RectificationStatus
from campaigns.services.snapshots import snapshot_take
from scoring.dashboard import ENTRY_STATES, Completion, dashboard, entries_behind, node_completion, trend
from scoring.models import Rating, RollupState
from scoring.rollups import rollup_refresh
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.factories import UserFactory, make_org
from tests.scoring.factories import make_round

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
S = EntryStatus


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def add(campaign, org, section, status, due, completed=None, **fields):  # type: ignore[no-untyped-def]
    item = make_item(campaign, section, due_date=due)
    return make_entry(campaign, org, item, status=status, completed_on=completed, **fields)


def finding(campaign, org, status=None, deadline=None):  # type: ignore[no-untyped-def]
    f = Finding.objects.create(
        campaign=campaign, org=org, source=FindingSource.INSPECTION, description="问题"
    )
    if status is not None:
        Rectification.objects.create(finding=f, campaign=campaign, org=org, status=status, deadline=deadline)
    return f


@pytest.fixture
def world(tree, committee_admin):  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    s1 = make_section(campaign, "政治建设", 1)
    s2 = make_section(campaign, "组织建设", 2)
    e = {
        "E1": add(campaign, tree.a1, s1, S.APPROVED, d(3, 31), d(3, 20)),
        "E2": add(campaign, tree.a1, s1, S.APPROVED, d(3, 31), d(4, 10)),
        "E3": add(campaign, tree.a1, s1, S.NOT_APPLICABLE, d(5, 31)),
        "E4": add(campaign, tree.a1, s1, S.SUBMITTED, d(6, 1)),
        "E5": add(campaign, tree.a1, s1, S.IN_PROGRESS, d(6, 10)),
        "E6": add(campaign, tree.a1, s2, S.RETURNED, d(6, 15)),
        "E7": add(campaign, tree.a1, s2, S.NOT_STARTED, d(6, 22)),
        "E8": add(campaign, tree.a1, s2, S.NOT_STARTED, d(6, 23)),
        "E9": add(campaign, tree.a1, s2, S.APPROVED, d(9, 30), d(6, 1)),
        "E10": add(campaign, tree.a1, s2, S.NOT_STARTED, None),
        "F1": add(campaign, tree.ag1, s1, S.APPROVED, d(4, 30), d(4, 29)),
        "G1": add(campaign, tree.a, s2, S.IN_PROGRESS, d(6, 1)),
        "H1": add(campaign, tree.b1, s1, S.IN_PROGRESS, d(5, 1)),
        "H2": add(campaign, tree.b1, s1, S.APPROVED, d(5, 1), d(5, 1)),
        "J1": add(campaign, tree.d1, s2, S.NOT_STARTED, d(6, 20)),
    }
    for org in (tree.gw, tree.a, tree.ag, tree.ag1, tree.a1, tree.a2, tree.b, tree.b1, tree.d1):
        Checklist.objects.get_or_create(campaign=campaign, org=org)
    Checklist.objects.filter(campaign=campaign, org__in=[tree.a1, tree.b1, tree.a, tree.gw]).update(
        letter_signed_at=timezone.now()
    )
    return SimpleNamespace(campaign=campaign, s1=s1, s2=s2, e=e, tree=tree, admin=committee_admin)


def board(world, node: OrgUnit, **kwargs: Any):  # type: ignore[no-untyped-def]
    return dashboard(campaign=world.campaign, node=OrgUnit.objects.get(pk=node.pk), today=TODAY, **kwargs)


def nums(c: Completion) -> dict[str, int]:
    return {k: getattr(c, k) for k in ("total", "due", "done", "due_done", "on_time", "overdue", "due_soon")}


# --- completion -----------------------------------------------------------------------------------


def test_a_branch_counts_done_due_and_all_entries(world):
    t = board(world, world.tree.a1).totals
    assert (t.done, t.due, t.total) == (4, 6, 10)


def test_progress_rate_is_done_among_the_entries_due_so_far(world):
    t = board(world, world.tree.a1).totals
    assert t.due_done == 3  # E1 E2 E3; E9 is done but not due yet
    assert t.rate == 50.0


def test_overall_rate_is_done_among_all_entries(world):
    assert board(world, world.tree.a1).totals.overall_rate == 40.0


def test_on_time_rate_counts_done_by_the_due_date_among_the_entries_due(world):
    t = board(world, world.tree.a1).totals
    assert t.on_time == 2  # E1 on time, E3 不适用 without a completion date; E2 was late
    assert t.on_time_rate == 33.3


def test_an_entry_completed_after_its_due_date_is_not_on_time(world):
    ChecklistEntry.objects.filter(pk=world.e["E1"].pk).update(completed_on=d(4, 1))
    assert board(world, world.tree.a1).totals.on_time == 1


def test_a_not_applicable_entry_without_a_completion_date_is_on_time(world):
    ChecklistEntry.objects.filter(pk=world.e["E3"].pk).update(status=S.NOT_STARTED)
    assert board(world, world.tree.a1).totals.on_time == 1


def test_rates_are_none_without_entries(world):
    t = board(world, world.tree.a2).totals
    assert (t.total, t.rate, t.overall_rate, t.on_time_rate) == (0, None, None, None)


def test_overdue_counts_open_entries_past_their_due_date(world):
    assert board(world, world.tree.a1).totals.overdue == 1  # E5


def test_a_submitted_entry_waiting_for_review_is_not_overdue(world):
    ChecklistEntry.objects.filter(pk=world.e["E5"].pk).update(status=S.SUBMITTED)
    t = board(world, world.tree.a1).totals
    assert t.overdue == 0
    assert t.submitted == 2


def test_an_open_entry_due_today_is_due_soon_not_overdue(world):
    t = board(world, world.tree.a1).totals
    assert world.e["E6"].due_date == TODAY
    assert t.due_soon == 2  # E6 (today) and E7 (today + 7)
    assert t.overdue == 1


@pytest.mark.parametrize(("days", "counted"), [(-1, False), (0, True), (7, True), (8, False)])
def test_due_soon_is_within_seven_days_from_today_inclusive(world, days, counted):
    ChecklistEntry.objects.filter(campaign=world.campaign).delete()
    add(world.campaign, world.tree.d1, world.s1, S.NOT_STARTED, date.fromordinal(TODAY.toordinal() + days))
    assert board(world, world.tree.d1).totals.due_soon == int(counted)


def test_a_done_entry_is_never_due_soon(world):
    ChecklistEntry.objects.filter(pk=world.e["E7"].pk).update(status=S.APPROVED, completed_on=d(6, 14))
    assert board(world, world.tree.a1).totals.due_soon == 1


def test_submitted_and_returned_are_counted(world):
    t = board(world, world.tree.a1).totals
    assert (t.submitted, t.returned) == (1, 1)


def test_an_internal_organisation_sums_its_whole_subtree_and_its_own_entries(world):
    t = board(world, world.tree.a).totals  # A1 + AG1 + A's own G1
    assert nums(t) == {
        "total": 12,
        "due": 8,
        "done": 5,
        "due_done": 4,
        "on_time": 3,
        "overdue": 2,
        "due_soon": 2,
    }


def test_the_committee_sums_every_entry(world):
    d_ = board(world, world.tree.gw)
    assert d_.has_children
    assert nums(d_.totals) == {
        "total": 15,
        "due": 10,
        "done": 6,
        "due_done": 5,
        "on_time": 4,
        "overdue": 3,
        "due_soon": 3,
    }


def test_figures_by_section(world):
    rows = board(world, world.tree.a1).by_section
    assert [r.section.name for r in rows] == ["政治建设", "组织建设"]
    assert nums(rows[0].completion) == {
        "total": 5,
        "due": 5,
        "done": 3,
        "due_done": 3,
        "on_time": 2,
        "overdue": 1,
        "due_soon": 0,
    }
    assert nums(rows[1].completion) == {
        "total": 5,
        "due": 1,
        "done": 1,
        "due_done": 0,
        "on_time": 0,
        "overdue": 0,
        "due_soon": 2,
    }


def test_figures_by_section_of_an_internal_organisation_come_from_the_rollup(world):
    rows = board(world, world.tree.gw).by_section
    assert [(r.section.name, r.completion.total, r.completion.done) for r in rows] == [
        ("政治建设", 8, 5),
        ("组织建设", 7, 1),
    ]


def test_a_section_filter_restricts_every_completion_figure(world):
    d_ = board(world, world.tree.gw, section=world.s2)
    assert nums(d_.totals) == {
        "total": 7,
        "due": 2,
        "done": 1,
        "due_done": 0,
        "on_time": 0,
        "overdue": 1,
        "due_soon": 3,
    }
    a = next(c for c in d_.children if c.org == world.tree.a)
    assert a.completion.total == 6  # E6-E10 and G1


def test_figures_by_child_of_the_committee(world):
    rows = {c.org.code: c for c in board(world, world.tree.gw).children}
    assert list(rows) == ["A", "B", "D1"]
    assert rows["A"].has_children and rows["B"].has_children and not rows["D1"].has_children
    assert nums(rows["A"].completion) == {
        "total": 12,
        "due": 8,
        "done": 5,
        "due_done": 4,
        "on_time": 3,
        "overdue": 2,
        "due_soon": 2,
    }
    assert nums(rows["B"].completion) == {
        "total": 2,
        "due": 2,
        "done": 1,
        "due_done": 1,
        "on_time": 1,
        "overdue": 1,
        "due_soon": 0,
    }
    assert nums(rows["D1"].completion) == {
        "total": 1,
        "due": 0,
        "done": 0,
        "due_done": 0,
        "on_time": 0,
        "overdue": 0,
        "due_soon": 1,
    }


def test_figures_by_child_of_an_agency_committee_mix_rollups_and_live_rows(world):
    rows = {c.org.code: c for c in board(world, world.tree.a).children}
    assert set(rows) == {"AG", "A1", "A2"}
    assert rows["AG"].has_children and (rows["AG"].completion.total, rows["AG"].completion.done) == (1, 1)
    assert nums(rows["A1"].completion) == nums(board(world, world.tree.a1).totals)
    assert rows["A2"].completion == Completion()


def test_children_figures_add_up_to_the_node_without_its_own_entries(world):
    d_ = board(world, world.tree.a)
    summed = Completion()
    for child in d_.children:
        summed.add(child.completion)
    assert summed.total == d_.totals.total - 1  # G1 belongs to A itself


def test_a_branch_has_no_children_and_no_rollup_time(world):
    d_ = board(world, world.tree.a1)
    assert (d_.has_children, d_.children, d_.as_of, d_.stale) == (False, [], None, False)


def test_an_internal_node_reports_when_its_figures_were_built(world):
    d_ = board(world, world.tree.gw)
    assert d_.as_of is not None and d_.stale is False


def test_a_rollup_is_rebuilt_when_the_entries_change_between_two_dashboards(world):
    board(world, world.tree.gw)
    entry = world.e["E5"]
    entry.status = S.APPROVED
    entry.completed_on = d(6, 12)
    entry.save()
    assert board(world, world.tree.gw).totals.done == 7


# --- letters, findings, reports -------------------------------------------------------------------


def test_letters_count_the_checklists_of_the_subtree_without_the_committee(world):
    t = world.tree
    assert (board(world, t.gw).letters_total, board(world, t.gw).letters_signed) == (8, 3)
    assert (board(world, t.a).letters_total, board(world, t.a).letters_signed) == (5, 2)
    assert (board(world, t.a1).letters_total, board(world, t.a1).letters_signed) == (1, 1)
    assert (board(world, t.a2).letters_total, board(world, t.a2).letters_signed) == (1, 0)


def test_letters_rate(world):
    assert board(world, world.tree.gw).letters_rate == 37.5


def test_letters_by_child(world):
    rows = {c.org.code: (c.letters_total, c.letters_signed) for c in board(world, world.tree.gw).children}
    assert rows == {"A": (5, 2), "B": (2, 1), "D1": (1, 0)}
    rows = {c.org.code: (c.letters_total, c.letters_signed) for c in board(world, world.tree.a).children}
    assert rows == {"AG": (2, 0), "A1": (1, 1), "A2": (1, 0)}


@pytest.fixture
def findings(world):  # type: ignore[no-untyped-def]
    c, t = world.campaign, world.tree
    finding(c, t.a1)  # no rectification yet: open
    finding(c, t.a1, RectificationStatus.CLOSED, d(5, 1))  # closed: never overdue
    finding(c, t.a1, RectificationStatus.IN_PROGRESS, d(6, 1))  # overdue
    finding(c, t.a1, RectificationStatus.IN_PROGRESS, d(6, 30))
    finding(c, t.a1, RectificationStatus.CLOSE_REQUESTED, TODAY)  # deadline today: not overdue yet
    finding(c, t.ag1, RectificationStatus.PLAN_PENDING, d(5, 1))  # overdue
    finding(c, t.b1, RectificationStatus.CLOSED, d(6, 1))
    return world


def test_findings_open_overdue_and_closed(findings):
    f = board(findings, findings.tree.gw).findings
    assert (f.total, f.open, f.overdue, f.closed) == (7, 5, 2, 2)


def test_close_rate_is_closed_among_all_findings(findings):
    assert board(findings, findings.tree.gw).findings.close_rate == 28.6


def test_a_finding_without_a_rectification_counts_open(findings):
    Finding.objects.filter(rectification__isnull=False).delete()
    f = board(findings, findings.tree.a1).findings
    assert (f.total, f.open, f.overdue, f.closed, f.close_rate) == (1, 1, 0, 0, 0.0)


def test_findings_of_a_subtree_only(findings):
    f = board(findings, findings.tree.a).findings
    assert (f.total, f.open, f.overdue, f.closed) == (6, 5, 2, 1)
    f = board(findings, findings.tree.d1).findings
    assert (f.total, f.close_rate) == (0, None)


def test_findings_by_child(findings):
    rows = {c.org.code: c.findings for c in board(findings, findings.tree.a).children}
    assert (rows["AG"].total, rows["AG"].open, rows["AG"].overdue) == (1, 1, 1)
    assert (rows["A1"].total, rows["A1"].open, rows["A1"].overdue, rows["A1"].closed) == (5, 4, 1, 1)
    assert rows["A2"].total == 0
    rows = {c.org.code: c.findings for c in board(findings, findings.tree.gw).children}
    assert (rows["A"].total, rows["B"].total, rows["B"].closed, rows["D1"].total) == (6, 1, 1, 0)


def test_findings_of_the_node_itself_count_for_the_node_but_no_child(findings):
    finding(findings.campaign, findings.tree.a)
    d_ = board(findings, findings.tree.a)
    assert d_.findings.total == 7
    assert sum(c.findings.total for c in d_.children) == 6


@pytest.fixture
def reports(world):  # type: ignore[no-untyped-def]
    t = world.tree
    for org, status in (
        (t.a1, ReportStatus.SUBMITTED),
        (t.a2, ReportStatus.DRAFT),
        (t.ag1, ReportStatus.REVIEWED),
        (t.b1, ReportStatus.RETURNED),
    ):
        DutyReport.objects.create(campaign=world.campaign, org=org, title="述职报告", status=status)
    return world


def test_reports_by_status_over_the_subtree(reports):
    assert board(reports, reports.tree.gw).reports == {
        "submitted": 1,
        "draft": 1,
        "reviewed": 1,
        "returned": 1,
    }
    assert board(reports, reports.tree.a).reports == {"submitted": 1, "draft": 1, "reviewed": 1}
    assert board(reports, reports.tree.a1).reports == {"submitted": 1}


def test_reports_expected_are_the_checklists_of_the_subtree(reports):
    d_ = board(reports, reports.tree.gw)
    assert d_.reports_expected == 8
    assert d_.reports_submitted == 2  # handed in and not sent back: submitted and reviewed (not returned)
    assert d_.reports_rate == 25.0


# --- stars ------------------------------------------------------------------------------------------


def rate_branches(world, levels: dict[str, int | None], **scheme: Any):  # type: ignore[no-untyped-def]
    rnd = make_round(world.campaign, world.admin, **scheme)
    for code, level in levels.items():
        Rating.objects.create(round=rnd, org=OrgUnit.objects.get(code=code), computed_level=level)
    return rnd


def test_stars_show_the_distribution_with_labels_and_quota_seats(world):
    rnd = rate_branches(
        world, {"A1": 5, "A2": 5, "AG1": 4, "B1": 3, "D1": None}, quotas={"5": {"max": "0.25"}}
    )
    (stars,) = board(world, world.tree.gw).stars
    assert stars.round == rnd
    assert stars.rated == 4  # 未评定 is not rated
    assert [(r.level, r.label, r.count, r.seats) for r in stars.rows] == [
        (5, "五星级", 2, 1),  # 25% of 4 rated
        (4, "四星级", 1, None),  # no quota
        (3, "三星级", 1, None),
        (None, "未评定", 1, None),
    ]


@pytest.mark.parametrize(("rounding", "seats"), [("floor", 1), ("ceil", 2), ("round", 2)])
def test_quota_seats_follow_the_scheme_rounding(world, rounding, seats):
    rate_branches(
        world,
        {"A1": 5, "A2": 4, "AG1": 4, "B1": 3, "D1": 3},
        quotas={"5": {"max": "0.3"}},  # 0.3 × 5 rated = 1.5
        quota_rounding=rounding,
    )
    (stars,) = board(world, world.tree.gw).stars
    assert {r.level: r.seats for r in stars.rows}[5] == seats


def test_stars_count_the_adjusted_level(world):
    rnd = rate_branches(world, {"A1": 5}, quotas={})
    Rating.objects.filter(round=rnd).update(is_adjusted=True, adjusted_level=3)
    (stars,) = board(world, world.tree.gw).stars
    assert [(r.level, r.count) for r in stars.rows] == [(3, 1)]


def test_stars_of_a_branch_are_read_live(world):
    rate_branches(world, {"A1": 5, "A2": 4}, quotas={})
    (stars,) = board(world, world.tree.a1).stars
    assert [(r.level, r.count) for r in stars.rows] == [(5, 1)]


def test_no_round_no_stars(world):
    assert board(world, world.tree.gw).stars == []


# --- the lists behind the numbers ---------------------------------------------------------------------


def test_the_overdue_list_is_ordered_by_due_date(world):
    e = world.e
    assert board(world, world.tree.gw).overdue_list == [e["H1"], e["G1"], e["E5"]]


def test_the_due_soon_list_is_ordered_by_due_date(world):
    e = world.e
    assert board(world, world.tree.gw).due_soon_list == [e["E6"], e["J1"], e["E7"]]


def test_the_lists_hold_only_the_subtree(world):
    e = world.e
    d_ = board(world, world.tree.b)
    assert (d_.overdue_list, d_.due_soon_list) == ([e["H1"]], [])
    assert board(world, world.tree.a1).overdue_list == [e["E5"]]


def test_the_lists_are_limited_to_ten(world):
    extra = [add(world.campaign, world.tree.b1, world.s1, S.NOT_STARTED, d(2, day)) for day in range(1, 13)]
    overdue = board(world, world.tree.gw).overdue_list
    assert overdue == extra[:10]
    assert board(world, world.tree.gw).totals.overdue == 15


# --- entries_behind ----------------------------------------------------------------------------------


def shown(completion: Completion, state: str) -> int:
    """The number the dashboard shows for a state (未完成 = neither done nor waiting for review)."""
    if state == "all":
        return completion.total
    if state == "open":
        return completion.total - completion.done - completion.submitted
    return int(getattr(completion, state))


@pytest.mark.parametrize("state", list(ENTRY_STATES))
@pytest.mark.parametrize("code", ["GW", "A", "AG", "A1", "B", "D1"])
def test_the_list_behind_a_number_holds_exactly_that_many_entries(world, state, code):
    node = OrgUnit.objects.get(code=code)
    d_ = board(world, node)
    listed = entries_behind(
        user=world.admin, campaign=world.campaign, node=node, section=None, state=state, today=TODAY
    )
    assert listed.count() == shown(d_.totals, state)


@pytest.mark.parametrize("state", list(ENTRY_STATES))
def test_the_list_behind_a_section_number_holds_exactly_that_many_entries(world, state):
    d_ = board(world, world.tree.gw)
    for row in d_.by_section:
        listed = entries_behind(
            user=world.admin,
            campaign=world.campaign,
            node=world.tree.gw,
            section=row.section,
            state=state,
            today=TODAY,
        )
        assert listed.count() == shown(row.completion, state), row.section.name


@pytest.mark.parametrize("state", list(ENTRY_STATES))
def test_the_list_behind_a_child_number_holds_exactly_that_many_entries(world, state):
    for child in board(world, world.tree.gw).children:
        listed = entries_behind(
            user=world.admin, campaign=world.campaign, node=child.org, section=None, state=state, today=TODAY
        )
        assert listed.count() == shown(child.completion, state), child.org.code


def test_the_list_behind_a_number_keeps_to_what_the_user_may_see(world, agency_staff):
    listed = entries_behind(
        user=agency_staff, campaign=world.campaign, node=world.tree.gw, section=None, state="all", today=TODAY
    )
    orgs = {e.org.code for e in listed}
    assert orgs == {"A", "A1", "AG1"}
    assert listed.count() == 12


def test_a_user_who_cannot_see_b1_never_gets_its_entries(world, branch_secretary):
    for state in ENTRY_STATES:
        listed = entries_behind(
            user=branch_secretary,
            campaign=world.campaign,
            node=world.tree.gw,
            section=None,
            state=state,
            today=TODAY,
        )
        assert not listed.filter(org=world.tree.b1).exists()
        assert set(listed.values_list("org__code", flat=True)) <= {"A1"}


def test_a_user_without_a_role_gets_no_entries(world, no_role_user):
    listed = entries_behind(
        user=no_role_user, campaign=world.campaign, node=world.tree.gw, section=None, state="all", today=TODAY
    )
    assert listed.count() == 0


# --- trend ------------------------------------------------------------------------------------------


def trend_of(world, node: OrgUnit, campaign: Campaign | None = None):  # type: ignore[no-untyped-def]
    campaign = campaign or world.campaign
    has_children = OrgUnit.objects.filter(parent=node).exists()
    if has_children:
        rollup_refresh(campaign)
    now = node_completion(campaign=campaign, node=node, has_children=has_children, today=TODAY)
    return trend(campaign=campaign, node=node, has_children=has_children, today=TODAY, now=now)


def test_trend_of_a_branch_is_cumulative_due_and_done_by_month(world):
    tr = trend_of(world, world.tree.a1)
    assert tr.months == list(range(1, 13))
    assert tr.due == [0, 0, 2, 2, 3, 8, 8, 8, 9, 9, 9, 9]  # by due month; E10 has no due date
    assert tr.done == [0, 0, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3]  # by completion month; E3 has no date
    assert tr.total == 10


def test_trend_of_the_committee_from_the_rollup(world):
    tr = trend_of(world, world.tree.gw)
    assert tr.due == [0, 0, 2, 3, 6, 13, 13, 13, 14, 14, 14, 14]
    assert tr.done == [0, 0, 1, 3, 4, 5, 5, 5, 5, 5, 5, 5]
    assert tr.total == 15


def test_trend_now_is_the_node_completion(world):
    tr = trend_of(world, world.tree.a)
    assert nums(tr.now) == nums(board(world, world.tree.a).totals)


def test_trend_rate_at_a_month(world):
    tr = trend_of(world, world.tree.a1)
    assert tr.rate_at(tr.done, tr.total, 6) == 30.0
    assert tr.rate_at(tr.done, tr.total, 13) is None


@pytest.fixture
def last_year(world):  # type: ignore[no-untyped-def]
    last = make_campaign(world.tree.gw, year=2025)
    s = make_section(last, "政治建设", 1)
    add(last, world.tree.a1, s, S.APPROVED, d(3, 31, 2025), d(3, 15, 2025))
    add(last, world.tree.a1, s, S.NOT_STARTED, d(8, 31, 2025))
    add(last, world.tree.b1, s, S.NOT_STARTED, d(6, 30, 2025))
    return last


def test_trend_compares_with_last_years_campaign_of_the_committee(world, last_year):
    tr = trend_of(world, world.tree.gw)
    assert tr.last_campaign == last_year
    assert tr.last_due == [0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3]
    assert tr.last_done == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert tr.last_total == 3


def test_trend_of_a_branch_compares_with_its_own_last_year(world, last_year):
    tr = trend_of(world, world.tree.a1)
    assert tr.last_due == [0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    assert tr.last_done == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert tr.last_total == 2


def test_trend_builds_last_years_rollup_when_it_was_never_built(world, last_year):
    tr = trend_of(world, world.tree.a)
    assert tr.last_total == 2


def test_trend_without_last_year_gives_zeros(world):
    tr = trend_of(world, world.tree.gw)
    assert tr.last_campaign is None
    assert tr.last_due == [0] * 12 and tr.last_done == [0] * 12 and tr.last_total == 0
    assert tr.rate_at(tr.last_done, tr.last_total, 6) is None


def test_trend_ignores_a_draft_campaign_of_last_year(world):
    make_campaign(world.tree.gw, year=2025, status=CampaignStatus.DRAFT)
    assert trend_of(world, world.tree.gw).last_campaign is None


def test_trend_without_snapshot(world):
    tr = trend_of(world, world.tree.gw)
    assert tr.snapshot is None and tr.snapshot_figures == {}


@pytest.fixture
def snapshots(world, committee_staff):  # type: ignore[no-untyped-def]
    snapshot_take(campaign=world.campaign, actor=committee_staff, taken_on=d(3, 31), title="一季度")
    latest = snapshot_take(campaign=world.campaign, actor=committee_staff, taken_on=TODAY, title="年中晒进度")
    ChecklistEntry.objects.filter(pk=world.e["E5"].pk).update(status=S.APPROVED)  # after the snapshot
    return latest


def test_trend_shows_the_latest_snapshot_of_an_internal_node_as_subtree_sums(world, snapshots):
    tr = trend_of(world, world.tree.gw)
    assert tr.snapshot == snapshots
    assert tr.snapshot_figures == {"total": 15, "due": 10, "done": 6, "overdue": 5}
    rows = SnapshotRow.objects.filter(snapshot=snapshots, org__path__startswith=world.tree.a.path)
    a = trend_of(world, world.tree.a).snapshot_figures
    assert a == {k: sum(getattr(r, k) for r in rows) for k in ("total", "due", "done", "overdue")}


def test_trend_shows_the_latest_snapshot_of_a_branch_as_its_row(world, snapshots):
    tr = trend_of(world, world.tree.a1)
    assert tr.snapshot == snapshots
    assert tr.snapshot_figures == {"total": 10, "due": 6, "done": 4, "overdue": 3}  # E4 E5 E6 due, not done


# --- a fixed number of queries whatever the size of the tree ---------------------------------------------


class Grower:
    """A tree that grows: every ``grow`` adds branches (under the 机关党委 and the 工委) with data."""

    def __init__(self) -> None:
        self.gw = make_org(OrgKind.COMMITTEE, None, code="QGW")
        self.a = make_org(OrgKind.AGENCY_COMMITTEE, self.gw)
        self.ag = make_org(OrgKind.GENERAL_BRANCH, self.a)
        self.branch = make_org(OrgKind.BRANCH, self.a)
        admin = UserFactory()
        role_grant(user=admin, org=self.gw, role=Role.COMMITTEE_ADMIN)
        self.admin = admin
        self.campaign = make_campaign(self.gw)
        self.last = make_campaign(self.gw, year=2025)
        self.sections = (
            make_section(self.campaign, "政治建设", 1),
            make_section(self.campaign, "组织建设", 2),
        )
        last_section = make_section(self.last, "政治建设", 1)
        self.items = [
            make_item(self.campaign, self.sections[0], due_date=d(5, 31)),
            make_item(self.campaign, self.sections[1], due_date=d(6, 20)),
            make_item(self.campaign, self.sections[0], due_date=d(3, 31)),
        ]
        self.last_item = make_item(self.last, last_section, due_date=d(5, 31, 2025))
        self.rnd = make_round(self.campaign, admin, quotas={"5": {"max": "0.25"}})
        snapshot_take(campaign=self.campaign, actor=admin, taken_on=d(3, 31), title="快照")
        self.grow_branch(self.branch)

    def grow_branch(self, org: OrgUnit) -> None:
        c = self.campaign
        make_entry(c, org, self.items[0], status=S.IN_PROGRESS)
        make_entry(c, org, self.items[1], status=S.NOT_STARTED)
        make_entry(c, org, self.items[2], status=S.APPROVED, completed_on=d(3, 1))
        make_entry(self.last, org, self.last_item, status=S.APPROVED, completed_on=d(5, 1, 2025))
        Checklist.objects.filter(campaign=c, org=org).update(letter_signed_at=timezone.now())
        finding(c, org, RectificationStatus.IN_PROGRESS, d(5, 1))
        DutyReport.objects.create(campaign=c, org=org, title="述职报告", status=ReportStatus.SUBMITTED)
        Rating.objects.create(round=self.rnd, org=org, computed_level=5)

    def grow(self, n: int) -> None:
        for _ in range(n):
            self.grow_branch(make_org(OrgKind.BRANCH, self.a))
            self.grow_branch(make_org(OrgKind.BRANCH, self.gw))
            self.grow_branch(make_org(OrgKind.BRANCH, self.ag))

    def grow_entries(self, org: OrgUnit, n: int) -> None:
        for _ in range(n):
            make_entry(self.campaign, org, make_item(self.campaign, self.sections[1], due_date=d(6, 1)))

    def refresh(self) -> None:
        rollup_refresh(self.campaign)
        rollup_refresh(self.last)


def queries(fn: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def dashboard_of(g: Grower, org: OrgUnit) -> Callable[[], Any]:
    return lambda: dashboard(campaign=g.campaign, node=OrgUnit.objects.get(pk=org.pk), today=TODAY)


def trend_of_org(g: Grower, org: OrgUnit) -> Callable[[], Any]:
    def run() -> Any:
        has_children = OrgUnit.objects.filter(parent=org).exists()
        now = node_completion(campaign=g.campaign, node=org, has_children=has_children, today=TODAY)
        return trend(campaign=g.campaign, node=org, has_children=has_children, today=TODAY, now=now)

    return run


@pytest.fixture
def grower(db):  # type: ignore[no-untyped-def]
    g = Grower()
    g.grow(1)
    g.refresh()
    return g


@pytest.mark.parametrize("which", ["gw", "a"])
def test_a_dashboard_of_an_internal_node_costs_the_same_queries_for_1_or_30_branches(grower, which):
    node = getattr(grower, which)
    small = queries(dashboard_of(grower, node))
    total_before = dashboard_of(grower, node)().totals.total
    grower.grow(29)
    grower.refresh()
    assert dashboard_of(grower, node)().totals.total > total_before
    assert len(dashboard_of(grower, node)().children) > 3
    assert queries(dashboard_of(grower, node)) == small


def test_a_dashboard_of_a_branch_costs_the_same_queries_for_1_or_30_entries(grower):
    small = queries(dashboard_of(grower, grower.branch))
    grower.grow_entries(grower.branch, 29)
    grower.grow(3)
    grower.refresh()
    assert dashboard_of(grower, grower.branch)().totals.total == 32
    assert queries(dashboard_of(grower, grower.branch)) == small


@pytest.mark.parametrize("which", ["gw", "a", "branch"])
def test_a_trend_costs_the_same_queries_for_1_or_30_branches(grower, which):
    node = getattr(grower, which)
    small = queries(trend_of_org(grower, node))
    grower.grow(29)
    grower.grow_entries(grower.branch, 29)
    grower.refresh()
    assert trend_of_org(grower, node)().last_total > 0
    assert queries(trend_of_org(grower, node)) == small


def test_the_list_behind_a_number_costs_one_query(grower):
    grower.grow(5)
    listed = entries_behind(
        user=grower.admin,
        campaign=grower.campaign,
        node=grower.gw,
        section=None,
        state="overdue",
        today=TODAY,
    )
    assert queries(lambda: list(listed)) == 1


def test_agency_children_are_read_from_the_rollup_and_branch_children_live(world, settings):
    rollup_refresh(world.campaign)
    RollupState.objects.filter(campaign=world.campaign).update(seconds=settings.ROLLUP_SYNC_SECONDS + 1)
    for code in ("A1", "D1"):  # one entry done under A (a 机关党委) and one in D1 (a branch)
        entry = ChecklistEntry.objects.filter(
            campaign=world.campaign, org__code=code, status=S.NOT_STARTED
        ).first()
        entry.status = S.APPROVED
        entry.save()
    d_ = board(world, world.tree.gw)
    assert d_.stale is True
    rows = {c.org.code: c.completion.done for c in d_.children}
    assert rows == {"A": 5, "B": 1, "D1": 1}  # A as of the last rebuild, D1 now
