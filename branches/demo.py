"""The demo: a 旬阳-sized working committee with accounts for every role (domain.md §14).

Sizes follow the 旬阳市直机关工委 article (seeds/003): 8 机关党委, 5 党总支 and 44 直属党支部
under the 工委 (the "57 个部门"), 104 党支部 in all, 1,950 members. Everything is drawn from
one fixed seed so two loads give the same tree; only term dates are placed relative to
`today` so that the 换届 warnings always show.

Writes go through `branches.services`; only the roster is inserted in bulk (1,950 rows one
by one would make `make run` noticeably slower) and the demo password is hashed once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction

from branches import services
from branches.models import TERM_YEARS, Member, MemberCategory, OrgKind, OrgUnit, Role, RoleGrant, User

DEMO_SEED = 20210601
DEMO_PASSWORD = "Xunyang@2021"
TOTAL_MEMBERS = 1950
# Roster sizes allowed for a 党支部 (domain.md §2: 3–50 members).
BRANCH_MIN_MEMBERS = 3
BRANCH_MAX_MEMBERS = 50
PHONE_PREFIX = "0915-72"  # 安康/旬阳 area code

ROOT_CODE = "XYGW"
ROOT_NAME = "中共旬阳市直属机关工作委员会"
ROOT_AGENCY = "旬阳市直属机关工作委员会"

# (所在单位, units with their own 党支部). Every 机关党委 or 党总支 is one agency.
AGENCY_COMMITTEES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "旬阳市财政局",
        (
            "机关第一",
            "预算股",
            "国库支付中心",
            "综合股",
            "政府采购中心",
            "财政投资评审中心",
            "财信担保公司",
            "离退休干部",
        ),
    ),
    (
        "旬阳市教育体育局",
        (
            "机关第一",
            "机关第二",
            "教学研究室",
            "招生考试中心",
            "学生资助管理中心",
            "体育运动中心",
            "离退休干部",
        ),
    ),
    (
        "旬阳市卫生健康局",
        (
            "机关",
            "疾病预防控制中心",
            "卫生健康综合执法大队",
            "妇幼保健院",
            "急救指挥中心",
            "中心血站",
            "离退休干部",
        ),
    ),
    (
        "旬阳市公安局",
        ("指挥中心", "治安管理大队", "刑事侦查大队", "交通警察大队", "城关派出所", "出入境管理大队"),
    ),
    (
        "国家税务总局旬阳市税务局",
        ("办公室", "第一税务分局", "纳税服务股", "征收管理股", "稽查局", "离退休干部"),
    ),
    (
        "旬阳市自然资源局",
        ("机关", "不动产登记中心", "国土空间规划股", "自然资源执法大队", "测绘地理信息中心", "离退休干部"),
    ),
    (
        "旬阳市住房和城乡建设局",
        ("机关", "建设工程质量安全监督站", "房屋征收服务中心", "市政设施维护中心", "燃气安全监管站"),
    ),
    (
        "旬阳市农业农村局",
        ("机关", "农业技术推广中心", "畜牧兽医中心", "农村经营管理站", "农产品质量安全检测站"),
    ),
)

GENERAL_BRANCHES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("旬阳市人力资源和社会保障局", ("机关", "养老保险经办中心")),
    ("旬阳市行政审批服务局（市政务服务中心）", ("机关", "“旬速办”政务服务窗口")),
    ("旬阳市水利局", ("机关", "河湖管理站")),
    ("旬阳市林业局", ("机关", "国有林场")),
    ("旬阳市文化和旅游广电局", ("机关", "文化馆")),
)

DIRECT_BRANCH_AGENCIES: tuple[str, ...] = (
    "中共旬阳市委办公室",
    "旬阳市人大常委会办公室",
    "旬阳市人民政府办公室",
    "政协旬阳市委员会办公室",
    "中共旬阳市纪律检查委员会机关",
    "中共旬阳市委组织部",
    "中共旬阳市委宣传部",
    "中共旬阳市委统战部",
    "中共旬阳市委政法委员会",
    "中共旬阳市委政策研究室",
    "中共旬阳市委网络安全和信息化委员会办公室",
    "中共旬阳市委机构编制委员会办公室",
    "中共旬阳市委党校",
    "旬阳市档案馆",
    "旬阳市融媒体中心",
    "旬阳市发展和改革局",
    "旬阳市工业和信息化局",
    "旬阳市民政局",
    "旬阳市司法局",
    "旬阳市审计局",
    "旬阳市统计局",
    "旬阳市商务局",
    "旬阳市交通运输局",
    "旬阳市应急管理局",
    "旬阳市市场监督管理局",
    "旬阳市医疗保障局",
    "旬阳市退役军人事务局",
    "旬阳市信访局",
    "旬阳市乡村振兴局",
    "旬阳市城市管理执法局",
    "旬阳市公共资源交易中心",
    "安康市住房公积金管理中心旬阳管理部",
    "安康市生态环境局旬阳分局",
    "旬阳市总工会",
    "共青团旬阳市委员会",
    "旬阳市妇女联合会",
    "旬阳市残疾人联合会",
    "旬阳市科学技术协会",
    "旬阳市工商业联合会",
    "旬阳市文学艺术界联合会",
    "旬阳市红十字会",
    "旬阳市烟草专卖局",
    "旬阳市气象局",
    "旬阳市供销合作社联合社",
)

AUDIT_BRANCH_CODE = f"XYD{DIRECT_BRANCH_AGENCIES.index('旬阳市审计局') + 1:02d}"
BUDGET_BRANCH_CODE = "XYJ01-02"  # 旬阳市财政局预算股党支部 (under a 机关党委)

# Branches big enough to organise 党小组 under them (code -> number of groups).
PARTY_GROUPS: dict[str, int] = {"XYJ01-03": 2, "XYJ03-02": 3, "XYJ05-02": 2, "XYZ02-02": 2}
GROUP_ORDINALS = ("第一", "第二", "第三", "第四")
# Rosters fixed so that the branches with 党小组 are large enough to need them, and the
# featured branch has members for its four officer accounts.
FIXED_BRANCH_SIZES: dict[str, int] = {
    "XYJ01-03": 38,
    "XYJ03-02": 46,
    "XYJ05-02": 34,
    "XYZ02-02": 32,
    BUDGET_BRANCH_CODE: 16,
}


# 换届 (domain.md §3): these committees' terms end soon or have ended, so the warning shows.
TERM_ENDS_IN_DAYS: dict[str, int] = {
    "XYZ03": 20,  # 水利局党总支
    BUDGET_BRANCH_CODE: 45,
    "XYJ03": 80,  # 卫生健康局机关党委
    AUDIT_BRANCH_CODE: -30,  # already expired
}
TERM_WARNING_HORIZON_DAYS = 90

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔向汤柯詹"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力立新春晓海波宁斌鹏宇浩凯俊峰琳雪梅"
    "倩丹婷佳欣悦慧颖楠蕾晨阳光荣国庆志远永利成林云飞翔瑞昊航睿泽博豪雯薇琪璐瑶"
)


def person_name(rng: random.Random) -> str:
    """A plausible Chinese name: one surname and one or two given characters."""
    given_len = 1 if rng.random() < 0.3 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARS) for _ in range(given_len))


@dataclass(frozen=True)
class DemoOrg:
    """One organisation of the demo tree, before it is written (parents come first)."""

    code: str
    name: str
    kind: str
    parent_code: str | None
    agency_name: str
    sort_order: int
    established_on: date
    roster_size: int = 0


@dataclass(frozen=True)
class DemoAccount:
    """A featured account printed in the table; officers of a branch are taken from its roster."""

    username: str
    role: str
    org_code: str
    full_name: str | None = None


FEATURED_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("gw_admin", Role.COMMITTEE_ADMIN, ROOT_CODE, "张建平"),
    DemoAccount("gw_staff", Role.COMMITTEE_STAFF, ROOT_CODE, "刘晓燕"),
    DemoAccount("czj_staff", Role.UNIT_STAFF, "XYJ01", "王海涛"),
    DemoAccount("czj_secretary", Role.SECRETARY, "XYJ01", "陈国强"),
    DemoAccount("czj_leader", Role.LIAISON_LEADER, "XYJ01", "周正明"),
    DemoAccount("rsj_staff", Role.UNIT_STAFF, "XYZ01", "李娟"),
    DemoAccount("xsb_viewer", Role.VIEWER, "XYZ02", "赵敏"),
    DemoAccount("sjj_secretary", Role.SECRETARY, AUDIT_BRANCH_CODE),
    DemoAccount("ysg_secretary", Role.SECRETARY, BUDGET_BRANCH_CODE),
    DemoAccount("ysg_deputy", Role.DEPUTY_SECRETARY, BUDGET_BRANCH_CODE),
    DemoAccount("ysg_member", Role.COMMITTEE_MEMBER, BUDGET_BRANCH_CODE),
    DemoAccount("ysg_liaison", Role.LIAISON_OFFICER, BUDGET_BRANCH_CODE),
)
BRANCH_SECRETARY_PREFIX = "sj_"


def branch_secretary_username(code: str) -> str:
    return BRANCH_SECRETARY_PREFIX + code.lower().replace("-", "_")


def _established(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(last_year, 12, 31) - start).days))


def _roster_sizes(rng: random.Random, codes: list[str]) -> dict[str, int]:
    """Random 3–50 rosters that add up to exactly TOTAL_MEMBERS."""
    sizes = {c: FIXED_BRANCH_SIZES.get(c) or rng.randint(8, 30) for c in codes}
    adjustable = [c for c in codes if c not in FIXED_BRANCH_SIZES]
    while (diff := TOTAL_MEMBERS - sum(sizes.values())) != 0:
        code = rng.choice(adjustable)
        step = 1 if diff > 0 else -1
        if BRANCH_MIN_MEMBERS <= sizes[code] + step <= BRANCH_MAX_MEMBERS:
            sizes[code] += step
    return sizes


def demo_org_plan(*, seed: int = DEMO_SEED) -> list[DemoOrg]:
    """The whole demo tree as plain values, parents first. Pure: same seed, same tree."""
    rng = random.Random(seed)
    plan: list[DemoOrg] = []

    def add(
        code: str,
        name: str,
        kind: str,
        parent: DemoOrg | None,
        agency: str,
        sort_order: int,
        years: tuple[int, int],
    ) -> DemoOrg:
        org = DemoOrg(
            code=code,
            name=name,
            kind=kind,
            parent_code=parent.code if parent else None,
            agency_name=agency,
            sort_order=sort_order,
            established_on=_established(rng, *years),
        )
        plan.append(org)
        return org

    root = add(ROOT_CODE, ROOT_NAME, OrgKind.COMMITTEE, None, ROOT_AGENCY, 0, (1984, 1984))
    # The 工委's children keep one running sort order: 机关党委, then 党总支, then 直属党支部.
    sort = 0
    middle = [
        (f"XYJ{i:02d}", f"中共{agency}机关委员会", OrgKind.AGENCY_COMMITTEE, agency, units, (1985, 2005))
        for i, (agency, units) in enumerate(AGENCY_COMMITTEES, start=1)
    ] + [
        (f"XYZ{i:02d}", f"中共{agency}机关总支部委员会", OrgKind.GENERAL_BRANCH, agency, units, (1988, 2010))
        for i, (agency, units) in enumerate(GENERAL_BRANCHES, start=1)
    ]
    for code, name, kind, agency, units, years in middle:
        sort += 10
        unit = add(code, name, kind, root, agency, sort, years)
        for j, label in enumerate(units, start=1):
            add(
                f"{code}-{j:02d}",
                f"{agency}{label}党支部",
                OrgKind.BRANCH,
                unit,
                agency,
                j * 10,
                (1990, 2020),
            )
    for i, agency in enumerate(DIRECT_BRANCH_AGENCIES, start=1):
        sort += 10
        add(f"XYD{i:02d}", f"{agency}机关党支部", OrgKind.BRANCH, root, agency, sort, (1980, 2020))
    for branch_code, groups in PARTY_GROUPS.items():
        branch = next(o for o in plan if o.code == branch_code)
        for k in range(groups):
            add(
                f"{branch_code}-G{k + 1}",
                f"{branch.name}{GROUP_ORDINALS[k]}党小组",
                OrgKind.PARTY_GROUP,
                branch,
                branch.agency_name,
                (k + 1) * 10,
                (2015, 2022),
            )
    sizes = _roster_sizes(rng, [o.code for o in plan if o.kind == OrgKind.BRANCH])
    return [replace(o, roster_size=sizes.get(o.code, 0)) for o in plan]


def _term_ends_on(rng: random.Random, org: DemoOrg, today: date) -> date | None:
    """Terms end 91 days to a full term away, except the few that must show a 换届 warning."""
    if org.code in TERM_ENDS_IN_DAYS:
        return today + timedelta(days=TERM_ENDS_IN_DAYS[org.code])
    years = TERM_YEARS.get(org.kind)
    if years is None:
        return None
    return today + timedelta(days=rng.randint(TERM_WARNING_HORIZON_DAYS + 1, years * 365))


@dataclass
class DemoResult:
    """What `demo_load` wrote, keyed by organisation code and username (for the extension point)."""

    orgs: dict[str, OrgUnit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    member_count: int = 0
    branch_secretary_count: int = 0


def _joined_on(rng: random.Random, today: date, probationary: bool) -> date:
    if probationary:
        # Probationary members joined within the last year.
        return today - timedelta(days=rng.randint(30, 360))
    start = date(1970, 1, 1)
    end = today - timedelta(days=400)
    return start + timedelta(days=rng.randrange((end - start).days))


@transaction.atomic
def demo_load(*, today: date, password: str = DEMO_PASSWORD, seed: int = DEMO_SEED) -> DemoResult:
    """Write the demo tree, its rosters and its accounts into an empty database."""
    rng = random.Random(seed)
    result = DemoResult()
    plan = demo_org_plan(seed=seed)
    for spec in plan:
        result.orgs[spec.code] = services.org_unit_create(
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            parent=result.orgs[spec.parent_code] if spec.parent_code else None,
            sort_order=spec.sort_order,
            agency_name=spec.agency_name,
            phone=f"{PHONE_PREFIX}{rng.randint(10000, 99999)}",
            established_on=spec.established_on,
            term_ends_on=_term_ends_on(rng, spec, today),
        )

    # Rosters are drawn before accounts so officers can be real members of their branch.
    rosters: dict[str, list[Member]] = {}
    for spec in plan:
        if spec.roster_size:
            org = result.orgs[spec.code]
            members = []
            for _ in range(spec.roster_size):
                probationary = rng.random() < 0.05
                members.append(
                    Member(
                        org=org,
                        name=person_name(rng),
                        category=MemberCategory.PROBATIONARY if probationary else MemberCategory.FULL,
                        joined_on=_joined_on(rng, today, probationary),
                    )
                )
            rosters[spec.code] = members

    # One hash for every account: hashing 100+ passwords with Argon2 one by one takes minutes.
    password_hash = make_password(password)
    grants: list[tuple[User, OrgUnit, str]] = []
    officers_taken: dict[str, int] = {}

    def account(username: str, org_code: str, full_name: str | None = None) -> User:
        member: Member | None = None
        if full_name is None:
            # Officers of a branch are the next unused members of its roster.
            index = officers_taken.get(org_code, 0)
            officers_taken[org_code] = index + 1
            member = rosters[org_code][index]
            full_name = member.name
        user = services.user_create(
            username=username, full_name=full_name, phone=f"139{rng.randint(10000000, 99999999)}"
        )
        if member is not None:
            member.user = user
        result.users[username] = user
        return user

    featured_secretaries = {a.org_code for a in FEATURED_ACCOUNTS if str(a.role) == Role.SECRETARY}
    for featured in FEATURED_ACCOUNTS:
        user = account(featured.username, featured.org_code, featured.full_name)
        grants.append((user, result.orgs[featured.org_code], featured.role))
    for spec in plan:
        if spec.kind == OrgKind.BRANCH and spec.code not in featured_secretaries:
            user = account(branch_secretary_username(spec.code), spec.code)
            grants.append((user, result.orgs[spec.code], Role.SECRETARY))
            result.branch_secretary_count += 1

    User.objects.filter(pk__in=[u.pk for u in result.users.values()]).update(password=password_hash)
    for user, org, role in grants:
        services.role_grant(user=user, org=org, role=role)
    all_members = [m for roster in rosters.values() for m in roster]
    Member.objects.bulk_create(all_members, batch_size=500)
    result.member_count = len(all_members)

    demo_campaign_build(result=result, today=today)
    return result


def demo_campaign_build(*, result: DemoResult, today: date) -> None:
    """Extension point for the campaign part of §14, filled in by the campaign issues.

    It will add a published campaign for `today.year` with a realistic 40-item list,
    mid-year progress (some done, some returned, some overdue) and one inspection round
    with findings and rectifications, all over `result.orgs` and `result.users`.
    """


@dataclass(frozen=True)
class DemoAccountRow:
    username: str
    full_name: str
    role_label: str
    org_name: str


def demo_account_rows() -> list[DemoAccountRow]:
    """The featured accounts as they are in the database now (for the printed table)."""
    wanted = {(a.username, str(a.role)) for a in FEATURED_ACCOUNTS}
    order = {a.username: i for i, a in enumerate(FEATURED_ACCOUNTS)}
    grants = RoleGrant.objects.filter(user__username__in=list(order)).select_related("user", "org")
    rows = [
        DemoAccountRow(
            username=g.user.username,
            full_name=g.user.full_name,
            role_label=g.get_role_display(),
            org_name=g.org.name,
        )
        for g in grants
        if (g.user.username, g.role) in wanted
    ]
    return sorted(rows, key=lambda r: order[r.username])


def branch_secretary_account_count() -> int:
    return User.objects.filter(username__startswith=BRANCH_SECRETARY_PREFIX).count()
