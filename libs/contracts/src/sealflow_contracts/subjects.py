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

# issue 3: turns of a matter (return, reject, withdraw, cancel, transfer, revise) and administration
MATTER_TURNED = "sealflow.evt.routing.matter-turned.v1"
RPC_REVISE = "sealflow.rpc.routing.revise.v1"
RPC_WITHDRAW = "sealflow.rpc.routing.withdraw.v1"
RPC_TRANSFER = "sealflow.rpc.routing.transfer.v1"
RPC_ADMIN = "sealflow.rpc.routing.admin.v1"
