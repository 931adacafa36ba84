"""达标创星 workflow (domain.md §9): schemes, compile runs, declarations, reviews, ties, publicity,
objections, naming, 摘星/降星, star history and gap lists.

Every write checks its permission here (views only translate), is atomic, and refuses with a
Chinese ``RatingRefused`` message. Compiles run in Celery: ``compile_request`` creates the run
(one active run per round, enforced by a partial unique constraint) and the task calls
``compile_execute``, which upserts every rating in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Sum, When
from django.db.models.constants import OnConflict
from django.urls import reverse
from django.utils import timezone

from branches.audit import audit_record
from branches.inbox import message_send_many, messages_deliver
from branches.models import AuditAction, Message, MessageKind, OrgUnit, Role, RoleGrant, User
from branches.notify import outbox_enqueue
from campaigns import permissions as campaign_permissions
from campaigns.models import Campaign, ChecklistEntry, EntryStatus, ReminderSource
from campaigns.services.entries import EntryError
from scoring import permissions
from scoring.inputs import (
    COUNTED_SCORE,
    Gathered,
    fingerprint,
    from_weighted,
    gather_inputs,
    inputs_to_json,
    weighted_item_points,
)
from scoring.models import (
    ACTIVE_RUN_STATUSES,
    STAGE_ORDER,
    ChangeKind,
    CompileRun,
    Objection,
    ObjectionStatus,
    Rating,
    RatingRound,
    RatingStatus,
    RoundStage,
    RunStatus,
    SchemeVersion,
    StarChange,
    TieDecision,
)
from scoring.rules import GapList, OrgId, OrgRating, RatingResult, gap_list, rate
from scoring.schemes import Scheme, SchemeError, scheme_from_dict, scheme_to_dict

logger = logging.getLogger(__name__)

STALE_RUN_AFTER = timedelta(minutes=30)
UPSERT_BATCH = 500  # ratings per INSERT … ON CONFLICT statement of a compile, at most
PRE_PUBLICITY = (
    RoundStage.DECLARING,
    RoundStage.FIRST_REVIEW,
    RoundStage.COMMITTEE_REVIEW,
    RoundStage.RECHECK,
)


class RatingRefused(EntryError):
    """A refused rating action, with a Chinese message for the user."""


def _require(allowed: bool, action: str) -> None:
    if not allowed:
        raise RatingRefused(f"无权{action}")


# --- schemes ----------------------------------------------------------------------------------

_SCHEMES: dict[tuple[int, Any], Scheme] = {}


def scheme_of(version: SchemeVersion) -> Scheme:
    """The parsed scheme of a saved version (versions never change, so the parse is cached).

    Keyed by id and save time: a database that reuses ids (SQLite after a rollback) never gets
    another version's scheme.
    """
    key = (version.pk, version.created_at)
    scheme = _SCHEMES.get(key)
    if scheme is None:
        if len(_SCHEMES) > 256:
            _SCHEMES.clear()
        scheme = scheme_from_dict(version.data)
        _SCHEMES[key] = scheme
    return scheme


def level_label(scheme: Scheme, level: int | None) -> str:
    return scheme.label_for(level)


def scheme_save(*, campaign: Campaign, data: Any, actor: User, note: str = "") -> SchemeVersion:
    """Validate and store a new version of the campaign's scheme (raises ``SchemeError``)."""
    _require(permissions.can_manage_rating(actor), "修改评星方案")
    if campaign.is_locked:
        raise RatingRefused("活动已归档，不能修改评星方案")
    scheme = scheme_from_dict(data)
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        last = SchemeVersion.objects.filter(campaign=campaign).order_by("-number").first()
        canonical = scheme_to_dict(scheme)
        if last is not None and last.data == canonical and last.name == scheme.name:
            return last  # saving the same scheme again is not a new version
        version = SchemeVersion.objects.create(
            campaign=campaign,
            number=(last.number + 1) if last else 1,
            name=scheme.name,
            applies_to=scheme.applies_to,
            data=canonical,
            note=note.strip()[:200],
            created_by=actor,
        )
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=version,
            detail={"step": "scheme_save", **{"number": version.number}},
        )
    return version


def scheme_errors(error: SchemeError) -> list[str]:
    """One Chinese line per problem, naming the field."""
    return [f"{path}：{message}" if path else message for path, message in error.errors]


# --- rounds -----------------------------------------------------------------------------------


