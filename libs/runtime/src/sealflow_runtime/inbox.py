"""Idempotent consumers: a processed event id is recorded in the same transaction as its effect."""

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from sealflow_contracts.messages import utcnow

PROCESSED = "processed_events"


async def claim_event(db: AsyncDatabase, session: AsyncClientSession, event_id: str, consumer: str) -> bool:
    """True the first time this consumer sees `event_id`; the claim commits or aborts with the effect.

    A write error aborts a MongoDB transaction, so look first rather than catch a duplicate key. Two
    replicas racing on one event conflict on the insert: the loser's transaction is retried and then
    finds the claim (or its handler fails and the message is redelivered, which finds it too).
    """
    key = f"{consumer}:{event_id}"
    if await db[PROCESSED].find_one({"_id": key}, {"_id": 1}, session=session):
        return False
    await db[PROCESSED].insert_one({"_id": key, "at": utcnow()}, session=session)
    return True
