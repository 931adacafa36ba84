"""The demo campaign (domain.md §14): this year's 模范机关创建 over the demo tree of branches/demo.py.

A 40-item list in six sections (points total 100) with a calendar and the 工委's milestones,
two 本级增加 items of the 财政局 机关党委, published to every branch, then mid-year progress
simulated from a fixed seed through the real services, each step by the person who would do
it: secretaries fill in, submit and sign their 目标责任书, unit staff do the 初审, 工委 staff
approve with points or return with a reason. The two featured branches (预算股, 审计局) get
realistic progress on everything due so far; every other branch gets a few sampled entries.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from branches.demo import AUDIT_BRANCH_CODE, BUDGET_BRANCH_CODE, ROOT_CODE
from branches.models import OrgKind, OrgUnit, Role, RoleGrant, User
from campaigns.models import (
    Campaign,
    Checklist,
    ChecklistEntry,
    Frequency,
    MilestoneKind,
    ReviewStage,
)
from campaigns.services import entries as entry_services
from campaigns.services.campaigns import campaign_create, campaign_event_add
from campaigns.services.duties import checklist_sign_letter, letter_text_for
from campaigns.services.items import item_create, section_create
from campaigns.services.publishing import campaign_publish_now

DEMO_CAMPAIGN_SEED = 20260301
ADMIN_USERNAME = "gw_admin"
COMMITTEE_STAFF_USERNAME = "gw_staff"
# Unit staff of the demo (branches.demo.FEATURED_ACCOUNTS) by the unit they cover.
UNIT_STAFF_USERNAMES = {"XYJ01": "czj_staff", "XYZ01": "rsj_staff"}
LOCAL_OWNER_CODE = "XYJ01"  # 旬阳市财政局机关党委
FEATURED_BRANCHES = (BUDGET_BRANCH_CODE, AUDIT_BRANCH_CODE)
# 支委委员 / 党建联络员 of the 预算股 branch, made 责任人 of two monthly items.
ASSIGNED_USERNAMES = {"ZJ04": "ysg_member", "ZJ07": "ysg_liaison"}
SAMPLED_ENTRIES_PER_BRANCH = 5
LETTER_SIGN_SHARE = 0.85

B: list[str] = [OrgKind.BRANCH]
UNITS_AND_BRANCHES: list[str] = [OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH]
ONCE, MONTHLY, QUARTERLY, HALF, YEARLY = (
    Frequency.ONCE,
    Frequency.MONTHLY,
    Frequency.QUARTERLY,
    Frequency.HALF_YEARLY,
    Frequency.YEARLY,
)

SECTIONS = ("政治建设", "思想建设", "组织建设", "作风建设", "纪律建设", "制度建设")


@dataclass(frozen=True)
class DemoItem:
    section: str
    code: str
    title: str
    requirement: str
    evidence: str
    points: str
    scoring: str
    check: str
    frequency: str
    due: tuple[int, int] | None = None  # (month, day) of the campaign year
    kinds: list[str] = field(default_factory=lambda: list(B))


# The 工委's list: 40 items, 100 points.
DEMO_ITEMS: tuple[DemoItem, ...] = (
    # 政治建设 18
    DemoItem(
        "政治建设",
        "ZZ01",
        "落实“第一议题”制度",
        "每月党组织会议第一议题学习习近平总书记最新重要讲话和重要指示批示精神，结合实际研究贯彻措施。",
        "会议记录、学习材料、贯彻落实措施清单",
        "3",
        "每缺一次扣0.5分；只学不议、无落实措施的扣0.2分/次。",
        "查阅资料",
        MONTHLY,
    ),
    DemoItem(
        "政治建设",
        "ZZ02",
        "学习贯彻党的二十大和二十届历次全会精神",
        "制定学习计划，开展专题学习研讨不少于2次，形成学习体会。",
        "学习计划、研讨记录、心得体会",
        "3",
        "未制定计划扣1分；研讨少于2次扣1分。",
        "查阅资料、个别访谈",
        ONCE,
        (6, 30),
    ),
    DemoItem(
        "政治建设",
        "ZZ03",
        "严格执行重大事项请示报告制度",
        "按规定向上级党组织请示报告重大事项，做到应报尽报。",
        "请示报告文件及批复",
        "2",
        "应报未报的每项扣1分。",
        "查阅资料",
        YEARLY,
        (12, 31),
    ),
    DemoItem(
        "政治建设",
        "ZZ04",
        "落实全面从严治党主体责任清单",
        "年初制定主体责任清单和任务分解，书记履行第一责任人职责。",
        "责任清单、任务分解表、推进记录",
        "3",
        "无清单扣3分；清单不具体扣1分。",
        "查阅资料",
        ONCE,
        (3, 31),
    ),
    DemoItem(
        "政治建设",
        "ZZ05",
        "开展“两个确立”“两个维护”专题教育",
        "结合主题党日开展专题教育，组织党员交流发言。",
        "活动方案、照片、发言材料",
        "2",
        "未开展扣2分；形式单一扣0.5分。",
        "查阅资料、实地查看",
        ONCE,
        (9, 30),
    ),
    DemoItem(
        "政治建设",
        "ZZ06",
        "党组织书记抓基层党建述职",
        "书记年底向上级党组织和党员大会述职，接受评议。",
        "述职报告、评议结果",
        "3",
        "未述职扣3分；评议好率低于80%扣1分。",
        "查阅资料、测评",
        YEARLY,
        (12, 31),
    ),
    DemoItem(
        "政治建设",
        "ZZ07",
        "开展党员政治生日活动",
        "每季度为当季入党的党员过政治生日，重温入党誓词。",
        "活动记录、照片",
        "2",
        "每缺一季度扣0.5分。",
        "查阅资料",
        QUARTERLY,
    ),
    # 思想建设 17
    DemoItem(
        "思想建设",
        "SX01",
        "理论学习中心组和支部集中学习",
        "每月至少组织一次集中学习，确定专题、领学人和研讨发言。",
        "学习记录、签到表、研讨发言",
        "3",
        "每缺一次扣0.3分。",
        "查阅资料",
        MONTHLY,
    ),
    DemoItem(
        "思想建设",
        "SX02",
        "意识形态工作分析研判",
        "每季度分析研判一次本单位意识形态领域情况，提出应对措施。",
        "研判会议记录、研判报告",
        "3",
        "每缺一次扣0.75分。",
        "查阅资料、个别访谈",
        QUARTERLY,
    ),
    DemoItem(
        "思想建设",
        "SX03",
        "意识形态工作责任制落实情况报告",
        "每半年向上级党组织书面报告意识形态工作责任制落实情况。",
        "书面报告",
        "2",
        "未按时报告每次扣1分。",
        "查阅资料",
        HALF,
    ),
    DemoItem(
        "思想建设",
        "SX04",
        "党员集中轮训",
        "按计划组织党员参加集中轮训和专题培训，做到全覆盖。",
        "培训通知、培训名单、培训照片",
        "2",
        "轮训覆盖率低于90%扣1分。",
        "查阅资料",
        ONCE,
        (10, 31),
    ),
    DemoItem(
        "思想建设",
        "SX05",
        "开展“三个表率”主题实践活动",
        "围绕做到“三个表率”、建设模范机关开展主题实践活动。",
        "活动方案、总结、典型案例",
        "2",
        "未开展扣2分；无总结扣0.5分。",
        "查阅资料、实地查看",
        ONCE,
        (8, 31),
    ),
    DemoItem(
        "思想建设",
        "SX06",
        "网络意识形态阵地管理",
        "落实网站、公众号、工作群等网络阵地管理责任，建立审核制度。",
        "阵地台账、审核制度",
        "2",
        "无台账扣1分；出现问题扣2分。",
        "查阅资料、实地查看",
        YEARLY,
        (11, 30),
    ),
    DemoItem(
        "思想建设",
        "SX07",
        "党建宣传阵地建设",
        "建好用好党员活动室、党建园地或宣传栏，内容及时更新。",
        "阵地照片、更新记录",
        "3",
        "无阵地扣3分；内容超过半年未更新扣1分。",
        "实地查看",
        ONCE,
        (5, 31),
    ),
    # 组织建设 25
    DemoItem(
        "组织建设",
        "ZJ01",
        "“三会一课”：支部党员大会",
        "每季度召开一次支部党员大会，议题明确、程序规范。",
        "会议记录、签到表",
        "3",
        "每缺一次扣0.75分；记录不规范扣0.2分/次。",
        "查阅资料",
        QUARTERLY,
    ),
    DemoItem(
        "组织建设",
        "ZJ02",
        "“三会一课”：支部委员会会议",
        "每月召开一次支委会，研究支部重要工作。",
        "会议记录",
        "3",
        "每缺一次扣0.25分。",
        "查阅资料",
        MONTHLY,
    ),
    DemoItem(
        "组织建设",
        "ZJ03",
        "“三会一课”：党课",
        "每季度至少上一次党课，书记每年至少讲一次。",
        "党课讲稿、照片",
        "2",
        "每缺一次扣0.5分；书记未讲党课扣1分。",
        "查阅资料",
        QUARTERLY,
    ),
    DemoItem(
        "组织建设",
        "ZJ04",
        "主题党日",
        "每月固定一天开展主题党日活动，主题鲜明、形式多样。",
        "活动方案、记录、照片",
        "3",
        "每缺一次扣0.25分。",
        "查阅资料、实地查看",
        MONTHLY,
    ),
    DemoItem(
        "组织建设",
        "ZJ05",
        "组织生活会和民主评议党员",
        "召开上年度组织生活会，开展批评和自我批评，组织民主评议党员。",
        "会议方案、对照检查材料、评议结果",
        "3",
        "未召开扣3分；未开展民主评议扣1分。",
        "查阅资料、个别访谈",
        ONCE,
        (2, 28),
    ),
    DemoItem(
        "组织建设",
        "ZJ06",
        "谈心谈话",
        "支部书记与支委、党员每年至少谈心谈话一次。",
        "谈心谈话记录",
        "2",
        "覆盖率低于100%扣1分。",
        "查阅资料、个别访谈",
        YEARLY,
        (12, 31),
    ),
    DemoItem(
        "组织建设",
        "ZJ07",
        "按时足额收缴党费",
        "每月按标准收缴党费，及时上缴，公开收缴情况。",
        "党费收缴台账、公示截图",
        "2",
        "连续3个月未交纳未处置的扣1分。",
        "查阅资料",
        MONTHLY,
    ),
    DemoItem(
        "组织建设",
        "ZJ08",
        "发展党员工作",
        "按计划做好入党积极分子培养和党员发展，程序规范。",
        "发展党员档案、公示材料",
        "2",
        "程序不规范每例扣1分。",
        "查阅资料",
        YEARLY,
        (11, 30),
    ),
    DemoItem(
        "组织建设",
        "ZJ09",
        "按期换届选举",
        "支部委员会任期届满按期换届，届中及时增补。",
        "换届请示、批复、选举结果报告",
        "2",
        "逾期未换届扣2分。",
        "查阅资料",
        ONCE,
        (11, 30),
    ),
    DemoItem(
        "组织建设",
        "ZJ10",
        "党员信息管理",
        "每半年核对更新全国党员管理信息系统数据，做到准确完整。",
        "信息核对记录",
        "3",
        "数据差错每条扣0.2分。",
        "查阅资料",
        HALF,
    ),
    # 作风建设 14
    DemoItem(
        "作风建设",
        "ZF01",
        "落实中央八项规定及其实施细则精神",
        "每半年开展一次作风建设自查，发现问题立行立改。",
        "自查报告、整改清单",
        "3",
        "发现违规问题扣3分。",
        "查阅资料、个别访谈",
        HALF,
    ),
    DemoItem(
        "作风建设",
        "ZF02",
        "大兴调查研究",
        "班子成员围绕中心工作开展调研，形成调研报告并推动成果转化。",
        "调研计划、调研报告",
        "2",
        "无调研报告扣2分。",
        "查阅资料",
        ONCE,
        (9, 30),
    ),
    DemoItem(
        "作风建设",
        "ZF03",
        "“我为群众办实事”实践活动",
        "建立办实事项目清单，逐项推进并公开办理结果。",
        "项目清单、办理结果",
        "3",
        "清单未完成每项扣0.5分。",
        "查阅资料、实地查看",
        ONCE,
        (10, 31),
    ),
    DemoItem(
        "作风建设",
        "ZF04",
        "党员志愿服务和进社区“双报到”",
        "每季度组织党员到社区报到并开展志愿服务。",
        "活动记录、社区反馈",
        "2",
        "每缺一季度扣0.5分。",
        "查阅资料",
        QUARTERLY,
    ),
    DemoItem(
        "作风建设",
        "ZF05",
        "整治形式主义为基层减负",
        "精简文件会议，清理“指尖上的形式主义”。",
        "文件会议统计、整改台账",
        "2",
        "发现问题未整改扣1分。",
        "查阅资料、个别访谈",
        ONCE,
        (7, 31),
    ),
    DemoItem(
        "作风建设",
        "ZF06",
        "服务对象满意度",
        "开展服务对象满意度测评，针对意见建议抓整改。",
        "测评结果、整改措施",
        "2",
        "满意度低于90%扣1分。",
        "测评",
        YEARLY,
        (12, 15),
    ),
    # 纪律建设 13
    DemoItem(
        "纪律建设",
        "JL01",
        "廉政党课和警示教育",
        "每半年开展一次廉政党课或警示教育。",
        "党课讲稿、警示教育记录",
        "3",
        "每缺一次扣1.5分。",
        "查阅资料",
        HALF,
    ),
    DemoItem(
        "纪律建设",
        "JL02",
        "廉政风险点排查防控",
        "排查岗位廉政风险点，制定防控措施。",
        "风险点台账、防控措施",
        "3",
        "未排查扣3分；措施不具体扣1分。",
        "查阅资料",
        ONCE,
        (4, 30),
    ),
    DemoItem(
        "纪律建设",
        "JL03",
        "落实“一岗双责”",
        "班子成员抓好分管领域党风廉政建设，开展廉政谈话。",
        "廉政谈话记录",
        "2",
        "未开展扣2分。",
        "查阅资料、个别访谈",
        YEARLY,
        (12, 31),
    ),
    DemoItem(
        "纪律建设",
        "JL04",
        "运用监督执纪“第一种形态”",
        "对苗头性、倾向性问题及时提醒谈话、批评教育。",
        "谈话提醒记录",
        "2",
        "发现问题未处置扣1分。",
        "查阅资料",
        YEARLY,
        (12, 31),
    ),
    DemoItem(
        "纪律建设",
        "JL05",
        "节假日廉洁提醒",
        "重要节假日前发送廉洁提醒，开展监督检查。",
        "提醒通知、检查记录",
        "3",
        "每缺一次扣0.75分。",
        "查阅资料",
        QUARTERLY,
    ),
    # 制度建设 13
    DemoItem(
        "制度建设",
        "ZD01",
        "制定模范机关创建方案",
        "结合实际制定本单位创建方案，明确目标、标准、重点、步骤和考评办法，报上级党组织审核。",
        "创建方案、审核意见",
        "3",
        "未制定扣3分；内容不全扣1分。",
        "查阅资料",
        ONCE,
        (3, 31),
        UNITS_AND_BRANCHES,
    ),
    DemoItem(
        "制度建设",
        "ZD02",
        "党建工作责任制清单和台账",
        "建立党建工作责任清单、任务清单和工作台账。",
        "责任清单、工作台账",
        "3",
        "台账不全扣1分。",
        "查阅资料",
        ONCE,
        (3, 31),
    ),
    DemoItem(
        "制度建设",
        "ZD03",
        "支部工作制度汇编",
        "修订完善支部工作制度并汇编成册，上墙公开。",
        "制度汇编、照片",
        "2",
        "制度不全扣1分。",
        "查阅资料、实地查看",
        ONCE,
        (6, 30),
    ),
    DemoItem(
        "制度建设",
        "ZD04",
        "党建工作档案规范化管理",
        "按规定分类归档党建工作资料，做到规范完整。",
        "档案目录、照片",
        "2",
        "档案不规范扣1分。",
        "实地查看",
        ONCE,
        (11, 30),
    ),
    DemoItem(
        "制度建设",
        "ZD05",
        "标准化规范化党支部建设自查",
        "对照标准化规范化建设要求开展自查，形成自查报告。",
        "自查报告、问题清单",
        "3",
        "未自查扣3分。",
        "查阅资料",
        ONCE,
        (10, 31),
    ),
)

# 本级增加 by the 财政局 机关党委, for the branches below it.
DEMO_LOCAL_ITEMS: tuple[DemoItem, ...] = (
    DemoItem(
        "组织建设",
        "CZ-BD01",
        "“党领财兴”党建品牌创建",
        "围绕“党领财兴”品牌，每个支部打造一个特色项目，形成可复制经验。",
        "品牌创建方案、特色项目总结、宣传报道",
        "5",
        "未形成特色项目扣3分；无总结扣2分。",
        "查阅资料、实地查看",
        ONCE,
        (10, 31),
    ),
    DemoItem(
        "纪律建设",
        "CZ-LZ01",
        "“清风财政”廉政文化建设",
        "每半年开展一次财政廉政文化活动，筑牢资金管理廉洁防线。",
        "活动记录、照片",
        "3",
        "每缺一次扣1.5分。",
        "查阅资料",
        HALF,
    ),
)

MILESTONES = (
    (MilestoneKind.KICKOFF, "模范机关创建动员部署会", (2, 20), None, "市委党校报告厅"),
    (MilestoneKind.PROGRESS, "模范机关创建推进会", (7, 15), None, "市行政中心三楼会议室"),
    (MilestoneKind.SYMPOSIUM, "党支部书记座谈会", (8, 20), None, "市直机关工委会议室"),
    (MilestoneKind.SITE_VISIT, "模范机关创建现场观摩会", (9, 18), None, "市财政局"),
    (MilestoneKind.SURVEY, "模范机关创建集中调研", (11, 10), (11, 28), "各机关党委、直属党支部"),
)

PROGRESS_NOTES = (
    "已按计划召开，议题明确，会议记录已整理归档。",
    "已组织全体党员参加，形成学习记录和研讨发言材料。",
    "已完成，相关台账和照片已整理。",
    "已结合业务工作推进，形成阶段性成果。",
)
RETURN_REASONS = (
    "会议记录缺少签到表，请补充后重新提交。",
    "佐证材料与任务要求不符，请上传会议记录原件。",
    "研讨发言材料不全，请补充党员发言记录。",
)
# Why a branch asks for 不适用, by item; other items get the generic reason.
NA_REASONS = {
    "ZJ08": "本支部本年度无发展对象，申请该项不适用。",
    "ZJ09": "本支部委员会任期至明年届满，本年度不涉及换届，申请不适用。",
    "ZZ07": "本季度本支部无当季入党的党员，申请本期不适用。",
}
NA_REASON_DEFAULT = "本支部为离退休干部党支部，本期无此项工作任务，申请不适用。"


# --- tiny valid files for the demo evidence ----------------------------------------------------


def demo_pdf(title: str) -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    text = title.encode("ascii", "replace")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def demo_png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    """A small solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def attach_demo_evidence(*, entry: ChecklistEntry, actor: User, n: int) -> None:
    """A generated PDF (and every third time a photo) as evidence of an entry being filled in."""
    from campaigns.services.evidence import evidence_upload

    code = entry.item.code
    pdf = SimpleUploadedFile(f"{code}-记录.pdf", demo_pdf(f"{code} record"), content_type="application/pdf")
    evidence_upload(org=entry.org, file=pdf, title=f"{entry.item.title}会议记录", actor=actor, entry=entry)
    if n % 3 == 0:
        png = SimpleUploadedFile(f"{code}-照片.png", demo_png((200, 30, 30)), content_type="image/png")
        evidence_upload(
            org=entry.org, file=png, title=f"{entry.item.title}活动照片", actor=actor, entry=entry
        )


