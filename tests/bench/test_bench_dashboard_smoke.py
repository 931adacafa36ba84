"""The dashboard figures of the benchmark (P1, P2, P3, P4) at a tiny size, so the suite keeps them working.

No timing is asserted: speed is proven by `make bench`. What is asserted: the lines are well
formed, the dashboard and the hand-written reference compute the same numbers (and a
rollup that disagrees with the data is a FAIL), the rollup totals equal the scan of P4, P4
leaves no tree behind, the pages answer and issue as many queries for 1 child as for 50.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from branches.models import OrgUnit
from campaigns.models import Campaign, ChecklistEntry
from scoring.models import EntryRollup
from tests.bench import p_dashboard as pd
from tests.bench.run import QueryCountResult
from tests.bench.scale import ScaleSpec, scale_tree_create

TIMING_LINE = re.compile(
    r"^BENCH (P\d\w*) app=(\d+\.\d{4}|inf) ref=\d+\.\d{4} ratio=(\d+\.\d{2}|inf) target=[\d.]+ (PASS|FAIL)$"
)
QUERIES_LINE = re.compile(r"^BENCH P2_dashboard\w*_queries rows1=\d+ rows50=\d+ (PASS|FAIL)$")
ITEMS = 6


@pytest.fixture
def fixture() -> pd.DashFixture:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)
    fx = pd.dashboard_fixture_create(root_id=tree.root_id, items=ITEMS)
    pd.rollups_build(fx)
    return fx


@pytest.mark.django_db
def test_p3_dashboard_and_hand_written_sql_agree(fixture: pd.DashFixture) -> None:
    results = pd.bench_p3(fixture=fixture, repeat=1)

    assert [r.name for r in results] == ["P3_dashboard_db", "P3_dashboard_wall"]
    for result in results:
        assert TIMING_LINE.match(result.line()), result.line()
        assert result.valid, result.note
    assert results[1].ref >= pd.P3_WALL_ALLOWANCE  # the wall reference carries the 30 ms allowance


@pytest.mark.django_db
def test_p3_reference_covers_every_figure_with_data(fixture: pd.DashFixture) -> None:
    ref = pd.reference_figures(fixture.campaign_id, fixture.root_id, fixture.today)

    assert ref["totals"][0] == ChecklistEntry.objects.filter(campaign_id=fixture.campaign_id).count()
    assert ref["letters"][0] > 0 and ref["findings"][0] > 0 and ref["reports"] and ref["stars"]
    assert ref["trend"][3] == fixture.last_campaign_id and ref["trend"][7] is not None  # last year, snapshot


@pytest.mark.django_db
def test_p3_is_a_fail_with_a_note_when_the_numbers_differ(
    fixture: pd.DashFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = pd.reference_figures

    def off_by_one(campaign_id: int, node_id: int, today: date) -> dict[str, Any]:
        out = reference(campaign_id, node_id, today)
        out["totals"] = (out["totals"][0] + 1, *out["totals"][1:])
        return out

    monkeypatch.setattr(pd, "reference_figures", off_by_one)

    results = pd.bench_p3(fixture=fixture, repeat=1)

    assert all(not r.passed and r.line().endswith("FAIL") for r in results)
    assert "MISMATCH totals" in results[0].note


@pytest.mark.django_db
def test_p4_and_p3_measure_their_own_tree_and_leave_nothing_behind() -> None:
    results = pd.run_p4(spec=ScaleSpec.for_branches(20), items=4, repeat=1)

    assert [r.name for r in results] == ["P4_dashboard_rollup", "P3_dashboard_db", "P3_dashboard_wall"]
    for result in results:
        assert TIMING_LINE.match(result.line()), result.line()
        assert result.valid, result.note  # the rollup totals equal the scan's; app and SQL agree
    assert not OrgUnit.objects.exists() and not Campaign.objects.exists() and not EntryRollup.objects.exists()


def test_p4_runs_at_5000_branches_at_least_and_at_100000_organisations_on_request() -> None:
    ci, items = pd.p4_spec(branches=500, p4_orgs=None)
    big, big_items = pd.p4_spec(branches=100_000, p4_orgs=None)
    asked, _ = pd.p4_spec(branches=500, p4_orgs=100_000)

    assert (ci.branches, items) == (5000, 60)
    assert big.total_orgs == asked.total_orgs == 100_000
    assert 1_800_000 <= big.branches * big_items <= pd.P4_MAX_ENTRIES


@pytest.mark.django_db
def test_p1_pages_answer_and_give_timing_lines(fixture: pd.DashFixture) -> None:
    results = pd.bench_p1(fixture=fixture, requests=2)

    assert [r.name for r in results] == [
        "P1_dashboard",
        "P1_dashboard_trend",
        "P1_dashboard_entries",
        "P1_dashboard_agency",
        "P1_dashboard_branch",
    ]
    for result in results:
        assert TIMING_LINE.match(result.line()), result.line()
        assert result.valid, result.note  # every page answered 200
        assert result.ref == pd.P1_TARGET


@pytest.mark.django_db
def test_p2_dashboard_pages_issue_the_same_queries_for_1_and_50_children(fixture: pd.DashFixture) -> None:
    results = pd.bench_p2_dashboards(fixture=fixture)

    assert [r.name for r in results] == ["P2_dashboard", "P2_dashboard_trend", "P2_dashboard_entries"]
    for result in results:
        assert isinstance(result, QueryCountResult), result.line()
        assert QUERIES_LINE.match(result.line()), result.line()
        assert result.rows1 == result.rows50, result.line()


@pytest.mark.django_db
def test_p2_fixture_gives_1_and_50_children_with_one_entry_each(fixture: pd.DashFixture) -> None:
    for org_id, n in ((fixture.p2_one_id, 1), (fixture.p2_many_id, 50)):
        org = OrgUnit.objects.get(pk=org_id)
        assert OrgUnit.objects.filter(parent=org).count() == n
        entries = ChecklistEntry.objects.filter(
            campaign_id=fixture.campaign_id, org__path__startswith=org.path
        )
        assert entries.count() == n