def round_create(*, campaign: Campaign, scheme: SchemeVersion, actor: User, title: str = "") -> RatingRound:
    _require(permissions.can_manage_rating(actor), "发起评星")
    if scheme.campaign_id != campaign.pk:
        raise RatingRefused("方案不属于本活动")
    if RatingRound.objects.filter(campaign=campaign, applies_to=scheme.applies_to).exists():
        raise RatingRefused("本活动已有该类组织的评星，请在原评星中更换方案")
    kind_label = "党支部达标创星" if scheme.applies_to == "branch" else "模范机关建设先进单位评定"
    try:
        with transaction.atomic():
            rnd = RatingRound.objects.create(
                campaign=campaign,
                applies_to=scheme.applies_to,
                scheme=scheme,
                title=title.strip() or f"{campaign.year}年度{kind_label}",
            )
    except IntegrityError as exc:
        raise RatingRefused("本活动已有该类组织的评星") from exc
    audit_record(action=AuditAction.RATING, actor=actor, target=rnd, detail={"step": "rating_round_create"})
    return rnd


def _bump(rnd: RatingRound, expected_version: int | None, **changes: Any) -> RatingRound:
    qs = RatingRound.objects.filter(pk=rnd.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if not qs.update(version=F("version") + 1, updated_at=timezone.now(), **changes):
        raise RatingRefused("评星状态已被他人更新，请刷新后重试")
    rnd.refresh_from_db()
    return rnd


def round_adopt(*, rnd: RatingRound, scheme: SchemeVersion, actor: User) -> RatingRound:
    """Adopt another scheme version before publicity; recorded tie decisions lapse."""
    _require(permissions.can_manage_rating(actor), "更换评星方案")
    if rnd.stage not in PRE_PUBLICITY:
        raise RatingRefused("公示开始后不能更换方案")
    if scheme.campaign_id != rnd.campaign_id or scheme.applies_to != rnd.applies_to:
        raise RatingRefused("方案不属于本活动或适用的组织类型不同")
    with transaction.atomic():
        TieDecision.objects.filter(round=rnd, is_void=False).update(is_void=True)
        rnd = _bump(rnd, None, scheme=scheme)
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=rnd,
            detail={"step": "rating_scheme_adopt", **{"scheme": scheme.number}},
        )
    return rnd


# --- compile ----------------------------------------------------------------------------------


def compile_request(*, rnd: RatingRound, actor: User | None) -> CompileRun:
    """Queue a compile; refused while another run of the round is active or after naming."""
    if actor is not None:
        _require(permissions.can_manage_rating(actor), "计算星级")
    if rnd.is_named:
        raise RatingRefused("已命名，结果不再重新计算；如需调整请办理摘星/降星")
    stale = timezone.now() - STALE_RUN_AFTER
    try:
        with transaction.atomic():
            CompileRun.objects.filter(round=rnd, status__in=ACTIVE_RUN_STATUSES, created_at__lt=stale).update(
                status=RunStatus.FAILED, error="超时未完成，已作废", finished_at=timezone.now()
            )
            run = CompileRun.objects.create(round=rnd, scheme=rnd.scheme, requested_by=actor)
    except IntegrityError as exc:
        raise RatingRefused("已有计算任务在进行中，请等待完成") from exc
    # Through the outbox: the request never waits on the broker (R13).
    outbox_enqueue("scoring.tasks.compile_rating", run_id=run.pk)
    return run


_COMPILED_FIELDS = (
    "run",
    "fingerprint",
    "total",
    "score_level",
    "provisional_level",
    "computed_level",
    "computed_label",
    "quota_decision",
    "needs_decision",
    "vetoes",
    "prerequisites_missing",
    "last_year_level",
    "explanation",
    "inputs",
    "compiled_at",
)


def _live_decisions(rnd: RatingRound) -> dict[OrgId, int | None]:
    return dict(TieDecision.objects.filter(round=rnd, is_void=False).values_list("org_id", "decided_level"))


def _explanation(rating: OrgRating, sources: dict[str, Any]) -> list[dict[str, Any]]:
    lines = [
        {"source": line.source, "description": line.description, "points": _num(line.points)}
        for line in rating.explanation
    ]
    notes = []
    if sources.get("scored_by_first_review"):
        notes.append(f"其中 {sources['scored_by_first_review']} 项尚未工委审核，按初审得分计")
    if sources.get("scored_by_self"):
        notes.append(f"其中 {sources['scored_by_self']} 项尚未审核，按自评得分计")
    if sources.get("recurring_entries"):
        notes.append("按期开展的任务（每月、每季度、每半年）按各期得分的平均值计入")
    for i, text in enumerate(notes):
        lines.insert(i + 1, {"source": "任务清单", "description": text, "points": None})
    review = sources.get("review")
    if review:
        lines.insert(
            1 + len(notes),
            {
                "source": "述职评议",
                "description": f"{review['session']}：{review['votes']} 票，好评 {review['good']} 票",
                "points": None,
            },
        )
    return lines


