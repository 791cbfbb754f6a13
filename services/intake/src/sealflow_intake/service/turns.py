"""What a person does to a matter: the applicant submits, revises a returned matter or withdraws it; an
assignee decides, or transfers the task (转办). routing decides whether it may happen; intake keeps the form
(fields and attachments with their content) and the read model, and answers with the matter as it now is."""

import uuid
from typing import Any

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_contracts.canonical import canonical_json, document_digest, sha256_hex
from sealflow_runtime.service import Runtime
from sealflow_runtime.telemetry import bind_matter

from sealflow_intake.adapters import readmodel
from sealflow_intake.auth import Person
from sealflow_intake.errors import ApiError
from sealflow_intake.service import documents, idempotency
from sealflow_intake.service.inputs import DecisionIn, RevisionIn, SubmissionIn, TransferIn
from sealflow_intake.service.reads import present, readable_matter
from sealflow_intake.service.rpc import ask


async def _applied(rt: Runtime, result: dict[str, Any]) -> dict[str, Any]:
    """routing's answer kept in the read model (a newer snapshot already there wins), and shown."""
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    return await present(rt, result)


async def submit(rt: Runtime, person: Person, submission: SubmissionIn, idempotency_key: str | None = None) -> dict[str, Any]:
    """A new matter. With an Idempotency-Key the same submission again is the same matter; the form is kept
    before routing is asked, and dropped again if routing refuses it."""
    request_hash = sha256_hex(canonical_json(submission.model_dump()))
    matter_id = uuid.uuid4().hex
    bind_matter(matter_id)
    if idempotency_key:
        matter_id = await idempotency.claim(rt, person.id, idempotency_key, request_hash, matter_id)
    bind_matter(matter_id)

    attachments = documents.decode_attachments(rt, submission.attachments)
    refs = readmodel.attachment_refs(attachments)
    digest = document_digest(
        village_id=submission.village_id,
        matter_type=submission.matter_type,
        title=submission.title,
        amount_fen=submission.amount_fen,
        fields=submission.fields,
        attachment_hashes=refs,
    )
    await documents.store_first(rt, matter_id, digest, submission.fields, attachments)
    request = m.SubmitMatter(
        matter_id=matter_id,
        applicant_id=person.id,
        village_id=submission.village_id,
        matter_type=submission.matter_type,
        title=submission.title,
        amount_fen=submission.amount_fen,
        digest=digest,
        attachments=[m.AttachmentRef(**r) for r in refs],
        fields=submission.fields,
    )
    try:
        result = await ask(rt, subjects.RPC_SUBMIT_MATTER, request)
    except ApiError as refusal:
        if refusal.status < 500 and refusal.code != "idempotency_conflict":
            # Refused (a field that breaks the form, a route nobody can fill): no matter exists, so nothing is
            # kept — the corrected form may come back with the same Idempotency-Key. A timeout keeps the key:
            # the submission may have gone through, and its retry must find the same matter.
            if idempotency_key:
                await idempotency.release(rt, person.id, idempotency_key, matter_id)
            await documents.drop_refused_first(rt, matter_id, digest)
        raise
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    await readmodel.keep_form(rt.db, matter_id, result["revision"], submission.fields, refs)
    return await present(rt, result)


async def revise(rt: Runtime, person: Person, matter_id: str, revision: RevisionIn) -> dict[str, Any]:
    """The applicant's corrected form for a returned matter: a new revision, signed afresh from the first stage."""
    matter = await readable_matter(rt, matter_id, person)
    if matter["applicant_id"] != person.id:
        raise ApiError("not_applicant", "只有申请人本人可以修改重新提交")
    current = await documents.current(rt, matter_id)
    previous = current["attachments"] if current else []
    if revision.attachments is None:
        attachments = previous
    else:
        attachments = documents.decode_attachments(rt, revision.attachments, previous)
    refs = readmodel.attachment_refs(attachments)
    # The same digest as at submission: every signature of the new revision signs exactly this.
    digest = document_digest(
        village_id=matter["village_id"],
        matter_type=matter["matter_type"],
        title=revision.title,
        amount_fen=revision.amount_fen,
        fields=revision.fields,
        attachment_hashes=refs,
    )
    content = await documents.store_revision(rt, matter_id, current, digest, revision.fields, attachments)
    result = await ask(
        rt,
        subjects.RPC_REVISE,
        m.ReviseMatter(
            matter_id=matter_id,
            actor_id=person.id,
            title=revision.title,
            amount_fen=revision.amount_fen,
            digest=digest,
            attachments=[m.AttachmentRef(**r) for r in refs],
            fields=revision.fields,
        ),
    )
    await documents.follow_revision(rt, matter_id, result["revision"], content)
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    await readmodel.keep_form(rt.db, matter_id, result["revision"], revision.fields, refs)
    return await present(rt, result)


async def decide(rt: Runtime, person: Person, matter_id: str, decision: DecisionIn) -> dict[str, Any]:
    """An assignee's decision on their stage, on the digest they were shown."""
    result = await ask(
        rt,
        subjects.RPC_DECIDE,
        m.Decide(
            matter_id=matter_id,
            actor_id=person.id,
            stage=decision.stage,
            decision=decision.decision,
            comment=decision.comment,
            digest=decision.digest.lower(),
        ),
    )
    return await _applied(rt, result)


async def withdraw(rt: Runtime, person: Person, matter_id: str, reason: str = "") -> dict[str, Any]:
    await readable_matter(rt, matter_id, person)
    result = await ask(rt, subjects.RPC_WITHDRAW, m.WithdrawMatter(matter_id=matter_id, actor_id=person.id, reason=reason))
    return await _applied(rt, result)


async def transfer(rt: Runtime, person: Person, matter_id: str, transfer: TransferIn) -> dict[str, Any]:
    """An assignee hands their task to someone else (the administrator: anyone's, as `from_person_id`)."""
    await readable_matter(rt, matter_id, person)
    result = await ask(
        rt,
        subjects.RPC_TRANSFER,
        m.TransferTask(
            matter_id=matter_id,
            actor_id=person.id,
            stage=transfer.stage,
            to_person_id=transfer.to_person_id,
            reason=transfer.reason,
            from_person_id=transfer.from_person_id,
        ),
    )
    return await _applied(rt, result)
