"""A matter's form as intake keeps it: the fields and the attachments with their content. `documents` holds
the current revision of each matter; `document_revisions` every revision, addressed by its digest (what
signing embeds in the sealed PDF and what a signature signs)."""

import base64
import binascii
import hashlib
from typing import Any

from sealflow_contracts import messages as m
from sealflow_runtime.service import Runtime

from sealflow_intake.errors import ApiError
from sealflow_intake.service.inputs import AttachmentIn


def decode_attachments(rt: Runtime, attachments: list[AttachmentIn], previous: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """New files decoded and hashed; `{keep: i}` entries taken from `previous` (the current revision's
    attachments, with content) — a submission has none to keep."""
    limit = rt.settings.max_attachment_bytes
    if len(attachments) > rt.settings.max_attachments:
        raise ApiError("payload_too_large", f"附件最多 {rt.settings.max_attachments} 个")
    decoded = []
    for attachment in attachments:
        if attachment.keep is not None:
            if previous is None or attachment.keep >= len(previous):
                raise ApiError(
                    "invalid_request", f"附件 keep={attachment.keep} 不存在：只能保留上一版已有的附件 (no such attachment to keep)"
                )
            decoded.append(previous[attachment.keep])
            continue
        try:
            content = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ApiError("invalid_request", f"附件「{attachment.filename}」的内容不是有效的 base64 编码") from error
        if len(content) > limit:
            raise ApiError("payload_too_large", f"附件「{attachment.filename}」超过 {limit // (1024 * 1024)} MB 的上限")
        decoded.append(
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "sha256": hashlib.sha256(content).hexdigest(),
                "size": len(content),
                "content": content,
            }
        )
    return decoded


async def current(rt: Runtime, matter_id: str) -> dict[str, Any] | None:
    return await rt.db.documents.find_one({"_id": matter_id})


async def store_first(rt: Runtime, matter_id: str, digest: str, fields: dict[str, Any], attachments: list[dict[str, Any]]) -> None:
    """Revision 1, kept before routing is asked (signing reads the attachments from here); a retried
    submission writes nothing new."""
    await rt.db.documents.update_one(
        {"_id": matter_id},
        {"$setOnInsert": {"revision": 1, "digest": digest, "fields": fields, "attachments": attachments, "created_at": m.utcnow()}},
        upsert=True,
    )


async def drop_refused_first(rt: Runtime, matter_id: str, digest: str) -> None:
    """Routing refused the submission: no matter exists, so its revision 1 is not kept either."""
    await rt.db.documents.delete_one({"_id": matter_id, "revision": 1, "digest": digest})


async def store_revision(
    rt: Runtime, matter_id: str, current: dict[str, Any] | None, digest: str, fields: dict[str, Any], attachments: list[dict[str, Any]]
) -> dict[str, Any]:
    """Every revision's document is kept, addressed by its digest (a retried request writes nothing new): the
    current one, and the new one before routing is asked. Returns the new content, for `follow_revision`."""
    if current is not None:
        await rt.db.document_revisions.update_one(
            {"_id": f"{matter_id}:{current['digest']}"},
            {"$setOnInsert": {k: v for k, v in current.items() if k != "_id"} | {"matter_id": matter_id}},
            upsert=True,
        )
    content = {"digest": digest, "fields": fields, "attachments": attachments, "created_at": m.utcnow()}
    await rt.db.document_revisions.update_one(
        {"_id": f"{matter_id}:{digest}"}, {"$setOnInsert": content | {"matter_id": matter_id}}, upsert=True
    )
    return content


async def follow_revision(rt: Runtime, matter_id: str, revision: int, content: dict[str, Any]) -> None:
    """The current document follows routing's revision; an older request arriving late changes nothing."""
    await rt.db.documents.update_one({"_id": matter_id, "revision": {"$lt": revision}}, {"$set": content | {"revision": revision}})


async def of_revision(rt: Runtime, matter: dict[str, Any], revision: int | None) -> dict[str, Any]:
    """The stored form (fields, attachments with content) of `revision`, the current one by default.
    The current revision is `documents`; an earlier one is in `document_revisions` under its digest,
    which the matter's `previous_revisions` names."""
    found = await current(rt, matter["id"])
    if found is None:
        raise ApiError("not_found", "这个事项的表单还没有保存好，请稍后再试 (the form is not stored yet)")
    if revision is None or revision == found.get("revision", 1):
        return found
    digest = next((p["digest"] for p in matter.get("previous_revisions", []) if p["revision"] == revision), None)
    earlier = await rt.db.document_revisions.find_one({"_id": f"{matter['id']}:{digest}"}) if digest else None
    if earlier is None:
        raise ApiError("not_found", f"这个事项没有第 {revision} 版 (no revision {revision})")
    return earlier
