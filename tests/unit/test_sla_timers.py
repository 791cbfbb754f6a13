"""Exact reminder, overdue and escalation times across a weekend, a statutory holiday, a make-up working
day and the year chinese-calendar does not know (office hours 08:30-12:00, 14:00-17:30: 7 h a day)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sealflow_sla_monitor.domain.calendar import WorkCalendar, parse_office_hours
from sealflow_sla_monitor.domain.timers import ESCALATION_2, OVERDUE, parse_reminder_points, plan

SH = ZoneInfo("Asia/Shanghai")
POINTS = parse_reminder_points("50%,2h")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def fired(calendar: WorkCalendar, opened: datetime, days: float) -> list[tuple[str, datetime]]:
    return [(p.kind, p.fire_at) for p in plan(calendar, opened, days, POINTS)]


def test_across_a_weekend() -> None:
    # Friday 15:00, one working day (7 office hours): 2.5 h on Friday, the rest on Monday.
    assert fired(WorkCalendar(), at(2026, 11, 27, 15, 0), 1) == [
        ("reminder:50%", at(2026, 11, 30, 9, 30)),
        ("reminder:2h", at(2026, 11, 30, 11, 0)),
        (OVERDUE, at(2026, 11, 30, 15, 0)),
        (ESCALATION_2, at(2026, 12, 1, 15, 0)),
    ]


def test_a_make_up_saturday_counts_and_national_day_does_not() -> None:
    # 2026-10-10 is a Saturday worked in exchange for National Day: the clock runs on it.
    assert fired(WorkCalendar(), at(2026, 10, 9, 15, 0), 1) == [
        ("reminder:50%", at(2026, 10, 10, 9, 30)),
        ("reminder:2h", at(2026, 10, 10, 11, 0)),
        (OVERDUE, at(2026, 10, 10, 15, 0)),
        (ESCALATION_2, at(2026, 10, 12, 15, 0)),
    ]
    # Opened the afternoon before National Day (1-7 October): nothing fires during the holiday week.
    assert fired(WorkCalendar(), at(2026, 9, 30, 16, 0), 1) == [
        ("reminder:50%", at(2026, 10, 8, 10, 30)),
        ("reminder:2h", at(2026, 10, 8, 12, 0)),
        (OVERDUE, at(2026, 10, 8, 16, 0)),
        (ESCALATION_2, at(2026, 10, 9, 16, 0)),
    ]


def test_spring_festival_holiday_is_skipped() -> None:
    # Opened Saturday 2026-02-14 (make-up day) 16:00; 2026-02-15..23 is the Spring Festival holiday.
    # 1.5 h on the Saturday, the remaining 5.5 h on the first day back.
    assert fired(WorkCalendar(), at(2026, 2, 14, 16, 0), 1) == [
        ("reminder:50%", at(2026, 2, 24, 10, 30)),
        ("reminder:2h", at(2026, 2, 24, 12, 0)),
        (OVERDUE, at(2026, 2, 24, 16, 0)),
        (ESCALATION_2, at(2026, 2, 25, 16, 0)),
    ]


def test_start_outside_office_hours_counts_from_the_next_opening() -> None:
    calendar = WorkCalendar()
    assert calendar.add_working_time(at(2026, 11, 28, 22, 0), timedelta(hours=1)) == at(2026, 11, 30, 9, 30)
    assert calendar.working_time_between(at(2026, 11, 27, 15, 0), at(2026, 11, 30, 10, 0)) == timedelta(hours=4)
    assert calendar.hours_per_day == 7


def test_office_hours_are_configurable() -> None:
    calendar = WorkCalendar(parse_office_hours("09:00-12:00,13:30-18:00"))
    assert calendar.hours_per_day == 7.5
    assert calendar.add_working_time(at(2026, 11, 27, 17, 0), timedelta(hours=2)) == at(2026, 11, 30, 10, 0)
    with pytest.raises(ValueError):
        parse_office_hours("12:00-09:00")
    with pytest.raises(ValueError):
        parse_office_hours("09:00-12:00,11:00-13:00")


def test_beyond_the_package_weekends_only_with_a_warning_and_overrides_win() -> None:
    warned: list[date] = []
    calendar = WorkCalendar(on_fallback=warned.append)
    # 2027-01-01 (New Year) is unknown to chinese-calendar 1.11: a plain Friday in the fallback.
    assert calendar.is_working_day(date(2027, 1, 1)) and warned == [date(2027, 1, 1)]
    assert not calendar.is_working_day(date(2027, 1, 2))
    # The administrator stores the 2027 holiday and a make-up Saturday as data.
    fixed = WorkCalendar(overrides={date(2027, 1, 1): False, date(2027, 1, 9): True})
    assert not fixed.is_working_day(date(2027, 1, 1)) and fixed.is_working_day(date(2027, 1, 9))
    # A deadline set on 31 December crossing into 2027 never crashes, and honours the override.
    assert fired(fixed, at(2026, 12, 31, 16, 0), 1)[-2] == (OVERDUE, at(2027, 1, 4, 16, 0))


def test_reminder_points_parse_and_refuse_nonsense() -> None:
    assert [p.label for p in parse_reminder_points("50%, 2h")] == ["50%", "2h"]
    for bad in ("150%", "0h", "soon"):
        with pytest.raises(ValueError):
            parse_reminder_points(bad)
    # A lead time longer than the stage: no reminder, the overdue alert comes first.
    short = plan(WorkCalendar(), at(2026, 11, 27, 9, 0), 0.25, parse_reminder_points("2h"))
    assert [p.kind for p in short] == [OVERDUE, ESCALATION_2]
    assert short[0].fire_at == at(2026, 11, 27, 10, 45)


def test_one_office_interval_a_day() -> None:
    calendar = WorkCalendar(((time(9, 0), time(17, 0)),))
    assert calendar.add_working_time(at(2026, 11, 27, 16, 0), timedelta(hours=8)) == at(2026, 11, 30, 16, 0)


def test_the_fallback_is_counted_for_prometheus_and_worded_for_people() -> None:
    from prometheus_client import REGISTRY
    from sealflow_sla_monitor.adapters.calendar import CalendarState

    calendar = CalendarState(parse_office_hours("08:30-12:00,14:00-17:30"))
    assert calendar.warning() is None
    before = REGISTRY.get_sample_value("sealflow_sla_calendar_fallback_total", {"year": "2027"}) or 0
    calendar.current.is_working_day(date(2027, 5, 3))
    assert REGISTRY.get_sample_value("sealflow_sla_calendar_fallback_total", {"year": "2027"}) == before + 1
    assert REGISTRY.get_sample_value("sealflow_sla_calendar_fallback_latest_year") == 2027
    assert "2027" in calendar.warning()
