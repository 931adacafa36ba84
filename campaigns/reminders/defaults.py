"""The rules and the obligations calendar that ship with the product (domain.md §10), editable."""

from __future__ import annotations

from branches.models import OrgKind, OrgUnit
from campaigns.models import Audience, Obligation, ObligationFrequency, ReminderRule, ReminderSource

S, A = ReminderSource, Audience

# (name, source, offset days, audience, inbox, e-mail, webhook)
DEFAULT_RULES: list[tuple[str, str, int, str, bool, bool, bool]] = [
    ("任务到期前3天提醒责任人", S.ENTRY, -3, A.RESPONSIBLE, True, True, False),
    ("任务到期当天提醒责任人", S.ENTRY, 0, A.RESPONSIBLE, True, True, False),
    ("任务逾期3天提醒书记", S.ENTRY, 3, A.SECRETARY, True, True, True),
    ("任务逾期7天提醒上级党组织", S.ENTRY, 7, A.PARENT_STAFF, True, True, False),
    ("任务逾期14天列入工委红名单", S.ENTRY, 14, A.COMMITTEE_STAFF, True, False, False),
    ("整改期限前7天提醒书记", S.RECTIFICATION, -7, A.SECRETARY, True, True, False),
    ("整改期限当天提醒书记", S.RECTIFICATION, 0, A.SECRETARY, True, True, False),
    ("整改逾期3天提醒上级党组织", S.RECTIFICATION, 3, A.PARENT_STAFF, True, True, False),
    ("整改逾期14天列入工委红名单", S.RECTIFICATION, 14, A.COMMITTEE_STAFF, True, False, False),
    ("经常性工作期末前5天提醒书记", S.OBLIGATION, -5, A.SECRETARY, True, False, False),
    ("经常性工作逾期3天提醒书记", S.OBLIGATION, 3, A.SECRETARY, True, True, False),
    ("经常性工作逾期15天提醒上级党组织", S.OBLIGATION, 15, A.PARENT_STAFF, True, False, False),
    ("阶段开始当天通知书记", S.PHASE_START, 0, A.SECRETARY, True, False, True),
    ("阶段开始当天通知上级党组织", S.PHASE_START, 0, A.PARENT_STAFF, True, False, False),
    ("阶段结束前7天提醒书记", S.PHASE_END, -7, A.SECRETARY, True, True, False),
    ("评星公示开始通知书记", S.PUBLICITY, 0, A.SECRETARY, True, True, True),
    ("届满前90天提醒书记换届", S.TERM, -90, A.SECRETARY, True, True, False),
    ("届满前60天提醒书记换届", S.TERM, -60, A.SECRETARY, True, True, False),
    ("届满前60天提醒上级党组织", S.TERM, -60, A.PARENT_STAFF, True, False, False),
]

F = ObligationFrequency
# (name, applies to, frequency, due day, due month, min full members, description)
DEFAULT_OBLIGATIONS: list[tuple[str, str, str, int | None, int, int, str]] = [
    ("支部党员大会", OrgKind.BRANCH, F.QUARTERLY, None, 12, 0, "三会一课：一般每季度召开1次"),
    (
        "支部委员会会议",
        OrgKind.BRANCH,
        F.MONTHLY,
        None,
        12,
        7,
        "三会一课：正式党员7人以上设支委会，一般每月召开1次",
    ),
    ("党小组会", OrgKind.PARTY_GROUP, F.MONTHLY, None, 12, 0, "三会一课：一般每月召开1次"),
    ("党课", OrgKind.BRANCH, F.QUARTERLY, None, 12, 0, "三会一课：每季度至少1次（本地默认）"),
    ("主题党日", OrgKind.BRANCH, F.MONTHLY, 15, 12, 0, "每月固定一天开展，默认每月15日前"),
    ("组织生活会和民主评议党员", OrgKind.BRANCH, F.YEARLY, None, 12, 0, "每年至少1次，一般在第四季度"),
    ("谈心谈话", OrgKind.BRANCH, F.YEARLY, None, 12, 0, "支部委员之间、支委与党员之间每年至少1次"),
    ("意识形态工作研判", OrgKind.BRANCH, F.QUARTERLY, None, 12, 0, "每季度分析研判1次"),
    ("意识形态工作专题研究", OrgKind.AGENCY_COMMITTEE, F.HALF_YEARLY, None, 12, 0, "每半年至少专题研究1次"),
    ("意识形态工作书面报告", OrgKind.AGENCY_COMMITTEE, F.HALF_YEARLY, None, 12, 0, "每半年向上级书面报告1次"),
    ("党费收缴", OrgKind.BRANCH, F.MONTHLY, None, 12, 0, "按月收缴；连续3个月未交纳的及时提醒"),
]


def install_defaults(committee: OrgUnit) -> None:
    """Create the default rules and obligations of a 工委 (an existing one is left as edited)."""
    ReminderRule.objects.bulk_create(
        [
            ReminderRule(
                committee=committee,
                name=name,
                source=source,
                offset_days=offset,
                audience=audience,
                via_inbox=inbox,
                via_email=email,
                via_webhook=hook,
            )
            for name, source, offset, audience, inbox, email, hook in DEFAULT_RULES
        ],
        ignore_conflicts=True,
    )
    Obligation.objects.bulk_create(
        [
            Obligation(
                committee=committee,
                name=name,
                applies_to=kind,
                frequency=freq,
                due_day=day,
                due_month=month,
                min_full_members=minimum,
                description=desc,
                sort_order=i,
            )
            for i, (name, kind, freq, day, month, minimum, desc) in enumerate(DEFAULT_OBLIGATIONS)
        ],
        ignore_conflicts=True,
    )
