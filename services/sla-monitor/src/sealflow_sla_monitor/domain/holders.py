"""Who holds a stage now, as routing publishes it. Pure.

routing owns the rule (open stage, slots not decided or cancelled, transfers and stand-ins already in the
slots, only the first in a sequence) and puts the answer on every stage of its matter view as
`waiting_on`; sla-monitor keeps that list on the stage's deadline record and never works it out itself.
"""

from typing import Any


def open_stage_holders(matter: dict[str, Any]) -> list[tuple[int, list[str]]]:
    """(stage number, who holds it) for each open stage of routing's matter view. A view from a routing
    that did not publish `waiting_on` yet gives nothing, and the deadline keeps its fallback."""
    return [
        (stage["number"], list(stage["waiting_on"]))
        for stage in matter.get("stages", [])
        if stage.get("status") == "open" and "waiting_on" in stage
    ]


def holders(deadline: dict[str, Any]) -> list[str]:
    """Who holds the stage of this deadline record now, in slot order.

    Normally routing's last published `waiting_on`, less anyone whose signature has arrived (a decision is
    final, and the signature may overtake the matter update). Fallback, only for a record without
    `waiting_on` — a stage whose first matter update has not arrived yet, or one recorded before routing
    published holders: the assignees named when the stage opened who have not signed.
    """
    signed = {s["person_id"] for s in deadline.get("signed", [])}
    named = deadline["waiting_on"] if "waiting_on" in deadline else deadline.get("assignees", [])
    return [p for p in named if p not in signed]
