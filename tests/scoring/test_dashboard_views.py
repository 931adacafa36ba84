"""Dashboard pages (domain.md §11): scope, drill-down, the lists behind every number, the trend,
and a number of queries that does not grow with the number of organisations (targets P2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import OrgKind, OrgUnit, Role, User
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
    Rectification,
    ReportStatus,
    Section,
)
from campaigns.models.supervision import RectificationStatus
from campaigns.services.snapshots import snapshot_take
from scoring.models import Rating, RatingRound, RollupState
from scoring.rollups import rollup_refresh
from tests.campaigns.factories import make_campaign, make_entry, make_item, make_section
from tests.factories import make_org
from tests.scoring.factories import make_round

pytestmark = pytest.mark.django_db

LISTS = (
    "scoring:dashboard_entries",
    "scoring:dashboard_findings",
    "scoring:dashboard_letters",
    "scoring:dashboard_reports",
    "scoring:dashboard_ratings",
)
# Whole requests, the 7 of the session, the user, the grants and the navigation included
# (the dashboard page: 7 + 3 of the view + 14 of scoring.dashboard.dashboard()).
QUERY_BUDGET = 20


def today():  # type: ignore[no-untyped-def]
    return timezone.localdate()


@dataclass
class World:
    campaign: Campaign
    s1: Section
    s2: Section
    round: RatingRound


def _fill_branch(campaign: Campaign, org: OrgUnit, items: dict[str, Any], k: int) -> None:
    """Entries of every state on one branch; ``k`` varies which ones, so branches differ."""
    t = today()
    make_entry(campaign, org, items["past"], status=EntryStatus.NOT_STARTED)  # overdue
    make_entry(
        campaign, org, items["past2"], status=EntryStatus.APPROVED, completed_on=t - timedelta(days=12)
    )
    make_entry(campaign, org, items["soon"], status=EntryStatus.IN_PROGRESS)  # 临期
    if k % 2 == 0:
        make_entry(campaign, org, items["future"], status=EntryStatus.SUBMITTED)
    if k % 3 == 0:
        make_entry(
            campaign, org, items["late"], status=EntryStatus.APPROVED, completed_on=t - timedelta(days=1)
        )
        make_entry(campaign, org, items["returned"], status=EntryStatus.RETURNED)  # overdue, returned


def _items(campaign: Campaign, s1: Section, s2: Section) -> dict[str, Any]:
    t = today()
    return {
        "past": make_item(campaign, s1, due_date=t - timedelta(days=30), title="按期召开支部委员会"),
        "past2": make_item(campaign, s2, due_date=t - timedelta(days=10)),
        "soon": make_item(campaign, s1, due_date=t + timedelta(days=3)),
        "future": make_item(campaign, s2, due_date=t + timedelta(days=60)),
        "late": make_item(campaign, s1, due_date=t - timedelta(days=20)),
        "returned": make_item(campaign, s2, due_date=t - timedelta(days=5)),
    }


def _finding(campaign: Campaign, org: OrgUnit, status: str | None, deadline_days: int = 10) -> Finding:
    finding = Finding.objects.create(
        campaign=campaign, org=org, source=FindingSource.INSPECTION, description=f"{org.code}的问题"
    )
    if status is not None:
        Rectification.objects.create(
            finding=finding,
            campaign=campaign,
            org=org,
            status=status,
            deadline=today() + timedelta(days=deadline_days),
            closed_on=today() if status == RectificationStatus.CLOSED else None,
        )
    return finding


@pytest.fixture
def world(tree, committee_staff) -> World:  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw, year=today().year)
    s1, s2 = make_section(campaign, "政治建设", 1), make_section(campaign, "组织建设", 2)
    items = _items(campaign, s1, s2)
    for k, org in enumerate((tree.ag1, tree.a1, tree.a2, tree.b1, tree.d1)):
        _fill_branch(campaign, org, items, k)
    make_entry(campaign, tree.gw, items["future"])  # the 工委's own checklist: no 目标责任书
    make_entry(campaign, tree.a, items["past"], status=EntryStatus.IN_PROGRESS)  # a 机关党委's own entry
    Checklist.objects.filter(campaign=campaign, org__in=[tree.a1, tree.b1, tree.ag1]).update(
        letter_signed_at=timezone.now()
    )
    _finding(campaign, tree.a1, RectificationStatus.IN_PROGRESS, deadline_days=-3)  # overdue
    _finding(campaign, tree.a1, RectificationStatus.CLOSED)
    _finding(campaign, tree.a2, RectificationStatus.PLAN_PENDING)
    _finding(campaign, tree.b1, RectificationStatus.IN_PROGRESS, deadline_days=-1)
    _finding(campaign, tree.d1, None)  # no rectification yet: open
    for org, status in (
        (tree.a1, ReportStatus.SUBMITTED),
        (tree.a2, ReportStatus.DRAFT),
        (tree.b1, ReportStatus.REVIEWED),
        (tree.d1, ReportStatus.RETURNED),
    ):
        DutyReport.objects.create(campaign=campaign, org=org, title=f"{org.code}述职报告", status=status)
    rnd = make_round(campaign, committee_staff)
    for org, level in ((tree.a1, 5), (tree.a2, 5), (tree.ag1, 4), (tree.b1, None), (tree.d1, 3)):
        Rating.objects.update_or_create(round=rnd, org=org, defaults={"computed_level": level})
    Rating.objects.filter(round=rnd, org=tree.d1).update(is_adjusted=True, adjusted_level=4)
    return World(campaign=campaign, s1=s1, s2=s2, round=rnd)


def dash(client: Client, org: OrgUnit | None = None, **params: Any):  # type: ignore[no-untyped-def]
    if org is not None:
        params["org"] = org.pk
    return client.get(reverse("scoring:dashboard"), params)


KPI_LINK = re.compile(r'data-kpi="([^"]+)" href="([^"]+)">\s*(\d+)\s*<')


def kpi_links(response) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    return {name: (unescape(href), int(n)) for name, href, n in KPI_LINK.findall(html)}


def child_codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.org.code for row in response.context["children_page"].object_list]


# --- scope and drill-down -------------------------------------------------------------------------


def test_committee_staff_dashboard_shows_the_whole_tree_with_children_a_b_d1(world, committee_staff, login):  # type: ignore[no-untyped-def]
    response = dash(login(committee_staff))
    assert response.status_code == 200
    assert response.context["node"].code == "GW"
    assert child_codes(response) == ["A", "B", "D1"]


def test_committee_staff_dashboard_links_each_child_to_its_own_dashboard(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    html = dash(login(committee_staff)).content.decode()
    assert f"?campaign={world.campaign.pk}&amp;org={tree.a.pk}" in html


def test_drill_down_reaches_a_single_entry_through_the_branch_entry_list(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    html = dash(client, tree.a1).content.decode()
    href = unescape(re.search(r'href="([^"]+)" data-testid="branch-entries"', html).group(1))
    listed = client.get(href)
    entry = ChecklistEntry.objects.filter(org=tree.a1).order_by("due_date").first()
    assert reverse("campaigns:entry_detail", args=[entry.pk]) in listed.content.decode()


def test_branch_dashboard_links_to_its_checklist(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    checklist = Checklist.objects.get(campaign=world.campaign, org=tree.a1)
    html = dash(login(committee_staff), tree.a1).content.decode()
    assert reverse("campaigns:checklist_detail", args=[checklist.pk]) in html


def test_breadcrumb_runs_from_the_users_top_organisation_down_to_the_node(
    world, tree, committee_staff, login
):  # type: ignore[no-untyped-def]
    response = dash(login(committee_staff), tree.ag1)
    assert [o.code for o in response.context["crumbs"]] == ["GW", "A", "AG", "AG1"]


def test_agency_staff_breadcrumb_starts_at_their_own_unit(world, tree, agency_staff, login):  # type: ignore[no-untyped-def]
    response = dash(login(agency_staff), tree.ag1)
    assert [o.code for o in response.context["crumbs"]] == ["A", "AG", "AG1"]


def test_agency_staff_dashboard_is_their_subtree(world, agency_staff, login):  # type: ignore[no-untyped-def]
    response = dash(login(agency_staff))
    assert response.context["node"].code == "A"
    assert sorted(child_codes(response)) == ["A1", "A2", "AG"]


@pytest.mark.parametrize("code", ["B", "B1", "GW", "D1"])
def test_agency_staff_get_404_for_dashboards_outside_their_subtree(world, agency_staff, login, code):  # type: ignore[no-untyped-def]
    org = OrgUnit.objects.get(code=code)
    assert dash(login(agency_staff), org).status_code == 404


@pytest.mark.parametrize("url_name", [*LISTS, "scoring:dashboard_trend"])
def test_agency_staff_get_404_for_b1_in_every_list(world, tree, agency_staff, login, url_name):  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(reverse(url_name), {"org": tree.b1.pk})
    assert response.status_code == 404


def test_branch_secretary_dashboard_is_their_branch_alone(world, branch_secretary, login):  # type: ignore[no-untyped-def]
    response = dash(login(branch_secretary))
    assert response.context["node"].code == "A1"
    assert response.context["d"].has_children is False


def test_branch_secretary_overdue_entries_link_to_the_entry_page(world, tree, branch_secretary, login):  # type: ignore[no-untyped-def]
    html = dash(login(branch_secretary)).content.decode()
    overdue = ChecklistEntry.objects.filter(org=tree.a1, status=EntryStatus.NOT_STARTED).first()
    assert reverse("campaigns:entry_detail", args=[overdue.pk]) in html


def test_branch_secretary_gets_404_for_the_parent_dashboard(world, tree, branch_secretary, login):  # type: ignore[no-untyped-def]
    assert dash(login(branch_secretary), tree.a).status_code == 404


def test_user_without_a_role_gets_404(world, no_role_user, login):  # type: ignore[no-untyped-def]
    assert dash(login(no_role_user)).status_code == 404


def test_outsider_sees_their_branch_and_404_for_a1(world, tree, outsider_secretary, login):  # type: ignore[no-untyped-def]
    client = login(outsider_secretary)
    assert dash(client).context["node"].code == "B1"
    assert dash(client, tree.a1).status_code == 404


def test_campaign_the_user_may_not_see_is_404(world, tree, branch_secretary, login):  # type: ignore[no-untyped-def]
    draft = make_campaign(tree.gw, year=today().year + 1, status=CampaignStatus.DRAFT)
    assert dash(login(branch_secretary), campaign=draft.pk).status_code == 404


def test_anonymous_is_sent_to_login(world, client):  # type: ignore[no-untyped-def]
    response = client.get(reverse("scoring:dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- every number links to the list behind it -------------------------------------------------------


KPI_NAMES = [
    *(
        f"entries-{s}"
        for s in ("all", "due", "done", "due_done", "on_time", "overdue", "due_soon", "submitted", "returned")
    ),
    *(f"findings-{s}" for s in ("all", "open", "overdue", "closed")),
    *(f"letters-{s}" for s in ("all", "signed", "unsigned")),
    *(f"reports-{s}" for s in ("handed_in", "draft", "submitted", "returned", "reviewed")),
]


@pytest.mark.parametrize("code", ["GW", "A", "A1"])  # rollup (GW, A) and live (A1) figures
@pytest.mark.parametrize("kpi", KPI_NAMES)
def test_each_kpi_number_equals_the_count_of_the_list_it_links_to(world, committee_staff, login, code, kpi):  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    links = kpi_links(dash(client, OrgUnit.objects.get(code=code)))
    href, number = links[kpi]
    listed = client.get(href)
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == number


@pytest.mark.parametrize("code", ["GW", "A", "A1"])
def test_each_star_count_equals_the_count_of_the_ratings_list(world, committee_staff, login, code):  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    links = {
        k: v
        for k, v in kpi_links(dash(client, OrgUnit.objects.get(code=code))).items()
        if k.startswith("ratings-")
    }
    assert links
    for href, number in links.values():
        assert client.get(href).context["page"].paginator.count == number


def test_kpi_numbers_are_the_expected_counts(world, committee_staff, login):  # type: ignore[no-untyped-def]
    links = kpi_links(dash(login(committee_staff)))
    figures = {k: n for k, (_, n) in links.items()}
    assert figures["entries-all"] == ChecklistEntry.objects.filter(campaign=world.campaign).count()
    assert figures["letters-all"] == 6  # every checklist but the 工委's own (A has one for its own entry)
    assert figures["letters-signed"] == 3
    assert (figures["findings-all"], figures["findings-open"], figures["findings-overdue"]) == (5, 4, 2)
    assert figures["findings-closed"] == 1
    assert figures["reports-handed_in"] == 2  # submitted or reviewed


def test_section_filter_narrows_the_figures(world, committee_staff, login):  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    whole = dash(client).context["d"].totals
    narrowed = dash(client, section=world.s1.pk).context["d"].totals
    assert narrowed.total == ChecklistEntry.objects.filter(item__section=world.s1).count()
    assert 0 < narrowed.total < whole.total


def test_section_filter_carries_into_the_entry_lists(world, committee_staff, login):  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    href, number = kpi_links(dash(client, section=world.s1.pk))["entries-all"]
    assert f"section={world.s1.pk}" in href
    assert client.get(href).context["page"].paginator.count == number


def test_section_of_another_campaign_is_ignored(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    other = make_section(make_campaign(tree.gw, year=today().year - 5), "其他")
    response = dash(login(committee_staff), section=other.pk)
    assert response.context["scope"].section is None


def test_entry_list_rows_link_to_the_entry_page(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:dashboard_entries"), {"org": tree.a1.pk})
    entry = response.context["page"].object_list[0]
    assert reverse("campaigns:entry_detail", args=[entry.pk]) in response.content.decode()


def test_finding_list_rows_link_to_the_rectification(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:dashboard_findings"), {"org": tree.a1.pk})
    rect = Rectification.objects.filter(org=tree.a1).first()
    assert reverse("campaigns:rectification_detail", args=[rect.pk]) in response.content.decode()


def test_letter_list_leaves_out_the_committees_own_checklist(world, committee_staff, login):  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:dashboard_letters"), {"state": "all"})
    kinds = {c.org.kind for c in response.context["page"].object_list}
    assert OrgKind.COMMITTEE not in kinds


def test_missing_reports_list_the_organisations_without_a_handed_in_report(world, committee_staff, login):  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:dashboard_reports"), {"status": "missing"})
    assert {c.org.code for c in response.context["page"].object_list} == {"A", "A2", "AG1", "D1"}


def test_rating_list_rows_link_to_the_rating_page(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(
        reverse("scoring:dashboard_ratings"), {"round": world.round.pk, "level": "5", "org": tree.a.pk}
    )
    rating = Rating.objects.get(round=world.round, org=tree.a1)
    assert {r["rating"].org.code for r in response.context["rows"]} == {"A1", "A2"}
    assert reverse("scoring:rating", args=[rating.pk]) in response.content.decode()


def test_rating_list_of_the_adjusted_level_uses_the_adjusted_level(world, committee_staff, login):  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(
        reverse("scoring:dashboard_ratings"), {"round": world.round.pk, "level": "4"}
    )
    assert {r["rating"].org.code for r in response.context["rows"]} == {"AG1", "D1"}


def test_star_level_over_its_quota_is_highlighted(world, committee_staff, login):  # type: ignore[no-untyped-def]
    response = dash(login(committee_staff))  # the 工委's pool: 2 五星 of 4 rated, 25% → 1 seat
    (stars,) = response.context["d"].stars
    five = next(row for row in stars.rows if row.level == 5)
    assert (five.count, five.seats) == (2, 1)
    assert "超出名额" in response.content.decode()


def test_unknown_entry_state_lists_everything(world, committee_staff, login):  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:dashboard_entries"), {"state": "bogus"})
    assert response.context["state"] == "all"


# --- children table ------------------------------------------------------------------------------


def test_children_sort_by_overdue_puts_the_most_overdue_first(world, committee_staff, login):  # type: ignore[no-untyped-def]
    rows = dash(login(committee_staff), sort="-overdue").context["children_page"].object_list
    overdue = [r.completion.overdue for r in rows]
    assert overdue == sorted(overdue, reverse=True)


def test_children_sort_by_name(world, committee_staff, login):  # type: ignore[no-untyped-def]
    rows = dash(login(committee_staff), sort="name").context["children_page"].object_list
    assert [r.org.name for r in rows] == sorted(r.org.name for r in rows)


def test_children_table_is_paginated_by_50(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    for _ in range(52):
        make_org(OrgKind.BRANCH, tree.b)
    page = dash(login(committee_staff), tree.b).context["children_page"]
    assert (len(page.object_list), page.paginator.count) == (50, 53)


def test_child_row_figures_equal_the_childs_own_dashboard(world, committee_staff, login):  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    for row in dash(client).context["children_page"].object_list:
        own = dash(client, row.org).context["d"]
        assert row.completion == own.totals, row.org.code
        assert (row.letters_signed, row.letters_total) == (own.letters_signed, own.letters_total)
        assert row.findings == own.findings


# --- the page itself -------------------------------------------------------------------------------


def test_dashboard_shows_when_its_figures_were_computed(world, committee_staff, login):  # type: ignore[no-untyped-def]
    assert "统计数据更新于" in dash(login(committee_staff)).content.decode()


def test_stale_rollup_shows_the_time_of_the_figures_it_has(world, tree, committee_staff, login, settings):  # type: ignore[no-untyped-def]
    rollup_refresh(world.campaign)
    RollupState.objects.filter(campaign=world.campaign).update(seconds=99)
    settings.ROLLUP_SYNC_SECONDS = 1
    make_entry(world.campaign, tree.a2, make_item(world.campaign, world.s1))
    assert "数据正在更新，当前显示" in dash(login(committee_staff)).content.decode()


def test_dashboard_loads_the_trend_with_htmx(world, committee_staff, login):  # type: ignore[no-untyped-def]
    html = dash(login(committee_staff)).content.decode()
    assert 'hx-trigger="load"' in html
    assert reverse("scoring:dashboard_trend") in html


def test_export_button_carries_the_campaign_and_the_organisation(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    response = dash(login(committee_staff), tree.a)
    assert response.context["export_url"] == (
        f"{reverse('scoring:export_create')}?campaign={world.campaign.pk}&org={tree.a.pk}"
    )


def test_charts_are_vendored_and_initialised_from_json_script(world, committee_staff, login):  # type: ignore[no-untyped-def]
    html = dash(login(committee_staff)).content.decode()
    assert "vendor/echarts/5.5.1/echarts.min.js" in html
    assert 'id="chart-data"' in html


def test_dashboard_without_any_campaign_says_so(tree, committee_staff, login):  # type: ignore[no-untyped-def]
    response = dash(login(committee_staff))
    assert response.status_code == 200
    assert "目前没有创建活动" in response.content.decode()


def test_navbar_links_the_dashboard_for_users_with_a_role(world, branch_secretary, login):  # type: ignore[no-untyped-def]
    assert 'data-testid="nav-dashboard"' in login(branch_secretary).get(reverse("home")).content.decode()


def test_navbar_has_no_dashboard_link_without_a_role(world, no_role_user, login):  # type: ignore[no-untyped-def]
    assert 'data-testid="nav-dashboard"' not in login(no_role_user).get(reverse("home")).content.decode()


# --- trend ---------------------------------------------------------------------------------------


def test_trend_without_last_year_or_snapshot_says_so(world, committee_staff, login):  # type: ignore[no-untyped-def]
    html = login(committee_staff).get(reverse("scoring:dashboard_trend")).content.decode()
    assert 'data-testid="no-last-year"' in html
    assert 'data-testid="no-snapshot"' in html


def test_trend_compares_with_the_mid_year_snapshot(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    snapshot_take(campaign=world.campaign, actor=committee_staff, taken_on=today(), title="年中晒进度")
    response = login(committee_staff).get(reverse("scoring:dashboard_trend"), {"org": tree.a.pk})
    expected_total = ChecklistEntry.objects.filter(org__path__startswith=tree.a.path).count()
    assert response.context["snapshot"]["total"] == expected_total
    assert 'data-testid="snapshot-table"' in response.content.decode()


def test_trend_compares_with_last_year_month_by_month(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    last = make_campaign(tree.gw, year=today().year - 1)
    item = make_item(last, due_date=today().replace(year=today().year - 1, month=1, day=31))
    make_entry(last, tree.a1, item, status=EntryStatus.APPROVED, completed_on=item.due_date)
    response = login(committee_staff).get(reverse("scoring:dashboard_trend"), {"org": tree.a1.pk})
    assert response.context["t"].last_campaign == last
    assert response.context["rows"][0]["last_rate"] == 100.0


def test_trend_chart_data_is_a_json_script(world, committee_staff, login):  # type: ignore[no-untyped-def]
    html = login(committee_staff).get(reverse("scoring:dashboard_trend")).content.decode()
    assert 'id="trend-data"' in html
    assert 'data-dashboard-chart="trend"' in html


# --- P2: the number of queries does not grow with the organisations ----------------------------------


def _grow(campaign: Campaign, unit: OrgUnit, items: dict[str, Any], rnd: RatingRound, n: int) -> None:
    start = OrgUnit.objects.filter(parent=unit).count()
    for k in range(start, start + n):
        branch = make_org(OrgKind.BRANCH, unit)
        _fill_branch(campaign, branch, items, k)
        _finding(campaign, branch, RectificationStatus.IN_PROGRESS, deadline_days=-2)
        DutyReport.objects.create(
            campaign=campaign, org=branch, title="述职报告", status=ReportStatus.SUBMITTED
        )
        Rating.objects.create(round=rnd, org=branch, computed_level=3 + k % 3)
    rollup_refresh(campaign)


def _queries(client: Client, url: str, params: dict[str, Any]) -> int:
    client.get(url, params)  # a first request settles the session and the rollups
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx)


def _p2_urls(campaign: Campaign, unit: OrgUnit, rnd: RatingRound) -> list[tuple[str, dict[str, Any]]]:
    base = {"campaign": campaign.pk, "org": unit.pk}
    return [
        ("scoring:dashboard", base),
        ("scoring:dashboard", {**base, "sort": "-rate"}),
        ("scoring:dashboard_trend", base),
        ("scoring:dashboard_entries", {**base, "state": "all"}),
        ("scoring:dashboard_entries", {**base, "state": "overdue"}),
        ("scoring:dashboard_findings", base),
        ("scoring:dashboard_letters", base),
        ("scoring:dashboard_reports", base),
        ("scoring:dashboard_reports", {**base, "status": "missing"}),
        ("scoring:dashboard_ratings", {**base, "round": rnd.pk}),
        ("scoring:dashboard_ratings", base),
    ]


@pytest.fixture
def p2(tree, committee_staff):  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw, year=today().year)
    s1, s2 = make_section(campaign, "政治建设", 1), make_section(campaign, "组织建设", 2)
    items = _items(campaign, s1, s2)
    unit = make_org(OrgKind.AGENCY_COMMITTEE, tree.gw, code="P2")
    rnd = make_round(campaign, committee_staff)
    _grow(campaign, unit, items, rnd, 1)
    return campaign, unit, items, rnd


@pytest.mark.parametrize("index", range(11))
def test_query_count_does_not_grow_with_the_number_of_branches(p2, committee_staff, login, index):  # type: ignore[no-untyped-def]
    campaign, unit, items, rnd = p2
    client = login(committee_staff)
    name, params = _p2_urls(campaign, unit, rnd)[index]
    one = _queries(client, reverse(name), params)
    _grow(campaign, unit, items, rnd, 11)
    many = _queries(client, reverse(name), params)
    assert many == one
    assert one <= QUERY_BUDGET


def test_query_count_of_a_branch_dashboard_does_not_grow_with_its_entries(p2, committee_staff, login):  # type: ignore[no-untyped-def]
    campaign, unit, _items, _rnd = p2
    branch = OrgUnit.objects.filter(parent=unit).first()
    client = login(committee_staff)
    params = {"campaign": campaign.pk, "org": branch.pk}
    one = _queries(client, reverse("scoring:dashboard"), params)
    for _ in range(10):
        make_entry(campaign, branch, make_item(campaign, due_date=today() - timedelta(days=2)))
    assert _queries(client, reverse("scoring:dashboard"), params) == one


def test_rollup_and_live_figures_agree_for_an_organisation_with_children(world, tree, committee_staff, login):  # type: ignore[no-untyped-def]
    """A's rollup totals equal the live list counts of its subtree, state by state."""
    client = login(committee_staff)
    totals = dash(client, tree.a).context["d"].totals
    for state in ("all", "due", "done", "on_time", "overdue", "due_soon", "submitted", "returned"):
        listed = client.get(reverse("scoring:dashboard_entries"), {"org": tree.a.pk, "state": state})
        expected = totals.total if state == "all" else getattr(totals, state)
        assert listed.context["page"].paginator.count == expected, state


def test_role_change_takes_effect_on_the_dashboard(world, tree, login):  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username="newstaff", password="x")
    role_grant(user=user, org=tree.b, role=Role.UNIT_STAFF)
    assert child_codes(dash(login(user))) == ["B1"]
