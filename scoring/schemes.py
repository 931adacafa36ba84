"""Star-rating schemes (达标创星方案) as data, and their JSON format.

A scheme is plain data: a 工委 writes (or clones) one per campaign; the engine in
``scoring/rules.py`` reads it and never hard-codes a number. ``scheme_from_dict``
validates a JSON-like dict completely and raises ``SchemeError`` listing every problem as
``(field_path, 中文说明)``; ``scheme_to_dict`` writes the canonical dict back
(``scheme_from_dict(scheme_to_dict(s)) == s``). Unknown keys are refused everywhere.

Numbers may be written as JSON numbers or as decimal strings ("0.7"); they are held as
``Decimal``. On output a whole number is written as an int, any other as a decimal string.

JSON format (every key; "=" gives the default when the key may be omitted)
-----------------------------------------------------------------------------

``version``        int ≥ 1, required. Format version of the scheme data (currently 1).
``name``           str, required, non-empty. E.g. "2023年度基层党支部评星定级".
``notes``          str = "". Free text: sources, and every number chosen where the policy is silent.
``mode``           "bands" | "named_stars" | "points_account", required.
                   bands: the total maps to a level through ``bands``;
                   named_stars: level = number of ``named_stars`` earned (OrgInputs.stars_earned);
                   points_account: 积分制, ``score.base`` (e.g. 100) plus the year's net events,
                   then ``bands`` as in bands mode.
``applies_to``     "branch" (党支部, 达标创星) | "agency_committee" (机关党委, 模范机关先进单位) = "branch".
``decision_step``  "committee_review" (工委审核) | "joint_meeting" (联席会议评估认定) = "committee_review".
``publicity_days`` int ≥ 0 = 5. Days of 公示 before 命名.
``levels``         object, required:
    ``rated``        list of distinct ints in 1..9, required, e.g. [1, 2, 3, 4, 5] or [3, 4, 5].
    ``below_lowest`` "no_star" (level 0, "无星", e.g. scheme A below 60) | "unrated" (未定级) = "unrated".
``bands``          list, required (non-empty) unless mode is named_stars. One per rated level:
    ``level`` int, one of levels.rated; ``min`` number, the INCLUSIVE lower bound of the total;
    ``label`` str, e.g. "五星级". Higher level ⇒ strictly higher ``min``.
    Example: [{"level": 5, "min": 90, "label": "五星级"}, {"level": 4, "min": 80, "label": "四星级"}].
``named_stars``    list = []. For named_stars mode: {"key": "支部过硬星" code str, "label": str}.
``score``          object = {}:
    ``base``        number ≥ 0 = 0. Starting balance (points_account: 100).
    ``max_checklist`` number > 0 or null = null. Checklist points are clamped to it.
    ``deductions``  list = []. {"kind": "overdue_entry" | "unresolved_finding" | "repeated_finding"
                    | "notice", "points": number > 0 per unit, "cap": number > 0 or null}. Kinds unique.
    ``components``  list = [{"source": "basic", "weight": 1}]. Weighted parts of the total:
                    source "basic" = base + checklist − deductions (never below 0);
                    "good_rate" = 述职评议 good rate × ``review_full_marks``;
                    "satisfaction" = member satisfaction × ``review_full_marks``.
                    weight in (0, 1]; sources unique; "basic" required.
                    Example (scheme B): [{"source": "basic", "weight": "0.7"},
                    {"source": "good_rate", "weight": "0.3"}].
    ``review_full_marks`` number > 0 = 100.
    ``bonus``       object = {}: ``items`` list of {"kind": str, "cap": number > 0 or null} (kinds
                    unique; bonus items of other kinds earn nothing); ``cap`` number > 0 or null,
                    cap on the bonus sum; ``max_total`` number > 0 or null, cap on the final total
                    (e.g. 110).
``vetoes``         list = []. {"key": condition code str, "description": str, "effect": "no_rating" |
                   "cap_at_level" | "demote", "level": int}. ``level`` is the cap (cap_at_level, may
                   be 0) or the number of levels to drop (demote, ≥ 1); omit it for no_rating.
``prerequisites``  list = []. {"level": rated level, "conditions": [condition code str, ...],
                   "min_satisfaction": 0..1 or null, "min_good_rate": 0..1 or null,
                   "cap_at_level": int below ``level``}. An organisation missing any of them cannot
                   hold ``level`` or above and is capped at ``cap_at_level``.
``quota_scope``    "committee" (whole 工委) | "parent" (per supervising organisation) = "committee".
``quota_rounding`` "floor" | "ceil" | "round" (half up) = "floor". Seats = rounding(share × N), N =
                   rated organisations in the scope.
``quotas``         object = {}. Keys are level numbers as strings ("5", or "0" for 无星); values
                   {"max": share, "target": share, "min": share}, each 0..1 or omitted. ``max`` is
                   enforced (never exceeded); ``target`` and ``min`` are reported in the distribution.
                   Example: {"5": {"max": "0.3"}}.
``promotion``      object = {}:
    ``max_step_up``   int ≥ 1 or null = null. Levels gained over last year's level at most.
    ``skip_honours``  list of str = []. Honours that allow 破格 (no step limit).
    ``direct_rating`` list = []. {"honour": str, "level": rated level}: 直接定级 to at least that level.
    ``new_orgs_unrated`` bool = true. Organisations set up during the year stay 未定级.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, cast

FORMAT_VERSION = 1

MODES: tuple[str, ...] = ("bands", "named_stars", "points_account")
APPLIES_TO: tuple[str, ...] = ("branch", "agency_committee")
DECISION_STEPS: tuple[str, ...] = ("committee_review", "joint_meeting")
BELOW_LOWEST: tuple[str, ...] = ("no_star", "unrated")
DEDUCTION_KINDS: tuple[str, ...] = ("overdue_entry", "unresolved_finding", "repeated_finding", "notice")
COMPONENT_SOURCES: tuple[str, ...] = ("basic", "good_rate", "satisfaction")
VETO_EFFECTS: tuple[str, ...] = ("no_rating", "cap_at_level", "demote")
QUOTA_SCOPES: tuple[str, ...] = ("committee", "parent")
ROUNDINGS: tuple[str, ...] = ("floor", "ceil", "round")
MAX_LEVEL = 9


class SchemeError(ValueError):
    """A scheme dict is invalid; ``errors`` lists (field path, Chinese message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("；".join(f"{path}: {message}" for path, message in errors))


@dataclass(frozen=True)
class Levels:
    rated: tuple[int, ...]
    below_lowest: str = "unrated"


@dataclass(frozen=True)
class Band:
    level: int
    min: Decimal
    label: str


@dataclass(frozen=True)
class NamedStar:
    key: str
    label: str


@dataclass(frozen=True)
class Deduction:
    kind: str
    points: Decimal
    cap: Decimal | None = None


@dataclass(frozen=True)
class Component:
    source: str
    weight: Decimal


@dataclass(frozen=True)
class BonusItem:
    kind: str
    cap: Decimal | None = None


@dataclass(frozen=True)
class Bonus:
    items: tuple[BonusItem, ...] = ()
    cap: Decimal | None = None
    max_total: Decimal | None = None


@dataclass(frozen=True)
class ScoreMakeUp:
    base: Decimal = Decimal(0)
    max_checklist: Decimal | None = None
    deductions: tuple[Deduction, ...] = ()
    components: tuple[Component, ...] = (Component("basic", Decimal(1)),)
    review_full_marks: Decimal = Decimal(100)
    bonus: Bonus = field(default_factory=Bonus)


@dataclass(frozen=True)
class Veto:
    key: str
    description: str
    effect: str
    level: int | None = None


@dataclass(frozen=True)
class Prerequisite:
    level: int
    cap_at_level: int
    conditions: tuple[str, ...] = ()
    min_satisfaction: Decimal | None = None
    min_good_rate: Decimal | None = None


@dataclass(frozen=True)
class Quota:
    max: Decimal | None = None
    target: Decimal | None = None
    min: Decimal | None = None


@dataclass(frozen=True)
class DirectRating:
    honour: str
    level: int


@dataclass(frozen=True)
class Promotion:
    max_step_up: int | None = None
    skip_honours: tuple[str, ...] = ()
    direct_rating: tuple[DirectRating, ...] = ()
    new_orgs_unrated: bool = True


@dataclass(frozen=True)
class Scheme:
    version: int
    name: str
    mode: str
    levels: Levels
    bands: tuple[Band, ...] = ()
    named_stars: tuple[NamedStar, ...] = ()
    score: ScoreMakeUp = field(default_factory=ScoreMakeUp)
    vetoes: tuple[Veto, ...] = ()
    prerequisites: tuple[Prerequisite, ...] = ()
    quota_scope: str = "committee"
    quota_rounding: str = "floor"
    quotas: tuple[tuple[int, Quota], ...] = ()
    promotion: Promotion = field(default_factory=Promotion)
    publicity_days: int = 5
    applies_to: str = "branch"
    decision_step: str = "committee_review"
    notes: str = ""

    @property
    def lowest_rated(self) -> int:
        return min(self.levels.rated)

    @property
    def below_level(self) -> int | None:
        """Level given below the lowest band: 0 (无星) or None (未定级)."""
        return 0 if self.levels.below_lowest == "no_star" else None

    def quota_for(self, level: int) -> Quota | None:
        return dict(self.quotas).get(level)

    def label_for(self, level: int | None) -> str:
        if level is None:
            return "未定级"
        if level == 0:
            return "无星"
        for band in self.bands:
            if band.level == level:
                return band.label
        return f"{level}星"


# --- validation -------------------------------------------------------------------------------


class _Reader:
    """Collects every error instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def obj(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(path, "必须是对象")
            return None
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}" if path else str(key), "未知字段")
        return dict(value)

    def lst(self, value: Any, path: str) -> list[Any] | None:
        if not isinstance(value, list | tuple):
            self.fail(path, "必须是列表")
            return None
        return list(value)

    def text(self, value: Any, path: str, *, required: bool = True) -> str:
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(path, "必须是非空文字" if required else "必须是文字")
            return ""
        return value

    def choice(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(path, "取值必须是 " + " / ".join(choices) + " 之一")
            return choices[0]
        return cast(str, value)

    def integer(self, value: Any, path: str, *, low: int | None = None, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "必须是整数")
            return low or 0
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"{low if low is not None else '-∞'} 到 {high if high is not None else '+∞'}"
            self.fail(path, f"必须在 {bounds} 之间")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, "必须是 true 或 false")
            return False
        return value

    def number(self, value: Any, path: str, what: str = "数值") -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            self.fail(path, f"{what}必须是数字")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(path, f"{what}必须是数字")
            return None
        if not number.is_finite():
            self.fail(path, f"{what}必须是数字")
            return None
        return number

    def positive(
        self, value: Any, path: str, what: str = "数值", *, nullable: bool = False
    ) -> Decimal | None:
        if value is None and nullable:
            return None
        number = self.number(value, path, what)
        if number is not None and number <= 0:
            self.fail(path, f"{what}必须大于 0")
        return number

    def share(self, value: Any, path: str) -> Decimal | None:
        if value is None:
            return None
        number = self.number(value, path, "比例")
        if number is not None and not Decimal(0) <= number <= Decimal(1):
            self.fail(path, "比例须在 0 到 1 之间")
        return number

    def items(self, value: Any, path: str, reader: Callable[[Any, str], Any]) -> tuple[Any, ...]:
        rows = self.lst(value, path)
        if rows is None:
            return ()
        return tuple(reader(row, f"{path}[{index}]") for index, row in enumerate(rows))

    def unique(self, values: list[Any], path: str, what: str) -> None:
        seen: set[Any] = set()
        for index, value in enumerate(values):
            if value in seen:
                self.fail(f"{path}[{index}]", f"{what}重复")
            seen.add(value)


_TOP_KEYS = (
    "version",
    "name",
    "notes",
    "mode",
    "applies_to",
    "decision_step",
    "publicity_days",
    "levels",
    "bands",
    "named_stars",
    "score",
    "vetoes",
    "prerequisites",
    "quota_scope",
    "quota_rounding",
    "quotas",
    "promotion",
)


def scheme_from_dict(data: Mapping[str, Any]) -> Scheme:
    """Validate a JSON-like dict and build a Scheme, or raise SchemeError naming every bad field."""
    r = _Reader()
    top = r.obj(data, "", _TOP_KEYS)
    if top is None:
        raise SchemeError(r.errors)
    for key in ("version", "name", "mode", "levels"):
        if key not in top:
            r.fail(key, "缺少必填字段")
    version = r.integer(top["version"], "version", low=1, high=FORMAT_VERSION) if "version" in top else 1
    name = r.text(top["name"], "name") if "name" in top else ""
    notes = r.text(top.get("notes", ""), "notes", required=False)
    mode = r.choice(top["mode"], "mode", MODES) if "mode" in top else "bands"
    applies_to = r.choice(top.get("applies_to", "branch"), "applies_to", APPLIES_TO)
    decision_step = r.choice(top.get("decision_step", "committee_review"), "decision_step", DECISION_STEPS)
    publicity_days = r.integer(top.get("publicity_days", 5), "publicity_days", low=0, high=365)
    levels = _read_levels(r, top.get("levels", {"rated": [1]}))
    rated = set(levels.rated)

    def rated_level(value: Any, path: str) -> int:
        level = r.integer(value, path, low=1, high=MAX_LEVEL)
        if level not in rated:
            r.fail(path, "必须是 levels.rated 中的等级")
        return level

    def read_band(row: Any, path: str) -> Band:
        b = r.obj(row, path, ("level", "min", "label")) or {}
        level = rated_level(b.get("level"), f"{path}.level")
        low = r.number(b.get("min"), f"{path}.min", "下限")
        if low is not None and low < 0:
            r.fail(f"{path}.min", "下限不能小于 0")
        return Band(level, low if low is not None else Decimal(0), r.text(b.get("label"), f"{path}.label"))

    bands = r.items(top.get("bands", []), "bands", read_band)
    if mode != "named_stars":
        if not bands:
            r.fail("bands", "分档模式必须至少有一个分档")
        r.unique([b.level for b in bands], "bands", "等级")
        ordered = sorted(bands, key=lambda b: b.level)
        unreadable = any(path.startswith("bands[") and path.endswith(".min") for path, _ in r.errors)
        for lower, higher in pairwise(ordered):
            if higher.min <= lower.min and not unreadable:  # a bad number is reported once, as such
                index = bands.index(higher)
                r.fail(f"bands[{index}].min", "等级越高，下限必须越高")
        if bands and {b.level for b in bands} != rated:
            r.fail("bands", "每个评定等级都必须有且只有一个分档")

    def read_star(row: Any, path: str) -> NamedStar:
        s = r.obj(row, path, ("key", "label")) or {}
        return NamedStar(r.text(s.get("key"), f"{path}.key"), r.text(s.get("label"), f"{path}.label"))

    named_stars = r.items(top.get("named_stars", []), "named_stars", read_star)
    r.unique([s.key for s in named_stars], "named_stars", "星名")
    if mode == "named_stars" and not named_stars:
        r.fail("named_stars", "命名星模式必须列出星名")

    score = _read_score(r, top.get("score", {}))
    below = 0 if levels.below_lowest == "no_star" else None

    def read_veto(row: Any, path: str) -> Veto:
        v = r.obj(row, path, ("key", "description", "effect", "level")) or {}
        effect = r.choice(v.get("effect"), f"{path}.effect", VETO_EFFECTS)
        level: int | None = None
        if effect == "no_rating":
            if v.get("level") is not None:
                r.fail(f"{path}.level", "取消评定时不需要等级")
        elif effect == "cap_at_level":
            level = r.integer(v.get("level"), f"{path}.level", low=0, high=MAX_LEVEL)
        else:
            level = r.integer(v.get("level"), f"{path}.level", low=1, high=MAX_LEVEL)
        return Veto(
            r.text(v.get("key"), f"{path}.key"),
            r.text(v.get("description"), f"{path}.description"),
            effect,
            level,
        )

    vetoes = r.items(top.get("vetoes", []), "vetoes", read_veto)
    r.unique([v.key for v in vetoes], "vetoes", "否决条件")

    def read_prerequisite(row: Any, path: str) -> Prerequisite:
        p = (
            r.obj(row, path, ("level", "conditions", "min_satisfaction", "min_good_rate", "cap_at_level"))
            or {}
        )
        level = rated_level(p.get("level"), f"{path}.level")
        cap = r.integer(p.get("cap_at_level"), f"{path}.cap_at_level", low=0, high=MAX_LEVEL)
        if cap >= level:
            r.fail(f"{path}.cap_at_level", "封顶等级必须低于该等级")
        conditions = r.items(p.get("conditions", []), f"{path}.conditions", lambda v, q: r.text(v, q))
        min_sat = r.share(p.get("min_satisfaction"), f"{path}.min_satisfaction")
        min_good = r.share(p.get("min_good_rate"), f"{path}.min_good_rate")
        if not conditions and min_sat is None and min_good is None:
            r.fail(f"{path}.conditions", "至少要有一个条件")
        return Prerequisite(level, cap, conditions, min_sat, min_good)

    prerequisites = r.items(top.get("prerequisites", []), "prerequisites", read_prerequisite)
    quota_scope = r.choice(top.get("quota_scope", "committee"), "quota_scope", QUOTA_SCOPES)
    quota_rounding = r.choice(top.get("quota_rounding", "floor"), "quota_rounding", ROUNDINGS)
    quotas: list[tuple[int, Quota]] = []
    given_quotas = top.get("quotas", {})
    raw_quotas = r.obj(
        given_quotas, "quotas", tuple(given_quotas) if isinstance(given_quotas, Mapping) else ()
    )
    for key, value in (raw_quotas or {}).items():
        path = f"quotas.{key}"
        if not (isinstance(key, str) and key.isdigit()) or (int(key) not in rated and int(key) != below):
            r.fail(path, "键必须是评定等级（或无星时的 0）")
            continue
        q = r.obj(value, path, ("max", "target", "min")) or {}
        quota = Quota(
            r.share(q.get("max"), f"{path}.max"),
            r.share(q.get("target"), f"{path}.target"),
            r.share(q.get("min"), f"{path}.min"),
        )
        if quota.max is not None and quota.min is not None and quota.min > quota.max:
            r.fail(f"{path}.min", "最低比例不能高于最高比例")
        quotas.append((int(key), quota))
    quotas.sort(reverse=True)
    promotion = _read_promotion(r, top.get("promotion", {}), rated_level)
    if r.errors:
        raise SchemeError(r.errors)
    return Scheme(
        version=version,
        name=name,
        mode=mode,
        levels=levels,
        bands=tuple(sorted(bands, key=lambda b: -b.level)),
        named_stars=named_stars,
        score=score,
        vetoes=vetoes,
        prerequisites=prerequisites,
        quota_scope=quota_scope,
        quota_rounding=quota_rounding,
        quotas=tuple(quotas),
        promotion=promotion,
        publicity_days=publicity_days,
        applies_to=applies_to,
        decision_step=decision_step,
        notes=notes,
    )


def _read_levels(r: _Reader, value: Any) -> Levels:
    data = r.obj(value, "levels", ("rated", "below_lowest")) or {}
    raw = r.lst(data.get("rated"), "levels.rated") or []
    rated = tuple(r.integer(v, f"levels.rated[{i}]", low=1, high=MAX_LEVEL) for i, v in enumerate(raw))
    if not rated:
        r.fail("levels.rated", "至少要有一个评定等级")
        rated = (1,)
    r.unique(list(rated), "levels.rated", "等级")
    below = r.choice(data.get("below_lowest", "unrated"), "levels.below_lowest", BELOW_LOWEST)
    return Levels(tuple(sorted(set(rated))), below)


def _read_score(r: _Reader, value: Any) -> ScoreMakeUp:
    keys = ("base", "max_checklist", "deductions", "components", "review_full_marks", "bonus")
    s = r.obj(value, "score", keys) or {}
    base = r.number(s.get("base", 0), "score.base", "基础分")
    if base is not None and base < 0:
        r.fail("score.base", "基础分不能小于 0")
    max_checklist = r.positive(s.get("max_checklist"), "score.max_checklist", "满分", nullable=True)

    def read_deduction(row: Any, path: str) -> Deduction:
        d = r.obj(row, path, ("kind", "points", "cap")) or {}
        return Deduction(
            r.choice(d.get("kind"), f"{path}.kind", DEDUCTION_KINDS),
            r.positive(d.get("points"), f"{path}.points", "每次扣分") or Decimal(1),
            r.positive(d.get("cap"), f"{path}.cap", "扣分上限", nullable=True),
        )

    deductions = r.items(s.get("deductions", []), "score.deductions", read_deduction)
    r.unique([d.kind for d in deductions], "score.deductions", "扣分类别")

    def read_component(row: Any, path: str) -> Component:
        c = r.obj(row, path, ("source", "weight")) or {}
        weight = r.positive(c.get("weight"), f"{path}.weight", "权重") or Decimal(1)
        if weight > 1:
            r.fail(f"{path}.weight", "权重须在 0 到 1 之间")
        return Component(r.choice(c.get("source"), f"{path}.source", COMPONENT_SOURCES), weight)

    components = r.items(
        s.get("components", [{"source": "basic", "weight": 1}]), "score.components", read_component
    )
    r.unique([c.source for c in components], "score.components", "来源")
    if "basic" not in {c.source for c in components}:
        r.fail("score.components", "必须包含 basic（基础项）")
    full_marks = r.positive(s.get("review_full_marks", 100), "score.review_full_marks", "评议满分")

    b = r.obj(s.get("bonus", {}), "score.bonus", ("items", "cap", "max_total")) or {}

    def read_bonus_item(row: Any, path: str) -> BonusItem:
        i = r.obj(row, path, ("kind", "cap")) or {}
        return BonusItem(
            r.text(i.get("kind"), f"{path}.kind"),
            r.positive(i.get("cap"), f"{path}.cap", "加分上限", nullable=True),
        )

    items = r.items(b.get("items", []), "score.bonus.items", read_bonus_item)
    r.unique([i.kind for i in items], "score.bonus.items", "加分类别")
    bonus = Bonus(
        items,
        r.positive(b.get("cap"), "score.bonus.cap", "加分上限", nullable=True),
        r.positive(b.get("max_total"), "score.bonus.max_total", "总分上限", nullable=True),
    )
    return ScoreMakeUp(
        base=base or Decimal(0),
        max_checklist=max_checklist,
        deductions=deductions,
        components=components,
        review_full_marks=full_marks or Decimal(100),
        bonus=bonus,
    )


def _read_promotion(r: _Reader, value: Any, rated_level: Callable[[Any, str], int]) -> Promotion:
    p = r.obj(value, "promotion", ("max_step_up", "skip_honours", "direct_rating", "new_orgs_unrated")) or {}
    step = p.get("max_step_up")
    max_step = None if step is None else r.integer(step, "promotion.max_step_up", low=1, high=MAX_LEVEL)
    skip = r.items(p.get("skip_honours", []), "promotion.skip_honours", lambda v, q: r.text(v, q))

    def read_direct(row: Any, path: str) -> DirectRating:
        d = r.obj(row, path, ("honour", "level")) or {}
        return DirectRating(
            r.text(d.get("honour"), f"{path}.honour"), rated_level(d.get("level"), f"{path}.level")
        )

    direct = r.items(p.get("direct_rating", []), "promotion.direct_rating", read_direct)
    unrated = r.boolean(p.get("new_orgs_unrated", True), "promotion.new_orgs_unrated")
    return Promotion(max_step, skip, direct, unrated)


# --- output -----------------------------------------------------------------------------------


def _num(value: Decimal | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else str(value)


def scheme_to_dict(scheme: Scheme) -> dict[str, Any]:
    """The canonical JSON-ready dict; ``scheme_from_dict`` of it gives back an equal Scheme."""
    s = scheme.score
    return {
        "version": scheme.version,
        "name": scheme.name,
        "notes": scheme.notes,
        "mode": scheme.mode,
        "applies_to": scheme.applies_to,
        "decision_step": scheme.decision_step,
        "publicity_days": scheme.publicity_days,
        "levels": {"rated": list(scheme.levels.rated), "below_lowest": scheme.levels.below_lowest},
        "bands": [{"level": b.level, "min": _num(b.min), "label": b.label} for b in scheme.bands],
        "named_stars": [{"key": n.key, "label": n.label} for n in scheme.named_stars],
        "score": {
            "base": _num(s.base),
            "max_checklist": _num(s.max_checklist),
            "deductions": [
                {"kind": d.kind, "points": _num(d.points), "cap": _num(d.cap)} for d in s.deductions
            ],
            "components": [{"source": c.source, "weight": _num(c.weight)} for c in s.components],
            "review_full_marks": _num(s.review_full_marks),
            "bonus": {
                "items": [{"kind": i.kind, "cap": _num(i.cap)} for i in s.bonus.items],
                "cap": _num(s.bonus.cap),
                "max_total": _num(s.bonus.max_total),
            },
        },
        "vetoes": [
            {"key": v.key, "description": v.description, "effect": v.effect, "level": v.level}
            for v in scheme.vetoes
        ],
        "prerequisites": [
            {
                "level": p.level,
                "conditions": list(p.conditions),
                "min_satisfaction": _num(p.min_satisfaction),
                "min_good_rate": _num(p.min_good_rate),
                "cap_at_level": p.cap_at_level,
            }
            for p in scheme.prerequisites
        ],
        "quota_scope": scheme.quota_scope,
        "quota_rounding": scheme.quota_rounding,
        "quotas": {
            str(level): {"max": _num(q.max), "target": _num(q.target), "min": _num(q.min)}
            for level, q in scheme.quotas
        },
        "promotion": {
            "max_step_up": scheme.promotion.max_step_up,
            "skip_honours": list(scheme.promotion.skip_honours),
            "direct_rating": [{"honour": d.honour, "level": d.level} for d in scheme.promotion.direct_rating],
            "new_orgs_unrated": scheme.promotion.new_orgs_unrated,
        },
    }
