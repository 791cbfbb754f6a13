"""Who may do what on NATS: per service, the stream subjects it publishes, the durable consumers it reads,
the core subjects it listens on and the request/reply subjects it calls — in one place.

`sealflow up` turns this table into nats-server users and permissions (`nats_permissions`), and deploy/
carries the same (`python -m sealflow_cli.natsauth --k8s`). tests/unit/test_nats_access.py holds it against
the code: every subject in `subjects.py` has its publisher here, every subscriber a service registers is
listed under that service, every message a service builds is one it may publish. So a new subject or
consumer that is not entered here fails that test (and, at run time, is refused loudly by the server) —
it can neither silently lack access nor silently get it.
"""

from dataclasses import dataclass, field

from sealflow_contracts import subjects as s

SERVICES = ("intake", "routing", "signing", "sla-monitor", "notify")


@dataclass(frozen=True)
class Access:
    # Stream subjects the service publishes (its outbox; signing's own document queue).
    publishes: tuple[str, ...] = ()
    # Durable pull consumers it reads: durable name → filter subject.
    consumes: dict[str, str] = field(default_factory=dict)
    # Core subscriptions: the request/reply subjects it answers, broadcasts every replica hears.
    listens: tuple[str, ...] = ()
    # Request/reply subjects it calls.
    requests: tuple[str, ...] = ()


ACCESS: dict[str, Access] = {
    "intake": Access(
        publishes=(s.URGE_ISSUED, s.INTEGRITY_ALERT_RAISED),
        consumes={"intake-matter-updated": s.MATTER_UPDATED},
        listens=(s.DIRECTORY_CHANGED, s.RPC_ATTACHMENT),
        requests=(
            s.RPC_SUBMIT_MATTER,
            s.RPC_DECIDE,
            s.RPC_WHOIS,
            s.RPC_REVISE,
            s.RPC_WITHDRAW,
            s.RPC_TRANSFER,
            s.RPC_ADMIN,
            s.RPC_ABSENCE,
            *s.RPC_ROUTING_ADMIN,
            *s.RPC_ROUTING_ABSENCE,
            s.RPC_INBOX,
            s.RPC_INBOX_MARK_READ,
            s.RPC_NOTIFY_SUBSCRIPTION,
            s.RPC_NOTIFY_SUBSCRIPTION_ADMIN,
            s.RPC_SLA_OVERDUE,
            s.RPC_SLA_STATS,
            s.RPC_SLA_CALENDAR,
            s.RPC_SLA_CALENDAR_LIST,
            s.RPC_SEAL_ADMIN,
            s.RPC_TRAIL_LOG,
            s.RPC_SLA_ACCOUNTABILITY,
            s.RPC_ALERT_DISPOSITION,
        ),
    ),
    "routing": Access(
        publishes=(
            s.REQUEST_SIGNATURE,
            s.REQUEST_SEAL,
            s.REGISTER_APPROVAL,
            s.REQUEST_DOCUMENT,
            s.MATTER_UPDATED,
            s.STAGE_OPENED,
            s.STAGE_CLOSED,
            s.TASK_ASSIGNED,
            s.MATTER_COMPLETED,
            s.MATTER_TURNED,
            s.VILLAGE_ADDED,
            s.DIRECTORY_CHANGED,
            s.TRAIL_CLOSED,
        ),
        consumes={
            "routing-signature-applied": s.SIGNATURE_APPLIED,
            "routing-seal-applied": s.SEAL_APPLIED,
            "routing-approval-registered": s.APPROVAL_REGISTERED,
            "routing-seal-refused": s.SEAL_REFUSED,
            "routing-deadline-set": s.DEADLINE_SET,
            "routing-reminder-due": s.REMINDER_DUE,
            "routing-stage-overdue": s.STAGE_OVERDUE,
            "routing-escalation-raised": s.ESCALATION_RAISED,
            "routing-urge-issued": s.URGE_ISSUED,
        },
        listens=(
            s.RPC_SUBMIT_MATTER,
            s.RPC_DECIDE,
            s.RPC_WHOIS,
            s.RPC_REVISE,
            s.RPC_WITHDRAW,
            s.RPC_TRANSFER,
            s.RPC_ADMIN,
            s.RPC_ABSENCE,
            *s.RPC_ROUTING_ADMIN,
            *s.RPC_ROUTING_ABSENCE,
            s.RPC_ALERT_DISPOSITION,
        ),
    ),
    "signing": Access(
        publishes=(s.SIGNATURE_APPLIED, s.SEAL_APPLIED, s.APPROVAL_REGISTERED, s.SEAL_REFUSED, s.ADVANCE_DOCUMENT),
        consumes={
            "signing-request-signature": s.REQUEST_SIGNATURE,
            "signing-request-seal": s.REQUEST_SEAL,
            "signing-register-approval": s.REGISTER_APPROVAL,
            "signing-request-document": s.REQUEST_DOCUMENT,
            "signing-advance-document": s.ADVANCE_DOCUMENT,
            "signing-village-added": s.VILLAGE_ADDED,
            "signing-trail-closed": s.TRAIL_CLOSED,
        },
        listens=(s.RPC_SEAL_ADMIN, s.RPC_TRAIL_LOG),
        requests=(s.RPC_ATTACHMENT,),  # attachments' bytes for the sealed PDF
    ),
    "sla-monitor": Access(
        publishes=(s.DEADLINE_SET, s.REMINDER_DUE, s.STAGE_OVERDUE, s.ESCALATION_RAISED),
        consumes={
            "sla-stage-opened": s.STAGE_OPENED,
            "sla-stage-closed": s.STAGE_CLOSED,
            "sla-signature-applied": s.SIGNATURE_APPLIED,
            "sla-matter-updated": s.MATTER_UPDATED,  # who holds each open stage now (`waiting_on`)
        },
        listens=(s.RPC_SLA_OVERDUE, s.RPC_SLA_STATS, s.RPC_SLA_CALENDAR, s.RPC_SLA_CALENDAR_LIST, s.RPC_SLA_ACCOUNTABILITY),
    ),
    "notify": Access(
        consumes={
            "notify-task-assigned": s.TASK_ASSIGNED,
            "notify-matter-completed": s.MATTER_COMPLETED,
            "notify-matter-turned": s.MATTER_TURNED,
            "notify-reminder-due": s.REMINDER_DUE,
            "notify-stage-overdue": s.STAGE_OVERDUE,
            "notify-escalation-raised": s.ESCALATION_RAISED,
            "notify-urge-issued": s.URGE_ISSUED,
            "notify-integrity-alert-raised": s.INTEGRITY_ALERT_RAISED,
        },
        listens=(s.RPC_INBOX, s.RPC_INBOX_MARK_READ, s.RPC_NOTIFY_SUBSCRIPTION, s.RPC_NOTIFY_SUBSCRIPTION_ADMIN),
        requests=(s.RPC_WHOIS,),  # people's and villages' names for the messages
    ),
}

