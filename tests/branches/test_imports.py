"""Organisation import from Excel (domain.md §12, R9): validate everything, then write all or nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from math import ceil
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches import imports
from branches.imports.writing import _BATCH
from branches.models import (
    AuditAction,
    AuditEvent,
    ImportStatus,
    Member,
    MemberCategory,
    OrgImport,
    OrgKind,
    OrgUnit,
    Role,
    RoleGrant,
    User,
)
from tests.branches.xlsx import (
    MEMBER_HEADER,
    ORG_HEADER,
    XLSX_CONTENT_TYPE,
    member_row,
    org_row,
    org_workbook_bytes,
    rewrite_zip,
    workbook_bytes,
    zip_part,
)
from tests.conftest import Tree
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- helpers -------------------------------------------------------------------------------


def run_import(
    data: bytes, *, name: str = "组织.xlsx", dry_run: bool = False, actor: User | None = None
) -> OrgImport:
    return imports.org_tree_import_file(data=data, file_name=name, actor=actor, dry_run=dry_run)


def db_state() -> dict[str, Any]:
    """Everything an import may write, to prove that a refused import wrote nothing."""
    return {
        "orgs": OrgUnit.objects.count(),
        "members": Member.objects.count(),
        "users": User.objects.count(),
        "grants": RoleGrant.objects.count(),
        "org_rows": list(
            OrgUnit.objects.order_by("pk").values_list("code", "name", "path", "depth", "updated_at")
        ),
        "member_rows": list(
            Member.objects.order_by("pk").values_list("org_id", "name", "category", "updated_at")
        ),
    }


def errors_of(run: OrgImport) -> list[tuple[str, int | None, str]]:
    return [(e["sheet"], e["row"], e["column"]) for e in run.errors]


def message_at(run: OrgImport, sheet: str, row: int | None, column: str) -> str:
    matches = [
        e["message"] for e in run.errors if (e["sheet"], e["row"], e["column"]) == (sheet, row, column)
    ]
    assert matches, f"no error at {sheet}/{row}/{column}; got {run.errors}"
    return "；".join(matches)


def assert_refused_file(run: OrgImport, expected: str) -> None:
    """A refused package: exactly one file-level error and the log row says failed."""
    assert run.status == ImportStatus.FAILED
    assert len(run.errors) == 1, run.errors
    error = run.errors[0]
    assert (error["sheet"], error["row"]) == ("文件", None)
    assert expected in error["message"]


def sample_org_rows() -> list[list[Any]]:
    """A small complete tree for an empty database: 工委 → 机关党委 → 党总支 → 党支部 → 党小组, plus a 直属支部."""
    return [
        org_row("GW", "中共某市直属机关工作委员会", "工委", established=date(2010, 1, 1)),
        org_row(
            "CZ",
            "中共某市财政局机关委员会",
            "机关党委",
            "GW",
            agency="某市财政局",
            secretary_name="张三",
            secretary_account="zhangsan",
            sort=2,
            established="2019-05-04",
            term_ends="2024年5月3日",
        ),
        org_row("CZ-ZZ", "财政局机关党总支", "党总支", "CZ", agency="某市财政局", sort=1),
        org_row(
            "CZ-1",
            "预算股党支部",
            "党支部",
            "CZ-ZZ",
            secretary_name="李四",
            secretary_account="lisi",
            sort=1,
            established=datetime(2021, 6, 1, 0, 0),
            term_ends="2024/5/31",
        ),
        org_row("CZ-1-1", "预算股第一党小组", "党小组", "CZ-1"),
        org_row("DA", "市档案馆党支部", "党支部", "GW", sort=1, phone="0915-1234567", status="正常"),
    ]


def sample_member_rows() -> list[list[Any]]:
    return [
        member_row("王五", "CZ-1", "正式党员", date(2001, 7, 1), "wangwu"),
        member_row("赵六", "CZ-1", "预备党员", "2023/6/30"),
        member_row("张三", "CZ", "正式党员", "1998年7月1日", "zhangsan"),
    ]


def sample_workbook() -> bytes:
    return org_workbook_bytes(sample_org_rows(), sample_member_rows())


def valid_xlsx() -> bytes:
    """A well-formed workbook to start hostile variants from."""
    return org_workbook_bytes([org_row("GW", "工委", "工委")])


def library_branch_workbook() -> bytes:
    """One new 党支部 under the `tree` fixture's 工委, with a new secretary who is also its member."""
    return org_workbook_bytes(
        [org_row("D2", "市图书馆党支部", "党支部", "GW", secretary_name="冯二", secretary_account="fenger")],
        [member_row("冯二", "D2", account="fenger")],
    )


def row_for(org: OrgUnit, parent: str, **overrides: Any) -> list[Any]:
    """An import row that repeats what the database already holds for `org`."""
    values: dict[str, Any] = {
        "agency": org.agency_name,
        "phone": org.phone,
        "established": org.established_on,
        "term_ends": org.term_ends_on,
        "sort": org.sort_order,
        "status": "正常" if org.is_active else "撤销",
    }
    values.update(overrides)
    name = values.pop("name", org.name)
    kind = values.pop("kind", OrgKind(org.kind).label)
    return org_row(org.code, name, kind, parent, **values)


@pytest.fixture
def empty_state(db: None) -> dict[str, Any]:
    return db_state()


# --- a valid import ---------------------------------------------------------------------------