# --- building the campaign ---------------------------------------------------------------------


def _on(year: int, month_day: tuple[int, int] | None) -> date | None:
    return date(year, *month_day) if month_day else None


def _create_items(campaign: Campaign, admin: User, local_actor: User, local_owner: OrgUnit) -> None:
    sections = {
        name: section_create(campaign=campaign, name=name, actor=admin, sort_order=n)
        for n, name in enumerate(SECTIONS, start=1)
    }
    for items, actor, owner in ((DEMO_ITEMS, admin, None), (DEMO_LOCAL_ITEMS, local_actor, local_owner)):
        for n, spec in enumerate(items, start=1):
            item_create(
                campaign=campaign,
                actor=actor,
                owner=owner,
                section=sections[spec.section],
                code=spec.code,
                title=spec.title,
                requirement=spec.requirement,
                evidence_guidance=spec.evidence,
                points=Decimal(spec.points),
                scoring_rule=spec.scoring,
                check_method=spec.check,
                due_date=_on(campaign.year, spec.due),
                frequency=spec.frequency,
                applicable_kinds=spec.kinds,
                responsible_role=Role.SECRETARY,
                sort_order=n,
            )


def demo_campaign_create(*, today: date) -> Campaign:
    """This year's campaign with its calendar, milestones and task list, published at once."""
    year = today.year
    committee = OrgUnit.objects.get(code=ROOT_CODE)
    admin = User.objects.get(username=ADMIN_USERNAME)
    campaign = campaign_create(
        committee=committee,
        year=year,
        name=f"{year}年度模范机关创建",
        actor=admin,
        duty_starts_on=date(year, 1, 1),
        duty_ends_on=date(year, 3, 31),
        supervision_starts_on=date(year, 6, 1),
        supervision_ends_on=date(year, 7, 31),
        reporting_starts_on=date(year, 11, 1),
        reporting_ends_on=date(year + 1, 1, 31),
        rating_starts_on=date(year + 1, 1, 15),
        rating_ends_on=date(year + 1, 3, 31),
        publicity_days=7,
    )
    for kind, title, starts, ends, location in MILESTONES:
        campaign_event_add(
            campaign=campaign,
            actor=admin,
            kind=kind,
            title=title,
            starts_on=date(year, *starts),
            ends_on=_on(year, ends),
            location=location,
        )
    local_owner = OrgUnit.objects.get(code=LOCAL_OWNER_CODE)
    local_actor = User.objects.get(username=UNIT_STAFF_USERNAMES[LOCAL_OWNER_CODE])
    _create_items(campaign, admin, local_actor, local_owner)
    campaign_publish_now(campaign=campaign, actor=admin)
    campaign.refresh_from_db()
    return campaign


