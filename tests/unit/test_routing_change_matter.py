"""routing's `change_matter` — the one way an existing matter changes — through `bootstrap` with fakes for its
ports: no MongoDB, no NATS. The fake store keeps what a transaction wrote only when the work returns (a real
transaction's rollback); `another_writer` commits between our read and our write, as a second replica would.
The same paths against the real servers are in tests/e2e (test_routing_turns, test_no_matter_left_behind)."""

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sealflow_contracts import messages as m
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.bootstrap import Routing, bootstrap
from sealflow_routing.config import RoutingSettings
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory, Policy, resolve_route
from sealflow_routing.domain.errors import Refused
from sealflow_routing.handlers import MAX_ATTEMPTS, MatterKeptChanging
from sealflow_routing.ports import AbsenceBook, MatterTransaction, RoutingStore
from sealflow_runtime.bus import DomainRefusal

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DIGEST = "ab" * 32
_ids = itertools.count(1)


class FakeStore(RoutingStore):
    """Committed state in dicts; each transaction buffers its writes and applies them only if its work returns."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.matters: dict[str, dict[str, Any]] = {}
        self.trail: list[dict[str, Any]] = []
        self.outbox: list[m.Envelope] = []
        self.claimed: set[str] = set()
        self.approval_numbers: dict[str, str] = {}
        self.reservations = 0  # calls to reserve_approval_number
        self.transactions = 0
        self.another_writer: Callable[[FakeStore, str], None] | None = None

    def matter(self, matter_id: str) -> wf.Matter:
        return wf.Matter.model_validate(self.matters[matter_id])

    def commit(self, matter: wf.Matter) -> None:
        self.matters[matter.id] = matter.model_dump()

    async def in_transaction(self, work: Callable[[MatterTransaction], Awaitable[Any]]) -> Any:
        self.transactions += 1
        tx = FakeTransaction(self)
        result = await work(tx)  # an exception leaves `tx` unapplied: rolled back
        tx.apply()
        return result

    async def load_matter(self, matter_id: str) -> wf.Matter | None:
        return self.matter(matter_id) if matter_id in self.matters else None

    async def load_directory(self) -> Directory:
        return self.directory

    async def load_policy(self, matter_type: str, version: int | None = None) -> Policy | None:
        raise AssertionError("not used by change_matter")

    async def load_matter_type(self, type_id: str, version: int | None = None) -> Any:
        raise AssertionError("not used by change_matter")

    async def stand_ins_on(self, day: date) -> dict[str, wf.StandIn]:
        return {}

    async def reserve_approval_number(self, matter_id: str, prefix: str, year: int) -> str:
        self.reservations += 1
        return self.approval_numbers.setdefault(matter_id, f"{prefix}-{year}-{len(self.approval_numbers) + 1:06d}")

    async def stalled_matter_ids(self, now: datetime) -> list[str]:
        return []


class FakeTransaction(MatterTransaction):
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.matters: dict[str, dict[str, Any]] = {}
        self.trail: list[dict[str, Any]] = []
        self.outbox: list[m.Envelope] = []
        self.claimed: set[str] = set()

    def apply(self) -> None:
        self.store.matters.update(self.matters)
        self.store.trail += self.trail
        self.store.outbox += self.outbox
        self.store.claimed |= self.claimed

    async def claim_event(self, event_id: str) -> bool:
        if event_id in self.store.claimed or event_id in self.claimed:
            return False
        self.claimed.add(event_id)
        return True

    async def load_matter(self, matter_id: str) -> wf.Matter | None:
        return await self.store.load_matter(matter_id)

    async def insert_matter(self, matter: wf.Matter) -> None:
        self.matters[matter.id] = matter.model_dump()

    async def replace_matter(self, matter: wf.Matter, *, read_version: int) -> bool:
        if self.store.another_writer:  # another replica commits between our read and this write
            self.store.another_writer(self.store, matter.id)
        if self.store.matters[matter.id]["version"] != read_version:
            return False
        self.matters[matter.id] = matter.model_dump()
        return True

    async def append_trail(self, entries: list[dict[str, Any]]) -> None:
        self.trail += entries

    async def stage(self, messages: list[m.Envelope]) -> None:
        self.outbox += messages


class NoAbsences(AbsenceBook):
    async def find(self, involving: str | None, limit: int = 200) -> list[dict[str, Any]]:
        return []

    async def get(self, absence_id: str) -> dict[str, Any] | None:
        return None

    async def add(self, absence: dict[str, Any]) -> None:
        raise AssertionError("not used here")

    async def cancel(self, absence_id: str, at: datetime) -> None:
        raise AssertionError("not used here")


class Wired:
    """A store holding one matter of the pilot's seal-use route (stage 1: director and supervisor, all;
    stage 2: the secretary, with the cooperative seal) and routing bootstrapped on it."""

    def __init__(self) -> None:
        directory = Directory.model_validate(pilot_data())
        self.store = FakeStore(directory)
        self.wakes = 0
        self.routing: Routing = bootstrap(
            RoutingSettings(), store=self.store, absence_book=NoAbsences(), clock=lambda: NOW, after_commit=self._wake
        )
        policy = Policy.model_validate(next(p for p in pilot_data()["policies"] if p["matter_type"] == "seal_use"))
        route = resolve_route(policy, directory, village_id="jiulian", amount_fen=100_000, applicant_id="jiulian-bookkeeper")
        matter, _ = wf.open_matter(
            matter_id=f"m-{next(_ids)}", applicant_id="jiulian-bookkeeper", village_id="jiulian", matter_type="seal_use",
            title="用章申请", amount_fen=100_000, digest=DIGEST, policy_version=1, route=route, now=NOW, stand_ins={},
        )  # fmt: skip
        matter.version = 1
        self.store.commit(matter)
        self.matter_id = matter.id

    def _wake(self) -> None:
        self.wakes += 1

    def decide(self, person_id: str, stage: int, decision: str = "approve") -> Awaitable[dict]:
        return self.routing.decide(
            m.Decide(matter_id=self.matter_id, actor_id=person_id, stage=stage, decision=decision, comment="同意", digest=DIGEST)
        )

    def approve_in_place(self, person_id: str, stage: int) -> None:
        """What another replica commits: a decision on the stored matter, its version moved on."""
        matter = self.store.matter(self.matter_id)
        matter.stand_ins = {}
        wf.decide(matter, actor_id=person_id, stage_number=stage, decision="approve", comment="同意", digest=DIGEST, now=NOW)
        matter.version += 1
        self.store.commit(matter)


def bump_version(times: int | None) -> Callable[[FakeStore, str], None]:
    """Another writer that moves the version on at our next `times` writes (None: at every one)."""
    left = itertools.count() if times is None else iter(range(times))

    def write(store: FakeStore, matter_id: str) -> None:
        if next(left, None) is not None:
            store.matters[matter_id]["version"] += 1

    return write


def run(awaitable: Awaitable[Any]) -> Any:
    return asyncio.run(awaitable)


def test_a_write_conflict_is_retried_and_then_the_change_commits_once() -> None:
    w = Wired()
    w.store.another_writer = bump_version(1)
    view = run(w.decide("jiulian-director", 1))
    assert w.store.transactions == 2  # the first attempt lost the race and was rolled back
    assert view["version"] == 3  # 1, moved to 2 by the other writer, then ours
    stored = w.store.matter(w.matter_id)
    assert stored.stages[0].assignees[0].decision == "approve"
    # Written and staged by the committed attempt only: one trail entry, one signature request, one update.
    assert [e["type"] for e in w.store.trail] == ["decision.approve"]
    assert [type(x).__name__ for x in w.store.outbox] == ["RequestSignature", "MatterUpdated"]
    assert w.wakes == 1


def test_retries_exhausted_is_a_clear_error_and_nothing_is_written() -> None:
    w = Wired()
    w.store.another_writer = bump_version(None)
    with pytest.raises(MatterKeptChanging) as failure:
        run(w.decide("jiulian-director", 1))
    assert w.matter_id in str(failure.value) and f"{MAX_ATTEMPTS} attempts" in str(failure.value)
    assert w.store.transactions == MAX_ATTEMPTS
    assert w.store.trail == [] and w.store.outbox == [] and w.wakes == 0
    assert w.store.matter(w.matter_id).stages[0].assignees[0].decision is None


def test_a_domain_refusal_persists_nothing() -> None:
    w = Wired()
    before = dict(w.store.matters[w.matter_id])
    with pytest.raises(DomainRefusal) as refused:
        run(w.decide("jiulian-secretary", 2))  # stage 2 is not open yet
    assert refused.value.code and refused.value.message
    assert w.store.matters[w.matter_id] == before
    assert w.store.trail == [] and w.store.outbox == [] and w.wakes == 0


def test_a_refused_event_leaves_its_claim_unmade_so_a_redelivery_is_applied() -> None:
    w = Wired()

    def refuse(matter: wf.Matter) -> wf.Effects:
        raise Refused("not_now", "the matter is not ready for this")

    with pytest.raises(DomainRefusal):
        run(w.routing.change_matter(w.matter_id, refuse, event_id="e-1"))
    assert w.store.claimed == set() and w.store.trail == []

    def record(matter: wf.Matter) -> wf.Effects:
        effects = wf.Effects()
        effects.record(matter, "test.recorded", "system", NOW, {})
        return effects

    run(w.routing.change_matter(w.matter_id, record, event_id="e-1"))
    run(w.routing.change_matter(w.matter_id, record, event_id="e-1"))  # delivered again: applied once
    assert w.store.claimed == {"e-1"} and [e["type"] for e in w.store.trail] == ["test.recorded"]


def test_the_approval_number_is_reserved_once_however_often_the_transaction_reruns() -> None:
    w = Wired()
    run(w.decide("jiulian-director", 1))
    run(w.decide("jiulian-supervisor", 1))
    transactions = w.store.transactions
    w.store.another_writer = bump_version(2)  # the completing decision loses the race twice
    view = run(w.decide("jiulian-secretary", 2))
    # 1 attempt rolled back to reserve the number, 2 lost to the other writer, 1 committed
    assert w.store.transactions - transactions == 4
    assert w.store.reservations == 1
    number = w.store.approval_numbers[w.matter_id]
    assert number.startswith(f"{w.store.directory.town.approval_prefix}-{NOW.year}-")
    assert w.store.matter(w.matter_id).pending_approval_number == number
    registered = [x for x in w.store.outbox if isinstance(x, m.RegisterApproval)]
    assert [r.approval_number for r in registered] == [number]
    assert view["status"] == "in_review"  # complete once the acts, the seal and the approval are confirmed


def test_a_change_read_at_a_stale_version_is_redone_on_what_was_committed_meanwhile() -> None:
    w = Wired()
    raced = iter([True])
    # While we record the supervisor's approval, another replica commits the director's.
    w.store.another_writer = lambda store, matter_id: next(raced, False) and w.approve_in_place("jiulian-director", 1)
    run(w.decide("jiulian-supervisor", 1))
    stored = w.store.matter(w.matter_id)
    assert {a.person_id: a.decision for a in stored.stages[0].assignees} == {
        "jiulian-director": "approve",
        "jiulian-supervisor": "approve",
    }  # neither decision is lost: ours was redone on the matter with the director's
    assert stored.current_stage == 2 and stored.version == 3
