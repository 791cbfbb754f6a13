"""Idempotent consumers: a processed event id is recorded in the same transaction as its effect."""

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts.messages import utcnow

PROCESSED = "processed_events"


async def claim_event(db: AsyncDatabase, session: AsyncClientSession, event_id: str, consumer: str) -> bool:
    """True the first time this consumer sees `event_id`; the claim commits or aborts with the effect.

    One upsert, not a look and an insert (the benchmark counted both on every event): `$setOnInsert`
    on an existing claim matches and changes nothing, so a repeat raises no write error (which would
    abort the transaction). Two replicas racing on one event conflict on the upsert: the loser's
    transaction is retried and then matches the claim (or its handler fails and the redelivery does).
    """
    key = f"{consumer}:{event_id}"
    claimed = await db[PROCESSED].update_one({"_id": key}, {"$setOnInsert": {"at": utcnow()}}, upsert=True, session=session)
    return claimed.upserted_id is not None