# The runtime's dead-letter plumbing (bus.listen_for_exhausted_deliveries).
ADVISORY_SUBJECT = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{s.STREAM_NAME}.*"
JS = "$JS.API"


def nats_permissions(service: str) -> dict:
    """nats-server `permissions` for a service's user: exactly its subjects, its own consumers' JetStream API
    calls, acks on the Sealflow stream, dead letters, replies to what it was asked, and its reply inbox.

    Not granted: publishing anyone else's subjects, creating or reading another service's consumer, and the
    destructive JetStream calls (deleting or purging a stream or a message, deleting a consumer)."""
    access = ACCESS[service]
    stream, dlq = s.STREAM_NAME, s.DEAD_LETTER_STREAM
    durable_api = []
    for durable, subject in sorted(access.consumes.items()):
        durable_api += [
            f"{JS}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            f"{JS}.CONSUMER.CREATE.{stream}.{durable}",
            f"{JS}.CONSUMER.CREATE.{stream}.{durable}.{subject}",
            f"{JS}.CONSUMER.INFO.{stream}.{durable}",
            f"{JS}.CONSUMER.MSG.NEXT.{stream}.{durable}",
            # ack, nak, term of its own consumer's deliveries only
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    publish = [
        *access.publishes,
        *access.requests,
        # the stream declarations every service makes at start (JetStream keeps one), and the dead-letter stream
        f"{JS}.INFO",
        f"{JS}.STREAM.NAMES",
        f"{JS}.STREAM.INFO.{stream}",
        f"{JS}.STREAM.INFO.{dlq}",
        f"{JS}.STREAM.CREATE.{stream}",
        f"{JS}.STREAM.UPDATE.{stream}",
        f"{JS}.STREAM.CREATE.{dlq}",
        # a message whose deliveries ran out is read back by its sequence to be dead-lettered
        f"{JS}.STREAM.MSG.GET.{stream}",
        f"{JS}.DIRECT.GET.{stream}",
        *durable_api,
        f"{s.DEAD_LETTER_PREFIX}.>",
    ]
    subscribe = [*access.listens, ADVISORY_SUBJECT, f"{inbox_prefix(service)}.>"]
    permissions: dict = {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}
    if access.listens:
        # Replies go to the requester's inbox: allowed only as the answer to a request received (not any inbox).
        permissions["allow_responses"] = True
    return permissions


def inbox_prefix(user: str) -> str:
    """The reply inbox of a user's connections (`_INBOX_routing.…`): the only inbox it may subscribe to, so no
    service can read the answers meant for another. sealflow_runtime.bus.make_broker connects with it."""
    return f"_INBOX_{user}"


def publisher_of(subject: str) -> list[str]:
    return [name for name, access in ACCESS.items() if subject in access.publishes]
