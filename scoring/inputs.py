"""Gather the engine's inputs for a rating round from the year's data, in a fixed number of queries.

Every aggregate is computed in SQL, grouped by organisation: the query count does not grow with
the number of organisations (targets.md P10). ``gather_inputs`` returns plain ``OrgInputs`` for
``scoring.rules.rate`` and, per organisation, the facts behind them for the explanation.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Combinable

from branches.models import OrgUnit
from campaigns.models import (
    Ballot,
    BallotTally,
    ChecklistEntry,
    EntryMode,
    EntryStatus,
    Finding,
    Notice,
    NoticeKind,
    NoticeStatus,
    ReviewSession,
    SessionReporter,
    SessionStatus,
)
from campaigns.models.checklists import OPEN_STATUSES, PERIODS_PER_YEAR, Frequency
from campaigns.models.supervision import OPEN_RECTIFICATION
from scoring.models import FactKind, Rating, RatingFact, RatingRound, RoundStage
from scoring.rules import BonusClaim, OrgId, OrgInputs

ZERO = Decimal(0)
FOUR_PLACES = Decimal("0.0001")
# The organisations an aggregate covers: ids, or the rated organisations' id subquery (no bound
# parameter per organisation: at 5,000 branches preparing them cost more than some queries).
OrgIds = list[int] | QuerySet[Any, Any]


@dataclass(frozen=True)
class Gathered:
    inputs: list[OrgInputs]
    sources: dict[int, dict[str, Any]]  # org id → the facts behind its inputs (JSON-able)
    as_of: date


def rating_orgs(rnd: RatingRound) -> Any:
    """Organisations rated in the round: active organisations of its kind under the 工委."""
    committee = rnd.campaign.committee
    return OrgUnit.objects.filter(
        path__startswith=committee.path, kind=rnd.applies_to, is_active=True
    ).order_by("path")


def as_of_for(rnd: RatingRound, today: date) -> date:
    """Counting day for overdue entries: today, but never after the campaign year."""
    return min(today, date(rnd.campaign.year, 12, 31))


# A recurring item has one entry per period, each scored on the item's full scale; the item counts
# once, with the mean of its periods (monthly 5 points: twelve entries of 0-5 → 5 points at most).
# The mean is summed exactly: each score is weighted by 12 / periods (an integer for every
# frequency) in SQL, and the sum divided by 12 once, in Python, with decimals.
_YEAR_PARTS = 12
assert all(_YEAR_PARTS % n == 0 for n in PERIODS_PER_YEAR.values())
_WEIGHT = Case(
    *[
        When(item__frequency=frequency, then=Value(_YEAR_PARTS // n))
        for frequency, n in PERIODS_PER_YEAR.items()
    ],
    default=Value(_YEAR_PARTS),
    output_field=IntegerField(),
)
_RECURRING = ~Q(item__frequency__in=[Frequency.ONCE, Frequency.YEARLY])


def weighted_item_points(value: str | Combinable) -> ExpressionWrapper:
    """An entry's share of its item, times 12: the score (a field name or an expression) weighted
    by 12 / the item's periods."""
    score = F(value) if isinstance(value, str) else value
    return ExpressionWrapper(score * _WEIGHT, output_field=DecimalField(max_digits=16, decimal_places=2))


_SCORED = Q(status__in=[EntryStatus.SUBMITTED, EntryStatus.APPROVED])
# The score an entry counts with: 审核得分, else 初审得分, else the 自评 of a submitted entry.
COUNTED_SCORE = Case(
    When(review_score__isnull=False, then=F("review_score")),
    When(first_review_score__isnull=False, then=F("first_review_score")),
    When(_SCORED & Q(self_score__isnull=False), then=F("self_score")),
    default=Value(Decimal(0)),
    output_field=DecimalField(max_digits=6, decimal_places=2),
)


def from_weighted(value: Decimal | float | None) -> Decimal | None:
    """A weighted sum back to points, with two decimals."""
    if value is None:
        return None
    return (Decimal(str(value)) / _YEAR_PARTS).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _entry_aggregates(campaign_id: int, org_ids: OrgIds, as_of: date) -> dict[int, dict[str, Any]]:
    scored = _SCORED
    rows = (
        ChecklistEntry.objects.filter(campaign_id=campaign_id, org_id__in=org_ids)
        .values("org_id")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(status=EntryStatus.APPROVED)),
            review_points=Sum(weighted_item_points("review_score")),
            first_points=Sum(weighted_item_points("first_review_score"), filter=Q(review_score__isnull=True)),
            first_count=Count("pk", filter=Q(review_score__isnull=True, first_review_score__isnull=False)),
            self_points=Sum(
                weighted_item_points("self_score"),
                filter=scored & Q(review_score__isnull=True, first_review_score__isnull=True),
            ),
            self_count=Count(
                "pk",
                filter=scored
                & Q(review_score__isnull=True, first_review_score__isnull=True, self_score__isnull=False),
            ),
            max_points=Sum(
                weighted_item_points("item__points"), filter=~Q(status=EntryStatus.NOT_APPLICABLE)
            ),
            recurring=Count("pk", filter=_RECURRING),
            overdue=Count(
                "pk",
                filter=Q(status__in=(*OPEN_STATUSES, EntryStatus.SUBMITTED), due_date__lt=as_of)
                | Q(completed_on__gt=F("due_date")),
            ),
        )
    )
    result = {}
    for r in rows:
        for key in ("review_points", "first_points", "self_points", "max_points"):
            r[key] = from_weighted(r[key])
        result[r["org_id"]] = r
    return result