def test_import_into_empty_database_builds_tree_with_paths_depths_and_sort_order() -> None:
    run = run_import(sample_workbook())

    assert run.status == ImportStatus.APPLIED, run.errors
    orgs = {o.code: o for o in OrgUnit.objects.all()}
    assert set(orgs) == {"GW", "CZ", "CZ-ZZ", "CZ-1", "CZ-1-1", "DA"}
    gw, cz, zz, branch, group = (orgs[c] for c in ("GW", "CZ", "CZ-ZZ", "CZ-1", "CZ-1-1"))
    assert gw.path == f"/{gw.pk}/" and gw.depth == 0 and gw.parent_id is None
    assert cz.path == f"/{gw.pk}/{cz.pk}/" and cz.depth == 1
    assert zz.path == f"{cz.path}{zz.pk}/" and zz.depth == 2
    assert branch.path == f"{zz.path}{branch.pk}/" and branch.depth == 3
    assert group.path == f"{branch.path}{group.pk}/" and group.depth == 4 and group.parent_id == branch.pk
    assert orgs["DA"].parent_id == gw.pk
    assert (cz.sort_order, orgs["DA"].sort_order, group.sort_order) == (2, 1, 0)
    assert list(OrgUnit.objects.filter(parent=gw).order_by("sort_order").values_list("code", flat=True)) == [
        "DA",
        "CZ",
    ]


def test_import_reads_every_organisation_field() -> None:
    run_import(sample_workbook())

    cz = OrgUnit.objects.get(code="CZ")
    assert (cz.name, cz.kind, cz.agency_name) == (
        "中共某市财政局机关委员会",
        OrgKind.AGENCY_COMMITTEE,
        "某市财政局",
    )
    assert (cz.established_on, cz.term_ends_on) == (date(2019, 5, 4), date(2024, 5, 3))
    branch = OrgUnit.objects.get(code="CZ-1")
    assert (branch.established_on, branch.term_ends_on) == (date(2021, 6, 1), date(2024, 5, 31))
    assert OrgUnit.objects.get(code="DA").phone == "0915-1234567"
    assert all(OrgUnit.objects.values_list("is_active", flat=True))


def test_import_creates_secretary_accounts_that_cannot_log_in_until_reset() -> None:
    run_import(sample_workbook())

    zhang = User.objects.get(username="zhangsan")
    assert zhang.full_name == "张三"
    assert not zhang.has_usable_password()
    assert set(RoleGrant.objects.values_list("user__username", "org__code", "role")) == {
        ("zhangsan", "CZ", Role.SECRETARY),
        ("lisi", "CZ-1", Role.SECRETARY),
    }


def test_import_audits_created_accounts_and_grants() -> None:
    admin = UserFactory(username="importer")

    imports.org_tree_import_file(data=sample_workbook(), file_name="组织.xlsx", actor=admin, dry_run=False)

    created = AuditEvent.objects.filter(action=AuditAction.USER_CREATED)
    assert {e.detail["username"] for e in created} == {"zhangsan", "lisi", "wangwu"}
    granted = AuditEvent.objects.filter(action=AuditAction.ROLE_GRANTED)
    assert {(e.detail["user"], e.detail["org"]) for e in granted} == {("zhangsan", "CZ"), ("lisi", "CZ-1")}
    assert {e.actor_id for e in [*created, *granted]} == {admin.pk}
    assert RoleGrant.history.filter(history_type="+").count() == 2


def test_import_creates_members_and_links_their_accounts() -> None:
    run_import(sample_workbook())

    members = {m.name: m for m in Member.objects.select_related("org", "user")}
    assert set(members) == {"王五", "赵六", "张三"}
    assert members["王五"].org.code == "CZ-1" and members["王五"].user.username == "wangwu"
    assert members["王五"].joined_on == date(2001, 7, 1)
    assert members["赵六"].category == MemberCategory.PROBATIONARY and members["赵六"].user is None
    assert members["赵六"].joined_on == date(2023, 6, 30)
    # The secretary's account is the same person as the member row with that account.
    assert members["张三"].user == User.objects.get(username="zhangsan")


def test_successful_import_records_summary_log_row_and_audit_event() -> None:
    run = run_import(sample_workbook())

    assert run.summary == {
        "组织行数": 6,
        "党员行数": 3,
        "新增组织": 6,
        "更新组织": 0,
        "调整上级": 0,
        "未变组织": 0,
        "新增党员": 3,
        "更新党员": 0,
        "未变党员": 0,
        "新增账号": 3,
        "新增角色": 2,
    }
    assert len(run.sha256) == 64
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.target_id == str(run.pk) and event.detail["status"] == ImportStatus.APPLIED


def test_reimporting_the_same_file_changes_nothing() -> None:
    data = sample_workbook()
    run_import(data)
    before = db_state()
    grant_history = RoleGrant.history.count()

    run = run_import(data)

    assert run.status == ImportStatus.APPLIED
    assert db_state() == before  # same counts, paths and updated_at
    assert RoleGrant.history.count() == grant_history
    assert run.summary["未变组织"] == 6 and run.summary["未变党员"] == 3
    assert run.summary["新增组织"] == run.summary["更新组织"] == run.summary["新增党员"] == 0
    assert run.summary["新增账号"] == run.summary["新增角色"] == 0


def test_changed_row_updates_only_that_organisation_by_code() -> None:
    run_import(sample_workbook())
    before = {o.code: o for o in OrgUnit.objects.all()}
    rows = sample_org_rows()
    rows[5] = org_row("DA", "市档案馆机关党支部", "党支部", "GW", sort=7, phone="0915-7654321")

    run = run_import(org_workbook_bytes(rows, sample_member_rows()))

    assert run.summary["更新组织"] == 1 and run.summary["未变组织"] == 5
    after = {o.code: o for o in OrgUnit.objects.all()}
    da = after["DA"]
    assert (da.pk, da.name, da.sort_order, da.phone) == (
        before["DA"].pk,
        "市档案馆机关党支部",
        7,
        "0915-7654321",
    )
    assert da.updated_at > before["DA"].updated_at
    assert all(after[c].updated_at == before[c].updated_at for c in after if c != "DA")


def test_revoked_status_deactivates_the_organisation() -> None:
    run_import(sample_workbook())
    rows = sample_org_rows()
    rows[5][11] = "撤销"

    run_import(org_workbook_bytes(rows))

    assert OrgUnit.objects.get(code="DA").is_active is False
    assert OrgUnit.objects.filter(is_active=False).count() == 1