def _num(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def _compile_inputs(
    rnd: RatingRound, *, today: date
) -> tuple[Gathered, RatingResult, str, dict[OrgId, dict[str, Any]]]:
    """Inputs, engine result, fingerprint and each organisation's inputs as JSON (made once for
    the fingerprint and the stored ratings alike) for the round as it stands; nothing is written."""
    scheme = scheme_of(rnd.scheme)
    gathered = gather_inputs(rnd, today=today)
    decisions = _live_decisions(rnd)
    result = rate(scheme, gathered.inputs, decisions, strict=False)
    unused = set(result.unused_decisions)
    used = {k: v for k, v in decisions.items() if k not in unused}
    as_json = {o.org_id: inputs_to_json(o) for o in gathered.inputs}
    return gathered, result, fingerprint(rnd.scheme.data, gathered.inputs, used, as_json=as_json), as_json


def compile_execute(*, run: CompileRun, today: date | None = None) -> CompileRun:
    """Compute and upsert the round's ratings in one transaction. Same inputs → same results."""
    if not CompileRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    ):
        run.refresh_from_db()
        return run  # already running elsewhere, done or failed: a redelivered task does nothing
    try:
        run = _compile(run, today=today)
    except Exception as exc:
        logger.exception("compile run %s failed", run.pk)
        CompileRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    return run


def _compile(run: CompileRun, *, today: date | None) -> CompileRun:
    rnd = RatingRound.objects.select_related("campaign__committee", "scheme").get(pk=run.round_id)
    if rnd.is_named:
        raise RatingRefused("已命名，结果不再重新计算")
    gathered, result, fp, as_json = _compile_inputs(rnd, today=today or timezone.localdate())
    now = timezone.now()
    with transaction.atomic():
        before = {
            org_id: (total, level, needs)
            for org_id, total, level, needs in Rating.objects.filter(round=rnd).values_list(
                "org_id", "total", "computed_level", "needs_decision"
            )
        }
        rows: list[dict[str, Any]] = []
        changed = 0
        for rating in result.ratings:
            org_id = int(rating.org_id)
            if before.get(org_id) != (
                rating.total,
                rating.final_level,
                rating.quota_decision == "needs_decision",
            ):
                changed += 1
            rows.append(
                {
                    "round": rnd.pk,
                    "org": org_id,
                    "run": run.pk,
                    "fingerprint": fp,
                    "total": rating.total,
                    "score_level": rating.score_level,
                    "provisional_level": rating.provisional_level,
                    "computed_level": rating.final_level,
                    "computed_label": rating.final_label,
                    "quota_decision": rating.quota_decision,
                    "needs_decision": rating.quota_decision == "needs_decision",
                    "vetoes": list(rating.vetoes_applied),
                    "prerequisites_missing": list(rating.prerequisites_missing),
                    "last_year_level": rating.last_year_level,
                    "explanation": _explanation(rating, gathered.sources[org_id]),
                    "inputs": as_json.get(rating.org_id, {}),
                    "compiled_at": now,
                }
            )
        _upsert_compiled(rows)
        gone = set(before) - {int(r.org_id) for r in result.ratings}
        if gone:  # no longer rated (dissolved, or moved kind): keep the row, drop its result
            Rating.objects.filter(round=rnd, org_id__in=gone).update(
                computed_level=None, computed_label="", needs_decision=False, compiled_at=None, run=None
            )
        if result.unused_decisions:
            TieDecision.objects.filter(round=rnd, is_void=False, org_id__in=result.unused_decisions).update(
                is_void=True
            )
        CompileRun.objects.filter(pk=run.pk).update(
            status=RunStatus.DONE,
            fingerprint=fp,
            total=len(result.ratings),
            done=len(result.ratings),
            changed=changed,
            ties=len(result.needs_decision),
            tie_groups=[
                {
                    "scope": t.scope,
                    "level": t.level,
                    "org_ids": [int(i) for i in t.org_ids],
                    "seats_left": t.seats_left,
                }
                for t in result.needs_decision
            ],
            distribution=[
                {
                    "scope": d.scope,
                    "level": d.level,
                    "label": d.label,
                    "count": d.count,
                    "rated": d.rated_in_scope,
                    "max": d.max_seats,
                    "target": d.target_seats,
                    "min": d.min_seats,
                }
                for d in result.distribution
            ],
            dropped_decisions=[int(i) for i in result.unused_decisions],
            finished_at=timezone.now(),
        )
    run.refresh_from_db()
    return run


