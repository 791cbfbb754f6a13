"""Poison messages: kept with the reason in the service's `dead_letters` collection for operators, then
terminated so they do not block the rest."""

from typing import Any, TypeVar

from faststream.exceptions import RejectMessage
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from sealflow_contracts.messages import Envelope, utcnow

DEAD_LETTERS = "dead_letters"
M = TypeVar("M", bound=Envelope)


async def reject_as_poison(db: AsyncDatabase, log: Any, *, subject: str, body: Any, reason: str) -> RejectMessage:
    """Record the message and return the exception that terminates it: `raise await reject_as_poison(...)`."""
    await db[DEAD_LETTERS].insert_one({"subject": subject, "body": body, "reason": reason, "at": utcnow()})
    log.error("message dead-lettered", subject=subject, reason=reason)
    return RejectMessage()


async def parse_or_dead_letter(db: AsyncDatabase, log: Any, model: type[M], body: Any) -> M:
    """Validate a message against its contract; one that does not fit is dead-lettered, not retried."""
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        raise await reject_as_poison(db, log, subject=model.SUBJECT, body=body, reason=f"invalid message: {invalid}") from invalid