def _finding_aggregates(campaign_id: int, org_ids: OrgIds) -> dict[int, dict[str, int]]:
    rows = (
        Finding.objects.filter(campaign_id=campaign_id, org_id__in=org_ids)
        .values("org_id")
        .annotate(
            total=Count("pk"),
            unresolved=Count("pk", filter=Q(rectification__status__in=OPEN_RECTIFICATION)),
            repeated=Count("pk", filter=Q(is_repeat=True)),
        )
    )
    return {r["org_id"]: r for r in rows}


def _notice_counts(campaign_id: int, org_ids: OrgIds) -> dict[int, int]:
    """Published 通报批评 naming the organisation through a finding or an entry (each notice once)."""
    notices = Notice.objects.filter(
        campaign_id=campaign_id, kind=NoticeKind.CRITICISM, status=NoticeStatus.PUBLISHED
    )
    pairs = set(
        notices.filter(findings__org_id__in=org_ids).values_list("pk", "findings__org_id").distinct()
    ) | set(notices.filter(entries__org_id__in=org_ids).values_list("pk", "entries__org_id").distinct())
    counts: dict[int, int] = defaultdict(int)
    for _, org_id in pairs:
        counts[org_id] += 1
    return counts


def _good_rates(campaign_id: int, org_ids: OrgIds) -> dict[int, dict[str, Any]]:
    """述职评议 good rate of each organisation from its latest closed session (好+较好 share)."""
    closed = Q(session__campaign_id=campaign_id, session__status=SessionStatus.CLOSED, org_id__in=org_ids)
    reporters = list(SessionReporter.objects.filter(closed).values_list("pk", "org_id", "session_id"))
    # Each session's settings once, not once per reporter (thousands of them share a session).
    sessions = {
        pk: (title, held_on, mode, good_labels, scale)
        for pk, title, held_on, mode, good_labels, scale in ReviewSession.objects.filter(
            pk__in={session_id for _, _, session_id in reporters}
        ).values_list("pk", "title", "held_on", "entry_mode", "good_labels", "scale")
    }
    modes = {mode for _, _, mode, _, _ in sessions.values()}
    voted = SessionReporter.objects.filter(closed).values("pk")
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if modes - {EntryMode.TALLY}:
        for reporter_id, label, n in (
            Ballot.objects.filter(reporter_id__in=voted)
            .values_list("reporter_id", "label")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts[reporter_id][label] = n
    tallies: dict[int, dict[str, int]] = defaultdict(dict)
    if EntryMode.TALLY in modes:
        for reporter_id, label, n in (
            BallotTally.objects.filter(reporter_id__in=voted)
            .values_list("reporter_id", "label")
            .annotate(n=Sum("count"))
            .order_by()
        ):
            tallies[reporter_id][label] = int(n or 0)
    latest: dict[int, dict[str, Any]] = {}
    for pk, org_id, session_id in sorted(reporters, key=lambda r: (sessions[r[2]][1], r[2])):
        title, _, mode, good_labels, scale = sessions[session_id]
        c = tallies[pk] if mode == EntryMode.TALLY else counts[pk]
        c = {label: c.get(label, 0) for label in scale}
        votes = sum(c.values())
        if not votes:
            continue
        good = sum(c[label] for label in good_labels if label in c)
        latest[org_id] = {
            "session": title,
            "votes": votes,
            "good": good,
            "good_rate": (Decimal(good) / Decimal(votes)).quantize(FOUR_PLACES),
        }
    return latest


def _last_year_levels(rnd: RatingRound, org_ids: OrgIds) -> dict[int, int | None]:
    """Level in force from last year's named round of the same kind and 工委."""
    rows = Rating.objects.filter(
        round__campaign__committee_id=rnd.campaign.committee_id,
        round__campaign__year=rnd.campaign.year - 1,
        round__applies_to=rnd.applies_to,
        round__stage=RoundStage.NAMED,
        org_id__in=org_ids,
    ).values_list("org_id", "current_level")
    return dict(rows)


def gather_inputs(rnd: RatingRound, *, today: date, org_ids: list[int] | None = None) -> Gathered:
    """Every organisation's inputs for the round (or only ``org_ids``), from a fixed number of queries."""
    as_of = as_of_for(rnd, today)
    campaign = rnd.campaign
    qs = rating_orgs(rnd)
    if org_ids is not None:
        qs = qs.filter(pk__in=org_ids)
    orgs = list(qs.values("pk", "name", "parent_id", "established_on"))
    scope: OrgIds = [o["pk"] for o in orgs] if org_ids is not None else qs.values("pk")
    entries = _entry_aggregates(campaign.pk, scope, as_of)
    findings = _finding_aggregates(campaign.pk, scope)
    notices = _notice_counts(campaign.pk, scope)
    rates = _good_rates(campaign.pk, scope)
    last_year = _last_year_levels(rnd, scope)
    facts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in RatingFact.objects.filter(campaign=campaign, org_id__in=scope).values(
        "org_id", "kind", "key", "value", "description"
    ):
        facts[row["org_id"]].append(dict(row))
    inputs: list[OrgInputs] = []
    sources: dict[int, dict[str, Any]] = {}
    for o in orgs:
        pk = o["pk"]
        e = entries.get(pk, {})
        f = findings.get(pk, {})
        checklist = (
            (e.get("review_points") or ZERO)
            + (e.get("first_points") or ZERO)
            + (e.get("self_points") or ZERO)
        )
        bonus: list[BonusClaim] = []
        vetoes: set[str] = set()
        prerequisites: set[str] = set()
        honours: set[str] = set()
        stars: set[str] = set()
        satisfaction: Decimal | None = None
        last = last_year.get(pk)
        has_last = pk in last_year
        for fact in facts[pk]:
            kind, key = fact["kind"], fact["key"]
            if kind == FactKind.BONUS:
                bonus.append(BonusClaim(key, fact["value"] or ZERO, fact["description"]))
            elif kind == FactKind.VETO:
                vetoes.add(key)
            elif kind == FactKind.PREREQUISITE:
                prerequisites.add(key)
            elif kind == FactKind.HONOUR:
                honours.add(key)
            elif kind == FactKind.STAR:
                stars.add(key)
            elif kind == FactKind.SATISFACTION and fact["value"] is not None:
                satisfaction = (fact["value"] / 100).quantize(FOUR_PLACES)
            elif kind == FactKind.LAST_YEAR and not has_last:
                last = int(fact["value"]) if fact["value"] is not None else None
        established = o["established_on"]
        rate = rates.get(pk)
        inputs.append(
            OrgInputs(
                org_id=pk,
                name=o["name"],
                parent_id=o["parent_id"],
                checklist_points=checklist,
                max_points=e.get("max_points"),
                overdue_entries=e.get("overdue", 0),
                unresolved_findings=f.get("unresolved", 0),
                repeated_findings=f.get("repeated", 0),
                notices=notices.get(pk, 0),
                good_rate=rate["good_rate"] if rate else None,
                satisfaction=satisfaction,
                bonus_items=tuple(sorted(bonus, key=lambda b: (b.kind, b.evidence))),
                veto_conditions=frozenset(vetoes),
                prerequisites_met=frozenset(prerequisites),
                last_year_level=last,
                is_new=bool(established and established.year == campaign.year),
                honours=frozenset(honours),
                stars_earned=frozenset(stars),
            )
        )
        sources[pk] = {
            "as_of": as_of.isoformat(),
            "entries": e.get("total", 0),
            "entries_done": e.get("done", 0),
            "scored_by_first_review": e.get("first_count", 0),
            "scored_by_self": e.get("self_count", 0),
            "recurring_entries": e.get("recurring", 0),
            "findings": f.get("total", 0),
            "review": {k: str(v) for k, v in rate.items()} if rate else None,
        }
    return Gathered(inputs, sources, as_of)


_INPUT_FIELDS = tuple(f.name for f in fields(OrgInputs))


def inputs_to_json(org: OrgInputs) -> dict[str, Any]:
    """Canonical JSON of one organisation's inputs (sorted sets, decimal strings).

    Field by field rather than ``dataclasses.asdict``, which deep-copies every value: this runs
    for every organisation in every compile and every "are the results current?" check
    (targets.md P10).
    """
    data: dict[str, Any] = {}
    for key in _INPUT_FIELDS:
        value = getattr(org, key)
        if isinstance(value, frozenset | set):
            value = sorted(value)
        elif isinstance(value, Decimal):
            value = f"{value.normalize():f}"
        data[key] = value
    data["bonus_items"] = [
        {"kind": b.kind, "points": f"{Decimal(b.points).normalize():f}", "evidence": b.evidence}
        for b in org.bonus_items
    ]
    return data


def fingerprint(
    scheme_data: dict[str, Any],
    inputs: list[OrgInputs],
    decisions: Mapping[OrgId, int | None],
    *,
    as_json: Mapping[OrgId, dict[str, Any]] | None = None,
) -> str:
    """SHA-256 over the scheme, every organisation's inputs and the tie decisions, canonically ordered.

    ``as_json``: the organisations' ``inputs_to_json``, when the caller has made them already.
    """
    payload = {
        "scheme": scheme_data,
        "inputs": [
            as_json[org.org_id] if as_json is not None else inputs_to_json(org)
            for org in sorted(inputs, key=lambda o: str(o.org_id))
        ],
        "decisions": sorted((str(k), v) for k, v in decisions.items()),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