def _upsert_compiled(rows: list[dict[str, Any]]) -> None:
    """Insert or update the ratings' compiled columns: multi-row INSERT … ON CONFLICT (round, org)
    DO UPDATE statements that write only ``_COMPILED_FIELDS`` on conflict.

    ``bulk_create(update_conflicts=True)`` does the same but runs every column of every row
    through the SQL compiler: at 5,000 branches that was about a third of a compile (targets.md
    P10). Here the other columns get the model's defaults (a new rating is 未申报), prepared once.
    """
    if not rows:
        return
    conn = transaction.get_connection()  # the wrapper itself: each attribute of the proxy costs a lookup
    meta = Rating._meta
    by_name = {f.name: f for f in meta.concrete_fields}
    keys = [by_name["round"], by_name["org"]]
    compiled = [by_name[name] for name in _COMPILED_FIELDS]
    written = {f.name for f in (*keys, *compiled)}
    others = [f for f in meta.concrete_fields if not f.primary_key and f.name not in written]
    template = Rating()
    defaults = [f.get_db_prep_save(f.pre_save(template, True), conn) for f in others]
    columns = [*keys, *compiled, *others]
    qn = conn.ops.quote_name
    head = "INSERT INTO {} ({})".format(qn(meta.db_table), ", ".join(qn(f.column) for f in columns))
    suffix = conn.ops.on_conflict_suffix_sql(
        columns, OnConflict.UPDATE, [f.column for f in compiled], [f.column for f in keys]
    )
    # Numbers, text, flags and ids go to the driver as they are; JSON is adapted row by row; any
    # other value (the compile time) is the same in every row and adapted once.
    plain = (
        models.IntegerField,
        models.CharField,
        models.BooleanField,
        models.DecimalField,
        models.ForeignKey,
    )
    fields = [(f.name, f, isinstance(f, plain), isinstance(f, models.JSONField)) for f in (*keys, *compiled)]
    once: dict[tuple[str, Any], Any] = {}

    def adapt(name: str, field: models.Field[Any, Any], value: Any) -> Any:
        if (name, value) not in once:
            once[name, value] = field.get_db_prep_save(value, conn)
        return once[name, value]

    params = [
        [
            row[name] if raw else f.get_db_prep_save(row[name], conn) if js else adapt(name, f, row[name])
            for name, f, raw, js in fields
        ]
        + defaults
        for row in rows
    ]
    # As many rows per statement as the driver's parameter limit allows (about 20 on SQLite,
    # UPSERT_BATCH on PostgreSQL): a round trip per batch, not per row.
    batch = max(1, min(conn.ops.bulk_batch_size(columns, rows), UPSERT_BATCH))
    row_sql = "({})".format(", ".join(["%s"] * len(columns)))
    with conn.cursor() as cursor:
        for start in range(0, len(params), batch):
            chunk = params[start : start + batch]
            cursor.execute(
                f"{head} VALUES {', '.join([row_sql] * len(chunk))} {suffix}",
                [value for row in chunk for value in row],
            )


def compile_now(*, rnd: RatingRound, actor: User | None, today: date | None = None) -> CompileRun:
    """Queue and execute a compile in this process (shell commands, the demo and tests)."""
    run = compile_request(rnd=rnd, actor=actor)
    return compile_execute(run=run, today=today)


def compile_for_task(run_id: int) -> CompileRun | None:
    run = CompileRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.warning("compile run %s no longer exists", run_id)
        return None
    return compile_execute(run=run)


def latest_run(rnd: RatingRound) -> CompileRun | None:
    return CompileRun.objects.filter(round=rnd).order_by("-created_at", "-id").first()


def latest_done_run(rnd: RatingRound) -> CompileRun | None:
    return CompileRun.objects.filter(round=rnd, status=RunStatus.DONE).order_by("-finished_at", "-id").first()


def results_current(rnd: RatingRound, run: CompileRun | None) -> tuple[bool, str]:
    """(True, "") when the last compile reflects today's inputs and decisions; else the reason.

    Only the fingerprint is recomputed, not the rating: a compile voids the decisions it did not
    use, so the live decisions equal those it fingerprinted until someone changes them.
    ``run`` is the round's latest done run (``latest_done_run``).
    """
    if run is None:
        return False, "尚未计算星级"
    if run.scheme_id != rnd.scheme_id:
        return False, "方案已更换，请重新计算"
    gathered = gather_inputs(rnd, today=timezone.localdate())
    if fingerprint(rnd.scheme.data, gathered.inputs, _live_decisions(rnd)) != run.fingerprint:
        return False, "计算后数据或并列决定有变化，请重新计算"
    return True, ""


# --- ties -------------------------------------------------------------------------------------


