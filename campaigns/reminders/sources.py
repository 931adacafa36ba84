"""What falls due: one source per kind of item, each a couple of queries, never a loop of queries.

A source answers two questions for one 工委 and one part of the tree:
``due(...)``: the open items whose date lies in a window, and ``still_open(keys)``: which of
these items are still not done (a reminder of a done item is cancelled before it goes out).
Other apps add sources (``scoring`` adds the rating publicity) with ``register``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.urls import reverse

from branches.models import MemberCategory, OrgKind, OrgUnit, subtree_q
from campaigns.models import (
    OPEN_RECTIFICATION,
    ChecklistEntry,
    Obligation,
    ObligationRecord,
    Rectification,
    ReminderSource,
)
from campaigns.models.campaign import Campaign, CampaignStatus
from campaigns.models.checklists import DONE_STATUSES, OPEN_STATUSES
from campaigns.reminders import calendar


@dataclass(frozen=True)
class DueItem:
    key: str  # unique across sources, e.g. "entry:123"
    source: str
    org_id: int | None  # None: a committee-wide item (a phase), told to everyone in scope
    org_path: str
    org_name: str
    title: str
    url: str
    due_date: date
    responsible_id: int | None = None


DueFn = Callable[[OrgUnit, date, date, Sequence[str] | None], Iterable[DueItem]]
OpenFn = Callable[[Sequence[str]], set[str]]


@dataclass(frozen=True)
class Source:
    due: DueFn
    still_open: OpenFn
    # For items whose date can move (an extension): key → current due date. A held reminder
    # whose date moved is cancelled; the new date gets its own reminders.
    due_dates: Callable[[Sequence[str]], dict[str, date]] | None = None


REGISTRY: dict[str, Source] = {}


def register(
    source: str,
    due: DueFn,
    still_open: OpenFn,
    due_dates: Callable[[Sequence[str]], dict[str, date]] | None = None,
) -> None:
    REGISTRY[source] = Source(due=due, still_open=still_open, due_dates=due_dates)


def _scope(paths: Sequence[str] | None, field: str) -> Q:
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for p in paths:
        q |= subtree_q(p, field)
    return q


def _ids(keys: Sequence[str], prefix: str) -> list[int]:
    return [int(k.split(":")[1]) for k in keys if k.startswith(prefix)]


# --- checklist entries ------------------------------------------------------------------------------


def _entries_due(
    committee: OrgUnit, first: date, last: date, paths: Sequence[str] | None
) -> Iterable[DueItem]:
    rows = (
        ChecklistEntry.objects.filter(
            _scope(paths, "org__path"),
            campaign__committee=committee,
            campaign__status=CampaignStatus.PUBLISHED,
            status__in=OPEN_STATUSES,
            due_date__range=(first, last),
        )
        .values_list(
            "pk",
            "org_id",
            "org__path",
            "org__name",
            "item__title",
            "period",
            "due_date",
            "responsible_id",
            "responsible__is_active",
        )
        .order_by("due_date", "pk")
    )
    for pk, org_id, path, org_name, title, period, due, resp, resp_active in rows.iterator(chunk_size=2000):
        label = f"{title}（第{period}期）" if period else title
        yield DueItem(
            key=f"entry:{pk}",
            source=ReminderSource.ENTRY,
            org_id=org_id,
            org_path=path,
            org_name=org_name,
            title=label,
            url=reverse("campaigns:entry_detail", args=[pk]),
            due_date=due,  # type: ignore[arg-type]  # filtered by due_date__range: never None
            responsible_id=resp if resp_active else None,  # someone who left: the secretary instead
        )


def _entries_open(keys: Sequence[str]) -> set[str]:
    ids = _ids(keys, "entry:")
    return {
        f"entry:{pk}"
        for pk in ChecklistEntry.objects.filter(pk__in=ids, status__in=OPEN_STATUSES).values_list(
            "pk", flat=True
        )
    }


def _entries_due_dates(keys: Sequence[str]) -> dict[str, date]:
    rows = ChecklistEntry.objects.filter(pk__in=_ids(keys, "entry:")).values_list("pk", "due_date")
    return {f"entry:{pk}": due for pk, due in rows if due is not None}


# --- rectification deadlines -------------------------------------------------------------------------


def _rect_due(committee: OrgUnit, first: date, last: date, paths: Sequence[str] | None) -> Iterable[DueItem]:
    rows = Rectification.objects.filter(
        _scope(paths, "org__path"),
        campaign__committee=committee,
        status__in=OPEN_RECTIFICATION,
        deadline__range=(first, last),
    ).values_list("pk", "org_id", "org__path", "org__name", "finding__description", "deadline")
    for pk, org_id, path, org_name, text, deadline in rows.iterator(chunk_size=2000):
        short = text if len(text) <= 40 else text[:39] + "…"
        yield DueItem(
            key=f"rect:{pk}",
            source=ReminderSource.RECTIFICATION,
            org_id=org_id,
            org_path=path,
            org_name=org_name,
            title=f"整改：{short}",
            url=reverse("campaigns:rectification_detail", args=[pk]),
            due_date=deadline,  # type: ignore[arg-type]  # filtered by deadline__range
        )


def _rect_open(keys: Sequence[str]) -> set[str]:
    ids = _ids(keys, "rect:")
    return {
        f"rect:{pk}"
        for pk in Rectification.objects.filter(pk__in=ids, status__in=OPEN_RECTIFICATION).values_list(
            "pk", flat=True
        )
    }


def _rect_due_dates(keys: Sequence[str]) -> dict[str, date]:
    rows = Rectification.objects.filter(pk__in=_ids(keys, "rect:")).values_list("pk", "deadline")
    return {f"rect:{pk}": due for pk, due in rows if due is not None}


# --- recurring obligations ---------------------------------------------------------------------------


def obligation_key(obligation_id: int, org_id: int, period_key: str) -> str:
    return f"obl:{obligation_id}:{org_id}:{period_key}"


def _period_index(period_key: str) -> tuple[int, int]:
    """``2026-Q3`` → (2026, 3); ``2026-03`` → (2026, 3); ``2026`` → (2026, 0)."""
    year, _, rest = period_key.partition("-")
    return int(year), int(rest.lstrip("QH")) if rest else 0


def obligations_met(pairs: Iterable[tuple[int, int, str]]) -> set[tuple[int, int, str]]:
    """Which (obligation, org, period) are met: recorded, or the linked checklist entry is done."""
    wanted = set(pairs)
    if not wanted:
        return set()
    obl_ids = {o for o, _, _ in wanted}
    org_ids = {g for _, g, _ in wanted}
    keys = {k for _, _, k in wanted}
    met = set(
        ObligationRecord.objects.filter(
            obligation_id__in=obl_ids, org_id__in=org_ids, period_key__in=keys
        ).values_list("obligation_id", "org_id", "period_key")
    )
    codes = dict(
        Obligation.objects.filter(pk__in=obl_ids).exclude(item_code="").values_list("pk", "item_code")
    )
    if codes:
        years = {_period_index(k)[0] for k in keys}
        done = set(
            ChecklistEntry.objects.filter(
                org_id__in=org_ids,
                item__code__in=set(codes.values()),
                campaign__year__in=years,
                status__in=DONE_STATUSES,
            ).values_list("item__code", "org_id", "campaign__year", "period")
        )
        for o, g, k in wanted:
            code = codes.get(o)
            if code:
                year, index = _period_index(k)
                if (code, g, year, index) in done or (code, g, year, 0) in done:
                    met.add((o, g, k))
    return met & wanted


def _obligation_orgs(committee: OrgUnit, obligation: Obligation, paths: Sequence[str] | None) -> list[tuple]:
    qs = OrgUnit.objects.filter(
        subtree_q(committee.path), _scope(paths, "path"), kind=obligation.applies_to, is_active=True
    )
    if obligation.min_full_members:
        qs = qs.annotate(
            full=Count("members", filter=Q(members__is_active=True, members__category=MemberCategory.FULL))
        ).filter(full__gte=obligation.min_full_members)
    return list(qs.values_list("pk", "path", "name"))


def _obligations_due(
    committee: OrgUnit, first: date, last: date, paths: Sequence[str] | None
) -> Iterable[DueItem]:
    obligations = list(Obligation.objects.filter(committee=committee, is_active=True))
    candidates: list[tuple[Obligation, calendar.Period, date, int, str, str]] = []
    for ob in obligations:
        periods = calendar.periods_due_between(
            ob.frequency, first, last, due_day=ob.due_day, due_month=ob.due_month
        )
        if not periods:
            continue
        for org_id, path, name in _obligation_orgs(committee, ob, paths):
            for period, due in periods:
                candidates.append((ob, period, due, org_id, path, name))
    met = obligations_met((ob.pk, org_id, p.key) for ob, p, _, org_id, _, _ in candidates)
    for ob, period, due, org_id, path, name in candidates:
        if (ob.pk, org_id, period.key) in met:
            continue
        yield DueItem(
            key=obligation_key(ob.pk, org_id, period.key),
            source=ReminderSource.OBLIGATION,
            org_id=org_id,
            org_path=path,
            org_name=name,
            title=f"{ob.name}（{period_label(period.key)}）",
            url=reverse("campaigns:obligations_org", args=[org_id]),
            due_date=due,
        )


def period_label(key: str) -> str:
    year, _, rest = key.partition("-")
    if not rest:
        return f"{year}年"
    if rest.startswith("Q"):
        return f"{year}年第{rest[1:]}季度"
    if rest.startswith("H"):
        return f"{year}年{'上' if rest == 'H1' else '下'}半年"
    return f"{year}年{int(rest)}月"


def _obligations_open(keys: Sequence[str]) -> set[str]:
    parsed = []
    for k in keys:
        if k.startswith("obl:"):
            _, o, g, p = k.split(":", 3)
            parsed.append((int(o), int(g), p))
    met = obligations_met(parsed)
    active = set(
        Obligation.objects.filter(pk__in={o for o, _, _ in parsed}, is_active=True).values_list(
            "pk", flat=True
        )
    )
    return {obligation_key(o, g, p) for o, g, p in parsed if (o, g, p) not in met and o in active}


# --- campaign phases (committee-wide) ---------------------------------------------------------------

PHASES = (
    ("duty", "年初明责"),
    ("supervision", "年中督责"),
    ("reporting", "年终述责"),
    ("rating", "达标创星"),
)


def _phases(committee: OrgUnit, first: date, last: date, edge: str) -> Iterable[DueItem]:
    fields = [f"{p}_{edge}s_on" for p, _ in PHASES]
    for c in Campaign.objects.filter(committee=committee, status=CampaignStatus.PUBLISHED):
        for (phase, label), field in zip(PHASES, fields, strict=True):
            day = getattr(c, field)
            if day is None or not first <= day <= last:
                continue
            verb = "开始" if edge == "start" else "结束"
            yield DueItem(
                key=f"phase:{c.pk}:{phase}:{edge}:{day.isoformat()}",
                source=ReminderSource.PHASE_START if edge == "start" else ReminderSource.PHASE_END,
                org_id=None,
                org_path=committee.path,
                org_name=committee.name,
                title=f"{c.name}「{label}」阶段{day:%-m月%-d日}{verb}",
                url=reverse("campaigns:campaign_detail", args=[c.pk]),
                due_date=day,
            )


def _phase_start_due(
    committee: OrgUnit, first: date, last: date, paths: Sequence[str] | None
) -> Iterable[DueItem]:
    return _phases(committee, first, last, "start")


def _phase_end_due(
    committee: OrgUnit, first: date, last: date, paths: Sequence[str] | None
) -> Iterable[DueItem]:
    return _phases(committee, first, last, "end")


def _phase_open(keys: Sequence[str]) -> set[str]:
    """A phase item stays open while its campaign is published and the date has not moved."""
    out: set[str] = set()
    ids = {int(k.split(":")[1]) for k in keys if k.startswith("phase:")}
    live = {c.pk: c for c in Campaign.objects.filter(pk__in=ids, status=CampaignStatus.PUBLISHED)}
    for k in keys:
        if not k.startswith("phase:"):
            continue
        _, pk, phase, edge, *day = k.split(":")
        c = live.get(int(pk))
        if c is None:
            continue
        current = getattr(c, f"{phase}_{edge}s_on", None)
        if not day or (current is not None and current.isoformat() == day[0]):  # key of the date it names
            out.add(k)
    return out


# --- term end (换届) -------------------------------------------------------------------------------

TERM_KINDS = (OrgKind.AGENCY_COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH)


def _term_due(committee: OrgUnit, first: date, last: date, paths: Sequence[str] | None) -> Iterable[DueItem]:
    rows = OrgUnit.objects.filter(
        subtree_q(committee.path),
        _scope(paths, "path"),
        kind__in=TERM_KINDS,
        is_active=True,
        term_ends_on__range=(first, last),
    ).values_list("pk", "path", "name", "term_ends_on")
    for pk, path, name, ends in rows:
        assert ends is not None  # filtered by term_ends_on__range
        yield DueItem(
            key=f"term:{pk}:{ends.isoformat()}",
            source=ReminderSource.TERM,
            org_id=pk,
            org_path=path,
            org_name=name,
            title=f"{name}本届任期{ends:%Y年%-m月%-d日}届满，请做好换届准备",
            url=reverse("branches:org_detail", args=[pk]),
            due_date=ends,
        )


def _term_open(keys: Sequence[str]) -> set[str]:
    wanted = {}
    for k in keys:
        if k.startswith("term:"):
            _, pk, ends = k.split(":")
            wanted[int(pk)] = (k, ends)
    rows = OrgUnit.objects.filter(pk__in=wanted, is_active=True).values_list("pk", "term_ends_on")
    return {wanted[pk][0] for pk, ends in rows if ends and ends.isoformat() == wanted[pk][1]}


register(ReminderSource.ENTRY, _entries_due, _entries_open, _entries_due_dates)
register(ReminderSource.RECTIFICATION, _rect_due, _rect_open, _rect_due_dates)
register(ReminderSource.OBLIGATION, _obligations_due, _obligations_open)
register(ReminderSource.PHASE_START, _phase_start_due, _phase_open)
register(ReminderSource.PHASE_END, _phase_end_due, _phase_open)
register(ReminderSource.TERM, _term_due, _term_open)
