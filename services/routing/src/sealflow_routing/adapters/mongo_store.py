"""The real `RoutingStore`: routing's MongoDB database behind the port its handlers use."""

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts.messages import Envelope
from sealflow_runtime import inbox
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages

from sealflow_routing.adapters import admin_store, store
from sealflow_routing.domain.directory import Directory, Policy
from sealflow_routing.domain.forms import MatterType
from sealflow_routing.domain.matter import Matter, StandIn
from sealflow_routing.ports import AbsenceBook, MatterTransaction, RoutingStore

CONSUMER = "routing"  # this consumer's name in processed_events
T = TypeVar("T")


class _MongoMatterTransaction(MatterTransaction):
    def __init__(self, db: AsyncDatabase, session: AsyncClientSession) -> None:
        self._db, self._session = db, session

    async def claim_event(self, event_id: str) -> bool:
        return await inbox.claim_event(self._db, self._session, event_id, CONSUMER)

    async def load_matter(self, matter_id: str) -> Matter | None:
        return await store.load_matter(self._db, matter_id, self._session)

    async def insert_matter(self, matter: Matter) -> None:
        await self._db.matters.insert_one(store.matter_document(matter), session=self._session)

    async def replace_matter(self, matter: Matter, *, read_version: int) -> bool:
        saved = await self._db.matters.replace_one(
            {"_id": matter.id, "version": read_version}, store.matter_document(matter), session=self._session
        )
        return saved.modified_count == 1

    async def append_trail(self, entries: list[dict[str, Any]]) -> None:
        await self._db.trail.insert_many([{"_id": f"{e['matter_id']}:{e['seq']}", **e} for e in entries], session=self._session)

    async def stage(self, messages: list[Envelope]) -> None:
        await stage_messages(self._db, self._session, messages)


class MongoRoutingStore(RoutingStore):
    """The real `RoutingStore`: routing's MongoDB database, transactions through the driver's `with_transaction`."""

    def __init__(self, client: AsyncMongoClient, db: AsyncDatabase) -> None:
        self.client, self.db = client, db

    async def in_transaction(self, work: Callable[[MatterTransaction], Awaitable[T]]) -> T:
        return await in_transaction(self.client, lambda session: work(_MongoMatterTransaction(self.db, session)))

    async def load_matter(self, matter_id: str) -> Matter | None:
        return await store.load_matter(self.db, matter_id)

    async def load_directory(self) -> Directory:
        return await store.load_directory(self.db)

    async def load_policy(self, matter_type: str, version: int | None = None) -> Policy | None:
        return await store.load_policy(self.db, matter_type, version)

    async def load_matter_type(self, type_id: str, version: int | None = None) -> MatterType | None:
        return await admin_store.load_matter_type(self.db, type_id, version)

    async def stand_ins_on(self, day: date) -> dict[str, StandIn]:
        return await store.stand_ins_on(self.db, day)

    async def reserve_approval_number(self, matter_id: str, prefix: str, year: int) -> str:
        return await store.reserve_approval_number(self.db, matter_id, prefix, year)

    async def stalled_matter_ids(self, now: datetime) -> list[str]:
        return await store.stalled_matter_ids(self.db, now)


class MongoAbsenceBook(AbsenceBook):
    def __init__(self, db: AsyncDatabase) -> None:
        self._absences = db.absences

    async def find(self, involving: str | None, limit: int = 200) -> list[dict[str, Any]]:
        criteria = {} if involving is None else {"$or": [{"person_id": involving}, {"stand_in_id": involving}]}
        return await self._absences.find(criteria).sort("starts_on", -1).limit(limit).to_list()

    async def get(self, absence_id: str) -> dict[str, Any] | None:
        return await self._absences.find_one({"_id": absence_id})

    async def add(self, absence: dict[str, Any]) -> None:
        await self._absences.insert_one(absence)

    async def cancel(self, absence_id: str, at: datetime) -> None:
        await self._absences.update_one({"_id": absence_id, "cancelled_at": None}, {"$set": {"cancelled_at": at}})
