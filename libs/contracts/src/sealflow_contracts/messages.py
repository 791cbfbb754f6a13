"""Message models. Every message on the bus is an `Envelope`: event id, matter id, time, schema version.

Consumers are idempotent on `event_id`; publishers send it as `Nats-Msg-Id` so JetStream drops repeats.
"""

import uuid
from datetime import UTC, date, datetime
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
    # The directory roles of the approvers in `triggered_by`; a seal refuses a role it does not allow.
    triggered_by_roles: list[str] = []


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
    matter_type: str = ""  # for per-matter-type supervision figures; "" from publishers that predate it


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
    fields: dict[str, Any] = {}  # the form's fields, so signing can render the document routing asks for


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
    matter_id: str | None = None
    limit: int = 100


class RpcError(BaseModel):
    code: str
    message: str


class RpcReply(BaseModel):
    """Replies carry either a result or a domain error: a responder that raised would send no reply."""

    ok: bool
    result: dict[str, Any] | list[Any] | None = None
    error: RpcError | None = None


# ---- PAdES documents (signing) -------------------------------------------------------------------


class RouteSlotPerson(BaseModel):
    person_id: str
    name: str
    roles: list[str] = []


class RouteStageSnapshot(BaseModel):
    number: int
    name: str
    mode: Literal["all", "any", "sequence"]
    seal_id: str | None = None
    assignees: list[RouteSlotPerson]


class RequestDocument(Envelope):
    """Render and certify a matter revision's approval form as a PDF. Sent by routing when it opens the
    revision; signing recomputes the digest from the content and refuses a form that does not match."""

    SUBJECT: ClassVar[str] = subjects.REQUEST_DOCUMENT
    revision: int
    digest: str
    title: str
    village_id: str
    village_name: str
    town_name: str
    matter_type: str
    matter_type_title: str
    amount_fen: int
    fields: dict[str, Any] = {}
    attachments: list[AttachmentRef] = []
    applicant_id: str
    applicant_name: str
    submitted_at: datetime
    route: list[RouteStageSnapshot]


class AdvanceDocument(Envelope):
    """signing's own background work: apply every act made so far to the revision's PDF, in order."""

    SUBJECT: ClassVar[str] = subjects.ADVANCE_DOCUMENT
    revision: int


class SealRefused(Envelope):
    """A seal was not applied (outside its validity window, or a role it does not allow); the request
    is dead-lettered with the same reason."""

    SUBJECT: ClassVar[str] = subjects.SEAL_REFUSED
    revision: int
    stage: int
    seal_id: str
    reason: str




# ---- deadlines, escalation and supervision (issue 5) ---------------------------------------------


class _StageTimer(Envelope):
    """What every sla-monitor timer event says about the stage it concerns."""

    revision: int
    stage: int
    stage_name: str
    title: str
    village_id: str
    matter_type: str = ""
    holders: list[str]  # assignees who have not signed yet
    due_at: datetime
    timer_id: str


class ReminderDue(_StageTimer):
    """A reminder point before due was reached (e.g. `50%` of the time allowed, `2h` before due)."""

    SUBJECT: ClassVar[str] = subjects.REMINDER_DUE
    point: str


class StageOverdue(_StageTimer):
    """The stage's deadline passed with signatures missing."""

    SUBJECT: ClassVar[str] = subjects.STAGE_OVERDUE


class EscalationRaised(_StageTimer):
    """Level 1 (at due): a 督办 notice to the discipline supervisor. Level 2 (one working day later): an
    accountability record is opened."""

    SUBJECT: ClassVar[str] = subjects.ESCALATION_RAISED
    level: int
    supervisors: list[str]
    accountability_id: str | None = None


class UrgeIssued(Envelope):
    """A supervisor's 督办 (urge) notice to the people holding an open stage."""

    SUBJECT: ClassVar[str] = subjects.URGE_ISSUED
    stage: int
    supervisor_id: str
    holders: list[str]
    title: str
    message: str


class SupervisionQuery(BaseModel):
    """intake → sla-monitor. `person_id` set = that signer's own figures only."""

    period_from: datetime | None = None
    period_to: datetime | None = None
    person_id: str | None = None
    village_id: str | None = None


class InboxMarkRead(BaseModel):
    person_id: str
    notification_id: str


class CalendarOverride(BaseModel):
    """An administrator's correction to the working-day calendar: `working` true (a make-up working day),
    false (a holiday), or null to remove the override."""

    day: date
    working: bool | None
    note: str = ""
    set_by: str


class SubscriptionPut(BaseModel):
    """Who gets which channel: a person's (or an outside system's) webhook, e-mail or DingTalk robot.
    `kinds` limits it to some notification kinds (task, completed, reminder, overdue, escalation, urge);
    empty = all. `active` false switches it off."""

    id: str
    subscriber: str
    channel: Literal["webhook", "email", "dingtalk"]
    target: str
    secret: str = ""
    kinds: list[str] = []
    active: bool = True
    set_by: str




# ---- issue 3: returns, revisions, withdrawals, transfers, administration --------------------------


class MatterTurned(Envelope):
    """A turn people must hear about: routing names who is told, notify delivers to each of them once.

    `turn`: `returned` / `rejected` (a signer's decision, `reason` required), `withdrawn` (by the applicant),
    `task_cancelled` (an any-of stage closed by someone else's approval, or the matter left review),
    `task_transferred` (转办: `from_person_id` → `to_person_id`), `task_delegated` (the holder is away: their
    registered stand-in `to_person_id` takes the task), `revised` (a new revision restarts approval).
    """

    SUBJECT: ClassVar[str] = subjects.MATTER_TURNED
    revision: int
    turn: Literal["returned", "rejected", "withdrawn", "task_cancelled", "task_transferred", "task_delegated", "revised"]
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
    fields: dict[str, Any] = {}  # the form's content, for the revision's PDF (signing re-checks the digest)


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


class AbsenceRequest(BaseModel):
    """intake → routing: a person registers a stand-in for a date range (China dates, inclusive), lists
    absences, cancels one, or asks who may stand in for them. The administrator may act for anyone
    (`person_id`)."""

    actor_id: str
    action: Literal["register", "list", "cancel", "candidates"]
    person_id: str | None = None
    stand_in_id: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    reason: str = ""
    absence_id: str | None = None


# Request/reply subjects → the request each expects (the reply is always an `RpcReply`); with the
# envelopes' SUBJECTs, this is how the published AsyncAPI document names every payload.
RPC_REQUESTS: dict[str, type[BaseModel]] = {
    subjects.RPC_SUBMIT_MATTER: SubmitMatter,
    subjects.RPC_DECIDE: Decide,
    subjects.RPC_WHOIS: WhoIs,
    subjects.RPC_INBOX: InboxQuery,
    subjects.RPC_SLA_OVERDUE: SupervisionQuery,
    subjects.RPC_SLA_STATS: SupervisionQuery,
    subjects.RPC_SLA_CALENDAR: CalendarOverride,
    subjects.RPC_INBOX_MARK_READ: InboxMarkRead,
    subjects.RPC_NOTIFY_SUBSCRIPTION: SubscriptionPut,
    subjects.RPC_REVISE: ReviseMatter,
    subjects.RPC_WITHDRAW: WithdrawMatter,
    subjects.RPC_TRANSFER: TransferTask,
    subjects.RPC_ADMIN: AdminRequest,
    subjects.RPC_ABSENCE: AbsenceRequest,
}
