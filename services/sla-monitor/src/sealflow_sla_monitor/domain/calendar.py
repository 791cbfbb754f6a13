"""Working days and working hours: China's statutory holidays and make-up working days (chinese-calendar),
the administrator's overrides (stored as data), configurable office hours, and a weekends-only fallback
beyond the years the package knows — a deadline must never crash the timer path.

Pure: no I/O. Whoever builds a `WorkCalendar` passes the overrides in and is told, through
`on_fallback`, when a date fell outside the package's data (so it can warn and count it).
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta

import chinese_calendar

DEFAULT_OFFICE_HOURS = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
# Far enough to cross any real run of holidays; a calendar that finds no working day in a year is broken.
_MAX_DAYS_SEARCHED = 366


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """`"08:30-12:00,14:00-17:30"` → ordered, non-overlapping intervals of the working day."""
    intervals = []
    for part in text.split(","):
        start, _, end = part.strip().partition("-")
        interval = (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        if interval[0] >= interval[1]:
            raise ValueError(f"office hours {part!r}: the start must be before the end")
        intervals.append(interval)
    intervals.sort()
    for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
        if start < end:
            raise ValueError(f"office hours {text!r} overlap")
    if not intervals:
        raise ValueError("office hours are empty")
    return tuple(intervals)


class WorkCalendar:
    """Which days are working days and when the office is open, in one time zone (the `tzinfo` of the
    datetimes given; callers pass local times)."""

    def __init__(
        self,
        office_hours: Iterable[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        overrides: Mapping[date, bool] | None = None,
        on_fallback: Callable[[date], None] | None = None,
    ) -> None:
        self.office_hours = tuple(office_hours)
        self.overrides = dict(overrides or {})
        self._on_fallback = on_fallback

    @property
    def hours_per_day(self) -> float:
        return sum(_seconds(start, end) for start, end in self.office_hours) / 3600

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:  # the administrator's word beats the package's
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # no data for this year yet: weekends only, and say so
            if self._on_fallback:
                self._on_fallback(day)
            return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time `days` working days later (a start on a holiday counts from the next working day)."""
        moment = start
        remaining = days
        while remaining > 0:
            moment += timedelta(days=1)
            if self.is_working_day(moment.date()):
                remaining -= 1
        return moment

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when `duration` of office time has passed since `start` (time outside office hours,
        weekends and holidays does not count). A start outside office hours counts from the next opening."""
        remaining = duration.total_seconds()
        for opens, closes in self._intervals_from(start):
            available = (closes - opens).total_seconds()
            if remaining <= available:
                return opens + timedelta(seconds=remaining)
            remaining -= available
        raise AssertionError("unreachable: _intervals_from is endless")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time from `start` to `end` (zero if `end` is not later)."""
        total = 0.0
        if end <= start:
            return timedelta(0)
        for opens, closes in self._intervals_from(start):
            if opens >= end:
                break
            total += (min(closes, end) - opens).total_seconds()
        return timedelta(seconds=total)

    def _intervals_from(self, start: datetime):
        """Office intervals (clipped to begin no earlier than `start`), in order, for ever."""
        day = start.date()
        searched = 0
        while True:
            if self.is_working_day(day):
                searched = 0
                for begin, finish in self.office_hours:
                    opens = datetime.combine(day, begin, start.tzinfo)
                    closes = datetime.combine(day, finish, start.tzinfo)
                    if closes <= start:
                        continue
                    yield max(opens, start), closes
            else:
                searched += 1
                if searched > _MAX_DAYS_SEARCHED:
                    raise ValueError(f"no working day within a year after {day}: check the calendar overrides")
            day += timedelta(days=1)


def _seconds(start: time, end: time) -> float:
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)).total_seconds()


_DEFAULT = WorkCalendar()


def is_working_day(day: date) -> bool:
    return _DEFAULT.is_working_day(day)


def add_working_days(start: datetime, days: int) -> datetime:
    return _DEFAULT.add_working_days(start, days)