def tie_decide(
    *, rnd: RatingRound, level: int, scope: str, chosen: Iterable[int], reason: str, actor: User
) -> list[TieDecision]:
    """Record who of a tie at a quota boundary takes the remaining seats; the rest go one level down."""
    _require(permissions.can_manage_rating(actor), "决定名额并列")
    if rnd.stage not in PRE_PUBLICITY:
        raise RatingRefused("公示开始后不能再决定并列")
    reason = reason.strip()
    if not reason:
        raise RatingRefused("请填写决定理由（如会议纪要）")
    run = latest_done_run(rnd)
    group = next(
        (g for g in (run.tie_groups if run else []) if g["level"] == level and g["scope"] == scope), None
    )
    if group is None:
        raise RatingRefused("该并列已不存在，请刷新后重试")
    chosen_ids = {int(i) for i in chosen}
    if not chosen_ids <= set(group["org_ids"]):
        raise RatingRefused("所选组织不在该并列名单中")
    if len(chosen_ids) > group["seats_left"]:
        raise RatingRefused(f"剩余名额只有 {group['seats_left']} 个，最多选 {group['seats_left']} 个")
    scheme = scheme_of(rnd.scheme)
    lower = [lv for lv in scheme.levels.rated if lv < level]
    down = max(lower) if lower else scheme.below_level
    with transaction.atomic():
        TieDecision.objects.filter(round=rnd, is_void=False, org_id__in=group["org_ids"]).update(is_void=True)
        decisions = TieDecision.objects.bulk_create(
            [
                TieDecision(
                    round=rnd,
                    org_id=org_id,
                    tied_level=level,
                    scope=scope,
                    decided_level=level if org_id in chosen_ids else down,
                    reason=reason,
                    decided_by=actor,
                )
                for org_id in group["org_ids"]
            ]
        )
        audit_record(
            action="rating_tie_decide",
            actor=actor,
            target=rnd,
            detail={"level": level, "scope": scope, "chosen": sorted(chosen_ids), "reason": reason},
        )
    return decisions


@dataclass(frozen=True)
class TieView:
    scope: str
    level: int
    label: str
    seats_left: int
    ratings: list[Rating]


def open_ties(rnd: RatingRound, run: CompileRun | None) -> list[TieView]:
    """The ties waiting in ``run``, the round's latest done run (``latest_done_run``)."""
    if run is None or not run.tie_groups:
        return []
    scheme = scheme_of(rnd.scheme)
    ids = [i for g in run.tie_groups for i in g["org_ids"]]
    ratings = {
        r.org_id: r for r in Rating.objects.filter(round=rnd, org_id__in=ids).select_related("org__parent")
    }
    return [
        TieView(
            g["scope"],
            g["level"],
            scheme.label_for(g["level"]),
            g["seats_left"],
            [ratings[i] for i in g["org_ids"] if i in ratings],
        )
        for g in run.tie_groups
    ]


# --- stages -----------------------------------------------------------------------------------


def _secretaries_of(org_ids: Iterable[int]) -> list[int]:
    return list(
        RoleGrant.objects.filter(
            org_id__in=list(org_ids), role__in=[Role.SECRETARY, Role.DEPUTY_SECRETARY]
        ).values_list("user_id", flat=True)
    )


def next_stages(rnd: RatingRound) -> list[str]:
    """Stages the round may move to next ([复核] is optional)."""
    if rnd.stage == RoundStage.COMMITTEE_REVIEW:
        return [RoundStage.RECHECK, RoundStage.PUBLICITY]
    if rnd.stage == RoundStage.NAMED:
        return []
    return [STAGE_ORDER[rnd.stage_index() + 1]]


def round_advance(
    *,
    rnd: RatingRound,
    to_stage: str,
    actor: User,
    expected_version: int,
    publicity_starts_on: date | None = None,
    naming_document: str = "",
    named_on: date | None = None,
) -> RatingRound:
    """Move the round one stage on, checking what each stage needs."""
    _require(permissions.can_manage_rating(actor), "推进评星阶段")
    if to_stage not in next_stages(rnd):
        raise RatingRefused(f"当前阶段“{rnd.get_stage_display()}”不能进入该阶段")
    changes: dict[str, Any] = {"stage": to_stage}
    today = timezone.localdate()
    if to_stage in (RoundStage.RECHECK, RoundStage.PUBLICITY):
        current, why = results_current(rnd, latest_done_run(rnd))
        if not current:
            raise RatingRefused(why)
        if Rating.objects.filter(round=rnd, needs_decision=True).exists():
            raise RatingRefused("还有名额边界并列待决定")
    if to_stage == RoundStage.PUBLICITY:
        start = publicity_starts_on or today
        days = scheme_of(rnd.scheme).publicity_days or rnd.campaign.publicity_days
        changes.update(publicity_starts_on=start, publicity_ends_on=start + timedelta(days=max(days, 1) - 1))
    if to_stage == RoundStage.NAMED:
        if rnd.publicity_ends_on and today <= rnd.publicity_ends_on:
            raise RatingRefused(f"公示期至 {rnd.publicity_ends_on:%Y年%m月%d日}，期满后才能命名")
        if Objection.objects.filter(rating__round=rnd, status=ObjectionStatus.OPEN).exists():
            raise RatingRefused("还有未处理的公示异议")
        naming_document = naming_document.strip()
        if not naming_document:
            raise RatingRefused("请填写命名文号")
        changes.update(named_on=named_on or today, naming_document=naming_document[:100], named_by=actor)
    with transaction.atomic():
        rnd = _bump(rnd, expected_version, **changes)
        if to_stage == RoundStage.NAMED:
            _name_all(rnd)
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=rnd,
            detail={"step": "rating_stage", **{"stage": to_stage}},
        )
    if to_stage == RoundStage.PUBLICITY:
        # 公示 reaches the secretaries through the 工委's reminder rules (inbox, e-mail, robots).
        outbox_enqueue(
            "campaigns.tasks.remind_now",
            committee_id=rnd.campaign.committee_id,
            source=ReminderSource.PUBLICITY,
            dedupe_key=f"publicity:{rnd.pk}:{rnd.publicity_starts_on}",
        )
    elif to_stage == RoundStage.NAMED:
        _notify_branches(rnd)
    return rnd


