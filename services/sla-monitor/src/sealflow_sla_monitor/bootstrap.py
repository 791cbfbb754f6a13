"""sla-monitor's composition root: what its handlers use, built once from the settings and passed to them
typed — the database and its transactions, the outbox relay's wake-up, the clock, the calendar in force,
the reminder points and who is escalated to."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from sealflow_runtime.mongo import in_transaction

from sealflow_sla_monitor.adapters.calendar import CalendarState
from sealflow_sla_monitor.adapters.timers import Clock
from sealflow_sla_monitor.config import SlaSettings
from sealflow_sla_monitor.domain.calendar import parse_office_hours
from sealflow_sla_monitor.domain.timers import ReminderPoint, parse_reminder_points


@dataclass
class Sla:
    """Everything sla-monitor's handlers depend on."""

    client: AsyncMongoClient
    db: AsyncDatabase
    wake_relay: Callable[[], None]  # after a commit that staged outbox messages
    clock: Clock
    calendar: CalendarState
    tz: ZoneInfo
    points: tuple[ReminderPoint, ...]
    supervisors: list[str]

    async def transact(self, work: Callable[[AsyncClientSession], Awaitable[Any]]) -> Any:
        return await in_transaction(self.client, work)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def working_hours(self, start: datetime, end: datetime) -> float:
        return self.calendar.current.working_time_between(self.local(start), self.local(end)).total_seconds() / 3600


def bootstrap(settings: SlaSettings, *, client: AsyncMongoClient, db: AsyncDatabase, wake_relay: Callable[[], None]) -> Sla:
    return Sla(
        client=client,
        db=db,
        wake_relay=wake_relay,
        clock=Clock(db, settings.sla_test_clock),
        calendar=CalendarState(parse_office_hours(settings.office_hours)),
        tz=ZoneInfo(settings.timezone),
        points=parse_reminder_points(settings.reminder_points),
        supervisors=[p.strip() for p in settings.supervisors.split(",") if p.strip()],
    )
