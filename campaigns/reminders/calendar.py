"""The obligations calendar: periods of a frequency, their keys and due dates. Pure, no ORM."""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date


def _month_end(year: int, month: int) -> date:
    return date(year, month, _cal.monthrange(year, month)[1])


def period_key(frequency: str, year: int, index: int) -> str:
    """``2026-03`` (month), ``2026-Q1``, ``2026-H2``, ``2026``; ``index`` counts from 1."""
    if frequency == "monthly":
        return f"{year}-{index:02d}"
    if frequency == "quarterly":
        return f"{year}-Q{index}"
    if frequency == "half_yearly":
        return f"{year}-H{index}"
    return f"{year}"


def period_of(frequency: str, day: date) -> Period:
    """The period of ``frequency`` that contains ``day``."""
    span = MONTHS_PER_PERIOD[frequency]
    index = (day.month - 1) // span + 1
    first_month = (index - 1) * span + 1
    last_month = first_month + span - 1
    return Period(
        key=period_key(frequency, day.year, index),
        start=date(day.year, first_month, 1),
        end=_month_end(day.year, last_month),
    )


def periods_in_year(frequency: str, year: int) -> list[Period]:
    span = MONTHS_PER_PERIOD[frequency]
    return [period_of(frequency, date(year, m, 1)) for m in range(1, 13, span)]


def previous_period(frequency: str, period: Period) -> Period:
    return period_of(frequency, period.start - timedelta(days=1))


def due_date(frequency: str, period: Period, *, due_day: int | None = None, due_month: int = 12) -> date:
    """When a period's obligation is due.

    Monthly/quarterly/half-yearly: ``due_day`` of the period's last month (its last day when
    empty; clamped, so day 31 in February is the 28th or, in a leap year, the 29th). Yearly:
    ``due_day`` of ``due_month``.
    """
    if frequency == "yearly":
        year, month = period.start.year, min(max(due_month, 1), 12)
    else:
        year, month = period.end.year, period.end.month
    last = _cal.monthrange(year, month)[1]
    return date(year, month, min(due_day, last) if due_day else last)


def periods_due_between(
    frequency: str, first: date, last: date, *, due_day: int | None = None, due_month: int = 12
) -> list[tuple[Period, date]]:
    """Every (period, due date) whose due date falls in ``[first, last]``, across year ends."""
    out: list[tuple[Period, date]] = []
    if last < first:
        return out
    span = MONTHS_PER_PERIOD[frequency]
    # Walk from the period before `first` (a yearly due date can precede its period's end).
    p = previous_period(frequency, previous_period(frequency, period_of(frequency, first)))
    while p.start <= last + timedelta(days=31 * span):
        d = due_date(frequency, p, due_day=due_day, due_month=due_month)
        if first <= d <= last:
            out.append((p, d))
        p = period_of(frequency, p.end + timedelta(days=1))
    return out
