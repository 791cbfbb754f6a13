"""An integrity alert's disposition (docs/rules.md §9) goes into the trail of every matter it concerns: the discipline
office's judgement becomes part of each matter's tamper-evident record. Once per disposition and matter,
however often intake asks (the claim is the change's event id)."""

from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal

from sealflow_routing.domain import matter as wf
from sealflow_routing.ports import ChangeMatter, RoutingStore

DISPOSERS = {"discipline", "admin"}


async def record(cmd: m.AlertDisposition, *, store: RoutingStore, change: ChangeMatter) -> dict:
    directory = await store.load_directory()
    actor = directory.person(cmd.actor_id)
    if actor is None or not DISPOSERS & set(actor.roles):
        raise DomainRefusal(
            "forbidden", "只有镇纪委或管理员可以处置预警 (only the discipline office or the administrator disposes of alerts)"
        )
    data = {"alert_id": cmd.alert_id, "rule": cmd.rule, "status": cmd.status, "reason": cmd.reason, "matter_ids": cmd.matter_ids}

    def apply(matter: wf.Matter) -> wf.Effects:
        effects = wf.Effects()
        effects.record(matter, "alert.disposed", cmd.actor_id, m.utcnow(), data)
        return effects

    for matter_id in cmd.matter_ids:
        await change(matter_id, apply, event_id=f"{cmd.disposition_id}:{matter_id}")
    return {"recorded": cmd.matter_ids}
