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
    # Sent again by routing's reconciler: if the act exists, signing announces it again (it may have been lost).
    reissued: bool = False


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
    reissued: bool = False  # see RequestSignature.reissued


class RegisterApproval(Envelope):
    """Record the approval number once every act up to `final_seq` is signed (signing keeps the request
    until act `final_seq` is made)."""

    SUBJECT: ClassVar[str] = subjects.REGISTER_APPROVAL
    revision: int
    approval_number: str
    digest: str
    final_seq: int
    reissued: bool = False  # see RequestSignature.reissued


# ---- events --------------------------------------------------------------------------------------


class MatterUpdated(Envelope):
    """routing's full view of a matter after a change, with the trail entries the change added.

    Each stage in `matter` carries `waiting_on`: who holds its task now, in slot order (an open stage's
    slots not yet decided or cancelled, after transfers and stand-ins; in a sequence only the first; empty
    for any other stage). Readers take it from here rather than working it out; views published before it
    existed lack the field."""

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
    """Who a person is (the directory's entry); or, with `village_id`, a village's `{id, name, active}` —
    notify names people and villages in its messages (docs/rules.md §8)."""

    person_id: str = ""
    village_id: str | None = None
    # issue 15: with `role`, the active people holding that role: `{"role", "people": [{id, name, village_id}]}`
    # (notify tells every 镇纪委 member of a new integrity alert).
    role: str | None = None


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
    # issue 13: the form's labels and types by field key (keys are ASCII; people read the labels, money in 元)
    field_labels: dict[str, str] = {}
    field_types: dict[str, str] = {}
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
    action: Literal[
        "list_policies", "put_policy", "get_directory", "put_directory", "trail",
        # issue 13: one entity per request, each with its own version
        "list_villages", "add_village", "patch_village", "list_people", "add_person", "patch_person",
        "import_people", "list_roles", "list_matter_types", "put_matter_type", "matter_type_versions", "dev_people",
    ]  # fmt: skip
    matter_type: str | None = None
    body: dict[str, Any] | None = None
    # issue 13: the entity a granular request is about, the version the caller last saw (HTTP If-Match:
    # a different current version is refused `conflict`), and whether an import only previews.
    entity_id: str | None = None
    if_match: int | None = None
    dry_run: bool = False


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


# ---- issue 16: one request per administration and absence action (intake → routing) -------------
# Each replaces one `action` of AdminRequest / AbsenceRequest, with its own fields, on its own subject.
# routing checks the caller: the administrator for every change; `ListVillages`, `ListMatterTypes` and
# `DevPeople` are reads for every signed-in person (intake exposes `DevPeople` only with development sign-in).


class RoutingAdminRequest(BaseModel):
    """Who asks; the base of the requests below."""

    actor_id: str


class ListPolicies(RoutingAdminRequest):
    """Every matter type's newest policy, or with `matter_type` all that type's versions."""

    matter_type: str | None = None


class PutPolicy(RoutingAdminRequest):
    """Store the next version of a matter type's routing policy; `if_match` is the version the caller saw."""

    matter_type: str
    policy: dict[str, Any]
    if_match: int | None = None


class GetDirectory(RoutingAdminRequest):
    """The whole org directory as stored, with its version."""


class PutDirectory(RoutingAdminRequest):
    """Replace the whole directory (nobody is removed; deactivate instead). The version seen is `if_match`,
    or the `version` inside `directory` as GetDirectory returned it."""

    directory: dict[str, Any]
    if_match: int | None = None


class AdminTrailQuery(RoutingAdminRequest):
    """routing's administration trail (directory, matter types, policies) with whether its chain holds."""


class ListVillages(RoutingAdminRequest):
    """Every village (for every signed-in person)."""


class AddVillage(RoutingAdminRequest):
    """`village`: {id, name, liaison_cadre, liaison_leader}."""

    village: dict[str, Any]


class PatchVillage(RoutingAdminRequest):
    """`changes`: {name?, liaison_cadre?, liaison_leader?, active?}, checked against `if_match`."""

    village_id: str
    changes: dict[str, Any]
    if_match: int | None = None


class ListPeople(RoutingAdminRequest):
    """Everyone, deactivated people too; with `village_id`, that village's."""

    village_id: str | None = None


class AddPerson(RoutingAdminRequest):
    """`person`: {id, name, village_id|null, roles, phone?, email?}."""

    person: dict[str, Any]


class PatchPerson(RoutingAdminRequest):
    """`changes`: {name?, roles?, active?, phone?, email?, village_id?}, checked against `if_match`."""

    person_id: str
    changes: dict[str, Any]
    if_match: int | None = None


class ImportPeople(RoutingAdminRequest):
    """A roster's rows, all written or none; `dry_run` only says what would happen."""

    rows: list[dict[str, Any]]
    dry_run: bool = False