def _name_all(rnd: RatingRound) -> None:
    """The proposed level (``Rating.level``) becomes the named and current level, in one UPDATE."""
    level = Case(When(is_adjusted=True, then=F("adjusted_level")), default=F("computed_level"))
    Rating.objects.filter(round=rnd).update(named_level=level, current_level=level)


def _notify_branches(rnd: RatingRound) -> None:
    ratings = dict(Rating.objects.filter(round=rnd, compiled_at__isnull=False).values_list("org_id", "pk"))
    grants = RoleGrant.objects.filter(
        org_id__in=list(ratings), role__in=[Role.SECRETARY, Role.DEPUTY_SECRETARY]
    ).values_list("user_id", "org_id")
    title = f"{rnd.title}已命名"
    body = f"命名文号：{rnd.naming_document}。可查看本组织星级、评定说明和差距清单。"
    messages_deliver(
        Message(
            recipient_id=user_id,
            kind=MessageKind.RATING,
            title=title,
            body=body,
            url=reverse("scoring:rating", args=[ratings[org_id]]),
            source_key=f"rating:{rnd.pk}:{rnd.stage}:{org_id}",
        )
        for user_id, org_id in grants
    )


# --- declaration and first review ------------------------------------------------------------


def _rating_for(rnd: RatingRound, org: OrgUnit) -> Rating:
    rating, _ = Rating.objects.get_or_create(round=rnd, org=org)
    return rating


def _cas(rating: Rating, expected_version: int | None, **changes: Any) -> Rating:
    qs = Rating.objects.filter(pk=rating.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if not qs.update(version=F("version") + 1, updated_at=timezone.now(), **changes):
        raise RatingRefused("评定已被他人更新，请刷新后重试")
    rating.refresh_from_db()
    return rating


def _check_level(scheme: Scheme, level: int | None, *, allow_below: bool = True) -> None:
    allowed = set(scheme.levels.rated) | ({scheme.below_level} if allow_below else set())
    if level not in allowed:
        raise RatingRefused("星级不在方案的等级内")


def rating_declare(*, rnd: RatingRound, org: OrgUnit, level: int, declaration: str, actor: User) -> Rating:
    """自评申报: the branch declares the level it applies for, with its reasons."""
    _require(permissions.can_declare(actor, org), "申报星级")
    if org.kind != rnd.applies_to:
        raise RatingRefused("本组织不参加该项评定")
    if rnd.stage not in (RoundStage.DECLARING, RoundStage.FIRST_REVIEW):
        raise RatingRefused("申报阶段已结束")
    _check_level(scheme_of(rnd.scheme), level, allow_below=False)
    declaration = declaration.strip()
    if not declaration:
        raise RatingRefused("请填写申报理由")
    with transaction.atomic():
        rating = _rating_for(rnd, org)
        if rating.status == RatingStatus.FIRST_REVIEWED:
            raise RatingRefused("已通过初审，不能再修改申报")
        rating = _cas(
            rating,
            None,
            status=RatingStatus.DECLARED,
            declared_level=level,
            declaration=declaration,
            declared_by=actor,
            declared_at=timezone.now(),
        )
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=rating,
            detail={"step": "rating_declare", **{"level": level}},
        )
    return rating


