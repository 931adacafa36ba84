"""The benchmark harness at a tiny size, so the suite keeps `make bench` working.

No timing is asserted here: speed is proven by the benchmark itself, never by timed
tests on a shared machine. What is asserted: the scale tree has the shape of targets.md,
every figure produces a well-formed BENCH line, app and reference agree on their results,
and the organisation pages issue the same number of queries for 1 and for 50 rows (P2).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection

from branches.models import Member, OrgKind, OrgUnit
from tests.bench import run
from tests.bench.scale import BIG_COMMITTEE_CODE, ScaleSpec, scale_plan, scale_tree_create, tree_reset

TIMING_LINE = re.compile(
    r"^BENCH \w+ app=(\d+\.\d{4}|inf) ref=\d+\.\d{4} ratio=(\d+\.\d{2}|inf) target=[\d.]+ (PASS|FAIL)$"
)
QUERIES_LINE = re.compile(r"^BENCH \w+_queries rows1=\d+ rows50=\d+ (PASS|FAIL)$")
PLAN_LINE = re.compile(r"^BENCH P5_plan list_index=\S+ count_index=\S+ (PASS|FAIL)$")


def test_scale_spec_follows_the_reference_proportions() -> None:
    spec = ScaleSpec.for_branches(5000)

    assert (spec.agency_committees, spec.general_branches, spec.branches) == (150, 600, 5000)
    assert ScaleSpec.for_branches(500).agency_committees == 15
    assert ScaleSpec.for_orgs(100_000).total_orgs == 100_000
    assert ScaleSpec.for_orgs(2_000).total_orgs == 2_000


def test_scale_plan_is_skewed_and_its_paths_are_sound() -> None:
    plan = scale_plan(ScaleSpec.for_branches(500))
    by_id = {o.id: o for o in plan}
    big = next(o for o in plan if o.code == BIG_COMMITTEE_CODE)
    kinds = Counter(o.kind for o in plan)

    assert kinds == {
        OrgKind.COMMITTEE: 1,
        OrgKind.AGENCY_COMMITTEE: 15,
        OrgKind.GENERAL_BRANCH: 60,
        OrgKind.BRANCH: 500,
    }
    for org in plan:
        parent = by_id.get(org.parent_id) if org.parent_id else None
        assert org.path == (parent.path if parent else "/") + f"{org.id}/"
        assert parent is None or parent.id < org.id  # parents come first
    in_big = sum(1 for o in plan if o.kind == OrgKind.BRANCH and o.path.startswith(big.path))
    assert in_big == 150  # 30% of all branches
    assert scale_plan(ScaleSpec.for_branches(500)) == plan  # deterministic


@pytest.mark.django_db
def test_scale_tree_create_writes_the_plan_and_reset_empties_it() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20))

    assert OrgUnit.objects.count() == tree.orgs == ScaleSpec.for_branches(20).total_orgs
    assert Member.objects.count() == tree.members > 0
    root = OrgUnit.objects.get(pk=tree.root_id)
    assert OrgUnit.objects.subtree(root.path).count() == tree.orgs
    tree_reset()
    assert not OrgUnit.objects.exists() and not Member.objects.exists()


@pytest.mark.django_db
def test_p2_pages_issue_the_same_queries_for_1_and_50_rows() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20))

    results = run.bench_p2(root_id=tree.root_id)

    assert [r.name for r in results] == [
        "P2_org_list",
        "P2_org_tree",
        "P2_org_children",
        "P2_org_detail",
        "P2_people_list",
    ]
    for result in results:
        assert QUERIES_LINE.match(result.line()), result.line()
        assert result.rows1 == result.rows50, result.line()
        assert result.rows50 <= run.P2_MAX_QUERIES, result.line()


@pytest.mark.django_db
def test_p5_compares_the_same_rows_and_reports_the_plan() -> None:
    timing, plan = run.bench_p5(orgs=2_000, repeat=2)

    assert isinstance(timing, run.TimingResult) and isinstance(plan, run.PlanResult)
    assert TIMING_LINE.match(timing.line()), timing.line()
    assert PLAN_LINE.match(plan.line()), plan.line()
    assert timing.valid, timing.note  # the selector and the recursive CTE return the same page and count
    assert timing.app > 0 and timing.ref > 0
    if connection.vendor == "sqlite":
        # PostgreSQL may prefer a scan on a table this small; SQLite's choice is stable.
        assert plan.passed, plan.note


@pytest.mark.django_db
def test_p7_imports_into_an_empty_tree_and_rolls_back() -> None:
    result = run.bench_p7(branches=20, repeat=1)

    assert TIMING_LINE.match(result.line()), result.line()
    assert result.valid, result.note  # the import applied every row
    assert not OrgUnit.objects.exists()  # both runs were rolled back


@pytest.mark.django_db
def test_reference_import_reads_the_workbook_it_is_given() -> None:
    rows = run.org_sheet_rows(ScaleSpec.for_branches(20))

    count = run.reference_import(run.org_workbook(rows))

    assert count == len(rows) == OrgUnit.objects.count()
    for org in OrgUnit.objects.select_related("parent"):
        assert org.path == (org.parent.path if org.parent else "/") + f"{org.pk}/"


@pytest.mark.parametrize(
    ("result", "passed"),
    [
        (run.TimingResult(name="X", app=1.0, ref=1.0, target=1.0), True),
        (run.TimingResult(name="X", app=1.0, ref=1.0, target=1.0, valid=False), False),
        (run.TimingResult(name="X", app=2.0, ref=1.0, target=1.0), False),
        (run.QueryCountResult(name="X", rows1=5, rows50=5), True),
        (run.QueryCountResult(name="X", rows1=5, rows50=6), False),
        (run.QueryCountResult(name="X", rows1=21, rows50=21), False),
    ],
)
def test_verdicts(result: run.Result, passed: bool) -> None:
    assert result.passed is passed
    assert result.line().endswith("PASS" if passed else "FAIL")


@pytest.mark.django_db
def test_tree_problems_notices_a_wrong_path() -> None:
    rows = run.org_sheet_rows(ScaleSpec.for_branches(20))
    run.reference_import(run.org_workbook(rows))
    codes = {str(r[0]) for r in rows}
    assert run.tree_problems(codes) == []

    OrgUnit.objects.filter(code=rows[-1][0]).update(path="/999/")

    assert run.tree_problems(codes)
    assert run.tree_problems(codes - {str(rows[-1][0])})