def test_columns_missing_from_the_file_are_left_unchanged(tree: Tree) -> None:
    OrgUnit.objects.filter(pk=tree.a1.pk).update(agency_name="财政局", phone="123")
    minimal = workbook_bytes(
        {"组织": [["组织编码", "组织名称", "组织类型", "上级组织编码"], ["A1", "新名称", "党支部", "A"]]}
    )

    run = run_import(minimal)

    assert run.status == ImportStatus.APPLIED, run.errors
    a1 = OrgUnit.objects.get(pk=tree.a1.pk)
    assert (a1.name, a1.agency_name, a1.phone, a1.sort_order) == ("新名称", "财政局", "123", 1)


def test_changed_parent_moves_the_subtree_and_rewrites_descendant_paths(tree: Tree) -> None:
    run = run_import(org_workbook_bytes([row_for(tree.ag, "B")]))

    assert run.status == ImportStatus.APPLIED, run.errors
    assert run.summary["调整上级"] == 1
    ag, ag1 = OrgUnit.objects.get(code="AG"), OrgUnit.objects.get(code="AG1")
    assert ag.parent_id == tree.b.pk
    assert ag.path == f"{tree.b.path}{ag.pk}/" and ag.depth == 2
    assert ag1.path == f"{ag.path}{ag1.pk}/" and ag1.depth == 3
    assert OrgUnit.objects.get(code="A").path == tree.a.path


def test_existing_branch_moves_under_a_general_branch_created_in_the_same_file(tree: Tree) -> None:
    rows = [
        org_row("A-ZZ", "财政局第二党总支", "党总支", "A"),
        row_for(tree.a2, "A-ZZ"),
        org_row("A2-G", "综合股党小组", "党小组", "A2"),
    ]

    run = run_import(org_workbook_bytes(rows))

    assert run.status == ImportStatus.APPLIED, run.errors
    new_zz, a2, group = (OrgUnit.objects.get(code=c) for c in ("A-ZZ", "A2", "A2-G"))
    assert new_zz.path == f"{tree.a.path}{new_zz.pk}/"
    assert a2.parent_id == new_zz.pk and a2.path == f"{new_zz.path}{a2.pk}/" and a2.depth == 3
    assert group.path == f"{a2.path}{group.pk}/" and group.depth == 4


def test_import_without_committee_row_attaches_to_the_existing_committee(tree: Tree) -> None:
    run = run_import(org_workbook_bytes([org_row("D2", "市图书馆党支部", "党支部", "GW")]))

    assert run.status == ImportStatus.APPLIED, run.errors
    d2 = OrgUnit.objects.get(code="D2")
    assert d2.path == f"{tree.gw.path}{d2.pk}/" and d2.depth == 1


def test_existing_account_gets_the_secretary_role_without_a_new_user(tree: Tree) -> None:
    person = UserFactory(username="liufang", full_name="刘芳")
    users = User.objects.count()

    run = run_import(
        org_workbook_bytes([row_for(tree.a2, "A", secretary_name="刘芳", secretary_account="LiuFang")])
    )

    assert run.status == ImportStatus.APPLIED, run.errors
    assert User.objects.count() == users
    assert RoleGrant.objects.filter(user=person, org=tree.a2, role=Role.SECRETARY).exists()


def test_member_without_account_is_updated_by_organisation_and_name(tree: Tree) -> None:
    member = MemberFactory(org=tree.d1, name="钱七", category=MemberCategory.PROBATIONARY)

    run = run_import(org_workbook_bytes([], [member_row("钱七", "D1", "正式党员", "2020-07-01")]))

    assert run.status == ImportStatus.APPLIED, run.errors
    member.refresh_from_db()
    assert (member.category, member.joined_on) == (MemberCategory.FULL, date(2020, 7, 1))
    assert run.summary["更新党员"] == 1 and run.summary["新增党员"] == 0


def test_member_account_links_the_existing_roster_entry_instead_of_duplicating_it(tree: Tree) -> None:
    member = MemberFactory(org=tree.d1, name="孙八")

    run_import(org_workbook_bytes([], [member_row("孙八", "D1", account="sunba")]))

    member.refresh_from_db()
    assert member.user is not None and member.user.username == "sunba"
    assert Member.objects.filter(name="孙八").count() == 1


def test_member_with_account_moves_to_the_organisation_in_the_file(tree: Tree) -> None:
    person = UserFactory(username="zhoujiu", full_name="周九")
    member = MemberFactory(org=tree.a1, name="周九", user=person)

    run_import(org_workbook_bytes([], [member_row("周九", "B1", account="zhoujiu")]))

    member.refresh_from_db()
    assert member.org_id == tree.b1.pk


def test_members_absent_from_the_file_are_kept(tree: Tree) -> None:
    members = Member.objects.count()

    run_import(org_workbook_bytes([], [member_row("吴十", "D1")]))

    assert Member.objects.count() == members + 1


def test_numeric_codes_are_read_as_text() -> None:
    rows = [org_row(1000, "工委", "工委"), org_row(1001.0, "市档案馆党支部", "党支部", 1000.0)]

    run = run_import(org_workbook_bytes(rows, [member_row("郑一", 1001.0)]))

    assert run.status == ImportStatus.APPLIED, run.errors
    assert set(OrgUnit.objects.values_list("code", flat=True)) == {"1000", "1001"}
    assert Member.objects.get(name="郑一").org.code == "1001"


def test_headers_match_by_name_in_any_order_with_or_without_asterisk() -> None:
    header = ["状态", "上级组织编码", "组织类型", "组织名称＊", "组织编码", "备注（系统忽略）"]
    rows = [header, ["", "", "工委", "工委", "GW", "x"], ["撤销", "GW", "党支部", "档案馆党支部", "DA", ""]]

    run = run_import(workbook_bytes({"组织": rows}))

    assert run.status == ImportStatus.APPLIED, run.errors
    assert OrgUnit.objects.get(code="DA").is_active is False


