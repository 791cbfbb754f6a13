"""Absence delegation's requests through `bootstrap` with fakes for its ports (no MongoDB, no NATS): the rules
refuse before anything is stored, and each typed request reaches its own handler. Against the real servers:
tests/e2e/test_routing_turns.py."""

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sealflow_contracts import messages as m
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.bootstrap import bootstrap
from sealflow_routing.config import RoutingSettings
from sealflow_routing.domain.directory import Directory
from sealflow_routing.ports import AbsenceBook, RoutingStore
from sealflow_runtime.bus import DomainRefusal

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class DirectoryOnly(RoutingStore):
    """The pilot directory; anything else would be a surprise here."""

    def __init__(self) -> None:
        self.directory = Directory.model_validate(pilot_data())

    async def load_directory(self) -> Directory:
        return self.directory

    async def in_transaction(self, work: Any) -> Any:
        raise AssertionError("absences use no transaction")

    async def load_matter(self, matter_id: str) -> Any:
        raise AssertionError("not used")

    async def load_policy(self, matter_type: str, version: int | None = None) -> Any:
        raise AssertionError("not used")

    async def load_matter_type(self, type_id: str, version: int | None = None) -> Any:
        raise AssertionError("not used")

    async def stand_ins_on(self, day: date) -> Any:
        raise AssertionError("not used")

    async def reserve_approval_number(self, matter_id: str, prefix: str, year: int) -> str:
        raise AssertionError("not used")

    async def stalled_matter_ids(self, now: datetime) -> list[str]:
        raise AssertionError("not used")


class Book(AbsenceBook):
    def __init__(self) -> None:
        self.absences: dict[str, dict[str, Any]] = {}

    async def find(self, involving: str | None, limit: int = 200) -> list[dict[str, Any]]:
        found = [a for a in self.absences.values() if involving in (None, a["person_id"], a["stand_in_id"])]
        return sorted(found, key=lambda a: a["starts_on"], reverse=True)[:limit]

    async def get(self, absence_id: str) -> dict[str, Any] | None:
        return self.absences.get(absence_id)

    async def add(self, absence: dict[str, Any]) -> None:
        self.absences[absence["_id"]] = dict(absence)

    async def cancel(self, absence_id: str, at: datetime) -> None:
        if self.absences[absence_id]["cancelled_at"] is None:
            self.absences[absence_id]["cancelled_at"] = at


def wired():
    book = Book()
    routing = bootstrap(RoutingSettings(), store=DirectoryOnly(), absence_book=book, clock=lambda: NOW)
    return routing.absences, book


def test_a_stand_in_without_the_same_authority_is_refused_and_nothing_is_stored() -> None:
    answer, book = wired()
    register = m.RegisterAbsence(
        actor_id="jiulian-director", stand_in_id="jiulian-bookkeeper", starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 3), reason="出差"
    )
    with pytest.raises(DomainRefusal) as refused:
        asyncio.run(answer[m.RegisterAbsence](register))
    assert refused.value.code == "not_same_authority"
    assert book.absences == {}


def test_registered_listed_and_cancelled_each_by_its_own_request() -> None:
    answer, book = wired()
    candidates = asyncio.run(answer[m.StandInCandidates](m.StandInCandidates(actor_id="yinong-cadre-sanwei")))["items"]
    assert [c["id"] for c in candidates] == ["yinong-cadre-jiulian", "yinong-cadre-changbei"]  # town roles have peers
    stand_in = candidates[0]["id"]
    register = m.RegisterAbsence(
        actor_id="yinong-cadre-sanwei", stand_in_id=stand_in, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 3), reason="出差"
    )
    registered = asyncio.run(answer[m.RegisterAbsence](register))
    assert (registered["person_id"], registered["stand_in_id"], registered["registered_at"]) == (
        "yinong-cadre-sanwei",
        stand_in,
        NOW.isoformat(),
    )
    assert [a["id"] for a in asyncio.run(answer[m.ListAbsences](m.ListAbsences(actor_id=stand_in)))["items"]] == [registered["id"]]
    with pytest.raises(DomainRefusal) as not_theirs:
        asyncio.run(answer[m.CancelAbsence](m.CancelAbsence(actor_id=stand_in, absence_id=registered["id"])))
    assert not_theirs.value.code == "absence_not_found"
    cancelled = asyncio.run(answer[m.CancelAbsence](m.CancelAbsence(actor_id="yinong-cadre-sanwei", absence_id=registered["id"])))
    assert cancelled["cancelled_at"] == NOW.isoformat() and book.absences[registered["id"]]["cancelled_at"] == NOW
