"""The pure star-rating engine (达标创星): scheme data + plain inputs → levels with explanations.

No ORM, no I/O: a service loads rows into ``OrgInputs``, calls ``rate`` and stores the result.

Order of the steps for each organisation (domain.md §9, domain-research.md §8.1):

1. total = Σ weight × component (basic = base + checklist − capped deductions, never below 0;
   review = good rate or satisfaction × full marks) + capped bonus, capped at ``max_total``,
   rounded half-up to 2 places;
2. band (or the number of named stars) → score level;
3. promotion policy: new organisations 未定级; at most ``max_step_up`` over last year's level
   unless a 破格 honour; 直接定级 honours raise the level to at least theirs;
4. prerequisites: a missing condition caps the level;
5. vetoes (一票否决): no rating, cap at level N, or demote N levels → the veto ceiling;
   the result is the *provisional* level;
6. quotas (max share per level, per 工委 or per parent), from the top level down: sorted by
   total, organisations beyond the seats move down one level and are checked again there;
   organisations with the same total straddling the boundary are never split silently — they
   all wait one level down as a ``TieGroup`` in ``needs_decision`` until ``decisions`` names
   the level of every one of them;
7. the veto ceiling is applied once more, so no decision or quota step can lift a vetoed org.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from scoring.schemes import Quota, Scheme

OrgId = int | str

CENTS = Decimal("0.01")
ZERO = Decimal(0)

# Quota decision of one organisation.
QUOTA_KEPT = "kept"
QUOTA_MOVED_DOWN = "moved_down"
QUOTA_NEEDS_DECISION = "needs_decision"
QUOTA_DECIDED = "decided"
QUOTA_NOT_APPLICABLE = "not_applicable"
QUOTA_LABELS = {
    QUOTA_KEPT: "保留",
    QUOTA_MOVED_DOWN: "因名额限制降档",
    QUOTA_NEEDS_DECISION: "名额边界并列，待决定",
    QUOTA_DECIDED: "按决定定级",
    QUOTA_NOT_APPLICABLE: "不参与名额",
}

DEDUCTION_LABELS = {
    "overdue_entry": "逾期未完成事项",
    "unresolved_finding": "未整改问题",
    "repeated_finding": "重复发生问题",
    "notice": "被通报",
}
SOURCE_LABELS = {"basic": "基础项", "good_rate": "述职评议好评率", "satisfaction": "群众满意度"}


class RatingError(ValueError):
    """Decisions that cannot be applied (unknown org, not tied, or more seats than left)."""


class UnusedDecisions(RatingError):
    """Decisions for organisations that are not (or no longer) in a tie at a quota boundary."""

    def __init__(self, message: str, org_ids: Iterable[OrgId]) -> None:
        super().__init__(message)
        self.org_ids = tuple(org_ids)


@dataclass(frozen=True)
class BonusClaim:
    kind: str
    points: Decimal
    evidence: str = ""


@dataclass(frozen=True)
class OrgInputs:
    org_id: OrgId
    name: str
    parent_id: OrgId | None = None
    checklist_points: Decimal = ZERO  # sum of 审核得分 (points-account mode: the year's net events)
    max_points: Decimal | None = None
    overdue_entries: int = 0
    unresolved_findings: int = 0
    repeated_findings: int = 0
    notices: int = 0
    other_deductions: Decimal = ZERO  # already-computed 扣分 (e.g. the 扣分 column of an imported 汇总表)
    good_rate: Decimal | None = None  # 述职评议 好+较好 share, 0..1
    satisfaction: Decimal | None = None  # member/public satisfaction, 0..1
    bonus_items: tuple[BonusClaim, ...] = ()
    veto_conditions: frozenset[str] = frozenset()
    prerequisites_met: frozenset[str] = frozenset()
    last_year_level: int | None = None
    is_new: bool = False
    honours: frozenset[str] = frozenset()
    stars_earned: frozenset[str] = frozenset()  # named-stars mode


@dataclass(frozen=True)
class ExplanationLine:
    source: str
    description: str
    points: Decimal | None = None


@dataclass(frozen=True)
class OrgRating:
    org_id: OrgId
    name: str
    parent_id: OrgId | None
    total: Decimal
    score_level: int | None
    provisional_level: int | None
    final_level: int | None
    final_label: str
    quota_decision: str
    vetoes_applied: tuple[str, ...]
    prerequisites_missing: tuple[str, ...]
    last_year_level: int | None
    promotion_cap: int | None
    explanation: tuple[ExplanationLine, ...]


@dataclass(frozen=True)
class TieGroup:
    scope: str
    level: int
    org_ids: tuple[OrgId, ...]
    seats_left: int


@dataclass(frozen=True)
class LevelCount:
    scope: str
    level: int
    label: str
    count: int
    rated_in_scope: int
    quota: Quota | None
    max_seats: int | None
    target_seats: int | None
    min_seats: int | None

    @property
    def below_min(self) -> bool:
        return self.min_seats is not None and self.count < self.min_seats

    @property
    def off_target(self) -> bool:
        return self.target_seats is not None and self.count != self.target_seats


@dataclass(frozen=True)
class RatingResult:
    ratings: tuple[OrgRating, ...]
    distribution: tuple[LevelCount, ...]
    needs_decision: tuple[TieGroup, ...]
    unused_decisions: tuple[OrgId, ...] = ()  # only with strict=False: decisions no tie asked for

    def _replace_unused(self, unused: tuple[OrgId, ...]) -> RatingResult:
        return RatingResult(self.ratings, self.distribution, self.needs_decision, unused)

    def by_id(self, org_id: OrgId) -> OrgRating:
        for rating in self.ratings:
            if rating.org_id == org_id:
                return rating
        raise KeyError(org_id)


@dataclass(frozen=True)
class GapItem:
    item_code: str
    title: str
    missing_points: Decimal


@dataclass(frozen=True)
class GapList:
    org_id: OrgId
    total: Decimal
    current_level: int | None
    next_level: int | None
    missing_total: Decimal  # on the scale of the total
    missing_checklist_points: Decimal  # the same gap in checklist points (divided by the basic weight)
    items: tuple[GapItem, ...]  # cheapest first
    items_cover_gap: bool
    blockers: tuple[ExplanationLine, ...]


# --- helpers ----------------------------------------------------------------------------------


def _key(org_id: OrgId) -> tuple[str, str]:
    """A total order over mixed int/str ids, so results never depend on input order."""
    return (type(org_id).__name__, f"{org_id:>20}" if isinstance(org_id, int) else org_id)


def _rank(level: int | None) -> int:
    return -1 if level is None else level


def _fit(scheme: Scheme, level: int | None) -> int | None:
    """Map a level below the lowest rated one to 无星 (0) or 未定级 (None)."""
    if level is None or level >= scheme.lowest_rated:
        return level
    return scheme.below_level


def _lower(scheme: Scheme, level: int | None, cap: int | None) -> int | None:
    if cap is None or _rank(level) <= cap:
        return level
    return _fit(scheme, cap)


def _d(value: Decimal | int | float | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _seats(share: Decimal, n: int, rounding: str) -> int:
    mode = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "round": ROUND_HALF_UP}[rounding]
    return int((share * n).quantize(Decimal(1), rounding=mode))


# --- step 1: the total ------------------------------------------------------------------------


def compute_total(scheme: Scheme, org: OrgInputs) -> tuple[Decimal, list[ExplanationLine]]:
    """Total score and one explanation line per component, deduction, bonus and cap."""
    s = scheme.score
    lines: list[ExplanationLine] = []
    checklist = _d(org.checklist_points)
    if s.base:
        lines.append(ExplanationLine("基础分", "积分账户起始分", s.base))
    lines.append(ExplanationLine("任务清单", "审核得分合计", checklist))
    limit = s.max_checklist if s.max_checklist is not None else org.max_points
    if limit is not None and checklist > limit:
        lines.append(ExplanationLine("任务清单", f"超过满分 {limit}，按满分计", limit - checklist))
        checklist = _d(limit)
    if checklist < 0 and scheme.mode != "points_account":
        lines.append(ExplanationLine("任务清单", "得分不低于 0", -checklist))
        checklist = ZERO
    counts = {
        "overdue_entry": org.overdue_entries,
        "unresolved_finding": org.unresolved_findings,
        "repeated_finding": org.repeated_findings,
        "notice": org.notices,
    }
    deducted = ZERO
    for rule in s.deductions:
        units = max(counts[rule.kind], 0)
        amount = rule.points * units
        text = f"{DEDUCTION_LABELS[rule.kind]} {units} 项 × {rule.points} 分"
        if rule.cap is not None and amount > rule.cap:
            amount = rule.cap
            text += f"，封顶 {rule.cap} 分"
        lines.append(ExplanationLine("扣分", text, -amount))
        deducted += amount
    other = max(_d(org.other_deductions), ZERO)
    if other:
        lines.append(ExplanationLine("扣分", "导入的扣分合计", -other))
        deducted += other
    basic = s.base + checklist - deducted
    if basic < 0:
        lines.append(ExplanationLine("扣分", "基础项不低于 0", -basic))
        basic = ZERO
    total = ZERO
    for component in s.components:
        if component.source == "basic":
            value = basic
            text = "基础项（任务清单 − 扣分）"
        else:
            rate = org.good_rate if component.source == "good_rate" else org.satisfaction
            text = f"{SOURCE_LABELS[component.source]} {rate if rate is not None else '无数据，按 0 计'}"
            value = _d(rate) * s.review_full_marks if rate is not None else ZERO
        weighted = value * component.weight
        lines.append(ExplanationLine("权重", f"{text} {value} × {component.weight}", weighted))
        total += weighted
    bonus_total = ZERO
    caps = {item.kind: item.cap for item in s.bonus.items}
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    for claim in sorted(org.bonus_items, key=lambda c: (c.kind, -_d(c.points), c.evidence)):
        points = max(_d(claim.points), ZERO)
        if claim.kind not in caps:
            lines.append(ExplanationLine("加分", f"{claim.kind}（{claim.evidence}）不在方案加分项内", ZERO))
            continue
        cap = caps[claim.kind]
        if cap is not None and by_kind[claim.kind] + points > cap:
            allowed = max(cap - by_kind[claim.kind], ZERO)
            lines.append(
                ExplanationLine(
                    "加分", f"{claim.kind}（{claim.evidence}）{points} 分，本类封顶 {cap} 分", allowed
                )
            )
            points = allowed
        else:
            lines.append(ExplanationLine("加分", f"{claim.kind}（{claim.evidence}）", points))
        by_kind[claim.kind] += points
        bonus_total += points
    if s.bonus.cap is not None and bonus_total > s.bonus.cap:
        lines.append(ExplanationLine("加分", f"加分合计封顶 {s.bonus.cap} 分", s.bonus.cap - bonus_total))
        bonus_total = s.bonus.cap
    total += bonus_total
    if s.bonus.max_total is not None and total > s.bonus.max_total:
        lines.append(ExplanationLine("总分", f"总分封顶 {s.bonus.max_total} 分", s.bonus.max_total - total))
        total = s.bonus.max_total
    total = total.quantize(CENTS, rounding=ROUND_HALF_UP)
    lines.append(ExplanationLine("总分", "合计（保留两位小数）", total))
    return total, lines


# --- steps 2-5: one organisation before quotas -------------------------------------------------


@dataclass
class _Assessment:
    org: OrgInputs
    total: Decimal
    score_level: int | None
    level: int | None
    ceiling: int | None  # veto ceiling; None with no_rating means unrated for good
    no_rating: bool = False
    vetoes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    promotion_cap: int | None = None
    lines: list[ExplanationLine] = field(default_factory=list)
    quota: str = QUOTA_KEPT
    direct: bool = False


def score_level(scheme: Scheme, org: OrgInputs, total: Decimal) -> int | None:
    """Level from the bands (inclusive lower bounds) or from the count of named stars."""
    if scheme.mode == "named_stars":
        earned = len(org.stars_earned & {s.key for s in scheme.named_stars})
        fitting = [level for level in scheme.levels.rated if level <= earned]
        return max(fitting) if fitting else scheme.below_level
    for band in scheme.bands:  # highest first
        if total >= band.min:
            return band.level
    return scheme.below_level


def _prerequisite_missing(
    org: OrgInputs, conditions: Iterable[str], min_sat: Decimal | None, min_good: Decimal | None
) -> list[str]:
    missing = [c for c in conditions if c not in org.prerequisites_met]
    if min_sat is not None and (org.satisfaction is None or _d(org.satisfaction) < min_sat):
        missing.append(f"满意度≥{min_sat}")
    if min_good is not None and (org.good_rate is None or _d(org.good_rate) < min_good):
        missing.append(f"好评率≥{min_good}")
    return missing


def _assess(scheme: Scheme, org: OrgInputs) -> _Assessment:
    total, lines = compute_total(scheme, org)
    level = score_level(scheme, org, total)
    a = _Assessment(org, total, level, level, None, lines=lines)
    if scheme.mode == "named_stars":
        lines.append(
            ExplanationLine("分档", f"获得命名星 {len(org.stars_earned)} 颗 → {scheme.label_for(level)}")
        )
    else:
        lines.append(ExplanationLine("分档", f"总分 {total} → {scheme.label_for(level)}"))
    promo = scheme.promotion
    if org.is_new and promo.new_orgs_unrated:
        a.level = None
        a.no_rating = True
        lines.append(ExplanationLine("晋升", "年内新组建，未定级"))
        return a
    lines.append(
        ExplanationLine(
            "上年",
            f"上年等级：{scheme.label_for(org.last_year_level) if org.last_year_level is not None else '无'}",
        )
    )
    skip = sorted(org.honours & set(promo.skip_honours))
    if promo.max_step_up is not None and org.last_year_level is not None:
        if skip:
            lines.append(ExplanationLine("晋升", f"破格：{'、'.join(skip)}，不受逐级晋升限制"))
        else:
            a.promotion_cap = org.last_year_level + promo.max_step_up
            if _rank(a.level) > a.promotion_cap:
                a.level = _lower(scheme, a.level, a.promotion_cap)
                lines.append(ExplanationLine("晋升", f"逐级晋升，最高 {scheme.label_for(a.promotion_cap)}"))
    for rule in sorted(promo.direct_rating, key=lambda d: (-d.level, d.honour)):
        if rule.honour in org.honours and _rank(a.level) < rule.level:
            a.level = rule.level
            a.direct = True
            lines.append(ExplanationLine("直接定级", f"{rule.honour} → {scheme.label_for(rule.level)}"))
    for pre in sorted(scheme.prerequisites, key=lambda p: (-p.level, p.cap_at_level)):
        if _rank(a.level) < pre.level:
            continue
        missing = _prerequisite_missing(org, pre.conditions, pre.min_satisfaction, pre.min_good_rate)
        if missing:
            a.missing.extend(m for m in missing if m not in a.missing)
            a.level = _lower(scheme, a.level, pre.cap_at_level)
            lines.append(
                ExplanationLine(
                    "前置条件",
                    f"{scheme.label_for(pre.level)}缺少：{'、'.join(missing)}，最高 {scheme.label_for(pre.cap_at_level)}",
                )
            )
    before = a.level
    demote = 0
    caps: list[int] = []
    for veto in scheme.vetoes:
        if veto.key not in org.veto_conditions:
            continue
        a.vetoes.append(veto.key)
        if veto.effect == "no_rating":
            a.no_rating = True
            lines.append(ExplanationLine("一票否决", f"{veto.description}：不予评定"))
        elif veto.effect == "cap_at_level":
            caps.append(veto.level or 0)
            lines.append(
                ExplanationLine("一票否决", f"{veto.description}：最高 {scheme.label_for(veto.level)}")
            )
        else:
            demote += veto.level or 0
            lines.append(ExplanationLine("一票否决", f"{veto.description}：降 {veto.level} 档"))
    if a.no_rating:
        a.level = None
    elif before is not None and (caps or demote):
        ceilings = [*caps, before - demote] if demote else caps
        a.ceiling = min(ceilings)
        a.level = _lower(scheme, a.level, a.ceiling)
    return a


# --- step 6: quotas ---------------------------------------------------------------------------


def _scope_of(scheme: Scheme, org: OrgInputs) -> str:
    return "工委" if scheme.quota_scope == "committee" else f"上级:{org.parent_id}"


def _next_down(scheme: Scheme, level: int) -> int | None:
    lower = [lv for lv in scheme.levels.rated if lv < level]
    return max(lower) if lower else scheme.below_level


def _apply_quotas(
    scheme: Scheme,
    group: list[_Assessment],
    scope: str,
    decisions: Mapping[OrgId, int | None],
    used: set[OrgId],
) -> list[TieGroup]:
    ties: list[TieGroup] = []
    n = sum(1 for a in group if a.level is not None)
    for level in sorted(scheme.levels.rated, reverse=True):
        quota = scheme.quota_for(level)
        if quota is None or quota.max is None:
            continue
        seats = _seats(quota.max, n, scheme.quota_rounding)
        candidates = sorted(
            (a for a in group if a.level == level), key=lambda a: (-a.total, _key(a.org.org_id))
        )
        if len(candidates) <= seats:
            continue
        boundary = candidates[seats].total
        above = [a for a in candidates if a.total > boundary]
        tied = [a for a in candidates if a.total == boundary]
        seats_left = seats - len(above)
        down = _next_down(scheme, level)
        label = scheme.label_for(level)
        for a in candidates:
            if a.total < boundary or (a.total == boundary and seats_left == 0):
                a.level = down
                a.quota = QUOTA_MOVED_DOWN if a.quota == QUOTA_KEPT else a.quota
                a.lines.append(
                    ExplanationLine(
                        "名额", f"{label}名额 {seats} 个已满（{scope}），降为{scheme.label_for(down)}"
                    )
                )
        if seats_left == 0:
            continue
        ids = tuple(a.org.org_id for a in tied)
        if all(i in decisions for i in ids):
            chosen = [i for i in ids if decisions[i] == level]
            if len(chosen) > seats_left:
                raise RatingError(f"{label}并列名额只剩 {seats_left} 个，决定却给了 {len(chosen)} 个")
            for a in tied:
                decided = decisions[a.org.org_id]
                if _rank(decided) > level:
                    raise RatingError(f"{a.org.name}：决定的等级不能高于并列所在等级")
                if (
                    decided is not None
                    and decided not in scheme.levels.rated
                    and decided != scheme.below_level
                ):
                    raise RatingError(f"{a.org.name}：决定的等级 {decided} 不在方案等级内")
                used.add(a.org.org_id)
                a.level = decided
                a.quota = QUOTA_DECIDED
                a.lines.append(
                    ExplanationLine("名额", f"{label}名额边界并列，按决定定为{scheme.label_for(decided)}")
                )
        else:
            ties.append(TieGroup(scope, level, tuple(sorted(ids, key=_key)), seats_left))
            used.update(i for i in ids if i in decisions)  # a partial decision waits for the rest
            for a in tied:
                a.level = down
                a.quota = QUOTA_NEEDS_DECISION
                a.lines.append(
                    ExplanationLine(
                        "名额",
                        f"{label}剩余名额 {seats_left} 个，{len(tied)} 个组织总分并列 {boundary}，待决定，暂列{scheme.label_for(down)}",
                    )
                )
    return ties


def _distribution(scheme: Scheme, scope: str, group: list[_Assessment]) -> list[LevelCount]:
    n = sum(1 for a in group if a.level is not None)
    levels = sorted(scheme.levels.rated, reverse=True) + ([0] if scheme.below_level == 0 else [])
    rows = []
    for level in levels:
        quota = scheme.quota_for(level)

        def seats(share: Decimal | None) -> int | None:
            return None if share is None else _seats(share, n, scheme.quota_rounding)

        rows.append(
            LevelCount(
                scope,
                level,
                scheme.label_for(level),
                sum(1 for a in group if a.level == level),
                n,
                quota,
                seats(quota.max) if quota else None,
                seats(quota.target) if quota else None,
                seats(quota.min) if quota else None,
            )
        )
    return rows


def rate(
    scheme: Scheme,
    inputs: Sequence[OrgInputs],
    decisions: Mapping[OrgId, int | None] | None = None,
    *,
    strict: bool = True,
) -> RatingResult:
    """Rate every organisation under the scheme; ties at a quota boundary wait for ``decisions``.

    With ``strict=False`` decisions that no current tie asks for (the inputs changed since they
    were taken) are ignored and listed in ``unused_decisions`` instead of raising.
    """
    decisions = dict(decisions or {})
    if not strict:
        return _rate_lenient(scheme, inputs, decisions)
    seen: set[OrgId] = set()
    for org in inputs:
        if org.org_id in seen:
            raise RatingError(f"组织编号重复：{org.org_id}")
        seen.add(org.org_id)
    unknown = [i for i in decisions if i not in seen]
    if unknown:
        raise UnusedDecisions(f"决定涉及未参评的组织：{sorted(unknown, key=_key)}", unknown)
    assessments = [_assess(scheme, org) for org in sorted(inputs, key=lambda o: _key(o.org_id))]
    provisional = {a.org.org_id: a.level for a in assessments}
    scopes: dict[str, list[_Assessment]] = defaultdict(list)
    for a in assessments:
        if a.level is None:
            a.quota = QUOTA_NOT_APPLICABLE
        scopes[_scope_of(scheme, a.org)].append(a)
    ties: list[TieGroup] = []
    used: set[OrgId] = set()
    distribution: list[LevelCount] = []
    for scope in sorted(scopes):
        ties.extend(_apply_quotas(scheme, scopes[scope], scope, decisions, used))
    unused = [i for i in decisions if i not in used]
    if unused:
        raise UnusedDecisions(f"决定涉及的组织不在待决的并列名单中：{sorted(unused, key=_key)}", unused)
    ratings = []
    for a in assessments:
        final = None if a.no_rating else _lower(scheme, a.level, a.ceiling)  # vetoes always win
        if a.ceiling is not None:
            a.lines.append(
                ExplanationLine(
                    "一票否决", f"否决封顶 {scheme.label_for(_fit(scheme, a.ceiling))}，最终不高于此"
                )
            )
        a.level = final
        a.lines.append(ExplanationLine("结果", f"{QUOTA_LABELS[a.quota]}：{scheme.label_for(final)}"))
        ratings.append(
            OrgRating(
                org_id=a.org.org_id,
                name=a.org.name,
                parent_id=a.org.parent_id,
                total=a.total,
                score_level=a.score_level,
                provisional_level=provisional[a.org.org_id],
                final_level=final,
                final_label=scheme.label_for(final),
                quota_decision=a.quota,
                vetoes_applied=tuple(a.vetoes),
                prerequisites_missing=tuple(a.missing),
                last_year_level=a.org.last_year_level,
                promotion_cap=a.promotion_cap,
                explanation=tuple(a.lines),
            )
        )
    for scope in sorted(scopes):
        distribution.extend(_distribution(scheme, scope, scopes[scope]))
    return RatingResult(
        tuple(ratings), tuple(distribution), tuple(sorted(ties, key=lambda t: (t.scope, -t.level)))
    )


def _rate_lenient(
    scheme: Scheme, inputs: Sequence[OrgInputs], decisions: dict[OrgId, int | None]
) -> RatingResult:
    """``rate`` keeping only the decisions the current ties ask for.

    Drops decisions no tie asks for any more; when the recorded decisions no longer fit a tie
    (it changed shape, so its seats differ) every decision is dropped. What was dropped is
    reported, so a person decides again.
    """
    kept = dict(decisions)
    dropped: set[OrgId] = set()
    while True:
        try:
            result = rate(scheme, inputs, kept)
        except UnusedDecisions as error:
            drop = set(error.org_ids)
        except RatingError:
            if not kept:
                raise
            drop = set(kept)
        else:
            return result._replace_unused(tuple(sorted(dropped, key=_key)))
        dropped |= drop
        kept = {i: d for i, d in kept.items() if i not in drop}


# --- gap list ---------------------------------------------------------------------------------


def gap_list(scheme: Scheme, org: OrgInputs, item_gaps: Sequence[tuple[str, str, Decimal]]) -> GapList:
    """差距清单: points missing to the next level's band, cheapest items first, and what blocks it."""
    a = _assess(scheme, org)
    current = a.score_level
    higher = [lv for lv in scheme.levels.rated if lv > _rank(current)]
    next_level = min(higher) if higher else None
    missing = ZERO
    blockers: list[ExplanationLine] = []
    if next_level is not None and scheme.mode != "named_stars":
        band_min = next(b.min for b in scheme.bands if b.level == next_level)
        missing = max(band_min - a.total, ZERO)
    elif next_level is not None:
        lacking = [s.label for s in scheme.named_stars if s.key not in org.stars_earned]
        blockers.append(ExplanationLine("命名星", f"尚未获得：{'、'.join(lacking)}"))
    basic_weight = next((c.weight for c in scheme.score.components if c.source == "basic"), Decimal(1))
    missing_checklist = (missing / basic_weight).quantize(CENTS, rounding=ROUND_CEILING)
    items = tuple(
        sorted(
            (GapItem(code, title, _d(points)) for code, title, points in item_gaps if _d(points) > 0),
            key=lambda g: (g.missing_points, g.item_code),
        )
    )
    covered = sum((g.missing_points for g in items), ZERO) >= missing_checklist
    if next_level is not None:
        if org.is_new and scheme.promotion.new_orgs_unrated:
            blockers.append(ExplanationLine("晋升", "年内新组建，未定级"))
        if a.promotion_cap is not None and next_level > a.promotion_cap:
            blockers.append(
                ExplanationLine("晋升", f"逐级晋升，今年最高 {scheme.label_for(a.promotion_cap)}")
            )
        for veto in scheme.vetoes:
            if veto.key not in org.veto_conditions:
                continue
            blocked = (
                veto.effect == "no_rating"
                or (veto.effect == "cap_at_level" and (veto.level or 0) < next_level)
                or veto.effect == "demote"
            )
            if blocked:
                blockers.append(ExplanationLine("一票否决", veto.description))
        for pre in scheme.prerequisites:
            if pre.level <= next_level:
                lacking = _prerequisite_missing(org, pre.conditions, pre.min_satisfaction, pre.min_good_rate)
                if lacking:
                    blockers.append(
                        ExplanationLine(
                            "前置条件", f"{scheme.label_for(pre.level)}需要：{'、'.join(lacking)}"
                        )
                    )
    return GapList(
        org.org_id, a.total, current, next_level, missing, missing_checklist, items, covered, tuple(blockers)
    )