def test_blank_rows_and_whitespace_are_ignored() -> None:
    rows = [
        org_row("  GW ", " 工委 ", "工委"),
        [None] * 12,
        ["", "  ", None, "", "", "", "", "", "", "", "", ""],
        org_row("DA", "档案馆党支部", " 党支部 ", "GW"),
    ]

    run = run_import(org_workbook_bytes(rows))

    assert run.status == ImportStatus.APPLIED, run.errors
    assert set(OrgUnit.objects.values_list("code", "name")) == {("GW", "工委"), ("DA", "档案馆党支部")}


def test_dry_run_reports_the_plan_and_writes_nothing(tree: Tree) -> None:
    before = db_state()

    run = run_import(library_branch_workbook(), dry_run=True)

    assert run.status == ImportStatus.CHECKED and run.errors == []
    assert run.summary["新增组织"] == 1 and run.summary["新增党员"] == 1
    assert db_state() == before
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, detail__dry_run=True).count() == 1


# --- rows that are refused: nothing is written and the error says where -----------------------------


def test_missing_required_column_is_reported_on_the_header_row(tree: Tree) -> None:
    before = db_state()
    header = [h for h in ORG_HEADER if h != "组织类型*"]

    run = run_import(workbook_bytes({"组织": [header, ["D2", "图书馆党支部", "GW"]]}))

    assert run.status == ImportStatus.FAILED
    assert errors_of(run) == [("组织", 1, "组织类型")]
    assert "缺少必填列" in run.errors[0]["message"]
    assert db_state() == before


def test_missing_required_column_in_members_sheet_is_reported(tree: Tree) -> None:
    before = db_state()
    run = run_import(
        workbook_bytes({"组织": [ORG_HEADER], "党员": [["姓名", "党员类别"], ["张", "正式党员"]]})
    )

    assert errors_of(run) == [("党员", 1, "所在组织编码")]
    assert db_state() == before


def test_import_with_unknown_kind_reports_row_and_writes_nothing(tree: Tree) -> None:
    before = db_state()

    run = run_import(org_workbook_bytes([org_row("D2", "图书馆党支部", "支部", "GW")]))

    assert errors_of(run) == [("组织", 2, "组织类型")]
    assert "工委、机关党委、党总支、党支部、党小组" in run.errors[0]["message"]
    assert db_state() == before


def test_import_with_missing_required_cells_reports_each_cell(tree: Tree) -> None:
    before = db_state()
    run = run_import(org_workbook_bytes([org_row("", "", "党支部", "GW")]))

    assert errors_of(run) == [("组织", 2, "组织编码"), ("组织", 2, "组织名称")]
    assert db_state() == before


def test_import_with_unknown_parent_reports_row_and_writes_nothing(tree: Tree) -> None:
    before = db_state()
    rows = [org_row("D2", "图书馆党支部", "党支部", "GW"), org_row("D3", "博物馆党支部", "党支部", "NOPE")]

    run = run_import(org_workbook_bytes(rows))

    assert errors_of(run) == [("组织", 3, "上级组织编码")]
    assert "“NOPE”" in run.errors[0]["message"]
    assert db_state() == before


def test_parent_kind_not_allowed_is_reported(tree: Tree) -> None:
    before = db_state()
    rows = [org_row("G1", "第一党小组", "党小组", "A1"), org_row("X1", "某党支部", "党支部", "G1")]

    run = run_import(org_workbook_bytes(rows))

    assert message_at(run, "组织", 3, "上级组织编码") == "党支部的上级不能是党小组。"
    assert len(run.errors) == 1
    assert db_state() == before


def test_committee_with_a_parent_is_reported(empty_state: dict[str, Any]) -> None:
    run = run_import(org_workbook_bytes([org_row("GW", "工委", "工委", "X")]))

    assert errors_of(run) == [("组织", 2, "上级组织编码")]
    assert db_state() == empty_state


def test_cycle_within_the_file_is_reported_on_every_row_in_it(tree: Tree) -> None:
    before = db_state()
    rows = [org_row("X1", "甲党支部", "党支部", "X2"), org_row("X2", "乙党支部", "党支部", "X1")]

    run = run_import(org_workbook_bytes(rows))

    assert "循环" in message_at(run, "组织", 2, "上级组织编码")
    assert "X1 → X2 → X1" in message_at(run, "组织", 3, "上级组织编码")
    assert db_state() == before


def test_reimport_moving_an_organisation_under_its_own_descendant_is_a_cycle(tree: Tree) -> None:
    before = db_state()

    run = run_import(org_workbook_bytes([row_for(tree.a, "AG1")]))

    assert "循环" in message_at(run, "组织", 2, "上级组织编码")
    assert db_state() == before


def test_parent_equal_to_own_code_is_reported(tree: Tree) -> None:
    before = db_state()
    run = run_import(org_workbook_bytes([org_row("X1", "甲党支部", "党支部", "X1")]))

    assert message_at(run, "组织", 2, "上级组织编码") == imports.ERR_PARENT_SELF
    assert db_state() == before


def test_two_committees_in_the_file_are_reported(empty_state: dict[str, Any]) -> None:
    rows = [org_row("GW", "工委", "工委"), org_row("GW2", "另一个工委", "工委")]

    run = run_import(org_workbook_bytes(rows))

    assert errors_of(run) == [("组织", 3, "组织类型")]
    assert "第 2 行已经是工委" in run.errors[0]["message"]
    assert db_state() == empty_state


def test_second_committee_against_the_database_is_reported(tree: Tree) -> None:
    before = db_state()

    run = run_import(org_workbook_bytes([org_row("GW-NEW", "新工委", "工委")]))

    assert errors_of(run) == [("组织", 2, "组织类型")]
    assert "系统中已有工委" in run.errors[0]["message"]
    assert db_state() == before