# --- mid-year progress -------------------------------------------------------------------------

# Outcome of a touched entry, with weights for sampled and for featured branches.
OUTCOMES = (
    "approved",
    "first_approved",
    "submitted",
    "returned",
    "in_progress",
    "na_approved",
    "na_requested",
    "untouched",
)
SAMPLED_WEIGHTS = (40, 10, 12, 10, 12, 3, 3, 10)
FEATURED_WEIGHTS = (60, 5, 8, 6, 6, 2, 2, 11)


@dataclass
class _People:
    admin: User
    committee_staff: User
    unit_staff: dict[str, User]  # by path of the unit they cover
    secretaries: dict[int, User]  # by org id
    assigned: dict[str, User]  # by item code, for the 预算股 branch

    def first_reviewer(self, org: OrgUnit) -> User:
        for path, user in self.unit_staff.items():
            if org.path.startswith(path) and org.path != path:
                return user
        return self.committee_staff


def _people() -> _People:
    secretaries = {
        g.org_id: g.user
        for g in RoleGrant.objects.filter(role=Role.SECRETARY, org__kind=OrgKind.BRANCH).select_related(
            "user"
        )
    }
    units = OrgUnit.objects.in_bulk(list(UNIT_STAFF_USERNAMES), field_name="code")
    return _People(
        admin=User.objects.get(username=ADMIN_USERNAME),
        committee_staff=User.objects.get(username=COMMITTEE_STAFF_USERNAME),
        unit_staff={
            units[code].path: User.objects.get(username=username)
            for code, username in UNIT_STAFF_USERNAMES.items()
        },
        secretaries=secretaries,
        assigned={code: User.objects.get(username=u) for code, u in ASSIGNED_USERNAMES.items()},
    )


