"""The safety net under "nothing lost": a matter whose every decision is made but which has not completed
long after (an act, the seal or the approval missing) gets its unconfirmed signing requests sent again.

Each request is idempotent in signing (an act or approval is made once; one that exists is announced
again, and routing applies each act once by its place in the chain), so sending again is always safe.
Every round is a trail entry (`reconcile.reissued`), a metric and a log line; further rounds back off."""

import asyncio
from datetime import timedelta
from typing import Any

from sealflow_contracts import messages as m
from sealflow_runtime import metrics

from sealflow_routing.config import RoutingSettings
from sealflow_routing.domain import matter as wf
from sealflow_routing.ports import ChangeMatter, RoutingStore

MAX_BACKOFF_DOUBLINGS = 5


async def reconcile_once(*, store: RoutingStore, change: ChangeMatter, settings: RoutingSettings, log: Any) -> int:
    """Look at every matter due for a check now; returns how many had requests sent again."""
    after = settings.reconcile_after_seconds
    repaired = 0
    for matter_id in await store.stalled_matter_ids(m.utcnow()):
        outcome: dict[str, wf.Effects] = {}

        def reissue(matter: wf.Matter, outcome: dict[str, wf.Effects] = outcome) -> wf.Effects:
            now = m.utcnow()
            next_check = now + timedelta(seconds=after * 2 ** min(matter.reissues + 1, MAX_BACKOFF_DOUBLINGS))
            outcome["effects"] = effects = wf.reissue_stalled(matter, now, next_check)
            return effects

        matter = await change(matter_id, reissue)
        effects = outcome.get("effects")
        if not effects or not effects.trail:
            continue
        repaired += 1
        kinds = [kind for kind, model in wf.SIGNING_REQUESTS.items() for msg in effects.messages if isinstance(msg, model)]
        for kind in kinds:
            metrics.RECONCILER_REISSUES.labels(kind=kind).inc()
        data = effects.trail[-1]["data"]
        log.warning(
            "reconciler sent signing requests again",
            matter_id=matter_id,
            requests=kinds,
            acts=data["acts"],
            approval=data["approval"],
            attempt=matter.reissues,
        )
    return repaired


async def run_forever(*, store: RoutingStore, change: ChangeMatter, settings: RoutingSettings, log: Any) -> None:
    while True:
        await asyncio.sleep(settings.reconcile_interval_seconds)
        try:
            await reconcile_once(store=store, change=change, settings=settings, log=log)
        except Exception as error:  # the database or the bus is away: next round
            log.warning("reconciler round failed", error=repr(error))
