"""intake's MongoDB: the matters' read model (routing's snapshots), their trails, documents, idempotency keys."""

from base64 import b64encode
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from sealflow_contracts.chain import chain_is_valid
from sealflow_runtime.bus import DomainRefusal


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.matters.create_index([("applicant_id", 1), ("created_at", -1)])
    await db.matters.create_index([("stages.assignees.person_id", 1)])
    await db.matters.create_index([("village_id", 1), ("status", 1)])
    await db.trail.create_index([("matter_id", 1), ("seq", 1)], unique=True)
    await db.matters.create_index("approval_number", sparse=True)  # 村务公开 looks approvals up by number


# A matter as stored, without the form kept beside routing's snapshot (lists do not show fields).
LISTED = {"_id": 0, "form": 0}


def attachment_refs(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the view shows of an attachment (not its content)."""
    return [{k: a[k] for k in ("filename", "content_type", "sha256", "size")} for a in attachments]


async def keep_form(db: AsyncDatabase, matter_id: str, revision: int, fields: dict[str, Any], attachments: list[dict[str, Any]]) -> None:
    """The form's fields and attachment refs, beside the snapshot, so that reading a matter is one find
    (signers poll it). Call after apply_snapshot, which makes sure the matter is stored; a late, older
    revision changes nothing. `documents` stays the source (it keeps the attachments' content)."""
    await db.matters.update_one(
        {"_id": matter_id, "$or": [{"form": {"$exists": False}}, {"form.revision": {"$lt": revision}}]},
        {"$set": {"form": {"revision": revision, "fields": fields, "attachments": attachment_refs(attachments)}}},
    )


async def apply_snapshot(db: AsyncDatabase, matter: dict[str, Any], version: int) -> None:
    """Keep the newest snapshot: an older or repeated one (redelivery, reordering) changes nothing."""
    try:
        await db.matters.update_one(
            {"_id": matter["id"], "version": {"$lt": version}},
            {"$set": {**matter, "version": version}},
            upsert=True,
        )
    except DuplicateKeyError:
        pass  # a newer snapshot is already stored


async def add_trail_entries(db: AsyncDatabase, entries: list[dict[str, Any]]) -> None:
    """One insert for the update's entries; unordered, so entries already stored (a redelivery) are skipped."""
    if not entries:
        return
    try:
        await db.trail.insert_many([{"_id": f"{e['matter_id']}:{e['seq']}", **e} for e in entries], ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
            raise


async def trail(db: AsyncDatabase, matter_id: str) -> dict[str, Any]:
    """The trail as far as it has arrived without gaps, and whether its hash chain re-verifies."""
    entries = []
    async for doc in db.trail.find({"matter_id": matter_id}).sort("seq", 1):
        doc.pop("_id")
        if doc["seq"] != len(entries) + 1:
            break  # a later entry overtook an earlier one in transit; show the gap-free prefix
        entries.append(doc)
    return {"matter_id": matter_id, "chain_valid": chain_is_valid(entries), "entries": entries}


def with_overdue(matter: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    for stage in matter.get("stages", []):
        deadline = stage.get("deadline")
        if isinstance(deadline, str):
            deadline = datetime.fromisoformat(deadline)
        stage["overdue"] = bool(stage["status"] == "open" and deadline and deadline < now)
    return matter


def waiting_on(stage: dict[str, Any]) -> list[str]:
    """Who holds the stage's task now: routing publishes it with each snapshot (`waiting_on`, in slot order).

    Fallback only for a snapshot stored before routing published it (it stays until the matter's next
    update replaces it): an open stage's slots not decided and not cancelled, in a sequence the first.
    """
    if "waiting_on" in stage:
        return stage["waiting_on"]
    if stage["status"] != "open":
        return []
    undecided = [a["person_id"] for a in stage["assignees"] if a.get("decision") is None and a.get("cancelled_at") is None]
    return undecided[:1] if stage["mode"] == "sequence" else undecided


def open_tasks(matter: dict[str, Any], person_id: str) -> list[dict[str, Any]]:
    """The caller's turn on this matter: an open stage they hold (`waiting_on`)."""
    if matter["status"] != "in_review":
        return []
    tasks = []
    for stage in matter["stages"]:
        if stage["status"] != "open":
            continue
        if person_id in waiting_on(stage):
            tasks.append(
                {
                    "matter_id": matter["id"],
                    "stage": stage["number"],
                    "stage_name": stage["name"],
                    "title": matter["title"],
                    "village_id": matter["village_id"],
                    "matter_type": matter["matter_type"],
                    "digest": matter["digest"],
                    "deadline": stage.get("deadline"),
                    "overdue": stage.get("overdue", False),
                }
            )
    return tasks


async def task_counts(db: AsyncDatabase, now: datetime | None = None) -> dict[str, tuple[int, int]]:
    """(open, overdue) tasks by matter type: what every signer's /v1/tasks would list, added up."""
    counts: dict[str, tuple[int, int]] = {}
    async for matter in db.matters.find({"status": "in_review"}, LISTED):
        with_overdue(matter, now)
        holders = {p for s in matter["stages"] if s["status"] == "open" for p in waiting_on(s)}
        tasks = [t for person in holders for t in open_tasks(matter, person)]
        opened, overdue = counts.get(matter["matter_type"], (0, 0))
        counts[matter["matter_type"]] = (opened + len(tasks), overdue + sum(t["overdue"] for t in tasks))
    return counts


async def attachment_chunk(db: AsyncDatabase, query: Any) -> dict[str, Any]:
    """A slice of a matter's attachment by its hash, from the current document or an earlier revision's
    (`AttachmentChunkQuery`). A hash the matter does not have is refused, never guessed at."""
    wanted = {"attachments.sha256": query.sha256}
    doc = await db.documents.find_one({"_id": query.matter_id, **wanted}, {"attachments": 1})
    doc = doc or await db.document_revisions.find_one({"matter_id": query.matter_id, **wanted}, {"attachments": 1})
    attachment = next((a for a in (doc or {}).get("attachments", []) if a["sha256"] == query.sha256), None)
    if attachment is None:
        raise DomainRefusal("not_found", f"matter {query.matter_id} has no attachment {query.sha256}")
    content = bytes(attachment["content"])
    return {"size": len(content), "content_base64": b64encode(content[query.offset : query.offset + query.length]).decode()}