@dataclass
class ProgressResult:
    touched: int = 0
    letters_signed: int = 0
    evidence_uploaded: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _score(points: Decimal, rng: random.Random) -> Decimal:
    return points if rng.random() < 0.7 else max(Decimal("0"), points - Decimal("0.5"))


def _play(
    entry: ChecklistEntry,
    outcome: str,
    *,
    filler: User,
    people: _People,
    today: date,
    rng: random.Random,
    result: ProgressResult,
) -> None:
    """Walk one entry to `outcome` through the entry services, each step by its real actor."""
    s = entry_services
    if outcome == "untouched":
        return
    points = entry.item.points
    completed = min(entry.due_date or today, today) - timedelta(days=rng.randint(0, 6))
    if outcome in ("na_approved", "na_requested"):
        s.entry_request_not_applicable(
            entry=entry,
            actor=filler,
            expected_version=entry.version,
            reason=NA_REASONS.get(entry.item.code, NA_REASON_DEFAULT),
        )
    else:
        s.entry_save_progress(
            entry=entry,
            actor=filler,
            expected_version=entry.version,
            progress_note=rng.choice(PROGRESS_NOTES),
            completed_on=None if outcome == "in_progress" else completed,
            self_score=None if outcome == "in_progress" else points,
        )
        if outcome == "in_progress":
            return
        if outcome == "approved" and entry.org.code in FEATURED_BRANCHES and result.evidence_uploaded < 24:
            attach_demo_evidence(entry=entry, actor=filler, n=result.evidence_uploaded)
            result.evidence_uploaded += 1
        s.entry_submit(entry=entry, actor=filler, expected_version=entry.version)
    if outcome in ("submitted", "na_requested"):
        return
    if outcome == "returned":
        reviewer = (
            people.first_reviewer(entry.org)
            if entry.review_stage == ReviewStage.PARENT
            else people.committee_staff
        )
        s.entry_return(
            entry=entry, actor=reviewer, expected_version=entry.version, reason=rng.choice(RETURN_REASONS)
        )
        return
    score = None if outcome == "na_approved" else _score(points, rng)
    if entry.review_stage == ReviewStage.PARENT:
        s.entry_approve(
            entry=entry, actor=people.first_reviewer(entry.org), expected_version=entry.version, score=score
        )
    if outcome == "first_approved":
        return
    s.entry_approve(entry=entry, actor=people.committee_staff, expected_version=entry.version, score=score)


