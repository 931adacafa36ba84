"""The rating publicity (公示) as a reminder source: it goes out through the 工委's reminder rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.urls import reverse

from branches.models import OrgUnit
from campaigns.models import ReminderSource
from campaigns.reminders.sources import DueItem, register
from scoring.models import RatingRound, RoundStage


def _publicity_due(
    committee: OrgUnit, first: date, last: date, paths: Sequence[str] | None
) -> Iterable[DueItem]:
    rounds = RatingRound.objects.filter(
        campaign__committee=committee,
        stage=RoundStage.PUBLICITY,
        publicity_starts_on__range=(first, last),
    ).select_related("campaign")
    for rnd in rounds:
        ends = f"，至{rnd.publicity_ends_on:%-m月%-d日}" if rnd.publicity_ends_on else ""
        yield DueItem(
            key=f"publicity:{rnd.pk}",
            source=ReminderSource.PUBLICITY,
            org_id=None,
            org_path=committee.path,
            org_name=committee.name,
            title=f"{rnd.title}结果开始公示{ends}，如有异议请在公示期内向工委反映",
            url=reverse("scoring:my_rating"),
            due_date=rnd.publicity_starts_on,  # type: ignore[arg-type]  # filtered by its range
        )


def _publicity_open(keys: Sequence[str]) -> set[str]:
    ids = [int(k.split(":")[1]) for k in keys if k.startswith("publicity:")]
    live = RatingRound.objects.filter(pk__in=ids, stage=RoundStage.PUBLICITY).values_list("pk", flat=True)
    return {f"publicity:{pk}" for pk in live}


def install() -> None:
    register(ReminderSource.PUBLICITY, _publicity_due, _publicity_open)
