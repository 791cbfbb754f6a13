"""Every NATS subject Sealflow uses, in one place. Commands go to one owner, events to any subscriber.

`sealflow.cmd.>` and `sealflow.evt.>` live in the durable JetStream stream; `sealflow.rpc.>` is plain
request/reply for the synchronous answers an HTTP caller waits for, so it stays outside the stream.
"""

STREAM_NAME = "SEALFLOW"
STREAM_SUBJECTS = ["sealflow.cmd.>", "sealflow.evt.>"]

# commands owned by signing
REQUEST_SIGNATURE = "sealflow.cmd.signing.request-signature.v1"
REQUEST_SEAL = "sealflow.cmd.signing.request-seal.v1"
REGISTER_APPROVAL = "sealflow.cmd.signing.register-approval.v1"

# events
MATTER_UPDATED = "sealflow.evt.routing.matter-updated.v1"
STAGE_OPENED = "sealflow.evt.routing.stage-opened.v1"
STAGE_CLOSED = "sealflow.evt.routing.stage-closed.v1"
TASK_ASSIGNED = "sealflow.evt.routing.task-assigned.v1"
MATTER_COMPLETED = "sealflow.evt.routing.matter-completed.v1"
SIGNATURE_APPLIED = "sealflow.evt.signing.signature-applied.v1"
SEAL_APPLIED = "sealflow.evt.signing.seal-applied.v1"
APPROVAL_REGISTERED = "sealflow.evt.signing.approval-registered.v1"
DEADLINE_SET = "sealflow.evt.sla.deadline-set.v1"

# request/reply
RPC_SUBMIT_MATTER = "sealflow.rpc.routing.submit-matter.v1"
RPC_DECIDE = "sealflow.rpc.routing.decide.v1"
RPC_WHOIS = "sealflow.rpc.routing.whois.v1"
RPC_INBOX = "sealflow.rpc.notify.inbox.v1"

# Dead letters: one stream, one subject per durable consumer (`sealflow.dlq.routing-seal-applied`, ...), kept for operators.
DEAD_LETTER_STREAM = "SEALFLOW_DLQ"
DEAD_LETTER_SUBJECTS = ["sealflow.dlq.>"]
DEAD_LETTER_PREFIX = "sealflow.dlq"

# PAdES documents (signing). REQUEST_DOCUMENT: routing → signing at submission; ADVANCE_DOCUMENT is
# signing's own background queue (apply the acts made so far to the PDF, in order, off the decision path).
REQUEST_DOCUMENT = "sealflow.cmd.signing.request-document.v1"
ADVANCE_DOCUMENT = "sealflow.cmd.signing.advance-document.v1"
SEAL_REFUSED = "sealflow.evt.signing.seal-refused.v1"

# deadlines, escalation and supervision (issue 5)
REMINDER_DUE = "sealflow.evt.sla.reminder-due.v1"
STAGE_OVERDUE = "sealflow.evt.sla.stage-overdue.v1"
ESCALATION_RAISED = "sealflow.evt.sla.escalation-raised.v1"
URGE_ISSUED = "sealflow.evt.intake.urge-issued.v1"
RPC_SLA_OVERDUE = "sealflow.rpc.sla.overdue.v1"
RPC_SLA_STATS = "sealflow.rpc.sla.stats.v1"
RPC_SLA_CALENDAR = "sealflow.rpc.sla.calendar.v1"
RPC_INBOX_MARK_READ = "sealflow.rpc.notify.inbox-mark-read.v1"
RPC_NOTIFY_SUBSCRIPTION = "sealflow.rpc.notify.subscription.v1"

# issue 3: turns of a matter (return, reject, withdraw, cancel, transfer, revise) and administration
MATTER_TURNED = "sealflow.evt.routing.matter-turned.v1"
RPC_REVISE = "sealflow.rpc.routing.revise.v1"
RPC_WITHDRAW = "sealflow.rpc.routing.withdraw.v1"
RPC_TRANSFER = "sealflow.rpc.routing.transfer.v1"
RPC_ADMIN = "sealflow.rpc.routing.admin.v1"
RPC_ABSENCE = "sealflow.rpc.routing.absence.v1"

# issue 13: the town administers itself (villages, people, matter types and forms, seals, subscriptions)
VILLAGE_ADDED = "sealflow.evt.routing.village-added.v1"
DIRECTORY_CHANGED = "sealflow.evt.routing.directory-changed.v1"
RPC_SEAL_ADMIN = "sealflow.rpc.signing.seal-admin.v1"
RPC_NOTIFY_SUBSCRIPTION_ADMIN = "sealflow.rpc.notify.subscription-admin.v1"
RPC_SLA_CALENDAR_LIST = "sealflow.rpc.sla.calendar-list.v1"