def test_file_without_committee_into_empty_database_is_reported(empty_state: dict[str, Any]) -> None:
    run = run_import(org_workbook_bytes([org_row("A", "机关党委", "机关党委", "GW")]))

    assert ("组织", None, "组织类型") in errors_of(run)
    assert ("组织", 2, "上级组织编码") in errors_of(run)
    assert db_state() == empty_state


def test_kind_change_that_strands_existing_children_is_reported(tree: Tree) -> None:
    before = db_state()

    run = run_import(org_workbook_bytes([row_for(tree.ag, "A", kind="党支部")]))

    assert "国库支付中心党支部" in message_at(run, "组织", 2, "组织类型")
    assert db_state() == before


def test_duplicate_codes_are_reported_on_the_later_row(tree: Tree) -> None:
    before = db_state()
    rows = [org_row("D2", "图书馆党支部", "党支部", "GW"), org_row("D2", "博物馆党支部", "党支部", "GW")]

    run = run_import(org_workbook_bytes(rows))

    assert errors_of(run) == [("组织", 3, "组织编码")]
    assert "与第 2 行重复" in run.errors[0]["message"]
    assert db_state() == before


@pytest.mark.parametrize("bad", ["2024-13-01", "2024-02-30", "昨天", "2024.1.1", 45000, "01/02/2024"])
def test_bad_dates_are_reported(tree: Tree, bad: object) -> None:
    before = db_state()

    run = run_import(org_workbook_bytes([org_row("D2", "图书馆党支部", "党支部", "GW", established=bad)]))

    assert errors_of(run) == [("组织", 2, "成立日期")]
    assert db_state() == before


def test_term_end_before_establishment_is_reported(tree: Tree) -> None:
    before = db_state()
    row = org_row("D2", "图书馆党支部", "党支部", "GW", established="2024-01-01", term_ends="2023-12-31")

    run = run_import(org_workbook_bytes([row]))

    assert errors_of(run) == [("组织", 2, "届满日期")]
    assert db_state() == before


def test_bad_sort_order_and_status_are_reported(tree: Tree) -> None:
    before = db_state()
    rows = [
        org_row("D2", "图书馆党支部", "党支部", "GW", sort="第一"),
        org_row("D3", "博物馆党支部", "党支部", "GW", sort=1.5, status="停用"),
    ]

    run = run_import(org_workbook_bytes(rows))

    assert errors_of(run) == [("组织", 2, "排序"), ("组织", 3, "排序"), ("组织", 3, "状态")]
    assert db_state() == before


@pytest.mark.parametrize("account", ["ab", "张三", "zhang san", "a" * 65, "x/y"])
def test_bad_account_names_are_reported(tree: Tree, account: str) -> None:
    before = db_state()
    row = org_row("D2", "图书馆党支部", "党支部", "GW", secretary_name="冯二", secretary_account=account)

    run = run_import(org_workbook_bytes([row]))

    assert errors_of(run) == [("组织", 2, "书记账号")]
    assert db_state() == before


def test_secretary_account_without_name_is_reported(tree: Tree) -> None:
    before = db_state()
    run = run_import(
        org_workbook_bytes([org_row("D2", "图书馆党支部", "党支部", "GW", secretary_account="fenger")])
    )

    assert errors_of(run) == [("组织", 2, "书记姓名")]
    assert db_state() == before


def test_same_account_with_two_names_in_the_file_is_reported(tree: Tree) -> None:
    before = db_state()
    rows = [org_row("D2", "图书馆党支部", "党支部", "GW", secretary_name="冯二", secretary_account="fenger")]

    run = run_import(org_workbook_bytes(rows, [member_row("冯贰", "D2", account="FengEr")]))

    assert errors_of(run) == [("党员", 2, "账号")]
    assert "“组织”第 2 行" in run.errors[0]["message"]
    assert db_state() == before


def test_account_belonging_to_someone_else_in_the_database_is_reported(tree: Tree) -> None:
    UserFactory(username="wangfang", full_name="王芳")
    before = db_state()
    row = row_for(tree.a2, "A", secretary_name="王方", secretary_account="wangfang")

    run = run_import(org_workbook_bytes([row]))

    assert errors_of(run) == [("组织", 2, "书记账号")]
    assert "系统中属于“王芳”" in run.errors[0]["message"]
    assert db_state() == before


def test_member_errors_are_reported_with_their_rows(tree: Tree) -> None:
    before = db_state()
    members = [
        member_row("甲", "NOPE"),
        member_row("乙", "D1", "党员"),
        member_row("丙", "D1", joined="去年"),
        member_row("", "D1"),
    ]

    run = run_import(org_workbook_bytes([], members))

    assert errors_of(run) == [
        ("党员", 2, "所在组织编码"),
        ("党员", 3, "党员类别"),
        ("党员", 4, "入党日期"),
        ("党员", 5, "姓名"),
    ]
    assert db_state() == before


def test_duplicate_member_without_account_is_reported(tree: Tree) -> None:
    before = db_state()
    run = run_import(org_workbook_bytes([], [member_row("陈一", "D1"), member_row("陈一", "D1")]))

    assert errors_of(run) == [("党员", 3, "姓名")]
    assert db_state() == before


def test_same_name_members_with_accounts_are_two_people(tree: Tree) -> None:
    rows = [member_row("陈一", "D1", account="chenyi1"), member_row("陈一", "D1", account="chenyi2")]

    run = run_import(org_workbook_bytes([], rows))

    assert run.status == ImportStatus.APPLIED, run.errors
    assert Member.objects.filter(name="陈一", org=tree.d1).count() == 2


def test_member_account_used_twice_is_reported(tree: Tree) -> None:
    before = db_state()
    rows = [member_row("陈一", "D1", account="chenyi"), member_row("陈一", "A1", account="chenyi")]

    run = run_import(org_workbook_bytes([], rows))

    assert errors_of(run) == [("党员", 3, "账号")]
    assert db_state() == before


