"""P10 (rating compile) at a tiny size, so the suite keeps the benchmark working.

No timing is asserted: speed is proven by `make bench`. What is asserted: the fixture holds every
kind of rating input, the figure prints a well-formed BENCH line, every branch gets a compiled
rating, compiling again finds the same fingerprint and changes nothing, and the rating rows are
removed afterwards so the campaign data and the tree can be reset.
"""

from __future__ import annotations

import re

import pytest

from branches.models import OrgUnit
from campaigns.models import Ballot, ChecklistEntry, Finding
from scoring.models import CompileRun, Rating, RatingFact, RatingRound
from tests.bench import p10
from tests.bench.p2_campaigns import campaign_data_reset
from tests.bench.scale import ScaleSpec, scale_tree_create, tree_reset

TIMING_LINE = re.compile(
    r"^BENCH P10_rating_compile app=\d+\.\d{4} ref=\d+\.\d{4} ratio=\d+\.\d{2} target=5 (PASS|FAIL)$"
)


@pytest.mark.django_db
def test_the_fixture_holds_every_kind_of_rating_input() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)

    fixture = p10.p10_fixture_create(root_id=tree.root_id)

    assert fixture.branches == 20
    assert ChecklistEntry.objects.filter(campaign_id=fixture.campaign_id).count() == 20 * p10.P10_ITEMS
    assert Finding.objects.exists() and RatingFact.objects.filter(kind="bonus").exists()
    assert Ballot.objects.count() == 20 * p10.P10_RATERS
    assert RatingRound.objects.get(pk=fixture.round_id).campaign_id == fixture.campaign_id


@pytest.mark.django_db
def test_p10_compiles_every_branch_and_a_second_compile_changes_nothing() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)
    fixture = p10.p10_fixture_create(root_id=tree.root_id)

    result = p10.bench_p10(fixture=fixture, repeat=2)

    assert TIMING_LINE.match(result.line()), result.line()
    assert result.valid, result.note
    assert result.app > 0 and result.ref > 0
    assert Rating.objects.filter(round_id=fixture.round_id, compiled_at__isnull=False).count() == 20
    runs = list(CompileRun.objects.filter(round_id=fixture.round_id).order_by("pk"))
    assert len(runs) == 2 and runs[0].fingerprint == runs[1].fingerprint and runs[1].changed == 0


@pytest.mark.django_db
def test_run_p10_removes_its_rating_rows_so_the_tree_can_be_reset() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)

    results = p10.run_p10(root_id=tree.root_id, repeat=2)
    campaign_data_reset()
    tree_reset()

    assert [r.name for r in results] == ["P10_rating_compile"]
    assert not Rating.objects.exists() and not RatingFact.objects.exists()
    assert not OrgUnit.objects.exists()