# issue 14: signing reads an attachment's bytes from intake (which keeps them) to embed it in the sealed PDF
RPC_ATTACHMENT = "sealflow.rpc.intake.attachment.v1"
# issue 14: the accountability records (问责) sla-monitor keeps, and the discipline office's disposition
RPC_SLA_ACCOUNTABILITY = "sealflow.rpc.sla.accountability.v1"

# issue 15: signed trail heads and checkpoints. routing announces a matter's final trail head; signing signs it,
# appends it to the trail log and publishes checkpoints; intake reads the log (checkpoints, proofs, evidence).
TRAIL_CLOSED = "sealflow.evt.routing.trail-closed.v1"
RPC_TRAIL_LOG = "sealflow.rpc.signing.trail-log.v1"
# issue 15: an integrity alert's disposition, kept in the trails of the matters concerned (intake → routing)
RPC_ALERT_DISPOSITION = "sealflow.rpc.routing.alert-disposition.v1"
# issue 15: intake raised a new integrity alert; notify tells the discipline office (once per alert)
INTEGRITY_ALERT_RAISED = "sealflow.evt.intake.integrity-alert-raised.v1"

# issue 16: one request per administration and absence action, each on its own subject (RPC_ADMIN and
# RPC_ABSENCE, one request with an `action` string, are still answered for callers not yet moved).
RPC_ADMIN_LIST_POLICIES = "sealflow.rpc.routing.admin.list-policies.v1"
RPC_ADMIN_PUT_POLICY = "sealflow.rpc.routing.admin.put-policy.v1"
RPC_ADMIN_GET_DIRECTORY = "sealflow.rpc.routing.admin.get-directory.v1"
RPC_ADMIN_PUT_DIRECTORY = "sealflow.rpc.routing.admin.put-directory.v1"
RPC_ADMIN_TRAIL = "sealflow.rpc.routing.admin.trail.v1"
RPC_ADMIN_LIST_VILLAGES = "sealflow.rpc.routing.admin.list-villages.v1"
RPC_ADMIN_ADD_VILLAGE = "sealflow.rpc.routing.admin.add-village.v1"
RPC_ADMIN_PATCH_VILLAGE = "sealflow.rpc.routing.admin.patch-village.v1"
RPC_ADMIN_LIST_PEOPLE = "sealflow.rpc.routing.admin.list-people.v1"
RPC_ADMIN_ADD_PERSON = "sealflow.rpc.routing.admin.add-person.v1"
RPC_ADMIN_PATCH_PERSON = "sealflow.rpc.routing.admin.patch-person.v1"
RPC_ADMIN_IMPORT_PEOPLE = "sealflow.rpc.routing.admin.import-people.v1"
RPC_ADMIN_LIST_ROLES = "sealflow.rpc.routing.admin.list-roles.v1"
RPC_ADMIN_LIST_MATTER_TYPES = "sealflow.rpc.routing.admin.list-matter-types.v1"
RPC_ADMIN_PUT_MATTER_TYPE = "sealflow.rpc.routing.admin.put-matter-type.v1"
RPC_ADMIN_MATTER_TYPE_VERSIONS = "sealflow.rpc.routing.admin.matter-type-versions.v1"
RPC_ADMIN_DEV_PEOPLE = "sealflow.rpc.routing.admin.dev-people.v1"
RPC_ABSENCE_REGISTER = "sealflow.rpc.routing.absence.register.v1"
RPC_ABSENCE_LIST = "sealflow.rpc.routing.absence.list.v1"
RPC_ABSENCE_CANCEL = "sealflow.rpc.routing.absence.cancel.v1"
RPC_ABSENCE_STAND_INS = "sealflow.rpc.routing.absence.stand-ins.v1"
RPC_ROUTING_ADMIN = (
    RPC_ADMIN_LIST_POLICIES,
    RPC_ADMIN_PUT_POLICY,
    RPC_ADMIN_GET_DIRECTORY,
    RPC_ADMIN_PUT_DIRECTORY,
    RPC_ADMIN_TRAIL,
    RPC_ADMIN_LIST_VILLAGES,
    RPC_ADMIN_ADD_VILLAGE,
    RPC_ADMIN_PATCH_VILLAGE,
    RPC_ADMIN_LIST_PEOPLE,
    RPC_ADMIN_ADD_PERSON,
    RPC_ADMIN_PATCH_PERSON,
    RPC_ADMIN_IMPORT_PEOPLE,
    RPC_ADMIN_LIST_ROLES,
    RPC_ADMIN_LIST_MATTER_TYPES,
    RPC_ADMIN_PUT_MATTER_TYPE,
    RPC_ADMIN_MATTER_TYPE_VERSIONS,
    RPC_ADMIN_DEV_PEOPLE,
)
RPC_ROUTING_ABSENCE = (RPC_ABSENCE_REGISTER, RPC_ABSENCE_LIST, RPC_ABSENCE_CANCEL, RPC_ABSENCE_STAND_INS)