class ListRoles(RoutingAdminRequest):
    """The roles a person may hold, with their Chinese names."""


class ListMatterTypes(RoutingAdminRequest):
    """Matter types with their forms (for every signed-in person); inactive ones too only for the administrator."""

    include_inactive: bool = False


class PutMatterType(RoutingAdminRequest):
    """Store the next version of a matter type and its form; `if_match` is the version seen (none: a new type)."""

    matter_type_id: str
    matter_type: dict[str, Any]
    if_match: int | None = None


class MatterTypeVersions(RoutingAdminRequest):
    """Every version of one matter type."""

    matter_type_id: str


class DevPeople(RoutingAdminRequest):
    """The active people with names and roles, for the development sign-in page."""


class RegisterAbsence(BaseModel):
    """A person registers a stand-in for a date range (China dates, inclusive); the administrator may register
    one for anyone (`person_id`)."""

    actor_id: str
    person_id: str | None = None
    stand_in_id: str
    starts_on: date
    ends_on: date
    reason: str = ""


class ListAbsences(BaseModel):
    """The absences the caller is away in or stands in for (all of them for the administrator)."""

    actor_id: str


class CancelAbsence(BaseModel):
    """Cancel one's own absence (the administrator: anyone's); stages already opened keep their stand-in."""

    actor_id: str
    absence_id: str


class StandInCandidates(BaseModel):
    """Who may stand in for the caller (the administrator may ask for anyone, `person_id`)."""

    actor_id: str
    person_id: str | None = None


# ---- issue 13: the town administers itself ------------------------------------------------------


class VillageAdded(Envelope):
    """routing → signing: a village was created; signing makes its cooperative seal (`seal_id`), with a
    certificate under the town root, once however often this arrives. `matter_id` is empty."""

    SUBJECT: ClassVar[str] = subjects.VILLAGE_ADDED
    village_id: str
    village_name: str
    seal_id: str
    seal_name: str
    allowed_roles: list[str]
    actor_id: str


class DirectoryChanged(Envelope):
    """routing → anyone caching the org directory (intake's sign-in): these people or villages changed,
    read them again. `matter_id` is empty."""

    SUBJECT: ClassVar[str] = subjects.DIRECTORY_CHANGED
    version: int
    person_ids: list[str] = []
    village_ids: list[str] = []
    actor_id: str


class SealAdminRequest(BaseModel):
    """intake → signing: the administrator lists, creates, renews or revokes seals, or reads the seal
    administration trail. intake checks the caller is the administrator (the directory is routing's)."""

    actor_id: str
    action: Literal["list", "create", "renew", "revoke", "trail"]
    seal_id: str | None = None
    body: dict[str, Any] | None = None


class SubscriptionAdminRequest(BaseModel):
    """intake → notify: list notification subscriptions, or send a test message over one now."""

    actor_id: str
    action: Literal["list", "test"]
    subscription_id: str | None = None
    subscriber: str | None = None


class CalendarQuery(BaseModel):
    """intake → sla-monitor: the administrator's working-day calendar overrides, in date order."""

    actor_id: str


class AttachmentChunkQuery(BaseModel):
    """signing → intake: `length` bytes from `offset` of a matter's attachment, by its SHA-256 (the form's
    digest binds the hash, so signing checks the bytes it assembles). Reply: `{size, content_base64}`;
    chunks keep each reply well under NATS's message size whatever the attachment's size."""

    matter_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    offset: int = Field(default=0, ge=0)
    length: int = Field(default=256 * 1024, ge=1, le=512 * 1024)


# ---- issue 15: signed trail heads and checkpoints -------------------------------------------------


class TrailClosed(Envelope):
    """routing → signing: a matter ended (completed, rejected, withdrawn); its trail's head — `trail_size`
    entries, the last one's `head_hash` — is to be signed by the platform and appended to the trail log."""

    SUBJECT: ClassVar[str] = subjects.TRAIL_CLOSED
    status: Literal["completed", "rejected", "withdrawn"]
    revision: int
    trail_size: int = Field(ge=1)
    head_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    ended_at: datetime


class TrailLogQuery(BaseModel):
    """intake → signing: the trail log's checkpoints (newest first), a matter's signed head with its
    inclusion proof in the latest checkpoint, the materials of its evidence package, or `length` bytes from
    `offset` of one revision's PDF (chunks keep each reply well under NATS's message size); or the consistency
    proof that the checkpoint of size `second` (default: the latest) extends the log as it was at size `first`."""

    action: Literal["checkpoints", "proof", "evidence", "pdf_chunk", "consistency"]
    matter_id: str | None = None
    revision: int | None = Field(default=None, ge=1)
    offset: int = Field(default=0, ge=0)
    length: int = Field(default=256 * 1024, ge=1, le=512 * 1024)
    limit: int = Field(default=20, ge=1, le=500)
    first: int | None = Field(default=None, ge=1)
    second: int | None = Field(default=None, ge=1)