def test_member_ambiguous_in_the_database_asks_for_an_account(tree: Tree) -> None:
    MemberFactory(org=tree.d1, name="褚二")
    MemberFactory(org=tree.d1, name="褚二")
    before = db_state()

    run = run_import(org_workbook_bytes([], [member_row("褚二", "D1")]))

    assert errors_of(run) == [("党员", 2, "姓名")]
    assert "请填写账号" in run.errors[0]["message"]
    assert db_state() == before


def test_k_bad_rows_among_many_good_rows_list_exactly_k_errors(tree: Tree) -> None:
    before = db_state()
    rows = [org_row(f"N{i:03d}", f"第{i}党支部", "党支部", "A", sort=i) for i in range(300)]
    bad_positions = [7, 58, 123, 200, 299]
    for i in bad_positions:
        rows[i][2] = "党委"
    run = run_import(org_workbook_bytes(rows))

    assert errors_of(run) == [("组织", i + 2, "组织类型") for i in bad_positions]
    assert run.summary == {"组织行数": 300, "党员行数": 0, "错误数": 5}
    assert db_state() == before


def test_failed_import_still_records_log_row_and_audit_event(tree: Tree) -> None:
    run = run_import(org_workbook_bytes([org_row("D2", "图书馆党支部", "支部", "GW")]))

    assert OrgImport.objects.get().status == ImportStatus.FAILED
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.target_id == str(run.pk) and event.detail["errors"] == 1


def test_import_query_count_does_not_grow_with_rows(tree: Tree, django_assert_max_num_queries: Any) -> None:
    def workbook(prefix: str, parent: str, n: int) -> bytes:
        orgs = [
            org_row(f"{prefix}{i}", f"{prefix}党支部{i}", "党支部", parent, secretary_name=f"书记{prefix}{i}",
                    secretary_account=f"{prefix.lower()}sec{i}", sort=i)
            for i in range(n)
        ]  # fmt: skip
        members = [
            member_row(f"党员{prefix}{i}", f"{prefix}{i}", account=f"{prefix.lower()}m{i}") for i in range(n)
        ]
        members += [member_row(f"预备{prefix}{i}", f"{prefix}{i}", "预备党员") for i in range(n)]
        return org_workbook_bytes(orgs, members)

    with CaptureQueriesContext(connection) as small:
        assert run_import(workbook("S", "A", 20)).status == ImportStatus.APPLIED
    reads = [q for q in small.captured_queries if q["sql"].startswith("SELECT")]
    # Writes are bulk statements, but SQLite caps each statement at 999 parameters, so
    # 200 rows need a few more INSERT batches than 20 rows: allow exactly those, per table.
    # A query per row would need 1,000+ queries here.
    limit = len(small.captured_queries) + extra_insert_batches(20, 200)
    with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as large:
        assert run_import(workbook("L", "B", 200)).status == ImportStatus.APPLIED
    assert len([q for q in large.captured_queries if q["sql"].startswith("SELECT")]) == len(reads)


def extra_insert_batches(small: int, large: int) -> int:
    """Additional bulk INSERT statements for `large` rows compared with `small` rows."""
    # Rows written per sheet row in the workbook above: one organisation, two accounts
    # (secretary and member), one grant and its history row, two members, three audit events.
    per_row = {OrgUnit: 1, User: 2, RoleGrant: 1, RoleGrant.history.model: 1, Member: 2, AuditEvent: 3}

    def batches(model: Any, n: int) -> int:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        size = min(_BATCH, connection.ops.bulk_batch_size(fields, [None] * n))
        return ceil(n / size)

    return sum(batches(m, large * k) - batches(m, small * k) for m, k in per_row.items())


# --- files that are refused before parsing (R9) ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("组织.xlsx", b"<html><body><table><tr><td>GW</td></tr></table></body></html>", "不是有效的 Excel"),
        ("组织.xlsx", "组织编码,组织名称\nGW,工委\n".encode(), "不是有效的 Excel"),
        ("组织.csv", "组织编码,组织名称\nGW,工委\n".encode(), "只能上传 Excel 工作簿（.xlsx）"),
        ("组织.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "只能上传 Excel 工作簿（.xlsx）"),
        ("组织.xlsx", b"", "不是有效的 Excel"),
    ],
    ids=["html-renamed", "csv-renamed", "csv", "xls", "empty"],
)
def test_file_that_is_not_an_xlsx_is_refused(tree: Tree, name: str, data: bytes, expected: str) -> None:
    before = db_state()

    run = run_import(data, name=name)

    assert_refused_file(run, expected)
    assert db_state() == before


def test_zip_that_is_not_a_workbook_is_refused(tree: Tree) -> None:
    before = db_state()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")

    run = run_import(buffer.getvalue())

    assert_refused_file(run, "不是有效的 Excel")
    assert db_state() == before


def test_macro_enabled_extension_is_refused(tree: Tree) -> None:
    before = db_state()
    run = run_import(valid_xlsx(), name="组织.xlsm")

    assert_refused_file(run, "启用宏")
    assert db_state() == before


