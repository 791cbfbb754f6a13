"""A matter's trail head, announced once when the matter ends (docs/rules.md §9): signing signs it and appends it to
the trail log its checkpoints cover. Announced from the transaction that writes the ending entry (outbox),
so it is neither lost nor announced for an ending that did not commit."""

from sealflow_contracts import messages as m

from sealflow_routing.domain import matter as wf

ENDINGS = {"matter.completed": "completed", "matter.rejected": "rejected", "matter.withdrawn": "withdrawn"}


def closing_messages(matter: wf.Matter, effects: wf.Effects) -> list[m.TrailClosed]:
    """The `TrailClosed` for a change that ends the matter: the head is the change's last entry."""
    ending = next((e for e in effects.trail if e["type"] in ENDINGS), None)
    if ending is None:
        return []
    head = max(effects.trail, key=lambda e: e["seq"])
    return [
        m.TrailClosed(
            # One id per head: a change retried after a conflict stages the same announcement, dropped as a repeat.
            event_id=f"trail-closed:{matter.id}:{head['seq']}",
            matter_id=matter.id,
            status=ENDINGS[ending["type"]],
            revision=matter.revision,
            trail_size=head["seq"],
            head_hash=head["hash"],
            ended_at=ending["at"],
        )
    ]