class AccountabilityRequest(BaseModel):
    """intake → sla-monitor: list accountability records (问责, made when a stage stays unsigned a working
    day past its deadline), or record the discipline office's disposition of one (once; `note` says why)."""

    actor_id: str
    action: Literal["list", "dispose"]
    village_id: str | None = None
    status: Literal["open", "disposed"] | None = None
    accountability_id: str | None = None
    # excused 免责 (a good reason), reminded 提醒谈话, criticized 批评教育, referred 移交处理
    outcome: Literal["excused", "reminded", "criticized", "referred"] | None = None
    note: str = ""
    limit: int = Field(default=200, ge=1, le=1000)


class AlertDisposition(BaseModel):
    """intake → routing: the discipline office (or the administrator) confirmed or dismissed an integrity alert;
    routing writes `alert.disposed` into the trail of each matter concerned, once per `disposition_id`."""

    actor_id: str
    alert_id: str
    disposition_id: str
    rule: str
    status: Literal["confirmed", "dismissed"]
    reason: str = Field(min_length=1, max_length=2000)
    matter_ids: list[str] = Field(min_length=1)


class IntegrityAlertRaised(Envelope):
    """intake → notify: an integrity alert was raised for the first time (a pattern seen again updates its alert
    and announces nothing). Published once per alert, from the transaction that stored it; `event_id` is derived
    from the alert's id, so even a second publication would be one notice. `matter_id` is the first matter
    concerned (the notice links to it).

    `rule`: split_procurement (拆分规避), act_first (先斩后奏), rubber_stamp (走过场), counterparty_concentration
    (交易对象集中). `matter_titles` follow `matter_ids`; `village_ids` are the villages of those matters (a
    rubber_stamp alert has no `village_id` of its own); `person_id` is the signer a rubber_stamp alert is about.
    `summary` is the evidence in a short Chinese sentence, with no ids."""

    SUBJECT: ClassVar[str] = subjects.INTEGRITY_ALERT_RAISED
    alert_id: str
    rule: str
    village_id: str | None = None
    village_ids: list[str] = []
    matter_ids: list[str] = Field(min_length=1)
    matter_titles: list[str] = []
    person_id: str | None = None
    raised_at: datetime
    summary: str = ""


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
    subjects.RPC_SEAL_ADMIN: SealAdminRequest,
    subjects.RPC_NOTIFY_SUBSCRIPTION_ADMIN: SubscriptionAdminRequest,
    subjects.RPC_SLA_CALENDAR_LIST: CalendarQuery,
    subjects.RPC_ATTACHMENT: AttachmentChunkQuery,
    subjects.RPC_SLA_ACCOUNTABILITY: AccountabilityRequest,
    subjects.RPC_TRAIL_LOG: TrailLogQuery,
    subjects.RPC_ALERT_DISPOSITION: AlertDisposition,
    subjects.RPC_ADMIN_LIST_POLICIES: ListPolicies,
    subjects.RPC_ADMIN_PUT_POLICY: PutPolicy,
    subjects.RPC_ADMIN_GET_DIRECTORY: GetDirectory,
    subjects.RPC_ADMIN_PUT_DIRECTORY: PutDirectory,
    subjects.RPC_ADMIN_TRAIL: AdminTrailQuery,
    subjects.RPC_ADMIN_LIST_VILLAGES: ListVillages,
    subjects.RPC_ADMIN_ADD_VILLAGE: AddVillage,
    subjects.RPC_ADMIN_PATCH_VILLAGE: PatchVillage,
    subjects.RPC_ADMIN_LIST_PEOPLE: ListPeople,
    subjects.RPC_ADMIN_ADD_PERSON: AddPerson,
    subjects.RPC_ADMIN_PATCH_PERSON: PatchPerson,
    subjects.RPC_ADMIN_IMPORT_PEOPLE: ImportPeople,
    subjects.RPC_ADMIN_LIST_ROLES: ListRoles,
    subjects.RPC_ADMIN_LIST_MATTER_TYPES: ListMatterTypes,
    subjects.RPC_ADMIN_PUT_MATTER_TYPE: PutMatterType,
    subjects.RPC_ADMIN_MATTER_TYPE_VERSIONS: MatterTypeVersions,
    subjects.RPC_ADMIN_DEV_PEOPLE: DevPeople,
    subjects.RPC_ABSENCE_REGISTER: RegisterAbsence,
    subjects.RPC_ABSENCE_LIST: ListAbsences,
    subjects.RPC_ABSENCE_CANCEL: CancelAbsence,
    subjects.RPC_ABSENCE_STAND_INS: StandInCandidates,
}
