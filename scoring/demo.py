"""The demo of 达标创星 (domain.md §9, §14) over the demo campaign, its supervision and the tree.

The 工委 adopts preset 方案B adapted to 旬阳 (bonus items for the 党建品牌 of seeds/003, a 违纪违法
veto, five-star seats capped at 10%) for the 党支部 round; every branch secretary reports at one
述职评议 with ten raters; staff record the facts the checklist does not hold (one 违纪违法 veto
event, brand and award bonuses, two honours); the 工委's year-end review scores are written on
the entries; a few branches declare and get their 初审; the round moves to 工委审核 and one
provisional compile runs. The totals are planned so that the compile shows what the stage is
for: one tie at the five-star quota boundary, left for a person to decide, and one veto applied.

Every step but two goes through the services, by the person who would act. The exceptions are
the facts (plain rows, as staff enter them) and the year-end review scores, written straight onto
the entries with their 审核通过 events (some 2,400 reviews through the entry services would make
`make run` noticeably slower). Deterministic: a fixed seed drives every choice; a RuntimeError
says so if the compile does not show the planned tie and veto.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from branches.demo import AUDIT_BRANCH_CODE, BUDGET_BRANCH_CODE, ROOT_CODE
from branches.models import OrgKind, OrgUnit, Role, RoleGrant, User
from campaigns.demo import ADMIN_USERNAME, COMMITTEE_STAFF_USERNAME, PROGRESS_NOTES, UNIT_STAFF_USERNAMES
from campaigns.models import (
    Campaign,
    ChecklistEntry,
    EntryEvent,
    EntryStatus,
    EventAction,
    ReviewSession,
    ReviewStage,
)
from campaigns.models.checklists import PERIODS_PER_YEAR
from campaigns.services import reports
from scoring import presets, services
from scoring.inputs import from_weighted, gather_inputs, weighted_item_points
from scoring.models import CompileRun, FactKind, Rating, RatingFact, RatingRound, RoundStage
from scoring.rules import OrgInputs, compute_total, rate
from scoring.schemes import Scheme, scheme_to_dict

DEMO_RATING_SEED = 20261215
BASE_PRESET = "scheme_b_city_pingxing"
SCHEME_NAME = "旬阳市直机关党支部“达标创星”评定方案"
SCHEME_NOTE = (
    "以预置方案B为基础：不重复计逾期扣分，增设党建品牌等加分项、违纪违法等否决情形，五星级名额不超过10%"
)
FIVE_STAR = 5
FIVE_STAR_SHARE = "0.1"

# 述职评议: ten raters (工委, 机关党委/党总支 and 党员代表) vote on every branch secretary.
RATER_USERNAMES = (
    ADMIN_USERNAME,
    COMMITTEE_STAFF_USERNAME,
    "czj_secretary",
    "czj_staff",
    "czj_leader",
    "rsj_staff",
    "xsb_viewer",
    "ysg_deputy",
    "ysg_member",
    "ysg_liaison",
)
GOOD, FAIRLY_GOOD, FAIR, POOR = "好", "较好", "一般", "差"
SESSION_TITLE = "{year}年度党支部书记抓基层党建工作述职评议"

# Facts from the 旬阳 article (seeds/003): (org code, kind, key, points, description).
VETO_KEY = "违纪违法"
VETO_BRANCH = "XYJ06-04"  # 自然资源局自然资源执法大队党支部
PROVINCIAL_HONOUR = "省级先进基层党组织"
CITY_HONOUR = "市级先进基层党组织"
BRAND, AWARD, INNOVATION = "党建品牌", "表彰奖励", "创新项目"
XUNSUBAN_BRANCH = "XYZ02-02"  # 行政审批服务局“旬速办”政务服务窗口党支部
RIVER_BRANCH = "XYZ03-02"  # 水利局河湖管理站党支部
FACTS: tuple[tuple[str, str, str, str | None, str], ...] = (
    (
        VETO_BRANCH,
        FactKind.VETO,
        VETO_KEY,
        None,
        "支部1名党员违反中央八项规定精神受到党内警告处分（旬纪发〔{year}〕12号）",
    ),
    (XUNSUBAN_BRANCH, FactKind.BONUS, BRAND, "3", "“旬速办”党建品牌成为陕西省优化营商环境的一张名片"),
    (XUNSUBAN_BRANCH, FactKind.HONOUR, PROVINCIAL_HONOUR, None, "{year}年度陕西省先进基层党组织"),
    (BUDGET_BRANCH_CODE, FactKind.BONUS, BRAND, "2", "“党领财兴”党建品牌特色项目“预算绩效党员先锋岗”"),
    (BUDGET_BRANCH_CODE, FactKind.BONUS, AWARD, "2", "“党领财兴”获全市党组织书记“党建品牌擂台赛”一等奖"),
    (RIVER_BRANCH, FactKind.BONUS, BRAND, "2", "“红袖章护河队”党建品牌"),
    (RIVER_BRANCH, FactKind.BONUS, AWARD, "3", "“女子护河队”入选全国推行河湖长制典型案例"),
    ("XYD13", FactKind.BONUS, BRAND, "2", "“声入人心”理论宣讲品牌，三年深入镇村宣讲300余场次"),
    ("XYJ08-02", FactKind.BONUS, INNOVATION, "2", "“农技科普金钥匙”入选陕西创新案例"),
    ("XYZ05-02", FactKind.BONUS, AWARD, "2", "“文润旬阳·艺惠万家”获省级奖项"),
    ("XYZ01-02", FactKind.BONUS, BRAND, "1", "“红石榴·陕先锋”党建品牌"),
    ("XYD42", FactKind.BONUS, BRAND, "1", "“匠心旬烟”党建品牌"),
    (
        "XYD06",
        FactKind.HONOUR,
        PROVINCIAL_HONOUR,
        None,
        "“两强一好”党建品牌获省委主要领导批示肯定，获评省级先进基层党组织",
    ),
    ("XYD08", FactKind.HONOUR, CITY_HONOUR, None, "{year}年度旬阳市先进基层党组织"),
)
# Branches that belong among the five-star scores (featured, or with a provincial brand).
TOP_BRANCHES = (BUDGET_BRANCH_CODE, AUDIT_BRANCH_CODE, XUNSUBAN_BRANCH, RIVER_BRANCH)
# Branches rated directly by an honour, with a score below that level (三星 and 二星 ranges).
HONOUR_TARGETS = {"XYD06": (Decimal("72"), Decimal("78")), "XYD08": (Decimal("61"), Decimal("68"))}
VETO_TARGET = (Decimal("84"), Decimal("88"))
# The tie: two branches with identical inputs, total about 91.40 (five-star band, above 90).
TIE_GOOD_VOTES = 9
TIE_TARGET = Decimal("91.40")
SLIDERS = 2  # five-star scores below the tie: moved down by the quota
# Tiers of every other branch: (weight, lowest, highest total, good votes of 10).
TIERS: tuple[tuple[int, Decimal, Decimal, tuple[int, ...]], ...] = (
    (35, Decimal("80"), Decimal("89.6"), (8, 9, 10)),
    (35, Decimal("70"), Decimal("79.9"), (7, 8, 9)),
    (20, Decimal("60"), Decimal("69.9"), (6, 7, 8)),
    (10, Decimal("52"), Decimal("59.9"), (5, 6, 7)),
)
HALF = Decimal("0.5")
MAX_CHECKLIST = Decimal(100)
CENT = Decimal("0.01")

# 自评申报 and 初审: (code or "tie", level declared, reasons, first review: None | (agree, level, note)).
DECLARATIONS: tuple[tuple[str, int, str, tuple[bool, int | None, str] | None], ...] = (
    (
        BUDGET_BRANCH_CODE,
        5,
        "全年“三会一课”按时召开、记录规范，“党领财兴”品牌获全市党建品牌擂台赛一等奖，申报五星级党支部。",
        (True, 5, "同意推荐为五星级党支部。"),
    ),
    (
        AUDIT_BRANCH_CODE,
        5,
        "任务清单各项工作全部按时完成，审计监督与党建工作深度融合，申报五星级党支部。",
        (True, 5, "工作扎实，同意推荐。"),
    ),
    (
        XUNSUBAN_BRANCH,
        5,
        "“旬速办”党建品牌获评省级先进基层党组织，办理时限压缩50%以上，申报五星级党支部。",
        (True, 5, "品牌特色鲜明，同意推荐为五星级。"),
    ),
    ("tie", 5, "各项任务按期完成，述职评议好评率90%，申报五星级党支部。", (True, 5, "同意推荐。")),
    (
        RIVER_BRANCH,
        5,
        "“红袖章护河队”常态化开展护河志愿服务，申报五星级党支部。",
        (False, None, "申报材料未附“女子护河队”典型案例的佐证，请补充后重新申报。"),
    ),
    ("XYJ02-01", 4, "支部各项工作按计划推进，申报四星级党支部。", None),
)


@dataclass
class RatingDemoResult:
    round: RatingRound
    run: CompileRun
    reporters: int = 0
    ballots: int = 0
    facts: int = 0
    entries_scored: int = 0
    declared: int = 0


def demo_rating_exists() -> bool:
    return RatingRound.objects.exists()


def demo_scheme_data(year: int) -> dict[str, Any]:
    """Preset 方案B adapted to the demo: the data saved as the campaign's scheme."""
    data = scheme_to_dict(presets.load(BASE_PRESET))
    data["name"] = SCHEME_NAME
    data["notes"] = (
        "以预置方案B（某市2023年度基层党支部评星定级）为基础，按旬阳市直机关实际调整："
        "总分 = (任务清单得分 − 减分项) × 70% + 述职评议好评率 × 100 × 30% + 加分项；"
        "逾期事项已由年中督查通报和整改处理，不再重复扣分；"
        "按“一支部一特色·一机关一品牌”增设党建品牌（封顶3分）、表彰奖励（封顶3分）、创新项目（封顶2分）加分，合计封顶5分；"
        "支部班子成员或党员发生违纪违法问题受到党纪政务处分的不予评定，被列为软弱涣散的最高二星；"
        "获省级先进基层党组织的直接定为四星级以上、市级的三星级以上；"
        f"五星级不超过参评党支部的10%（向下取整）；公示7天。{year}年度起执行。"
    )
    data["publicity_days"] = 7
    score = data["score"]
    score["deductions"] = [d for d in score.get("deductions", []) if d["kind"] != "overdue_entry"]
    score["bonus"] = {
        "items": [{"kind": BRAND, "cap": 3}, {"kind": AWARD, "cap": 3}, {"kind": INNOVATION, "cap": 2}],
        "cap": 5,
    }
    data["vetoes"] = [
        {
            "key": VETO_KEY,
            "description": "支部班子成员或党员发生违纪违法问题受到党纪政务处分",
            "effect": "no_rating",
        },
        {"key": "软弱涣散", "description": "被列为软弱涣散基层党组织", "effect": "cap_at_level", "level": 2},
    ]
    data["quotas"] = {str(FIVE_STAR): {"max": FIVE_STAR_SHARE}}
    data["promotion"] = {
        "direct_rating": [{"honour": PROVINCIAL_HONOUR, "level": 4}, {"honour": CITY_HONOUR, "level": 3}]
    }
    return data


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _secretaries(branches: list[OrgUnit]) -> dict[int, User]:
    secretaries: dict[int, User] = {}
    for grant in (
        RoleGrant.objects.filter(org__in=branches, role=Role.SECRETARY, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    ):
        secretaries.setdefault(grant.org_id, grant.user)
    return secretaries


def _first_reviewer(org: OrgUnit, staff: User) -> User:
    """Unit staff of the 机关党委/党总支 above the branch, else 工委 staff."""
    for code, username in UNIT_STAFF_USERNAMES.items():
        unit = OrgUnit.objects.filter(code=code).only("path").first()
        if unit is not None and org.path.startswith(unit.path):
            return _user(username)
    return staff


# --- the plan of totals ---------------------------------------------------------------------------


@dataclass
class _Plan:
    good_votes: dict[int, int]  # org id → 好+较好 votes of ten
    targets: dict[int, Decimal]  # org id → the highest total wanted
    tie: tuple[int, int]


def _is_clean(org: OrgInputs) -> bool:
    """No deductions, facts or history: two such branches with equal scores have equal totals."""
    return not (
        org.is_new
        or org.last_year_level is not None
        or org.unresolved_findings
        or org.repeated_findings
        or org.notices
        or org.bonus_items
        or org.veto_conditions
        or org.honours
    )


def _five_star_seats(scheme: Scheme, inputs: list[OrgInputs]) -> int:
    result = rate(scheme, inputs)
    seats = next(
        (d.max_seats for d in result.distribution if d.level == FIVE_STAR and d.max_seats is not None), None
    )
    if seats is None or seats < 2:
        raise RuntimeError("演示组织树太小，五星级名额不足以演示名额边界并列")
    return seats


def _between(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A total in [low, high], in cents."""
    return Decimal(rng.randint(int(low * 100), int(high * 100))) / 100


def _capacity(campaign: Campaign, inputs: list[OrgInputs]) -> dict[int, Decimal]:
    """Checklist points each branch can reach: what it has plus every entry the review may approve."""
    open_points = dict(
        ChecklistEntry.objects.filter(
            UNSCORED, campaign=campaign, status__in=OPEN_FOR_REVIEW, notices__isnull=True
        )
        .values("org_id")
        .annotate(points=Sum(weighted_item_points("item__points")))
        .values_list("org_id", "points")
    )
    return {
        int(o.org_id): Decimal(o.checklist_points)
        + (from_weighted(open_points.get(int(o.org_id))) or Decimal(0))
        for o in inputs
    }


def _plan(
    scheme: Scheme,
    inputs: list[OrgInputs],
    codes: dict[int, str],
    rng: random.Random,
    capacity: dict[int, Decimal],
) -> _Plan:
    """Who is where: the five-star seats but one above the tie, the tied pair, the rest below."""
    seats = _five_star_seats(scheme, inputs)
    by_code = {codes[int(o.org_id)]: o for o in inputs}
    fixed = {*TOP_BRANCHES, *HONOUR_TARGETS, VETO_BRANCH}
    # The tied pair and the branches placed around it must be able to reach their totals.
    clean = [
        o
        for o in inputs
        if _is_clean(o) and codes[int(o.org_id)] not in fixed and capacity[int(o.org_id)] >= MAX_CHECKLIST - 1
    ]
    rng.shuffle(clean)
    top_count = seats - 1
    extra_top = top_count - len(TOP_BRANCHES)
    if extra_top < 0 or len(clean) < extra_top + 2 + SLIDERS:
        raise RuntimeError("演示组织树与评星方案不匹配，无法安排名额边界并列")
    # The pair shares a parent, so both have the same task list and can end with identical entries.
    pair = next(
        ([a, b] for i, a in enumerate(clean) for b in clean[i + 1 :] if a.parent_id == b.parent_id), None
    )
    if pair is None:
        raise RuntimeError("演示组织树中找不到同一上级下的两个党支部来演示名额边界并列")
    rest = [o for o in clean if o not in pair]
    top = [by_code[c] for c in TOP_BRANCHES] + rest[:extra_top]
    sliders = rest[extra_top : extra_top + SLIDERS]
    good: dict[int, int] = {}
    targets: dict[int, Decimal] = {}
    for o in top:
        good[int(o.org_id)] = rng.choice((9, 10, 10))
        targets[int(o.org_id)] = _between(rng, Decimal("93"), Decimal("99"))
    for o in pair:
        good[int(o.org_id)] = TIE_GOOD_VOTES
        targets[int(o.org_id)] = TIE_TARGET
    for o, target in zip(sliders, ("90.60", "91.00"), strict=True):
        good[int(o.org_id)] = 10
        targets[int(o.org_id)] = Decimal(target)
    for code, (low, high) in {**HONOUR_TARGETS, VETO_BRANCH: VETO_TARGET}.items():
        org_id = int(by_code[code].org_id)
        good[org_id] = rng.choice((8, 9))
        targets[org_id] = _between(rng, low, high)
    weights = [t[0] for t in TIERS]
    for o in inputs:
        org_id = int(o.org_id)
        if org_id in targets:
            continue
        _, lowest, highest, votes = rng.choices(TIERS, weights)[0]
        good[org_id] = rng.choice(votes)
        targets[org_id] = _between(rng, lowest, highest)
    return _Plan(good, targets, (int(pair[0].org_id), int(pair[1].org_id)))


def _checklist_for(scheme: Scheme, org: OrgInputs, target: Decimal) -> Decimal:
    """The highest checklist score (in 0.5 steps from what the branch already has, at most 100
    unless it already has more) whose total stays at or below ``target``."""
    start = Decimal(org.checklist_points)
    if start >= MAX_CHECKLIST:
        return start
    steps = int((MAX_CHECKLIST - start) / HALF)

    def total(k: int) -> Decimal:
        return compute_total(scheme, replace(org, checklist_points=start + HALF * k))[0]

    if total(0) > target:
        return start
    low, high = 0, steps
    while low < high:
        mid = (low + high + 1) // 2
        if total(mid) <= target:
            low = mid
        else:
            high = mid - 1
    return start + HALF * low


# --- steps ----------------------------------------------------------------------------------------


def _facts(campaign: Campaign, staff: User, orgs: dict[str, OrgUnit]) -> int:
    year = campaign.year
    RatingFact.objects.bulk_create(
        RatingFact(
            campaign=campaign,
            org=orgs[code],
            kind=kind,
            key=key,
            value=Decimal(value) if value is not None else None,
            description=description.format(year=year),
            entered_by=staff,
        )
        for code, kind, key, value, description in FACTS
    )
    return len(FACTS)


def _labels(good: int, rng: random.Random) -> list[str]:
    """Ten votes with `good` of them 好/较好, mostly 好, the rest mostly 一般."""
    best = rng.randint(max(0, good - 3), good)
    poor = rng.choice((0, 0, 1)) if good < 10 else 0
    labels = [GOOD] * best + [FAIRLY_GOOD] * (good - best) + [POOR] * poor + [FAIR] * (10 - good - poor)
    rng.shuffle(labels)
    return labels


def _session(
    *,
    campaign: Campaign,
    staff: User,
    branches: list[OrgUnit],
    secretaries: dict[int, User],
    good_votes: dict[int, int],
    today: date,
    rng: random.Random,
) -> tuple[ReviewSession, int]:
    """One closed 述职评议 with every branch secretary reporting and ten raters voting."""
    raters = [_user(u) for u in RATER_USERNAMES]
    session = reports.session_create(
        campaign=campaign,
        scope=campaign.committee,
        title=SESSION_TITLE.format(year=campaign.year),
        held_on=today - timedelta(days=2),
        actor=staff,
        raters=raters,
    )
    reporters = reports.session_add_reporters(
        session=session,
        reporters=[(org, secretaries[org.pk], "") for org in branches if org.pk in secretaries],
        actor=staff,
    )
    ballots = 0
    for reporter in reporters:
        for rater, label in zip(raters, _labels(good_votes[reporter.org_id], rng), strict=True):
            reports.ballot_cast(reporter=reporter, rater=rater, label=label)
            ballots += 1
    reports.session_close(session=session, actor=staff)
    return session, ballots


# The year-end review approves whatever is still open (not entries named in a 通报: they stay overdue).
OPEN_FOR_REVIEW = (EntryStatus.NOT_STARTED, EntryStatus.IN_PROGRESS)
# ...and only entries that add nothing to the total yet (no first-review or review score), so the
# points the review gives are exactly the points the branch gains.
UNSCORED = Q(first_review_score__isnull=True, review_score__isnull=True)


def _review_scores(
    *, campaign: Campaign, staff: User, added: dict[int, Decimal], today: date, rng: random.Random
) -> int:
    """The 工委's year-end review: approve open entries, earliest due first, worth `added` points."""
    by_org: dict[int, list[ChecklistEntry]] = defaultdict(list)
    for entry in (
        ChecklistEntry.objects.filter(
            UNSCORED,
            campaign=campaign,
            org_id__in=list(added),
            status__in=OPEN_FOR_REVIEW,
            notices__isnull=True,
        )
        .select_related("item")
        .only(
            "pk",
            "org_id",
            "due_date",
            "period",
            "version",
            "item__points",
            "item__frequency",
            "item__sort_order",
        )
        .order_by("org_id", "due_date", "item__sort_order", "period", "pk")
    ):
        by_org[entry.org_id].append(entry)
    now = timezone.now()
    changed: list[ChecklistEntry] = []
    status_before: dict[int, str] = {}
    for org_id, points in sorted(added.items()):
        # A recurring item counts with the mean of its periods: one entry adds score / periods.
        # Work in twelfths of a point (12 / periods is a whole number) so every step is exact.
        left = points * 12
        for entry in by_org[org_id]:
            if left <= 0:
                break
            weight = 12 // PERIODS_PER_YEAR.get(entry.item.frequency, 1)
            score = min(entry.item.points, (left / weight).quantize(CENT, rounding=ROUND_DOWN))
            if score <= 0:
                continue
            left -= score * weight
            due = entry.due_date or today
            status_before[entry.pk] = entry.status
            entry.status = EntryStatus.APPROVED
            entry.review_stage = ReviewStage.NONE
            entry.progress_note = rng.choice(PROGRESS_NOTES)
            entry.completed_on = min(due, today) - timedelta(days=rng.randint(0, 6))
            entry.self_score = entry.item.points
            entry.review_score = score
            entry.submitted_at = now
            entry.version += 1
            entry.updated_by = staff
            changed.append(entry)
        # Entries named in a 通报 stay open, so a branch may end a little under its planned total;
        # the compile below checks that the tie and the veto the demo needs are still there.
    for e in changed:  # one statement each: bulk_update's CASE per column is slower at this size
        ChecklistEntry.objects.filter(pk=e.pk).update(
            status=e.status,
            review_stage=e.review_stage,
            progress_note=e.progress_note,
            completed_on=e.completed_on,
            self_score=e.self_score,
            review_score=e.review_score,
            submitted_at=now,
            version=e.version,
            updated_by=staff,
            updated_at=now,
        )
    EntryEvent.objects.bulk_create(
        (
            EntryEvent(
                entry=e,
                actor=staff,
                action=EventAction.APPROVED,
                from_status=status_before[e.pk],
                to_status=EntryStatus.APPROVED,
                comment="年终集中审核通过。"
                if e.review_score == e.item.points
                else "年终集中审核，部分扣分。",
                score=e.review_score,
            )
            for e in changed
        ),
        batch_size=500,
    )
    return len(changed)


def _declarations(
    *,
    rnd: RatingRound,
    admin: User,
    staff: User,
    orgs: dict[str, OrgUnit],
    secretaries: dict[int, User],
    tie_org: OrgUnit,
) -> tuple[RatingRound, int]:
    """自评申报 by the secretaries, then 初审 by the unit (or 工委) staff; the round ends at 初审."""
    rows = [
        (tie_org if code == "tie" else orgs[code], level, reasons, review)
        for code, level, reasons, review in DECLARATIONS
    ]
    for org, level, reasons, _ in rows:
        services.rating_declare(rnd=rnd, org=org, level=level, declaration=reasons, actor=secretaries[org.pk])
    rnd = services.round_advance(
        rnd=rnd, to_stage=RoundStage.FIRST_REVIEW, actor=admin, expected_version=rnd.version
    )
    for org, _, _, review in rows:
        if review is None:
            continue
        agree, recommended, note = review
        rating = Rating.objects.select_related("round__scheme", "org").get(round=rnd, org=org)
        services.rating_first_review(
            rating=rating,
            actor=_first_reviewer(org, staff),
            agree=agree,
            level=recommended,
            note=note,
            expected_version=rating.version,
        )
    return rnd, len(rows)


@transaction.atomic
def demo_rating_load(*, today: date, seed: int = DEMO_RATING_SEED) -> RatingDemoResult:
    """The whole rating demo over the loaded demo campaign of `today`'s year."""
    rng = random.Random(seed)
    campaign = Campaign.objects.select_related("committee").get(committee__code=ROOT_CODE, year=today.year)
    admin, staff = _user(ADMIN_USERNAME), _user(COMMITTEE_STAFF_USERNAME)
    version = services.scheme_save(
        campaign=campaign, data=demo_scheme_data(campaign.year), actor=admin, note=SCHEME_NOTE
    )
    rnd = services.round_create(campaign=campaign, scheme=version, actor=admin)
    scheme = services.scheme_of(version)
    branches = list(
        OrgUnit.objects.filter(
            path__startswith=campaign.committee.path, kind=OrgKind.BRANCH, is_active=True
        ).order_by("path")
    )
    orgs = {o.code: o for o in branches}
    codes = {o.pk: o.code for o in branches}
    secretaries = _secretaries(branches)
    facts = _facts(campaign, staff, orgs)

    before = gather_inputs(rnd, today=today).inputs
    plan = _plan(scheme, before, codes, rng, _capacity(campaign, before))
    session, ballots = _session(
        campaign=campaign,
        staff=staff,
        branches=branches,
        secretaries=secretaries,
        good_votes=plan.good_votes,
        today=today,
        rng=rng,
    )
    inputs = {int(o.org_id): o for o in gather_inputs(rnd, today=today).inputs}
    checklist = {pk: _checklist_for(scheme, o, plan.targets[pk]) for pk, o in inputs.items()}
    first, second = plan.tie
    checklist[second] = checklist[first]  # identical inputs, identical totals
    added = {
        pk: c - inputs[pk].checklist_points for pk, c in checklist.items() if c > inputs[pk].checklist_points
    }
    scored = _review_scores(campaign=campaign, staff=staff, added=added, today=today, rng=rng)
    _mirror_entries(campaign, source_id=first, target_id=second)

    rnd, declared = _declarations(
        rnd=rnd,
        admin=admin,
        staff=staff,
        orgs=orgs,
        secretaries=secretaries,
        tie_org=next(o for o in branches if o.pk == first),
    )
    rnd = services.round_advance(
        rnd=rnd, to_stage=RoundStage.COMMITTEE_REVIEW, actor=admin, expected_version=rnd.version
    )
    run = services.compile_now(rnd=rnd, actor=staff, today=today)
    _check(run, plan)
    return RatingDemoResult(
        round=rnd,
        run=run,
        reporters=session.reporters.count(),
        ballots=ballots,
        facts=facts,
        entries_scored=scored,
        declared=declared,
    )


def _mirror_entries(campaign: Campaign, *, source_id: int, target_id: int) -> None:
    """Give the second branch of the tied pair exactly the first one's scored entries."""
    fields = ("status", "review_stage", "completed_on", "self_score", "first_review_score", "review_score")
    source = {
        (e["item_id"], e["period"]): e
        for e in ChecklistEntry.objects.filter(campaign=campaign, org_id=source_id).values(
            "item_id", "period", *fields
        )
    }
    for entry in ChecklistEntry.objects.filter(campaign=campaign, org_id=target_id).only(
        "pk", "item_id", "period"
    ):
        match = source.get((entry.item_id, entry.period))
        if match is not None:
            ChecklistEntry.objects.filter(pk=entry.pk).update(**{f: match[f] for f in fields})


def _check(run: CompileRun, plan: _Plan) -> None:
    """The compile shows the planned tie and veto, or the demo says why not."""
    tied = [sorted(g["org_ids"]) for g in run.tie_groups]
    if sorted(plan.tie) not in tied:
        raise RuntimeError(f"演示评星没有产生预期的名额边界并列：{run.tie_groups}")
    vetoes = Rating.objects.filter(round_id=run.round_id).values_list("vetoes", flat=True)
    if not any(VETO_KEY in v for v in vetoes):
        raise RuntimeError("演示评星没有产生一票否决")
