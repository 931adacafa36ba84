"""整改台账 (domain.md §12): the workbook's header, cells, scope, formula safety (R10) and the command."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

# The matrix loads every access_* module; importing it first avoids a circular import.
import tests.access_matrix  # noqa: F401
from campaigns.ledger import COLUMNS, SHEET, rectification_ledger_workbook
from campaigns.models import Evidence, EvidenceRevision, FindingSource, Rectification, RectificationStatus
from campaigns.services import rectification as svc
from tests.campaigns.factories import make_campaign

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw, year=2026)


def _rect(campaign, org, actor, description: str = "会议记录不全", **fields: Any) -> Rectification:  # type: ignore[no-untyped-def]
    rect = svc.finding_create(
        campaign=campaign, org=org, source=FindingSource.INSPECTION, description=description, actor=actor
    ).rectification
    if fields:
        Rectification.objects.filter(pk=rect.pk).update(**fields)
    return rect


def _evidence(org, name: str) -> Evidence:  # type: ignore[no-untyped-def]
    evidence = Evidence.objects.create(org=org, title=name.rsplit(".", 1)[0])
    evidence.current = EvidenceRevision.objects.create(
        evidence=evidence,
        number=1,
        original_name=name,
        stored_name=f"evidence/00/{evidence.pk:032d}",
        size=10,
        sha256="0" * 64,
        content_type="application/pdf",
    )
    evidence.save()
    return evidence


def _sheet(data: bytes) -> list[tuple[Any, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return list(workbook[SHEET].iter_rows(values_only=True))


@pytest.fixture
def closed(campaign, tree, agency_staff) -> Rectification:  # type: ignore[no-untyped-def]
    rect = _rect(
        campaign,
        tree.a1,
        agency_staff,
        description="组织生活会记录不全",
        status=RectificationStatus.CLOSED,
        measures="补齐记录",
        responsible_name="张三",
        leader_name="李四",
        deadline=date(2026, 9, 30),
        progress="已补齐",
        closed_on=date(2026, 9, 20),
    )
    rect.evidence.add(_evidence(tree.a1, "会议记录.pdf"), _evidence(tree.a1, "照片.jpg"))
    return rect


def test_ledger_header_is_the_section_12_columns(campaign, tree) -> None:  # type: ignore[no-untyped-def]
    rows = _sheet(rectification_ledger_workbook(campaign=campaign, unit=tree.gw))
    assert rows[0] == (
        "序号",
        "党组织",
        "问题来源",
        "问题描述",
        "整改措施",
        "责任人",
        "责任领导",
        "整改时限",
        "进展",
        "销号日期",
        "佐证",
    )
    assert rows[0] == COLUMNS


def test_ledger_row_holds_the_rectification(campaign, tree, closed) -> None:  # type: ignore[no-untyped-def]
    rows = _sheet(rectification_ledger_workbook(campaign=campaign, unit=tree.gw))
    row = rows[1]
    assert row[:7] == (1, "财政局预算股党支部", "督查检查", "组织生活会记录不全", "补齐记录", "张三", "李四")
    assert (row[7].date(), row[8], row[9].date()) == (date(2026, 9, 30), "已补齐", date(2026, 9, 20))
    assert row[10] == "会议记录.pdf；照片.jpg"


def test_ledger_user_text_never_becomes_a_formula(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.a1, agency_staff, description=FORMULA, measures="+1 整改", leader_name="@领导")
    data = rectification_ledger_workbook(campaign=campaign, unit=tree.gw)
    row = _sheet(data)[1]
    assert (row[3], row[4], row[6]) == (FORMULA, "+1 整改", "@领导")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(archive.read(n).decode() for n in sheets)
    assert "<f>" not in xml and "<f " not in xml
    cell = openpyxl.load_workbook(io.BytesIO(data))[SHEET]["D2"]
    assert (cell.data_type, cell.quotePrefix) == ("s", True)


def test_ledger_of_a_unit_holds_only_its_subtree(campaign, tree, agency_staff, committee_staff) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.ag1, agency_staff, description="总支下支部")
    _rect(campaign, tree.a2, agency_staff, description="综合股")
    _rect(campaign, tree.b1, committee_staff, description="外单位")
    rows = _sheet(rectification_ledger_workbook(campaign=campaign, unit=tree.a))
    assert sorted(r[3] for r in rows[1:]) == ["总支下支部", "综合股"]


def test_ledger_rows_ordered_by_org_path_then_deadline(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.a2, agency_staff, description="A2 晚", deadline=date(2026, 12, 1))
    _rect(campaign, tree.a2, agency_staff, description="A2 早", deadline=date(2026, 8, 1))
    _rect(campaign, tree.a1, agency_staff, description="A1", deadline=date(2026, 12, 31))
    rows = _sheet(rectification_ledger_workbook(campaign=campaign, unit=tree.a))
    a2 = ["A2 早", "A2 晚"]
    expected = ["A1", *a2] if tree.a1.path < tree.a2.path else [*a2, "A1"]
    assert [r[3] for r in rows[1:]] == expected
    assert [r[0] for r in rows[1:]] == [1, 2, 3]


def test_ledger_excludes_other_campaigns(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _rect(make_campaign(tree.gw, year=2025), tree.a1, agency_staff, description="去年的问题")
    rows = _sheet(rectification_ledger_workbook(campaign=campaign, unit=tree.gw))
    assert rows[1:] == []


def _queries(campaign, unit) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        rectification_ledger_workbook(campaign=campaign, unit=unit)
    return len(ctx.captured_queries)


def test_ledger_query_count_does_not_grow_with_rows(campaign, tree, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.a1, agency_staff).evidence.add(_evidence(tree.a1, "a.pdf"))
    one = _queries(campaign, tree.gw)
    for org in [tree.a1, tree.a2, tree.ag1] * 10:
        _rect(campaign, org, agency_staff).evidence.add(_evidence(org, "b.pdf"))
    assert _queries(campaign, tree.gw) == one


def test_export_command_writes_the_units_ledger(
    campaign, tree, closed, committee_staff, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _rect(campaign, tree.b1, committee_staff, description="外单位")
    out = tmp_path / "台账.xlsx"
    call_command("export_rectifications", "2026", "--unit", "A", "-o", str(out))
    rows = _sheet(out.read_bytes())
    assert [r[3] for r in rows[1:]] == ["组织生活会记录不全"]


def test_export_command_accepts_the_campaign_id(campaign, tree, closed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ledger.xlsx"
    call_command("export_rectifications", str(campaign.pk), "--unit", "GW", "-o", str(out))
    assert len(_sheet(out.read_bytes())) == 2


def test_export_command_refuses_an_unknown_unit(campaign, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="NOPE"):
        call_command("export_rectifications", "2026", "--unit", "NOPE", "-o", str(tmp_path / "x.xlsx"))
