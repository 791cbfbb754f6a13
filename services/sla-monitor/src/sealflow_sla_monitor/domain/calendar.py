"""Working days: China's statutory holidays and make-up working days (chinese-calendar), weekends-only
beyond the years the package knows — a deadline must never crash the timer path."""

from datetime import date, datetime, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # the package has no data for this year yet
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The same local time `days` working days later (a deadline set on a holiday counts from the next working day)."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if is_working_day(moment.date()):
            remaining -= 1
    return moment
