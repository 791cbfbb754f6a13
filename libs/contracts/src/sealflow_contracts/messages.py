"""Message models. Every message on the bus is an `Envelope`: event id, matter id, time, schema version.

Consumers are idempotent on `event_id`; publishers send it as `Nats-Msg-Id` so JetStream drops repeats.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from sealflow_contracts import subjects


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    SUBJECT: ClassVar[str]

    event_id: str = Field(default_factory=new_id)
    matter_id: str
    occurred_at: datetime = Field(default_factory=utcnow)
    schema_version: int = 1


# ---- commands to signing -------------------------------------------------------------------------


class RequestSignature(Envelope):
    """Sign a decision. `seq` is the act's place in the matter's signature chain, fixed by routing."""

    SUBJECT: ClassVar[str] = subjects.REQUEST_SIGNATURE
    revision: int
    seq: int
    stage: int
    signer_id: str
    decision: Literal["approve"]
    comment: str = ""
    digest: str
    decided_at: datetime


class RequestSeal(Envelope):
    """Apply an organisation's seal once a stage completes; exactly one seal use per (matter, revision, stage, seal)."""

    SUBJECT: ClassVar[str] = subjects.REQUEST_SEAL
    revision: int
    seq: int
    stage: int
    seal_id: str
    digest: str
    triggered_by: list[str]


class RegisterApproval(Envelope):
    """Record the approval number once every act up to `final_seq` is signed."""

    SUBJECT: ClassVar[str] = subjects.REGISTER_APPROVAL
    revision: int
    approval_number: str
    digest: str
    final_seq: int


# ---- events --------------------------------------------------------------------------------------


class MatterUpdated(Envelope):
    """routing's full view of a matter after a change, with the trail entries the change added."""

    SUBJECT: ClassVar[str] = subjects.MATTER_UPDATED
    version: int
    matter: dict[str, Any]
    new_trail_entries: list[dict[str, Any]]


class StageOpened(Envelope):
    SUBJECT: ClassVar[str] = subjects.STAGE_OPENED
    revision: int
    stage: int
    name: str
    assignees: list[str]
    deadline_working_days: int
    opened_at: datetime
    village_id: str
    title: str


class StageClosed(Envelope):
    SUBJECT: ClassVar[str] = subjects.STAGE_CLOSED
    revision: int
    stage: int
    outcome: Literal["done", "cancelled"]
    closed_at: datetime


class TaskAssigned(Envelope):
    SUBJECT: ClassVar[str] = subjects.TASK_ASSIGNED
    revision: int
    stage: int
    person_id: str
    title: str
    village_id: str


class MatterCompleted(Envelope):
    SUBJECT: ClassVar[str] = subjects.MATTER_COMPLETED
    approval_number: str
    applicant_id: str
    title: str


class SignatureApplied(Envelope):
    SUBJECT: ClassVar[str] = subjects.SIGNATURE_APPLIED
    revision: int
    seq: int
    stage: int
    signer_id: str
    signature_hash: str
    signed_at: datetime


class SealApplied(Envelope):
    SUBJECT: ClassVar[str] = subjects.SEAL_APPLIED
    revision: int
    seq: int
    stage: int
    seal_id: str
    seal_use_id: str
    signature_hash: str
    applied_at: datetime


class ApprovalRegistered(Envelope):
    SUBJECT: ClassVar[str] = subjects.APPROVAL_REGISTERED
    approval_number: str
    registered_at: datetime


class DeadlineSet(Envelope):
    SUBJECT: ClassVar[str] = subjects.DEADLINE_SET
    revision: int
    stage: int
    due_at: datetime


# ---- request/reply -------------------------------------------------------------------------------


class AttachmentRef(BaseModel):
    filename: str
    content_type: str
    sha256: str
    size: int


class SubmitMatter(BaseModel):
    """intake → routing: route and open a new matter. Idempotent on `matter_id`."""

    matter_id: str
    applicant_id: str
    village_id: str
    matter_type: str
    title: str
    amount_fen: int
    digest: str
    attachments: list[AttachmentRef] = []


class Decide(BaseModel):
    matter_id: str
    actor_id: str
    stage: int
    decision: Literal["approve", "return", "reject"]
    comment: str = ""
    digest: str


class WhoIs(BaseModel):
    person_id: str


class InboxQuery(BaseModel):
    person_id: str
    unread_only: bool = False
    limit: int = 100


class RpcError(BaseModel):
    code: str
    message: str


class RpcReply(BaseModel):
    """Replies carry either a result or a domain error: a responder that raised would send no reply."""

    ok: bool
    result: dict[str, Any] | list[Any] | None = None
    error: RpcError | None = None


# ---- issue 3: returns, revisions, withdrawals, transfers, administration --------------------------


class MatterTurned(Envelope):
    """A turn people must hear about: routing names who is told, notify delivers to each of them once.

    `turn`: `returned` / `rejected` (a signer's decision, `reason` required), `withdrawn` (by the applicant),
    `task_cancelled` (an any-of stage closed by someone else's approval, or the matter left review),
    `task_transferred` (转办: `from_person_id` → `to_person_id`), `revised` (a new revision restarts approval).
    """

    SUBJECT: ClassVar[str] = subjects.MATTER_TURNED
    revision: int
    turn: Literal["returned", "rejected", "withdrawn", "task_cancelled", "task_transferred", "revised"]
    stage: int | None = None
    actor_id: str
    reason: str = ""
    title: str
    recipients: list[str]
    from_person_id: str | None = None
    to_person_id: str | None = None


class ReviseMatter(BaseModel):
    """intake → routing: the applicant resubmits a returned matter as a new revision (new digest)."""

    matter_id: str
    actor_id: str
    title: str
    amount_fen: int
    digest: str
    attachments: list[AttachmentRef] = []


class WithdrawMatter(BaseModel):
    matter_id: str
    actor_id: str
    reason: str = ""


class TransferTask(BaseModel):
    """转办: hand an undecided slot of the open stage to a person with the same role authority.

    The assignee hands over their own slot; the administrator may reassign anyone's (`from_person_id`)."""

    matter_id: str
    actor_id: str
    stage: int
    to_person_id: str
    reason: str
    from_person_id: str | None = None


class AdminRequest(BaseModel):
    """intake → routing: the administrator reads or replaces policies and the org directory."""

    actor_id: str
    action: Literal["list_policies", "put_policy", "get_directory", "put_directory", "trail"]
    matter_type: str | None = None
    body: dict[str, Any] | None = None
