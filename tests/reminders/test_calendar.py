"""The obligations calendar (pure): period keys and bounds, due dates, leap years and year ends."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.reminders.calendar import (
    Period,
    due_date,
    period_of,
    periods_due_between,
    periods_in_year,
    previous_period,
)

FREQUENCIES = ("monthly", "quarterly", "half_yearly", "yearly")


# --- period keys and bounds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "day", "key", "start", "end"),
    [
        ("monthly", date(2026, 3, 17), "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("monthly", date(2026, 11, 1), "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("quarterly", date(2026, 5, 20), "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        ("half_yearly", date(2026, 8, 8), "2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("yearly", date(2026, 8, 8), "2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_period_of_gives_the_key_and_bounds_of_every_frequency(frequency, day, key, start, end):
    assert period_of(frequency, day) == Period(key=key, start=start, end=end)


def test_march_31_is_the_last_day_of_the_first_quarter():
    assert period_of("quarterly", date(2026, 3, 31)) == Period("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))


def test_april_1_is_the_first_day_of_the_second_quarter():
    assert period_of("quarterly", date(2026, 4, 1)) == Period("2026-Q2", date(2026, 4, 1), date(2026, 6, 30))


def test_june_30_and_july_1_fall_in_different_half_years():
    assert period_of("half_yearly", date(2026, 6, 30)).key == "2026-H1"
    assert period_of("half_yearly", date(2026, 7, 1)).key == "2026-H2"


def test_the_last_day_of_a_month_and_the_first_of_the_next_are_different_months():
    assert period_of("monthly", date(2026, 4, 30)).key == "2026-04"
    assert period_of("monthly", date(2026, 5, 1)).key == "2026-05"


@pytest.mark.parametrize(
    ("frequency", "old_key", "new_key"),
    [
        ("monthly", "2026-12", "2027-01"),
        ("quarterly", "2026-Q4", "2027-Q1"),
        ("half_yearly", "2026-H2", "2027-H1"),
        ("yearly", "2026", "2027"),
    ],
)
def test_december_31_and_january_1_belong_to_periods_of_different_years(frequency, old_key, new_key):
    old, new = period_of(frequency, date(2026, 12, 31)), period_of(frequency, date(2027, 1, 1))
    assert (old.key, old.end) == (old_key, date(2026, 12, 31))
    assert (new.key, new.start) == (new_key, date(2027, 1, 1))


def test_previous_period_of_the_first_quarter_is_the_last_quarter_of_the_year_before():
    assert previous_period("quarterly", period_of("quarterly", date(2027, 2, 1))).key == "2026-Q4"


@pytest.mark.parametrize(
    ("frequency", "count"), [("monthly", 12), ("quarterly", 4), ("half_yearly", 2), ("yearly", 1)]
)
def test_periods_in_year_counts_the_periods_of_each_frequency(frequency, count):
    assert len(periods_in_year(frequency, 2026)) == count


def test_february_of_a_leap_year_has_29_days():
    assert period_of("monthly", date(2024, 2, 10)).end == date(2024, 2, 29)


# --- due dates -----------------------------------------------------------------------------------------


def test_quarterly_obligation_without_due_day_is_due_on_the_last_day_of_the_quarter():
    assert due_date("quarterly", period_of("quarterly", date(2026, 2, 1))) == date(2026, 3, 31)


def test_monthly_obligation_with_due_day_is_due_on_that_day():
    assert due_date("monthly", period_of("monthly", date(2026, 5, 3)), due_day=15) == date(2026, 5, 15)


def test_quarterly_obligation_with_due_day_is_due_on_that_day_of_the_last_month():
    assert due_date("quarterly", period_of("quarterly", date(2026, 4, 3)), due_day=20) == date(2026, 6, 20)


@pytest.mark.parametrize("due_day", [31, None])
def test_monthly_due_day_in_february_of_a_leap_year_is_february_29(due_day):
    assert due_date("monthly", period_of("monthly", date(2024, 2, 1)), due_day=due_day) == date(2024, 2, 29)


@pytest.mark.parametrize("due_day", [31, 29, None])
def test_monthly_due_day_in_february_of_a_common_year_is_february_28(due_day):
    assert due_date("monthly", period_of("monthly", date(2026, 2, 1)), due_day=due_day) == date(2026, 2, 28)


def test_2100_is_not_a_leap_year():
    assert due_date("monthly", period_of("monthly", date(2100, 2, 1)), due_day=31) == date(2100, 2, 28)


def test_2000_is_a_leap_year():
    assert due_date("monthly", period_of("monthly", date(2000, 2, 1))) == date(2000, 2, 29)


def test_due_day_31_in_a_30_day_month_is_the_30th():
    assert due_date("monthly", period_of("monthly", date(2026, 4, 1)), due_day=31) == date(2026, 4, 30)


def test_yearly_obligation_is_due_in_its_due_month():
    assert due_date("yearly", period_of("yearly", date(2026, 1, 1)), due_month=6) == date(2026, 6, 30)
    assert due_date("yearly", period_of("yearly", date(2026, 1, 1)), due_day=10, due_month=3) == date(
        2026, 3, 10
    )


def test_yearly_obligation_due_in_february_follows_the_leap_year():
    assert due_date("yearly", period_of("yearly", date(2024, 5, 1)), due_month=2) == date(2024, 2, 29)
    assert due_date("yearly", period_of("yearly", date(2100, 5, 1)), due_month=2) == date(2100, 2, 28)


def test_yearly_obligation_without_due_month_is_due_on_december_31():
    assert due_date("yearly", period_of("yearly", date(2026, 5, 1))) == date(2026, 12, 31)


# --- periods_due_between -----------------------------------------------------------------------------


def _keys(rows):
    return [(p.key, d) for p, d in rows]


def test_quarter_end_due_across_the_year_end_is_found_once():
    rows = periods_due_between("quarterly", date(2026, 12, 20), date(2027, 1, 10))
    assert _keys(rows) == [("2026-Q4", date(2026, 12, 31))]


def test_monthly_dues_across_the_year_end_belong_to_both_years():
    rows = periods_due_between("monthly", date(2026, 12, 1), date(2027, 1, 31))
    assert _keys(rows) == [("2026-12", date(2026, 12, 31)), ("2027-01", date(2027, 1, 31))]


def test_fixed_due_day_across_the_year_end():
    rows = periods_due_between("monthly", date(2026, 12, 10), date(2027, 1, 20), due_day=15)
    assert _keys(rows) == [("2026-12", date(2026, 12, 15)), ("2027-01", date(2027, 1, 15))]


def test_fixed_due_day_outside_the_window_is_not_due():
    assert periods_due_between("monthly", date(2026, 5, 16), date(2026, 6, 14), due_day=15) == []


def test_half_year_end_is_due_on_june_30_and_december_31():
    rows = periods_due_between("half_yearly", date(2026, 1, 1), date(2026, 12, 31))
    assert _keys(rows) == [("2026-H1", date(2026, 6, 30)), ("2026-H2", date(2026, 12, 31))]


def test_yearly_due_in_an_early_month_is_found_from_a_window_in_that_month():
    rows = periods_due_between("yearly", date(2027, 3, 1), date(2027, 3, 31), due_month=3)
    assert _keys(rows) == [("2027", date(2027, 3, 31))]


def test_a_single_day_window_finds_the_period_due_that_day():
    rows = periods_due_between("quarterly", date(2026, 3, 31), date(2026, 3, 31))
    assert _keys(rows) == [("2026-Q1", date(2026, 3, 31))]


def test_monthly_due_on_leap_day_is_found_in_february_2024():
    rows = periods_due_between("monthly", date(2024, 2, 29), date(2024, 3, 1), due_day=31)
    assert _keys(rows) == [("2024-02", date(2024, 2, 29))]


def test_an_empty_window_has_nothing_due():
    assert periods_due_between("monthly", date(2026, 5, 2), date(2026, 5, 1)) == []


# --- properties ----------------------------------------------------------------------------------------

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
frequencies = st.sampled_from(FREQUENCIES)


@settings(max_examples=300, deadline=None)
@given(frequency=frequencies, day=days)
def test_every_day_belongs_to_exactly_one_period_of_its_year(frequency, day):
    containing = [p for p in periods_in_year(frequency, day.year) if p.start <= day <= p.end]
    assert containing == [period_of(frequency, day)]


@settings(max_examples=100, deadline=None)
@given(frequency=frequencies, year=st.integers(min_value=2000, max_value=2100))
def test_periods_tile_the_year_without_gap_or_overlap(frequency, year):
    periods = periods_in_year(frequency, year)
    assert periods[0].start == date(year, 1, 1)
    assert periods[-1].end == date(year, 12, 31)
    for before, after in pairwise(periods):
        assert after.start == before.end + timedelta(days=1)
    assert len({p.key for p in periods}) == len(periods)
    assert all(p.key.startswith(str(year)) for p in periods)


@settings(max_examples=300, deadline=None)
@given(
    frequency=frequencies,
    first=days,
    length=st.integers(min_value=0, max_value=400),
    due_day=st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
    due_month=st.integers(min_value=1, max_value=12),
)
def test_periods_due_between_finds_exactly_the_due_dates_in_the_window(
    frequency, first, length, due_day, due_month
):
    last = first + timedelta(days=length)
    expected = [
        (p.key, d)
        for year in range(first.year - 1, last.year + 2)
        for p in periods_in_year(frequency, year)
        for d in [due_date(frequency, p, due_day=due_day, due_month=due_month)]
        if first <= d <= last
    ]
    got = _keys(periods_due_between(frequency, first, last, due_day=due_day, due_month=due_month))
    assert got == sorted(expected, key=lambda kd: kd[1])
