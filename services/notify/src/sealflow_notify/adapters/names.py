"""People's and villages' names for notify's messages (docs/rules.md §8: a person reads names, never ids), asked of
routing, which owns the org directory, and kept for a minute per process (names change rarely; a renamed
person reads right within a minute)."""

import time

from faststream.nats import NatsBroker
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import rpc_call

TTL_SECONDS = 60.0
UNKNOWN_PERSON = "（名录中已无此人）"
SYSTEM = "system"  # routing's actor for what no person did (a delegation at a stage's opening)


class RoleUnknown(Exception):
    """routing answered a role query with a refusal (an older routing that does not know the question): retried."""


class Names:
    def __init__(self, broker: NatsBroker) -> None:
        self._broker = broker
        self._cache: dict[tuple[str, str], tuple[float, str]] = {}

    async def person(self, person_id: str) -> str:
        if person_id == SYSTEM:
            return "系统"
        return await self._name("person", person_id)

    async def people(self, person_ids: list[str]) -> str:
        return "、".join([await self.person(p) for p in person_ids])

    async def village(self, village_id: str) -> str:
        return await self._name("village", village_id)

    async def holders(self, role: str) -> list[str]:
        """The active people holding `role` now (asked every time, never cached: someone who has just left the
        office is not told). Raises `ServiceUnavailable` when routing does not answer, so the event is retried."""
        reply = await rpc_call(self._broker, subjects.RPC_WHOIS, m.WhoIs(role=role), timeout=5.0)
        if not reply.ok:
            raise RoleUnknown(f"routing did not list the holders of {role!r}: {reply.error}")
        people = reply.result.get("people") or []
        for person in people:  # the names come with the list: keep them for the message
            self._cache[("person", person["id"])] = (time.monotonic() + TTL_SECONDS, person["name"])
        return [person["id"] for person in people]

    async def _name(self, kind: str, entity_id: str) -> str:
        if not entity_id:
            return ""
        cached = self._cache.get((kind, entity_id))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        query = m.WhoIs(village_id=entity_id) if kind == "village" else m.WhoIs(person_id=entity_id)
        # routing not answering raises ServiceUnavailable: the event is redelivered later, never sent with ids.
        reply = await rpc_call(self._broker, subjects.RPC_WHOIS, query, timeout=5.0)
        name = reply.result["name"] if reply.ok else UNKNOWN_PERSON if kind == "person" else "（名录中已无此村）"
        self._cache[(kind, entity_id)] = (time.monotonic() + TTL_SECONDS, name)
        return name
