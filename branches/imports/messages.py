"""The workbook format and every word the organisation import shows to people.

Column names, field-length limits, the Chinese error and summary texts and the error
record (`RowError`, collected by `_Errors`) live in one place, so the reader, the
validator, the template and the error list all spell them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from branches.models import MemberCategory, OrgKind

# --- the workbook format (domain.md §12) ------------------------------------------

SHEET_FILE = "文件"  # pseudo-sheet for errors about the file as a whole
SHEET_ORGS = "组织"
SHEET_MEMBERS = "党员"
SHEET_HELP = "说明"
SHEET_ERRORS = "错误清单"

REQUIRED_MARK = "*"
# Excel users type the full-width asterisk as often as the ASCII one.
_HEADER_MARKS = "*＊"

COL_CODE = "组织编码"
COL_NAME = "组织名称"
COL_KIND = "组织类型"
COL_PARENT = "上级组织编码"
COL_AGENCY = "所在单位"
COL_SECRETARY_NAME = "书记姓名"
COL_SECRETARY_ACCOUNT = "书记账号"
COL_PHONE = "联系电话"
COL_ESTABLISHED = "成立日期"
COL_TERM_ENDS = "届满日期"
COL_SORT = "排序"
COL_STATUS = "状态"

COL_MEMBER_NAME = "姓名"
COL_MEMBER_ORG = "所在组织编码"
COL_MEMBER_CATEGORY = "党员类别"
COL_MEMBER_JOINED = "入党日期"
COL_MEMBER_ACCOUNT = "账号"

# The exact header rows of §12; a trailing `*` marks a required column.
ORG_COLUMNS: tuple[str, ...] = (
    f"{COL_CODE}*",
    f"{COL_NAME}*",
    f"{COL_KIND}*",
    f"{COL_PARENT}*",
    COL_AGENCY,
    COL_SECRETARY_NAME,
    COL_SECRETARY_ACCOUNT,
    COL_PHONE,
    COL_ESTABLISHED,
    COL_TERM_ENDS,
    COL_SORT,
    COL_STATUS,
)
MEMBER_COLUMNS: tuple[str, ...] = (
    f"{COL_MEMBER_NAME}*",
    f"{COL_MEMBER_ORG}*",
    f"{COL_MEMBER_CATEGORY}*",
    COL_MEMBER_JOINED,
    COL_MEMBER_ACCOUNT,
)
ERROR_COLUMNS: tuple[str, ...] = ("工作表", "行号", "列", "错误原因")

STATUS_ACTIVE = "正常"
STATUS_REVOKED = "撤销"
KIND_BY_LABEL: dict[str, str] = {str(kind.label): kind.value for kind in OrgKind}
CATEGORY_BY_LABEL: dict[str, str] = {str(c.label): c.value for c in MemberCategory}


# Field lengths of the models; SQLite would silently store longer text.
MAX_CODE, MAX_NAME, MAX_AGENCY, MAX_PHONE, MAX_PERSON_NAME = 50, 100, 100, 30, 50

COLUMN_HELP: dict[str, tuple[str, str]] = {
    # column: (sheet, explanation)
    COL_CODE: (SHEET_ORGS, "组织的唯一编码，重复导入时按编码更新。建议使用文本格式，避免前导 0 丢失。"),
    COL_NAME: (SHEET_ORGS, "组织全称，最多 100 个字。"),
    COL_KIND: (SHEET_ORGS, "只能填：工委、机关党委、党总支、党支部、党小组。"),
    COL_PARENT: (
        SHEET_ORGS,
        "上级组织的组织编码，可以是本文件中的组织，也可以是系统中已有的组织。只有工委留空。"
        "层级规定：工委→机关党委/党总支/党支部；机关党委→党总支/党支部；党总支→党支部；党支部→党小组。",
    ),
    COL_AGENCY: (SHEET_ORGS, "组织所在的机关单位名称。"),
    COL_SECRETARY_NAME: (SHEET_ORGS, "书记姓名；填写书记账号时必填。"),
    COL_SECRETARY_ACCOUNT: (
        SHEET_ORGS,
        "书记的登录账号（3–64 位英文字母、数字或 _ . @ -）。账号不存在时自动创建（需管理员重置密码后才能登录），"
        "并授予本组织“书记”角色；原书记的角色不会自动撤销。",
    ),
    COL_PHONE: (SHEET_ORGS, "组织联系电话。"),
    COL_ESTABLISHED: (SHEET_ORGS, "日期，如 2024-03-01、2024/3/1 或 2024年3月1日。"),
    COL_TERM_ENDS: (SHEET_ORGS, "本届委员会任期届满日期，格式同成立日期，不能早于成立日期。"),
    COL_SORT: (SHEET_ORGS, "同级组织的排列顺序，整数，越小越靠前；留空为 0。"),
    COL_STATUS: (SHEET_ORGS, "正常或撤销，留空为正常。撤销的组织保留历史数据但不再参加创建活动。"),
}
MEMBER_COLUMN_HELP: dict[str, str] = {
    COL_MEMBER_NAME: "党员姓名，最多 50 个字。",
    COL_MEMBER_ORG: "党员所在组织的组织编码（本文件或系统中已有）。",
    COL_MEMBER_CATEGORY: "只能填：正式党员、预备党员。",
    COL_MEMBER_JOINED: "日期，格式同成立日期。",
    COL_MEMBER_ACCOUNT: (
        "党员的登录账号（可不填）。填写后按账号识别同一名党员；不填时按“所在组织编码 + 姓名”识别，"
        "同一组织有同名党员时必须填写账号。"
    ),
}
HELP_NOTES: tuple[str, ...] = (
    "1. 第 1 行是列名，请勿修改或删除；从第 2 行开始每行填写一个组织或一名党员。带 * 的列为必填列。",
    "2. 系统先完整校验整个文件，全部无误才一次性写入；任何一处有错都不会写入，并列出所有错误的工作表、行号、列和原因。",
    "3. 按组织编码更新：系统中已有的组织会按本文件更新（修改上级组织即整体迁移其下级），没有的组织会新增。",
    "4. 文件中没有出现的组织和党员不会被删除；组织不再存在请把“状态”填为“撤销”。",
    "5. 重复导入同一文件不会产生任何变化。",
    "6. 只接受 .xlsx 格式；含宏、外部链接的工作簿不予导入。",
)

# --- user-facing messages -------------------------------------------------------------

ERR_EXTENSION = "只能上传 Excel 工作簿（.xlsx），“{name}”不是 .xlsx 文件。"
ERR_MACRO_EXTENSION = "不接受启用宏的工作簿（{ext}），请在 Excel 中另存为“Excel 工作簿（.xlsx）”后再上传。"
ERR_TOO_LARGE = "文件大小超过上限 {limit}，请拆分后分批导入。"
ERR_NOT_XLSX = (
    "文件不是有效的 Excel 工作簿（.xlsx），可能是改了扩展名的其他文件（如 .xls、CSV、网页）。"
    "如果设置了打开密码，请先取消密码。"
)
ERR_MACRO = "工作簿中包含宏（VBA 代码），出于安全原因不予导入。请删除宏并另存为 .xlsx 后再上传。"
ERR_EXTERNAL_LINK = "工作簿中包含指向其他文件的外部链接，出于安全原因不予导入。请断开外部链接后再上传。"
ERR_ZIP_BOMB = "工作簿解压后的体积异常（过大或压缩比过高），疑似恶意文件，不予导入。"
ERR_TOO_MANY_PARTS = "工作簿内部结构异常（包含的部件过多），疑似恶意文件，不予导入。"
ERR_XML_DTD = "工作簿中包含 XML 文档类型或实体声明（DOCTYPE/ENTITY），疑似恶意文件，不予导入。"
ERR_UNREADABLE = "无法读取工作簿：文件已损坏或包含不支持的内容。请在 Excel 中打开后另存为 .xlsx 再上传。"
ERR_NO_ORG_SHEET = "缺少工作表“组织”，请使用系统提供的导入模板。"
ERR_MISSING_COLUMN = "缺少必填列“{column}”（第 1 行应为列名）。"
ERR_DUPLICATE_COLUMN = "列名“{column}”出现了不止一次。"
ERR_NO_DATA = "文件中没有可导入的数据：请从“组织”或“党员”工作表的第 2 行开始填写。"
ERR_REQUIRED = "必须填写。"
ERR_TOO_LONG = "不能超过 {limit} 个字符。"
ERR_KIND = "组织类型只能是：工委、机关党委、党总支、党支部、党小组。"
ERR_DUPLICATE_CODE = "组织编码“{code}”与第 {row} 行重复。"
ERR_PARENT_REQUIRED = "除工委外，必须填写上级组织编码。"
ERR_COMMITTEE_HAS_PARENT = "工委是最上级组织，上级组织编码必须留空。"
ERR_PARENT_SELF = "上级组织不能是自己。"
ERR_PARENT_UNKNOWN = "上级组织编码“{code}”在本文件和系统中都不存在。"
ERR_CYCLE = "上级关系形成了循环：{chain}。"
ERR_SECOND_COMMITTEE_FILE = "一个系统只能有一个工委，第 {row} 行已经是工委。"
ERR_SECOND_COMMITTEE_DB = "系统中已有工委“{name}”（编码 {code}），一个系统只能有一个工委。"
ERR_COMMITTEE_KIND_CHANGE = "“{name}”是系统中的工委，不能改为其他组织类型。"
ERR_NO_COMMITTEE = "系统中还没有工委：文件中必须有一行组织类型为“工委”、上级组织编码留空。"
ERR_KIND_BREAKS_CHILD = "改为{kind}后，下级组织“{child}”（{child_kind}）的上级类型将不符合规定。"
ERR_DATE = "日期格式不正确，请填写如 2024-03-01、2024/3/1 或 2024年3月1日。"
ERR_TERM_BEFORE_ESTABLISHED = "届满日期不能早于成立日期。"
ERR_SORT = "排序必须是整数。"
ERR_STATUS = "状态只能是“正常”或“撤销”（留空视为正常）。"
ERR_ACCOUNT = "账号“{account}”无效：只能由 3–64 位英文字母、数字和 _ . @ - 组成。"
ERR_SECRETARY_NAME_REQUIRED = "填写了书记账号时必须填写书记姓名。"
ERR_ACCOUNT_NAME_IN_FILE = (
    "账号“{account}”在“{sheet}”第 {row} 行对应的姓名是“{other}”，与本行“{name}”不一致。"
)
ERR_ACCOUNT_NAME_IN_DB = "账号“{account}”在系统中属于“{other}”，与本行姓名“{name}”不一致。"
ERR_MEMBER_ORG_UNKNOWN = "组织编码“{code}”在本文件和系统中都不存在。"
ERR_CATEGORY = "党员类别只能是“正式党员”或“预备党员”。"
ERR_MEMBER_DUPLICATE = "与第 {row} 行是同一组织的同名党员且都没有填写账号，无法区分，请填写账号。"
ERR_MEMBER_ACCOUNT_DUPLICATE = "账号“{account}”已在第 {row} 行用于另一名党员，一个账号只能对应一名党员。"
ERR_MEMBER_SAME_AS_ROW = "与第 {row} 行对应系统中的同一名党员“{name}”，请检查是否重复或填写账号区分。"
ERR_MEMBER_AMBIGUOUS = "组织“{code}”在系统中有多名叫“{name}”的党员，请填写账号以区分。"
ERR_WRITE_CONFLICT = "写入时发现数据已被他人修改，导入已整体取消，请重新上传：{detail}"
ERR_TOO_MANY_ERRORS = "错误超过 {limit} 处，其余未列出。请先修改以上错误。"

SUM_ORG_ROWS = "组织行数"
SUM_MEMBER_ROWS = "党员行数"
SUM_ORGS_NEW = "新增组织"
SUM_ORGS_UPDATED = "更新组织"
SUM_ORGS_MOVED = "调整上级"
SUM_ORGS_UNCHANGED = "未变组织"
SUM_MEMBERS_NEW = "新增党员"
SUM_MEMBERS_UPDATED = "更新党员"
SUM_MEMBERS_UNCHANGED = "未变党员"
SUM_USERS_NEW = "新增账号"
SUM_GRANTS_NEW = "新增角色"
SUM_ERRORS = "错误数"

MAX_ERRORS = 1000


class RowError(TypedDict):
    """One problem, as stored in `OrgImport.errors` and shown to the administrator."""

    sheet: str
    row: int | None  # Excel row number; None for file- or sheet-level problems
    column: str  # header without the required mark; "" when no single column is at fault
    message: str


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []

    def add(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.items.append(RowError(sheet=sheet, row=row, column=column, message=message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def sorted(self) -> list[RowError]:
        """Errors in reading order (sheet, row, column), capped so the log row stays small."""
        sheet_rank = {SHEET_FILE: 0, SHEET_ORGS: 1, SHEET_MEMBERS: 2}
        column_rank = {c: i for i, c in enumerate(column_names(ORG_COLUMNS) + column_names(MEMBER_COLUMNS))}
        items = sorted(
            self.items,
            key=lambda e: (sheet_rank.get(e["sheet"], 9), e["row"] or 0, column_rank.get(e["column"], 99)),
        )
        if len(items) > MAX_ERRORS:
            items = items[:MAX_ERRORS]
            items.append(
                RowError(
                    sheet=SHEET_FILE,
                    row=None,
                    column="",
                    message=ERR_TOO_MANY_ERRORS.format(limit=MAX_ERRORS),
                )
            )
        return items


def file_error(message: str) -> list[RowError]:
    return [RowError(sheet=SHEET_FILE, row=None, column="", message=message)]


def column_names(columns: Iterable[str]) -> list[str]:
    return [c.rstrip(_HEADER_MARKS) for c in columns]


def _required(columns: Iterable[str]) -> list[str]:
    return [c.rstrip(_HEADER_MARKS) for c in columns if c.endswith(REQUIRED_MARK)]


def human_size(size: int) -> str:
    """Bytes for a Chinese message: "20 MB", "1.5 MB", "300 KB", "12 字节"."""
    mb = 1024 * 1024
    if size >= mb:
        return f"{size / mb:.0f} MB" if size % mb == 0 else f"{size / mb:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"
