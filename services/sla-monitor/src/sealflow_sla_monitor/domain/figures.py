"""Supervision's numbers (码上督): the overdue board and the on-time figures, from the deadline records
sla-monitor keeps. Pure: records, "now" and a working-hours measure in; plain data out.

A deadline record is one stage of one revision of a matter: when it opened and falls due, who was named
when it opened (`assignees`), who signed when (`signed`), who holds it now (see `holders`), its status
(`open`, `done`, `cancelled`) and how far it was escalated.
"""

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sealflow_sla_monitor.domain.holders import holders

# Working hours between two moments, by the calendar in force.
Hours = Callable[[datetime, datetime], float]
DIMENSIONS = ("person", "village", "stage", "matter_type")


@dataclass(frozen=True)
class Row:
    """One person's part in one stage: signed after `hours` working hours (`on_time` or not), or still
    holding the stage past its due time (`open_overdue`)."""

    person: str
    village: str
    stage: str
    matter_type: str
    hours: float | None
    on_time: bool
    open_overdue: bool


def overdue_board(deadlines: Iterable[dict[str, Any]], *, now: datetime, hours: Hours, person_id: str | None = None) -> dict[str, Any]:
    """Who holds what past its deadline and since when, by village and office (the stage's post).
    `deadlines` are the open ones already due, oldest due first; `person_id` keeps only what they hold."""
    items = []
    for d in deadlines:
        holding = holders(d)
        if person_id and person_id not in holding:
            continue
        items.append(
            {
                "matter_id": d["matter_id"],
                "title": d.get("title", ""),
                "village_id": d.get("village_id", ""),
                "matter_type": d.get("matter_type", ""),
                "stage": d["stage"],
                "office": d.get("stage_name", ""),
                "holders": holding,
                "opened_at": d["opened_at"].isoformat(),
                "due_at": d["due_at"].isoformat(),
                "overdue_working_hours": round(hours(d["due_at"], now), 2),
                "escalation_level": d.get("escalation_level", 0),
            }
        )
    return {"items": items, "by_village": count(items, "village_id"), "by_office": count(items, "office")}


def rows(deadline: dict[str, Any], *, now: datetime, hours: Hours, person_id: str | None = None) -> list[Row]:
    """The figures' rows for one stage: one per person who signed it, and one per person still holding
    it past due. Everyone named, everyone who signed and everyone holding it is considered, so a task
    passed on (转办) counts for whoever signed or holds it. A record whose open has not arrived yet
    (a close or signature overtook it) has no rows until it does."""
    if "opened_at" not in deadline:
        return []
    signed = {s["person_id"]: s["at"] for s in deadline.get("signed", [])}
    holding = holders(deadline)
    past_due = deadline["status"] == "open" and deadline["due_at"] <= now
    out = []
    for person in dict.fromkeys([*deadline.get("assignees", []), *signed, *holding]):
        if person_id and person != person_id:
            continue
        where = {
            "person": person,
            "village": deadline.get("village_id", ""),
            "stage": deadline.get("stage_name") or str(deadline["stage"]),
            "matter_type": deadline.get("matter_type", ""),
        }
        if person in signed:
            at = signed[person]
            out.append(Row(**where, hours=hours(deadline["opened_at"], at), on_time=at <= deadline["due_at"], open_overdue=False))
        elif past_due and person in holding:
            out.append(Row(**where, hours=None, on_time=False, open_overdue=True))
    return out


def figures(all_rows: list[Row], dim: str) -> list[dict[str, Any]]:
    """On-time figures grouped by one dimension (`DIMENSIONS`), keys in order: how many signed, how many
    of them on time and the rate, median and 90th-percentile working hours to sign, how many were late
    (signed late or still open past due), and how many are still open past due."""
    groups: dict[str, list[Row]] = {}
    for row in all_rows:
        groups.setdefault(getattr(row, dim), []).append(row)
    out = []
    for key, group in sorted(groups.items()):
        hours = sorted(r.hours for r in group if r.hours is not None)
        signed = len(hours)
        on_time = sum(1 for r in group if r.on_time)
        out.append(
            {
                dim: key,
                "signed": signed,
                "on_time": on_time,
                "on_time_rate": round(on_time / signed, 4) if signed else None,
                "median_hours_to_sign": round(statistics.median(hours), 2) if hours else None,
                "p90_hours_to_sign": round(percentile(hours, 0.9), 2) if hours else None,
                "overdue": sum(1 for r in group if not r.on_time),
                "open_overdue": sum(1 for r in group if r.open_overdue),
            }
        )
    return out


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below it."""
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


def count(items: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return counts
