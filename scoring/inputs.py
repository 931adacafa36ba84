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
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum

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
    SessionReporter,
    SessionStatus,
)
from campaigns.models.checklists import OPEN_STATUSES
from campaigns.models.supervision import OPEN_RECTIFICATION
from scoring.models import FactKind, Rating, RatingFact, RatingRound, RoundStage
from scoring.rules import BonusClaim, OrgId, OrgInputs

ZERO = Decimal(0)
FOUR_PLACES = Decimal("0.0001")


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


def _entry_aggregates(campaign_id: int, org_ids: list[int], as_of: date) -> dict[int, dict[str, Any]]:
    scored = Q(status__in=[EntryStatus.SUBMITTED, EntryStatus.APPROVED])
    rows = (
        ChecklistEntry.objects.filter(campaign_id=campaign_id, org_id__in=org_ids)
        .values("org_id")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(status=EntryStatus.APPROVED)),
            review_points=Sum("review_score"),
            first_points=Sum("first_review_score", filter=Q(review_score__isnull=True)),
            first_count=Count("pk", filter=Q(review_score__isnull=True, first_review_score__isnull=False)),
            self_points=Sum(
                "self_score", filter=scored & Q(review_score__isnull=True, first_review_score__isnull=True)
            ),
            self_count=Count(
                "pk",
                filter=scored
                & Q(review_score__isnull=True, first_review_score__isnull=True, self_score__isnull=False),
            ),
            max_points=Sum("item__points", filter=~Q(status=EntryStatus.NOT_APPLICABLE)),
            overdue=Count(
                "pk",
                filter=Q(status__in=(*OPEN_STATUSES, EntryStatus.SUBMITTED), due_date__lt=as_of)
                | Q(completed_on__gt=F("due_date")),
            ),
        )
    )
    return {r["org_id"]: r for r in rows}


def _finding_aggregates(campaign_id: int, org_ids: list[int]) -> dict[int, dict[str, int]]:
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


def _notice_counts(campaign_id: int, org_ids: list[int]) -> dict[int, int]:
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


def _good_rates(campaign_id: int, org_ids: list[int]) -> dict[int, dict[str, Any]]:
    """述职评议 good rate of each organisation from its latest closed session (好+较好 share)."""
    reporters = list(
        SessionReporter.objects.filter(
            session__campaign_id=campaign_id, session__status=SessionStatus.CLOSED, org_id__in=org_ids
        ).values(
            "pk",
            "org_id",
            "session_id",
            "session__title",
            "session__held_on",
            "session__entry_mode",
            "session__good_labels",
            "session__scale",
        )
    )
    ids = [r["pk"] for r in reporters]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Ballot.objects.filter(reporter_id__in=ids).values("reporter_id", "label").annotate(n=Count("pk"))
    ):
        counts[row["reporter_id"]][row["label"]] = row["n"]
    tallies: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        BallotTally.objects.filter(reporter_id__in=ids)
        .values("reporter_id", "label")
        .annotate(n=Sum("count"))
    ):
        tallies[row["reporter_id"]][row["label"]] = int(row["n"] or 0)
    latest: dict[int, dict[str, Any]] = {}
    for r in sorted(reporters, key=lambda r: (r["session__held_on"], r["session_id"])):
        c = tallies[r["pk"]] if r["session__entry_mode"] == EntryMode.TALLY else counts[r["pk"]]
        c = {label: c.get(label, 0) for label in r["session__scale"]}
        votes = sum(c.values())
        if not votes:
            continue
        good = sum(c[label] for label in r["session__good_labels"] if label in c)
        latest[r["org_id"]] = {
            "session": r["session__title"],
            "votes": votes,
            "good": good,
            "good_rate": (Decimal(good) / Decimal(votes)).quantize(FOUR_PLACES),
        }
    return latest


def _last_year_levels(rnd: RatingRound, org_ids: list[int]) -> dict[int, int | None]:
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
    org_ids = [o["pk"] for o in orgs]
    entries = _entry_aggregates(campaign.pk, org_ids, as_of)
    findings = _finding_aggregates(campaign.pk, org_ids)
    notices = _notice_counts(campaign.pk, org_ids)
    rates = _good_rates(campaign.pk, org_ids)
    last_year = _last_year_levels(rnd, org_ids)
    facts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in RatingFact.objects.filter(campaign=campaign, org_id__in=org_ids).values(
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
            "findings": f.get("total", 0),
            "review": {k: str(v) for k, v in rate.items()} if rate else None,
        }
    return Gathered(inputs, sources, as_of)


def inputs_to_json(org: OrgInputs) -> dict[str, Any]:
    """Canonical JSON of one organisation's inputs (sorted sets, decimal strings)."""
    data = asdict(org)
    for key, value in list(data.items()):
        if isinstance(value, frozenset | set):
            data[key] = sorted(value)
        elif isinstance(value, Decimal):
            data[key] = f"{value.normalize():f}"
    data["bonus_items"] = [
        {"kind": b.kind, "points": f"{Decimal(b.points).normalize():f}", "evidence": b.evidence}
        for b in org.bonus_items
    ]
    return data


def fingerprint(
    scheme_data: dict[str, Any], inputs: list[OrgInputs], decisions: Mapping[OrgId, int | None]
) -> str:
    """SHA-256 over the scheme, every organisation's inputs and the tie decisions, canonically ordered."""
    payload = {
        "scheme": scheme_data,
        "inputs": [inputs_to_json(org) for org in sorted(inputs, key=lambda o: str(o.org_id))],
        "decisions": sorted((str(k), v) for k, v in decisions.items()),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
