"""What fires when for one open stage: reminders before due, the overdue alert with escalation level 1 at
due, escalation level 2 one working day later. Pure: times in, times out."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sealflow_sla_monitor.domain.calendar import WorkCalendar

OVERDUE = "overdue"  # at due: StageOverdue to the signers + EscalationRaised level 1 to the supervisor
ESCALATION_2 = "escalation-2"  # one working day after due: EscalationRaised level 2 + accountability record


@dataclass(frozen=True)
class ReminderPoint:
    """`50%` = when half the working time allowed has passed; `2h` = two working hours before due."""

    label: str
    fraction: float | None = None
    before: timedelta | None = None


def parse_reminder_points(text: str) -> tuple[ReminderPoint, ...]:
    points = []
    for raw in (p.strip() for p in text.split(",")):
        if not raw:
            continue
        if raw.endswith("%"):
            fraction = float(raw[:-1]) / 100
            if not 0 < fraction < 1:
                raise ValueError(f"reminder point {raw!r}: a share of the time allowed must be between 0% and 100%")
            points.append(ReminderPoint(raw, fraction=fraction))
        elif raw.endswith("h"):
            hours = float(raw[:-1])
            if hours <= 0:
                raise ValueError(f"reminder point {raw!r}: hours before due must be positive")
            points.append(ReminderPoint(raw, before=timedelta(hours=hours)))
        else:
            raise ValueError(f"reminder point {raw!r}: write `50%` (share of the time allowed) or `2h` (working hours before due)")
    return tuple(points)


@dataclass(frozen=True)
class Planned:
    kind: str  # "reminder:<label>", OVERDUE or ESCALATION_2
    fire_at: datetime


def allowed_time(calendar: WorkCalendar, working_days: float) -> timedelta:
    return timedelta(hours=working_days * calendar.hours_per_day)


def due_at(calendar: WorkCalendar, opened_at: datetime, working_days: float) -> datetime:
    """Deadlines count office time: N working days = N × the office hours of a working day."""
    return calendar.add_working_time(opened_at, allowed_time(calendar, working_days))


def plan(calendar: WorkCalendar, opened_at: datetime, working_days: float, points: tuple[ReminderPoint, ...]) -> list[Planned]:
    """Every timer of one stage, in firing order. `opened_at` is a local time of the calendar's zone."""
    allowed = allowed_time(calendar, working_days)
    due = calendar.add_working_time(opened_at, allowed)
    planned: dict[datetime, Planned] = {}
    for point in points:
        spent = allowed * point.fraction if point.fraction is not None else allowed - point.before
        if spent <= timedelta(0):
            continue  # a stage shorter than the reminder's lead time: the overdue alert is the first word
        at = calendar.add_working_time(opened_at, spent)
        if at < due:
            planned.setdefault(at, Planned(f"reminder:{point.label}", at))  # two points at one moment remind once
    timers = sorted(planned.values(), key=lambda p: p.fire_at)
    timers.append(Planned(OVERDUE, due))
    timers.append(Planned(ESCALATION_2, calendar.add_working_time(due, timedelta(hours=calendar.hours_per_day))))
    return timers
