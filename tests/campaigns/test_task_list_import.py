"""Task-list import and export (domain.md §12 sheet 任务清单, R9, R10)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from branches.models import AuditAction, AuditEvent, OrgKind, Role
from campaigns.exports import task_list_export, task_list_template, task_list_workbook
from campaigns.imports import task_list_import
from campaigns.models import CampaignStatus, ChecklistItem, Frequency, Section
from tests.branches.xlsx import XLSX_CONTENT_TYPE, rewrite_zip, workbook_bytes, zip_part
from tests.campaigns.factories import make_campaign, make_item, make_section

pytestmark = pytest.mark.django_db

# Spelled out from domain.md §12 rather than imported, so a wrong header in the product fails here.
HEADER = [
    "类别*",
    "任务编码*",
    "任务名称*",
    "工作要求",
    "佐证材料",
    "分值*",
    "评分细则",
    "考评方式",
    "完成时限/频次",
    "适用组织类型",
    "责任人角色",
]


def row(
    section: str = "政治建设",
    code: Any = "ZZ01",
    title: str = "学习贯彻党的创新理论",
    points: Any = 5,
    *,
    requirement: str = "每月集中学习不少于一次",
    evidence: str = "学习记录",
    rule: str = "缺一次扣1分",
    method: str = "查阅资料",
    due: Any = "每月",
    kinds: str = "",
    role: str = "",
) -> list[Any]:
    return [section, code, title, requirement, evidence, points, rule, method, due, kinds, role]


def book(*rows: list[Any], header: list[str] | None = None, sheet: str = "任务清单") -> bytes:
    return workbook_bytes({sheet: [header or HEADER, *rows]})


VALID_ROWS = (
    row("政治建设", "ZZ01", due="每月"),
    row(
        "政治建设", "ZZ02", "落实意识形态工作责任制", 4.5, due=date(2026, 6, 30), method="查阅资料、个别访谈"
    ),
    row("组织建设", "ZZ03", "规范召开组织生活会", 10, due="每年", kinds="党支部、党总支", role="书记"),
)


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw, year=2026, status=CampaignStatus.DRAFT)


def run(campaign, data: bytes, *, dry_run: bool = False, name: str = "任务清单.xlsx"):  # type: ignore[no-untyped-def]
    return task_list_import(campaign=campaign, data=data, file_name=name, actor=None, dry_run=dry_run)


def db_state(campaign) -> list[Any]:  # type: ignore[no-untyped-def]
    return [
        list(
            Section.objects.filter(campaign=campaign).order_by("pk").values_list("pk", "name", "sort_order")
        ),
        list(ChecklistItem.objects.filter(campaign=campaign).order_by("pk").values_list()),
    ]


# --- valid files ---------------------------------------------------------------------------------


def test_import_creates_sections_in_file_order_and_items(campaign) -> None:  # type: ignore[no-untyped-def]
    result = run(campaign, book(*VALID_ROWS))
    assert result.status == "applied", result.errors
    assert list(Section.objects.filter(campaign=campaign).values_list("name", flat=True)) == [
        "政治建设",
        "组织建设",
    ]
    assert ChecklistItem.objects.filter(campaign=campaign, owner__isnull=True).count() == 3


def test_import_reads_dates_frequencies_kinds_roles_and_methods(campaign) -> None:  # type: ignore[no-untyped-def]
    run(campaign, book(*VALID_ROWS))
    zz01, zz02, zz03 = ChecklistItem.objects.filter(campaign=campaign).order_by("code")
    assert (zz01.frequency, zz01.due_date) == (Frequency.MONTHLY, None)
    assert (zz02.frequency, zz02.due_date, zz02.points) == (Frequency.ONCE, date(2026, 6, 30), Decimal("4.5"))
    assert zz02.check_method == "查阅资料、个别访谈"
    assert zz03.applicable_kinds == [OrgKind.GENERAL_BRANCH, OrgKind.BRANCH]
    assert zz03.responsible_role == Role.SECRETARY


def test_import_accepts_a_date_typed_as_text_and_kinds_separated_by_commas(campaign) -> None:  # type: ignore[no-untyped-def]
    result = run(campaign, book(row(due="2026/9/30", kinds="党支部,党小组")))
    assert result.status == "applied", result.errors
    item = ChecklistItem.objects.get(code="ZZ01")
    assert (item.due_date, item.applicable_kinds) == (
        date(2026, 9, 30),
        [OrgKind.BRANCH, OrgKind.PARTY_GROUP],
    )


def test_reimporting_the_same_file_changes_nothing(campaign) -> None:  # type: ignore[no-untyped-def]
    data = book(*VALID_ROWS)
    run(campaign, data)
    before = db_state(campaign)
    result = run(campaign, data)
    assert (
        result.summary["未变任务"] == 3
        and result.summary["新增任务"] == 0
        and result.summary["更新任务"] == 0
    )
    assert db_state(campaign) == before


def test_reimport_updates_by_code_and_leaves_items_missing_from_the_file(campaign) -> None:  # type: ignore[no-untyped-def]
    run(campaign, book(*VALID_ROWS))
    result = run(campaign, book(row("纪律建设", "ZZ01", "新标题", 8)))
    assert result.summary["更新任务"] == 1
    item = ChecklistItem.objects.get(code="ZZ01")
    assert (item.title, item.points, item.section.name) == ("新标题", Decimal("8"), "纪律建设")
    assert ChecklistItem.objects.filter(campaign=campaign).count() == 3


def test_dry_run_reports_the_summary_and_writes_nothing(campaign) -> None:  # type: ignore[no-untyped-def]
    before = db_state(campaign)
    result = run(campaign, book(*VALID_ROWS), dry_run=True)
    assert result.status == "checked"
    assert result.summary["新增任务"] == 3 and result.summary["新增类别"] == 2
    assert db_state(campaign) == before


def test_import_records_an_audit_event(campaign) -> None:  # type: ignore[no-untyped-def]
    run(campaign, book(*VALID_ROWS))
    event = AuditEvent.objects.filter(action=AuditAction.IMPORT).latest("id")
    assert event.detail["kind"] == "task_list" and event.detail["status"] == "applied"
    assert event.target_id == str(campaign.pk)


# --- errors: nothing written ---------------------------------------------------------------------

ERROR_CASES = {
    "section_required": (row(section=""), "类别", "必须填写"),
    "code_required": (row(code=""), "任务编码", "必须填写"),
    "title_required": (row(title=""), "任务名称", "必须填写"),
    "points_required": (row(points=None), "分值", "必须填写"),
    "points_not_a_number": (row(points="五分"), "分值", "必须是数字"),
    "points_negative": (row(points=-1), "分值", "0 到 9999.99"),
    "points_three_decimals": (row(points="1.125"), "分值", "最多两位小数"),
    "impossible_date": (row(due="2026-02-30"), "完成时限/频次", "请填写日期"),
    "date_outside_the_year": (row(due=date(2027, 1, 10)), "完成时限/频次", "须在 2026 年内"),
    "unknown_frequency": (row(due="每周"), "完成时限/频次", "频次"),
    "unknown_kind": (row(kinds="党支部、科室"), "适用组织类型", "“科室”无效"),
    "unknown_role": (row(role="处长"), "责任人角色", "“处长”无效"),
    "unknown_check_method": (row(method="电话抽查"), "考评方式", "考评方式只能是"),
    "code_too_long": (row(code="X" * 31), "任务编码", "不能超过 30 个字符"),
    "section_too_long": (row(section="类" * 51), "类别", "不能超过 50 个字符"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_a_bad_cell_is_reported_with_row_and_column_and_nothing_is_written(campaign, case) -> None:  # type: ignore[no-untyped-def]
    bad, column, text = ERROR_CASES[case]
    before = db_state(campaign)
    result = run(campaign, book(row(code="OK1"), bad))
    assert result.status == "failed"
    assert [(e["sheet"], e["row"], e["column"]) for e in result.errors] == [("任务清单", 3, column)]
    assert text in result.errors[0]["message"]
    assert db_state(campaign) == before


def test_k_bad_rows_give_exactly_k_errors(campaign) -> None:  # type: ignore[no-untyped-def]
    rows = [row(code=f"OK{n}") for n in range(5)] + [row(code=f"BAD{n}", points="x") for n in range(3)]
    result = run(campaign, book(*rows))
    assert [e["row"] for e in result.errors] == [7, 8, 9]
    assert not ChecklistItem.objects.exists()


def test_duplicate_codes_in_the_file_are_refused(campaign) -> None:  # type: ignore[no-untyped-def]
    result = run(campaign, book(row(code="ZZ01"), row(code="ZZ02"), row(code="ZZ01")))
    assert [(e["row"], e["column"], e["message"]) for e in result.errors] == [
        (4, "任务编码", "任务编码“ZZ01”与第 2 行重复。")
    ]
    assert not Section.objects.exists()


def test_a_code_used_by_a_local_item_is_refused(campaign, tree) -> None:  # type: ignore[no-untyped-def]
    make_item(campaign, make_section(campaign), code="ZZ01", owner=tree.a, due_date=None)
    before = db_state(campaign)
    result = run(campaign, book(row(code="ZZ01")))
    assert "本级增加" in result.errors[0]["message"]
    assert db_state(campaign) == before


def test_a_missing_required_column_is_refused(campaign) -> None:  # type: ignore[no-untyped-def]
    header = [h for h in HEADER if h != "分值*"]
    result = run(campaign, book(["政治建设", "ZZ01", "学习"], header=header))
    assert [(e["row"], e["column"]) for e in result.errors] == [(1, "分值")]


def test_a_workbook_without_the_task_sheet_is_refused(campaign) -> None:  # type: ignore[no-untyped-def]
    result = run(campaign, book(row(), sheet="Sheet1"))
    assert "缺少工作表“任务清单”" in result.errors[0]["message"]


def test_an_empty_sheet_is_refused(campaign) -> None:  # type: ignore[no-untyped-def]
    result = run(campaign, book())
    assert result.status == "failed" and "没有可导入的任务" in result.errors[0]["message"]


def test_an_archived_campaign_refuses_imports(tree) -> None:  # type: ignore[no-untyped-def]
    archived = make_campaign(tree.gw, year=2026, status=CampaignStatus.ARCHIVED)
    result = run(archived, book(*VALID_ROWS))
    assert result.status == "failed" and "已归档" in result.errors[0]["message"]
    assert not ChecklistItem.objects.exists()


def _hostile(kind: str) -> tuple[bytes, str]:
    good = book(*VALID_ROWS)
    if kind == "macro":
        return rewrite_zip(good, add={"xl/vbaProject.bin": b"\x00" * 64}), "宏"
    if kind == "external_link":
        return rewrite_zip(good, add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}), "外部链接"
    if kind == "doctype":
        sheet = zip_part(good, "xl/worksheets/sheet1.xml")
        evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + sheet
        return rewrite_zip(good, replace={"xl/worksheets/sheet1.xml": evil}), "DOCTYPE"
    if kind == "zip_bomb":
        return rewrite_zip(good, add={"xl/media/huge.bin": b"\x00" * (8 * 1024 * 1024)}), "压缩比"
    return b"name,code\n", "不是有效的 Excel"


@pytest.mark.parametrize("kind", ["macro", "external_link", "doctype", "zip_bomb", "not_xlsx"])
def test_hostile_files_are_refused_before_parsing(campaign, kind) -> None:  # type: ignore[no-untyped-def]
    data, text = _hostile(kind)
    result = run(campaign, data)
    assert result.status == "failed"
    assert text in result.errors[0]["message"]
    assert not ChecklistItem.objects.exists()


def test_a_file_that_is_not_xlsx_by_name_is_refused(campaign) -> None:  # type: ignore[no-untyped-def]
    result = run(campaign, book(*VALID_ROWS), name="任务清单.xlsm")
    assert "宏" in result.errors[0]["message"]


# --- export ------------------------------------------------------------------------------------


def test_exported_list_imported_again_changes_nothing(campaign) -> None:  # type: ignore[no-untyped-def]
    run(campaign, book(*VALID_ROWS))
    before = db_state(campaign)
    result = run(campaign, task_list_workbook(campaign))
    assert result.summary["未变任务"] == 3, result.errors
    assert db_state(campaign) == before


def test_export_has_the_import_header_and_leaves_out_local_items(tree, campaign) -> None:  # type: ignore[no-untyped-def]
    run(campaign, book(*VALID_ROWS))
    make_item(campaign, Section.objects.get(name="政治建设"), code="LOCAL", owner=tree.a, due_date=None)
    sheet = openpyxl.load_workbook(io.BytesIO(task_list_workbook(campaign)))["任务清单"]
    assert [c.value for c in sheet[1]] == HEADER
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["ZZ01", "ZZ02", "ZZ03"]


def test_export_never_writes_user_text_as_formulas(campaign) -> None:  # type: ignore[no-untyped-def]
    section = make_section(campaign, "=1+1")
    make_item(
        campaign,
        section,
        code="@SUM(A1)",
        title='=HYPERLINK("http://evil.example","点我")',
        requirement="+1",
        scoring_rule="-2",
    )
    data = task_list_workbook(campaign)
    assert b"<f>" not in zip_part(data, "xl/worksheets/sheet1.xml")
    values = next(openpyxl.load_workbook(io.BytesIO(data))["任务清单"].iter_rows(min_row=2, values_only=True))
    assert values[:4] == ("=1+1", "@SUM(A1)", '=HYPERLINK("http://evil.example","点我")', "+1")


def test_export_records_an_audit_event(campaign, committee_admin) -> None:  # type: ignore[no-untyped-def]
    task_list_export(campaign=campaign, actor=committee_admin)
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert (event.actor, event.detail["kind"]) == (committee_admin, "task_list")


def test_the_blank_template_has_the_header_and_no_rows() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(task_list_template()))["任务清单"]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet.max_row == 1


def test_the_blank_template_imports_as_empty(campaign) -> None:  # type: ignore[no-untyped-def]
    result = run(campaign, task_list_template())
    assert "没有可导入的任务" in result.errors[0]["message"]


# --- commands ----------------------------------------------------------------------------------


def test_import_command_by_year_applies_the_file(campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "清单.xlsx"
    path.write_bytes(book(*VALID_ROWS))
    out = io.StringIO()
    call_command("import_task_list", "2026", str(path), stdout=out)
    assert "已导入" in out.getvalue()
    assert ChecklistItem.objects.filter(campaign=campaign).count() == 3


def test_import_command_dry_run_writes_nothing(campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "清单.xlsx"
    path.write_bytes(book(*VALID_ROWS))
    call_command("import_task_list", str(campaign.pk), str(path), "--dry-run", stdout=io.StringIO())
    assert not ChecklistItem.objects.exists()


def test_import_command_fails_with_the_errors(campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "清单.xlsx"
    path.write_bytes(book(row(points="x")))
    err = io.StringIO()
    with pytest.raises(CommandError, match="共 1 处错误"):
        call_command("import_task_list", "2026", str(path), stderr=err)
    assert "第 2 行 [分值]" in err.getvalue()


def test_export_command_writes_the_workbook(campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run(campaign, book(*VALID_ROWS))
    path = tmp_path / "out.xlsx"
    call_command("export_task_list", "2026", "-o", str(path), stdout=io.StringIO())
    sheet = openpyxl.load_workbook(path)["任务清单"]
    assert sheet.max_row == 4


# --- pages ---------------------------------------------------------------------------------------


def _upload(client, campaign, data: bytes, **extra: Any):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("任务清单.xlsx", data, content_type=XLSX_CONTENT_TYPE)
    url = reverse("campaigns:task_list_import", args=[campaign.pk])
    return client.post(url, {"file": upload, **extra}, follow=True)


def test_import_page_applies_a_valid_file_and_shows_the_summary(campaign, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = _upload(login(committee_admin), campaign, book(*VALID_ROWS))
    assert "导入成功" in response.content.decode()
    assert response.context["result"]["summary"]["新增任务"] == 3


def test_import_page_dry_run_checkbox_writes_nothing(campaign, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = _upload(login(committee_admin), campaign, book(*VALID_ROWS), dry_run="on")
    assert "预检通过" in response.content.decode()
    assert not ChecklistItem.objects.exists()


def test_import_page_lists_errors_and_offers_them_as_a_workbook(campaign, committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_admin)
    response = _upload(client, campaign, book(row(points="x"), row(code="ZZ02", role="处长")))
    page = response.content.decode()
    assert 'data-testid="import-errors"' in page and "分值必须是数字" in page
    url = reverse("campaigns:task_list_import_errors", args=[campaign.pk, response.context["result_key"]])
    download = client.get(url)
    assert download.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sheet.max_row == 3


def test_import_errors_of_one_session_are_not_served_to_another(
    campaign, committee_admin, login, client
) -> None:  # type: ignore[no-untyped-def]
    response = _upload(login(committee_admin), campaign, book(row(points="x")))
    key = response.context["result_key"]
    client.logout()
    other = login(committee_admin)
    assert other.get(reverse("campaigns:task_list_import_errors", args=[campaign.pk, key])).status_code == 404


def test_template_download_is_an_attachment(committee_admin, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_admin).get(reverse("campaigns:task_list_template"))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_export_page_serves_the_list_to_committee_staff(tree, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    published = make_campaign(tree.gw, year=2026)
    make_item(published, code="E1")
    response = login(committee_staff).get(reverse("campaigns:task_list_export", args=[published.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))["任务清单"]
    assert sheet.cell(row=2, column=2).value == "E1"
