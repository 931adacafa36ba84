"""P6 (year-end assessment workbook) at a tiny size, so the suite keeps the benchmark working.

No timing is asserted: speed is proven by `make bench`. What is asserted: the fixture fills every
sheet, the figure prints two well-formed BENCH lines (time and memory), the workbook and the
reference agree on the rows, and the rows are removed afterwards so the tree can be reset.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from branches.models import OrgUnit
from campaigns.models import BallotTally, ChecklistEntry, EntryEvidence, Finding
from scoring.models import Rating
from tests.bench import p6
from tests.bench.scale import ScaleSpec, scale_tree_create, tree_reset

TIMING_LINE = re.compile(
    r"^BENCH P6_assessment_workbook app=\d+\.\d{4} ref=\d+\.\d{4} ratio=\d+\.\d{2} target=1 (PASS|FAIL)$"
)
MEMORY_LINE = re.compile(
    r"^BENCH P6_memory app=\d+\.\d{4} ref=200\.0000 ratio=\d+\.\d{2} target=1 (PASS|FAIL)$"
)


@pytest.mark.django_db
def test_the_fixture_fills_every_sheet_of_the_workbook(tmp_path: Path) -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)

    fixture = p6.p6_fixture_create(root_id=tree.root_id)

    assert fixture.branches == 20 and fixture.entries == 20 * p6.P6_ITEMS
    assert ChecklistEntry.objects.filter(campaign_id=fixture.campaign_id).count() == fixture.entries
    assert EntryEvidence.objects.count() == fixture.evidence_links > 0
    assert Finding.objects.exists() and BallotTally.objects.count() == 20 * len(p6.TALLY)
    assert Rating.objects.filter(compiled_at__isnull=False).count() == 20


@pytest.mark.django_db
def test_reference_writes_the_rows_it_fetched(tmp_path: Path) -> None:
    from campaigns.models import Campaign

    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)
    fixture = p6.p6_fixture_create(root_id=tree.root_id)
    campaign = Campaign.objects.get(pk=fixture.campaign_id)
    root = OrgUnit.objects.get(pk=tree.root_id)

    rows = p6.reference_fetch(campaign, root)
    p6.reference_write(rows, tmp_path / "ref.xlsx")

    wb = load_workbook(tmp_path / "ref.xlsx", read_only=True)
    assert sum(1 for _ in wb["评分明细"].iter_rows()) == 1 + fixture.entries
    assert len(rows["orgs"]) == 20 and len(rows["reporters"]) == 20


@pytest.mark.django_db
def test_run_p6_prints_time_and_memory_lines_and_removes_its_rows() -> None:
    tree = scale_tree_create(spec=ScaleSpec.for_branches(20), with_members=False)

    timing, memory = p6.run_p6(root_id=tree.root_id, repeat=1)

    assert TIMING_LINE.match(timing.line()), timing.line()
    assert MEMORY_LINE.match(memory.line()), memory.line()
    assert timing.valid, timing.note
    assert timing.app > 0 and timing.ref > 0 and memory.app > 0
    assert "2 × write" in timing.note
    assert not ChecklistEntry.objects.exists() and not Rating.objects.exists()
    tree_reset()
    assert not OrgUnit.objects.exists()
