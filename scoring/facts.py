"""Rating facts (评星事实): what staff record about an organisation that the checklist does not hold.

A fact is an input of the engine (a veto event, a met prerequisite, a bonus, an honour, a named
star, the member satisfaction, last year's level). Its key must be one the adopted scheme knows,
so a typo never silently earns (or costs) nothing; when the scheme lists no key for a kind, the
key is free text.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from branches.audit import audit_record
from branches.models import AuditAction, OrgUnit, User
from scoring import permissions
from scoring.inputs import rating_orgs
from scoring.models import FactKind, RatingFact, RatingRound
from scoring.schemes import Scheme
from scoring.services import RatingRefused, scheme_of

KEYLESS_KINDS = (FactKind.SATISFACTION, FactKind.LAST_YEAR)
VALUE_KINDS = (FactKind.BONUS, FactKind.SATISFACTION, FactKind.LAST_YEAR)


def fact_key_options(scheme: Scheme) -> dict[str, list[tuple[str, str]]]:
    """Per fact kind, the keys the scheme defines, each with a Chinese description."""
    conditions: dict[str, str] = {}
    for p in scheme.prerequisites:
        for code in p.conditions:
            conditions.setdefault(code, f"{scheme.label_for(p.level)}及以上的前置条件")
    honours: dict[str, str] = {h: "可破格晋升" for h in scheme.promotion.skip_honours}
    for d in scheme.promotion.direct_rating:
        honours[d.honour] = f"直接定为{scheme.label_for(d.level)}"
    return {
        FactKind.VETO: [(v.key, v.description) for v in scheme.vetoes],
        FactKind.PREREQUISITE: list(conditions.items()),
        FactKind.BONUS: [
            (b.kind, f"单项最高 {b.cap.normalize():f} 分" if b.cap is not None else "加分项")
            for b in scheme.score.bonus.items
        ],
        FactKind.HONOUR: list(honours.items()),
        FactKind.STAR: [(s.key, s.label) for s in scheme.named_stars],
        FactKind.SATISFACTION: [],
        FactKind.LAST_YEAR: [],
    }


def _check_key(scheme: Scheme, kind: str, key: str) -> str:
    if kind in KEYLESS_KINDS:
        return ""
    options = [k for k, _ in fact_key_options(scheme)[kind]]
    if kind == FactKind.VETO and key not in options:
        raise RatingRefused("否决情形须是方案列出的情形之一")
    if options and key not in options:
        raise RatingRefused(f"代码须是方案列出的{FactKind(kind).label}之一")
    if not key:
        raise RatingRefused("请填写代码")
    return key


def _check_value(scheme: Scheme, kind: str, value: Decimal | None) -> Decimal | None:
    if kind not in VALUE_KINDS:
        return None
    if value is None:
        raise RatingRefused(f"请填写{FactKind(kind).label}的数值")
    if kind == FactKind.BONUS and value <= 0:
        raise RatingRefused("加分须大于 0")
    if kind == FactKind.SATISFACTION and not Decimal(0) <= value <= Decimal(100):
        raise RatingRefused("满意度须在 0 到 100 之间（百分数）")
    if kind == FactKind.LAST_YEAR:
        allowed = set(scheme.levels.rated) | {0}
        if value != value.to_integral_value() or int(value) not in allowed:
            raise RatingRefused("上年星级不在方案的等级内")
    return value


def fact_create(
    *,
    rnd: RatingRound,
    org: OrgUnit,
    kind: str,
    key: str,
    value: Decimal | None,
    description: str,
    actor: User,
) -> RatingFact:
    """Record one fact for an organisation rated in the round; one fact per (organisation, kind, key)."""
    if not permissions.can_manage_rating(actor):
        raise RatingRefused("无权录入评星事实")
    if rnd.campaign.is_locked:
        raise RatingRefused("活动已归档，不能再录入评星事实")
    if kind not in FactKind.values:
        raise RatingRefused("未知的事实类型")
    if not rating_orgs(rnd).filter(pk=org.pk).exists():
        raise RatingRefused("该组织不参加本次评星")
    scheme = scheme_of(rnd.scheme)
    key = _check_key(scheme, kind, key.strip())
    value = _check_value(scheme, kind, value)
    duplicate = f"{org.name}已有该{FactKind(kind).label}记录，如需修改请先删除原记录"
    if RatingFact.objects.filter(campaign_id=rnd.campaign_id, org=org, kind=kind, key=key).exists():
        raise RatingRefused(duplicate)
    try:
        with transaction.atomic():
            fact = RatingFact.objects.create(
                campaign_id=rnd.campaign_id,
                org=org,
                kind=kind,
                key=key,
                value=value,
                description=description.strip()[:300],
                entered_by=actor,
            )
            audit_record(
                action=AuditAction.RATING,
                actor=actor,
                target=fact,
                detail={"step": "rating_fact_create", "org": org.code, "fact": kind, "key": key},
            )
    except IntegrityError as exc:  # a concurrent save of the same fact
        raise RatingRefused(duplicate) from exc
    return fact


def fact_delete(*, fact: RatingFact, actor: User) -> None:
    """Remove a fact entered by mistake; the next compile no longer counts it."""
    if not permissions.can_manage_rating(actor):
        raise RatingRefused("无权删除评星事实")
    if fact.campaign.is_locked:
        raise RatingRefused("活动已归档，不能再修改评星事实")
    with transaction.atomic():
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=fact,
            detail={"step": "rating_fact_delete", "org": fact.org.code, "fact": fact.kind, "key": fact.key},
        )
        fact.delete()
