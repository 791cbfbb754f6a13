"""The working-day calendar in force: chinese-calendar's holidays and make-up days plus the
administrator's overrides (stored here, reloaded when they change), and what operators are told when the
weekends-only fallback had to judge a year chinese-calendar has no data for."""

import logging
from datetime import date
from typing import Any

from prometheus_client import Counter, Gauge
from pymongo.asynchronous.database import AsyncDatabase

from sealflow_sla_monitor.domain.calendar import WorkCalendar

OVERRIDES = "calendar_overrides"
FALLBACK_DAYS = Counter(
    "sealflow_sla_calendar_fallback_total",
    "Dates judged weekends-only because chinese-calendar has no data for their year: add overrides or upgrade it",
    ["year"],
)
FALLBACK_YEAR = Gauge("sealflow_sla_calendar_fallback_latest_year", "The latest year judged by the weekends-only fallback (0 = none)")


class CalendarState:
    """The calendar every handler counts in; `reload` swaps in a new one when the overrides change."""

    def __init__(self, office_hours: tuple) -> None:
        self.office_hours = office_hours
        self.fallback_years: set[int] = set()
        self.current = WorkCalendar(office_hours, {}, self._fell_back)

    async def reload(self, db: AsyncDatabase) -> None:
        overrides = {date.fromisoformat(d["_id"]): d["working"] async for d in db[OVERRIDES].find({})}
        self.current = WorkCalendar(self.office_hours, overrides, self._fell_back)

    def warning(self) -> str | None:
        """For people reading the figures: which years were judged by weekends only, and what to do."""
        if not self.fallback_years:
            return None
        years = ", ".join(str(y) for y in sorted(self.fallback_years))
        return (
            f"工作日历缺少 {years} 年的法定节假日数据，已按周末计算；请管理员补录节假日和调休（calendar overrides）或升级 chinese-calendar"
        )

    def _fell_back(self, day: date) -> None:
        FALLBACK_DAYS.labels(str(day.year)).inc()
        if day.year not in self.fallback_years:
            self.fallback_years.add(day.year)
            FALLBACK_YEAR.set(max(self.fallback_years))
            logging.getLogger("sealflow.sla").warning("calendar fallback for %s", day.year)


async def list_overrides(db: AsyncDatabase) -> list[dict[str, Any]]:
    return [
        {"day": d["_id"], "working": d["working"], "note": d.get("note", ""), "set_by": d.get("set_by")}
        async for d in db[OVERRIDES].find({}).sort("_id", 1)
    ]