def rating_first_review(
    *, rating: Rating, actor: User, agree: bool, level: int | None, note: str, expected_version: int
) -> Rating:
    """初审 by the parent: agree with a recommended level, or return the declaration to the branch."""
    _require(permissions.can_first_review(actor, rating.org), "初审")
    if rating.round.stage not in (RoundStage.DECLARING, RoundStage.FIRST_REVIEW):
        raise RatingRefused("初审阶段已结束")
    if rating.status != RatingStatus.DECLARED:
        raise RatingRefused("该组织尚未申报或已处理")
    note = note.strip()
    with transaction.atomic():
        if agree:
            if level is None:
                level = rating.declared_level
            _check_level(scheme_of(rating.round.scheme), level)
            rating = _cas(
                rating,
                expected_version,
                status=RatingStatus.FIRST_REVIEWED,
                first_review_level=level,
                first_review_note=note,
                first_reviewed_by=actor,
                first_reviewed_at=timezone.now(),
            )
        else:
            if not note:
                raise RatingRefused("退回时请写明理由")
            rating = _cas(
                rating,
                expected_version,
                status=RatingStatus.RETURNED,
                first_review_note=note,
                first_reviewed_by=actor,
                first_reviewed_at=timezone.now(),
            )
            message_send_many(
                recipients=_secretaries_of([rating.org_id]),
                kind=MessageKind.RATING,
                title="星级申报被退回",
                body=note,
                url=reverse("scoring:rating", args=[rating.pk]),
                source_key=f"rating-return:{rating.pk}:{rating.version}",
            )
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=rating,
            detail={"step": "rating_first_review", **{"agree": agree}},
        )
    return rating


# --- 复核, objections, 摘星/降星 -----------------------------------------------------------------


def rating_recheck(
    *, rating: Rating, actor: User, confirmed: bool, level: int | None, note: str, expected_version: int
) -> Rating:
    """复核 by the level above: confirm the proposed level, or lower it with a written reason."""
    _require(permissions.can_manage_rating(actor), "复核")
    if rating.round.stage != RoundStage.RECHECK:
        raise RatingRefused("当前不在复核阶段")
    note = note.strip()
    if not note:
        raise RatingRefused("请填写复核意见")
    changes: dict[str, Any] = {"recheck_note": note, "rechecked_by": actor, "rechecked_at": timezone.now()}
    if not confirmed:
        scheme = scheme_of(rating.round.scheme)
        _check_level(scheme, level)
        if _rank(level) >= _rank(rating.level):
            raise RatingRefused("复核不通过时，调整后的星级须低于拟定星级")
        changes.update(is_adjusted=True, adjusted_level=level, adjusted_reason=f"复核：{note}")
    with transaction.atomic():
        rating = _cas(rating, expected_version, **changes)
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=rating,
            detail={"step": "rating_recheck", **{"confirmed": confirmed}},
        )
    return rating


def _rank(level: int | None) -> int:
    return -1 if level is None else level


def objection_record(
    *, rating: Rating, actor: User, raised_by_name: str, contact: str, received_on: date, content: str
) -> Objection:
    _require(permissions.can_manage_rating(actor), "登记公示异议")
    if rating.round.stage != RoundStage.PUBLICITY:
        raise RatingRefused("只能在公示期间登记异议")
    content = content.strip()
    if not content:
        raise RatingRefused("请填写异议内容")
    objection = Objection.objects.create(
        rating=rating,
        raised_by_name=raised_by_name.strip()[:50],
        contact=contact.strip()[:50],
        received_on=received_on,
        content=content,
        recorded_by=actor,
    )
    audit_record(
        action=AuditAction.RATING, actor=actor, target=objection, detail={"step": "rating_objection"}
    )
    return objection


def objection_resolve(
    *, objection: Objection, actor: User, upheld: bool, resolution: str, level_after: int | None
) -> Objection:
    """Resolve with the findings of the check; an upheld objection may change the proposed level."""
    _require(permissions.can_manage_rating(actor), "处理公示异议")
    rating = objection.rating
    if rating.round.stage != RoundStage.PUBLICITY:
        raise RatingRefused("公示已结束，不能再处理异议")
    if objection.status != ObjectionStatus.OPEN:
        raise RatingRefused("该异议已处理")
    resolution = resolution.strip()
    if not resolution:
        raise RatingRefused("请填写核查处理情况")
    if upheld:
        _check_level(scheme_of(rating.round.scheme), level_after)
    with transaction.atomic():
        done = Objection.objects.filter(pk=objection.pk, status=ObjectionStatus.OPEN).update(
            status=ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED,
            resolution=resolution,
            level_after=level_after if upheld else rating.level,
            resolved_by=actor,
            resolved_at=timezone.now(),
        )
        if not done:
            raise RatingRefused("该异议已处理")
        if upheld and level_after != rating.level:
            _cas(
                rating,
                None,
                is_adjusted=True,
                adjusted_level=level_after,
                adjusted_reason=f"公示异议核实：{resolution}",
            )
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=objection,
            detail={"step": "rating_objection_resolve", **{"upheld": upheld}},
        )
    objection.refresh_from_db()
    return objection