def demo_progress_simulate(
    *, campaign: Campaign, today: date, seed: int = DEMO_CAMPAIGN_SEED
) -> ProgressResult:
    """Deterministic mid-year progress: letters, 责任人, filling in and review, through the services."""
    rng = random.Random(seed)
    people = _people()
    result = ProgressResult()
    checklists = list(
        Checklist.objects.filter(campaign=campaign, org__kind=OrgKind.BRANCH)
        .select_related("org", "campaign")
        .order_by("org__path")
    )
    for checklist in checklists:
        secretary = people.secretaries.get(checklist.org_id)
        featured = checklist.org.code in FEATURED_BRANCHES
        if secretary is not None and (featured or rng.random() < LETTER_SIGN_SHARE):
            checklist_sign_letter(
                checklist=checklist, actor=secretary, text=letter_text_for(checklist, secretary)
            )
            result.letters_signed += 1

    # Entries due so far (at least up to the 推进会 in July, so a demo loaded early in the year
    # still shows mid-year work).
    horizon = max(today, date(campaign.year, 7, 31))
    candidates: dict[int, list[ChecklistEntry]] = defaultdict(list)
    for entry in (
        ChecklistEntry.objects.filter(campaign=campaign, org__kind=OrgKind.BRANCH, due_date__lte=horizon)
        .select_related("item", "org", "org__parent", "campaign", "checklist")
        .order_by("org__path", "due_date", "item__sort_order", "period")
    ):
        candidates[entry.org_id].append(entry)
    for org_id in sorted(candidates):
        secretary = people.secretaries.get(org_id)
        if secretary is None:
            continue
        entries = candidates[org_id]
        featured = entries[0].org.code in FEATURED_BRANCHES
        chosen = entries if featured else rng.sample(entries, min(SAMPLED_ENTRIES_PER_BRANCH, len(entries)))
        weights = FEATURED_WEIGHTS if featured else SAMPLED_WEIGHTS
        for entry in chosen:
            outcome = rng.choices(OUTCOMES, weights)[0]
            filler = secretary
            assignee = people.assigned.get(entry.item.code) if entry.org.code == BUDGET_BRANCH_CODE else None
            if assignee is not None or rng.random() < 0.3:
                entry_services.entry_assign(
                    entry=entry,
                    actor=secretary,
                    expected_version=entry.version,
                    responsible=assignee or secretary,
                    due_date=None,
                )
                filler = assignee or secretary
            _play(entry, outcome, filler=filler, people=people, today=today, rng=rng, result=result)
            result.touched += 1
            result.outcomes[outcome] += 1
    return result


@transaction.atomic
def demo_campaign_load(*, today: date) -> tuple[Campaign, ProgressResult]:
    """The whole demo campaign over an already loaded demo tree (branches.demo.demo_load)."""
    campaign = demo_campaign_create(today=today)
    return campaign, demo_progress_simulate(campaign=campaign, today=today)


def demo_campaign_exists(*, today: date) -> bool:
    return Campaign.objects.filter(committee__code=ROOT_CODE, year=today.year).exists()