def test_workbook_containing_a_vba_project_is_refused(tree: Tree) -> None:
    before = db_state()

    run = run_import(rewrite_zip(valid_xlsx(), add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"}))

    assert_refused_file(run, "宏")
    assert db_state() == before


def test_workbook_with_macro_enabled_content_type_is_refused(tree: Tree) -> None:
    before = db_state()
    data = valid_xlsx()
    types = zip_part(data, "[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )

    run = run_import(rewrite_zip(data, replace={"[Content_Types].xml": types}))

    assert_refused_file(run, "宏")
    assert db_state() == before


def test_workbook_with_external_link_part_is_refused(tree: Tree) -> None:
    before = db_state()
    link = b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'

    run = run_import(rewrite_zip(valid_xlsx(), add={"xl/externalLinks/externalLink1.xml": link}))

    assert_refused_file(run, "外部链接")
    assert db_state() == before


def test_workbook_with_external_link_relationship_is_refused(tree: Tree) -> None:
    before = db_state()
    data = valid_xlsx()
    rels = zip_part(data, "xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Target="file:///C:/secret.xlsx" TargetMode="External" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink"/>'
        b"</Relationships>",
    )

    run = run_import(rewrite_zip(data, replace={"xl/_rels/workbook.xml.rels": rels}))

    assert_refused_file(run, "外部链接")
    assert db_state() == before


def test_zip_bomb_with_extreme_compression_ratio_is_refused(tree: Tree) -> None:
    before = db_state()
    bomb = rewrite_zip(valid_xlsx(), add={"xl/media/padding.bin": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # 20 MB of zeros deflate to a few kilobytes

    run = run_import(bomb)

    assert_refused_file(run, "压缩比")
    assert db_state() == before


def test_zip_larger_than_the_uncompressed_limit_is_refused(tree: Tree, settings: Any) -> None:
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 2_000
    before = db_state()

    run = run_import(valid_xlsx())

    assert_refused_file(run, "过大")
    assert db_state() == before


def test_zip_with_thousands_of_parts_is_refused(tree: Tree) -> None:
    before = db_state()
    parts = {f"xl/media/p{i}.bin": b"x" for i in range(imports.MAX_ZIP_MEMBERS + 1)}

    run = run_import(rewrite_zip(valid_xlsx(), add=parts))

    assert_refused_file(run, "部件过多")
    assert db_state() == before


@pytest.mark.parametrize(
    "prolog",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>',
        b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        b'<?xml version="1.0"?><!ENTITY lol "lol">',
    ],
    ids=["billion-laughs", "xxe", "bare-entity"],
)
def test_xml_with_doctype_or_entity_is_refused(tree: Tree, prolog: bytes) -> None:
    before = db_state()
    data = valid_xlsx()
    workbook_xml = zip_part(data, "xl/workbook.xml")
    body = (
        workbook_xml[workbook_xml.index(b"?>") + 2 :] if workbook_xml.startswith(b"<?xml") else workbook_xml
    )

    run = run_import(rewrite_zip(data, replace={"xl/workbook.xml": prolog + body}))

    assert_refused_file(run, "DOCTYPE")
    assert db_state() == before


def test_doctype_hidden_in_utf16_xml_is_refused(tree: Tree) -> None:
    before = db_state()
    data = valid_xlsx()
    sheet = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'

    run = run_import(rewrite_zip(data, replace={"xl/worksheets/sheet1.xml": sheet.encode("utf-16")}))

    assert_refused_file(run, "DOCTYPE")
    assert db_state() == before


def test_file_over_the_size_limit_is_refused(tree: Tree, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 1_000
    before = db_state()

    run = run_import(sample_workbook())

    assert_refused_file(run, "超过上限")
    assert db_state() == before


class _UnreadableUpload(SimpleUploadedFile):
    """An upload that fails the test if anything reads its content."""

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("an oversize upload must not be read")

    def chunks(self, chunk_size: int | None = None) -> Any:
        raise AssertionError("an oversize upload must not be read")


def test_upload_over_the_size_limit_is_refused_without_reading_it(tree: Tree, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 1_000
    before = db_state()
    upload = _UnreadableUpload("组织.xlsx", b"x" * 5_000, content_type=XLSX_CONTENT_TYPE)

    run = imports.org_tree_import_upload(upload=upload, actor=None, dry_run=False)

    assert_refused_file(run, "超过上限")
    assert run.sha256 == ""
    assert db_state() == before


def test_corrupt_sheet_xml_is_reported_as_unreadable(tree: Tree) -> None:
    before = db_state()
    data = rewrite_zip(valid_xlsx(), replace={"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"})

    run = run_import(data)

    assert_refused_file(run, "无法读取")
    assert db_state() == before


def test_workbook_without_organisation_sheet_is_reported(tree: Tree) -> None:
    before = db_state()
    run = run_import(workbook_bytes({"Sheet1": [ORG_HEADER, ["D2", "图书馆党支部", "党支部", "GW"]]}))

    assert errors_of(run) == [("组织", None, "")]
    assert db_state() == before


# --- the template and the errors workbook ----------------------------------------------------------------


def test_template_has_both_sheets_headers_help_and_drop_downs() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(imports.template_workbook()))

    assert workbook.sheetnames == ["组织", "党员", "说明"]
    assert [c.value for c in workbook["组织"][1]] == ORG_HEADER
    assert [c.value for c in workbook["党员"][1]] == MEMBER_HEADER
    org_lists = {dv.formula1 for dv in workbook["组织"].data_validations.dataValidation}
    assert org_lists == {'"工委,机关党委,党总支,党支部,党小组"', '"正常,撤销"'}
    assert {dv.formula1 for dv in workbook["党员"].data_validations.dataValidation} == {'"正式党员,预备党员"'}
    help_text = " ".join(str(c.value) for row in workbook["说明"].iter_rows() for c in row if c.value)
    assert all(h.rstrip("*") in help_text for h in ORG_HEADER + MEMBER_HEADER)


def test_blank_template_round_trips_to_a_single_no_data_error(empty_state: dict[str, Any]) -> None:
    run = run_import(imports.template_workbook(), name="组织导入模板.xlsx")

    assert run.status == ImportStatus.FAILED
    assert run.errors == [{"sheet": "文件", "row": None, "column": "", "message": imports.ERR_NO_DATA}]
    assert db_state() == empty_state


def test_filled_in_template_imports() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(imports.template_workbook()))
    workbook["组织"].append(org_row("GW", "工委", "工委"))
    workbook["党员"].append(member_row("卫三", "GW"))
    buffer = io.BytesIO()
    workbook.save(buffer)

    run = run_import(buffer.getvalue())

    assert run.status == ImportStatus.APPLIED, run.errors


def test_errors_workbook_writes_formula_like_text_as_text() -> None:
    hostile = '=HYPERLINK("http://evil.example/","点击")'
    errors = [
        {"sheet": "=1+1", "row": 3, "column": "+SUM(A1)", "message": hostile},
        {"sheet": "组织", "row": None, "column": "@cmd", "message": "-2+3"},
        {"sheet": "组织", "row": 5, "column": "", "message": "#N/A"},
    ]

    data = imports.errors_workbook(errors)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name
    sheet = openpyxl.load_workbook(io.BytesIO(data))["错误清单"]
    assert [c.value for c in sheet[1]] == ["工作表", "行号", "列", "错误原因"]
    assert [c.value for c in sheet[2]] == ["=1+1", "3", "+SUM(A1)", hostile]
    assert [c.value for c in sheet[3]] == ["组织", None, "@cmd", "-2+3"]
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None)


def test_error_line_names_sheet_row_and_column() -> None:
    error = {"sheet": "组织", "row": 12, "column": "组织类型", "message": "组织类型只能是……"}

    assert imports.error_line(error) == "工作表 组织 第 12 行 [组织类型]：组织类型只能是……"


# --- the web pages -----------------------------------------------------------------------------------------


def test_committee_admin_downloads_the_template(committee_admin: User, login: Any) -> None:
    response = login(committee_admin).get(reverse("branches:org_import_template"))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames[:2] == ["组织", "党员"]


def test_branch_secretary_cannot_upload(branch_secretary: User, login: Any) -> None:
    upload = SimpleUploadedFile("组织.xlsx", valid_xlsx(), content_type=XLSX_CONTENT_TYPE)

    response = login(branch_secretary).post(reverse("branches:org_import"), {"file": upload})

    assert response.status_code == 403
    assert not OrgImport.objects.exists()


def test_upload_with_errors_redirects_to_the_detail_page_listing_them(
    committee_admin: User, login: Any
) -> None:
    client = login(committee_admin)
    before = db_state()
    data = org_workbook_bytes([org_row("D2", "图书馆党支部", "党支部", "NOPE")])
    upload = SimpleUploadedFile("组织.xlsx", data, content_type=XLSX_CONTENT_TYPE)

    response = client.post(reverse("branches:org_import"), {"file": upload})

    run = OrgImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("branches:org_import_detail", args=[run.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "上级组织编码“NOPE”在本文件和系统中都不存在" in page.content.decode()
    assert reverse("branches:org_import_errors", args=[run.pk]) in page.content.decode()
    assert run.uploaded_by == committee_admin
    assert db_state() == before


def test_valid_upload_is_applied(committee_admin: User, login: Any) -> None:
    upload = SimpleUploadedFile("组织.xlsx", library_branch_workbook(), content_type=XLSX_CONTENT_TYPE)

    response = login(committee_admin).post(reverse("branches:org_import"), {"file": upload}, follow=True)

    assert OrgImport.objects.get().status == ImportStatus.APPLIED
    assert OrgUnit.objects.filter(code="D2").exists()
    assert "导入成功" in response.content.decode()


def test_dry_run_upload_writes_nothing(committee_admin: User, login: Any) -> None:
    before = db_state()
    upload = SimpleUploadedFile("组织.xlsx", library_branch_workbook(), content_type=XLSX_CONTENT_TYPE)

    login(committee_admin).post(reverse("branches:org_import"), {"file": upload, "dry_run": "on"})

    assert OrgImport.objects.get().status == ImportStatus.CHECKED
    assert db_state() == before


def test_errors_download_lists_every_error(committee_admin: User, login: Any) -> None:
    rows = [org_row("D2", "图书馆党支部", "支部", "GW"), org_row("D3", "博物馆党支部", "党支部", "NOPE")]
    run = run_import(org_workbook_bytes(rows))

    response = login(committee_admin).get(reverse("branches:org_import_errors", args=[run.pk]))

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))["错误清单"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [v[:3] for v in values] == [["组织", "2", "组织类型"], ["组织", "3", "上级组织编码"]]


# --- the management command ----------------------------------------------------------------------------------


def test_command_imports_the_file_and_prints_a_summary(tmp_path: Any) -> None:
    path = tmp_path / "组织.xlsx"
    path.write_bytes(sample_workbook())
    out = io.StringIO()

    call_command("import_org_tree", str(path), stdout=out)

    assert "已导入" in out.getvalue() and "新增组织 6" in out.getvalue()
    assert OrgUnit.objects.count() == 6
    assert OrgImport.objects.get().uploaded_by is None


def test_command_prints_each_error_and_exits_non_zero(tree: Tree, tmp_path: Any) -> None:
    before = db_state()
    path = tmp_path / "组织.xlsx"
    path.write_bytes(
        org_workbook_bytes([org_row("D2", "图书馆党支部", "党支部", "GW"), org_row("D3", "x", "支部", "GW")])
    )
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 处错误"):
        call_command("import_org_tree", str(path), stderr=err)

    assert "工作表 组织 第 3 行 [组织类型]：组织类型只能是" in err.getvalue()
    assert db_state() == before


def test_command_dry_run_validates_and_writes_nothing(tree: Tree, tmp_path: Any) -> None:
    before = db_state()
    path = tmp_path / "组织.xlsx"
    path.write_bytes(library_branch_workbook())
    out = io.StringIO()

    call_command("import_org_tree", str(path), "--dry-run", stdout=out)

    assert "预检通过" in out.getvalue()
    assert db_state() == before
    assert OrgImport.objects.get().status == ImportStatus.CHECKED


def test_command_refuses_a_missing_file(tmp_path: Any) -> None:
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_org_tree", str(tmp_path / "nope.xlsx"))
