"""Working days from chinese-calendar, with a weekends-only fallback past the years it knows."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sealflow_sla_monitor.domain.calendar import add_working_days, is_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_statutory_holidays_and_make_up_days() -> None:
    assert is_working_day(date(2026, 10, 10))  # a Saturday made a working day (调休)
    assert not is_working_day(date(2026, 2, 16))  # Spring Festival
    assert not is_working_day(date(2026, 11, 28))  # an ordinary Saturday


def test_one_working_day_from_friday_is_monday() -> None:
    friday = datetime(2026, 11, 27, 10, 30, tzinfo=SHANGHAI)
    assert add_working_days(friday, 1) == datetime(2026, 11, 30, 10, 30, tzinfo=SHANGHAI)


def test_national_day_week_is_skipped() -> None:
    before = datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI)
    assert add_working_days(before, 1).date() > date(2026, 10, 7)


def test_years_the_package_does_not_know_fall_back_to_weekends() -> None:
    friday = datetime(2027, 3, 5, 9, 0, tzinfo=SHANGHAI)
    assert add_working_days(friday, 2) == datetime(2027, 3, 9, 9, 0, tzinfo=SHANGHAI)