def star_change(
    *,
    rating: Rating,
    actor: User,
    kind: str,
    to_level: int | None,
    veto_key: str,
    reason: str,
    decision_document: str,
    decided_on: date,
) -> StarChange:
    """摘星/降星 of a named rating on a veto event, with the decision record."""
    _require(permissions.can_manage_rating(actor), "摘星降星")
    if not rating.round.is_named:
        raise RatingRefused("命名后才能摘星或降星")
    scheme = scheme_of(rating.round.scheme)
    reason, decision_document = reason.strip(), decision_document.strip()
    if not reason or not decision_document:
        raise RatingRefused("请填写事由和决定文号")
    if veto_key and veto_key not in {v.key for v in scheme.vetoes}:
        raise RatingRefused("否决情形不在方案中")
    current = rating.current_level
    if kind == ChangeKind.REVOKE:
        to_level = scheme.below_level
    elif kind == ChangeKind.DEMOTE:
        _check_level(scheme, to_level)
        if _rank(to_level) >= _rank(current):
            raise RatingRefused("降星后的星级须低于现行星级")
    else:
        raise RatingRefused("未知的调整类型")
    if current is None or current == scheme.below_level:
        raise RatingRefused("该组织现无星级")
    with transaction.atomic():
        change = StarChange.objects.create(
            rating=rating,
            kind=kind,
            from_level=current,
            to_level=to_level,
            veto_key=veto_key,
            reason=reason,
            decision_document=decision_document[:100],
            decided_on=decided_on,
            decided_by=actor,
        )
        _cas(rating, None, current_level=to_level)
        audit_record(
            action=AuditAction.RATING,
            actor=actor,
            target=change,
            detail={"step": "rating_star_change", **{"kind": kind}},
        )
    message_send_many(
        recipients=_secretaries_of([rating.org_id]),
        kind=MessageKind.RATING,
        title=f"{rating.round.title}：{change.get_kind_display()}",
        body=f"{reason}（{decision_document}）",
        url=reverse("scoring:rating", args=[rating.pk]),
        source_key=f"rating-change:{change.pk}",
    )
    return change


# --- history and gap list ---------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    year: int
    rating: Rating
    label: str
    trend: str  # 首次定级 / 升星 / 降星 / 持平 / 摘星


def star_history(org: OrgUnit) -> list[HistoryRow]:
    """Named ratings of the organisation across years, oldest first, with 升星/降星/摘星."""
    ratings = list(
        Rating.objects.filter(org=org, round__stage=RoundStage.NAMED)
        .select_related("round__campaign", "round__scheme")
        .prefetch_related("changes")
        .order_by("round__campaign__year", "round__applies_to")
    )
    rows: list[HistoryRow] = []
    previous: int | None = None
    for i, rating in enumerate(ratings):
        scheme = scheme_of(rating.round.scheme)
        level = rating.current_level
        if any(c.kind == ChangeKind.REVOKE for c in rating.changes.all()):
            trend = "摘星"
        elif i == 0:
            trend = "首次定级"
        elif _rank(level) > _rank(previous):
            trend = "升星"
        elif _rank(level) < _rank(previous):
            trend = "降星"
        else:
            trend = "持平"
        rows.append(HistoryRow(rating.round.campaign.year, rating, scheme.label_for(level), trend))
        previous = level
    return rows


def item_gaps(rnd: RatingRound, org: OrgUnit) -> list[tuple[str, str, Decimal]]:
    """Per checklist item: points not yet earned (standard points − the score it counts with),
    in one aggregate query; a recurring item counts once, with the mean of its periods, as in
    the compile."""
    rows = (
        ChecklistEntry.objects.filter(campaign_id=rnd.campaign_id, org=org)
        .exclude(status=EntryStatus.NOT_APPLICABLE)
        .values("item__code", "item__title")
        .annotate(
            points=Sum(weighted_item_points("item__points")),
            earned=Sum(weighted_item_points(COUNTED_SCORE)),
        )
        .order_by("item__code")
    )
    return [
        (r["item__code"], r["item__title"], from_weighted(r["points"] - r["earned"]) or Decimal(0))
        for r in rows
    ]


def gap_for(rating: Rating) -> GapList | None:
    if not rating.inputs:
        return None
    scheme = scheme_of(rating.round.scheme)
    gathered = gather_inputs(rating.round, today=timezone.localdate(), org_ids=[rating.org_id])
    if not gathered.inputs:
        return None
    return gap_list(scheme, gathered.inputs[0], item_gaps(rating.round, rating.org))


def branch_can_see_level(user: User, rating: Rating) -> bool:
    """Branch users see their proposed level from 公示 on; reviewers see it as soon as it is compiled."""
    if permissions.can_manage_rating(user) or campaign_permissions.is_parent_reviewer_for(user, rating.org):
        return True
    return rating.round.stage in (RoundStage.PUBLICITY, RoundStage.NAMED)
