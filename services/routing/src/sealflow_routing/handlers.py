"""routing's handlers: one async function per request or event, each one transaction with its outbox.

Each handler takes the message and, as keyword arguments, exactly the ports it uses (`ports.py`);
`bootstrap.py` binds them. Every change to an existing matter goes through `change_matter`."""

import enum
from collections.abc import Callable
from datetime import timedelta

from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal

from sealflow_routing import trailhead
from sealflow_routing.absences import china_today
from sealflow_routing.domain import forms
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory, resolve_route
from sealflow_routing.domain.errors import Refused
from sealflow_routing.domain.forms import Form
from sealflow_routing.ports import AfterCommit, ChangeMatter, Clock, MatterTransaction, RoutingStore

MAX_ATTEMPTS = 8


class MatterKeptChanging(RuntimeError):
    """Every attempt to change a matter lost the race with another writer. Not a refusal the caller can act
    on: a request gets no reply (the caller retries), an event is redelivered."""

    def __init__(self, matter_id: str, attempts: int) -> None:
        super().__init__(f"matter {matter_id} kept changing under us; giving up after {attempts} attempts")
        self.matter_id = matter_id


def _refusal(refused: Refused) -> DomainRefusal:
    return DomainRefusal(refused.code, refused.message)


async def submit_matter(cmd: m.SubmitMatter, *, store: RoutingStore, clock: Clock, after_commit: AfterCommit) -> dict:
    existing = await store.load_matter(cmd.matter_id)
    if existing is not None:
        return _same_submission(existing, cmd)
    directory = await store.load_directory()
    applicant = directory.person(cmd.applicant_id)
    if applicant is None:
        raise DomainRefusal("unknown_person", f"{cmd.applicant_id} is not in the org directory")
    if "bookkeeper" not in applicant.roles or applicant.village_id != cmd.village_id or not applicant.active:
        raise DomainRefusal("not_applicant", f"{cmd.applicant_id} does not keep the books of {cmd.village_id}")
    # The type's form as it stands now: its fields are checked here and its version frozen on the matter.
    matter_type = await store.load_matter_type(cmd.matter_type)
    if matter_type is None or not matter_type.active:
        raise DomainRefusal("unknown_matter_type", f"没有可申报的事项类型 {cmd.matter_type!r} (no such matter type)")
    try:
        forms.check_fields(matter_type.form, cmd.fields)
    except Refused as refused:
        raise _refusal(refused) from refused
    policy = await store.load_policy(cmd.matter_type)
    if policy is None:
        raise DomainRefusal(
            "unknown_matter_type", f"事项类型「{matter_type.name}」还没有签批路由 (no routing policy for {cmd.matter_type!r})"
        )
    try:
        route = resolve_route(policy, directory, village_id=cmd.village_id, amount_fen=cmd.amount_fen, applicant_id=cmd.applicant_id)
    except Refused as refused:
        raise _refusal(refused) from refused
    now = clock()
    stand_ins = await store.stand_ins_on(china_today(now))
    matter, effects = wf.open_matter(
        matter_id=cmd.matter_id,
        applicant_id=cmd.applicant_id,
        village_id=cmd.village_id,
        matter_type=cmd.matter_type,
        title=cmd.title,
        amount_fen=cmd.amount_fen,
        digest=cmd.digest,
        policy_version=policy.version,
        route=route,
        now=now,
        stand_ins=stand_ins,
    )
    matter.version = 1
    matter.form_version = matter_type.version
    effects.messages.append(_document_request(matter, cmd.fields, cmd.attachments, directory, policy.title, matter_type.form))

    async def work(tx: MatterTransaction) -> wf.Matter:
        racing = await tx.load_matter(cmd.matter_id)
        if racing is not None:  # the same submission arrived twice at once
            return racing
        await tx.insert_matter(matter)
        await _persist_effects(tx, matter, effects)
        return matter

    stored = await store.in_transaction(work)
    after_commit()
    return _same_submission(stored, cmd)


def _document_request(
    matter: wf.Matter,
    fields: dict,
    attachments: list[m.AttachmentRef],
    directory: Directory,
    matter_type_title: str,
    form: Form | None = None,
) -> m.RequestDocument:
    """What signing needs to render and certify the form: its content and the route with names and roles."""

    def person(person_id: str) -> m.RouteSlotPerson:
        p = directory.person(person_id)
        return m.RouteSlotPerson(person_id=person_id, name=p.name if p else person_id, roles=p.roles if p else [])

    return m.RequestDocument(
        matter_id=matter.id,
        revision=matter.revision,
        digest=matter.digest,
        title=matter.title,
        village_id=matter.village_id,
        village_name=directory.village(matter.village_id).name,
        town_name=directory.town.name,
        matter_type=matter.matter_type,
        matter_type_title=matter_type_title,
        amount_fen=matter.amount_fen,
        fields=fields,
        field_labels=forms.labels(form) if form else {},
        field_types={f.key: f.type for f in form.fields} if form else {},
        attachments=attachments,
        applicant_id=matter.applicant_id,
        applicant_name=person(matter.applicant_id).name,
        submitted_at=matter.created_at,
        route=[
            m.RouteStageSnapshot(
                number=s.number, name=s.name, mode=s.mode, seal_id=s.seal_id, assignees=[person(a.person_id) for a in s.assignees]
            )
            for s in matter.stages
        ],
    )


def _same_submission(matter: wf.Matter, cmd: m.SubmitMatter) -> dict:
    if matter.applicant_id != cmd.applicant_id or (matter.revision == 1 and matter.digest != cmd.digest):
        raise DomainRefusal("idempotency_conflict", "this matter id was already used for a different submission")
    return matter.view()


async def decide(cmd: m.Decide, *, store: RoutingStore, change: ChangeMatter, clock: Clock) -> dict:
    def apply(matter: wf.Matter) -> wf.Effects:
        return wf.decide(
            matter,
            actor_id=cmd.actor_id,
            stage_number=cmd.stage,
            decision=cmd.decision,
            comment=cmd.comment,
            digest=cmd.digest,
            now=clock(),
        )

    # Who stands in for whom today, in case this decision opens the next stage (one find).
    stand_ins = await store.stand_ins_on(china_today(clock()))
    matter = await change(cmd.matter_id, apply, stand_ins=stand_ins)
    return matter.view()


async def revise(cmd: m.ReviseMatter, *, store: RoutingStore, change: ChangeMatter, clock: Clock) -> dict:
    """A new revision is routed again with the policy version the matter was first routed with."""
    current = await store.load_matter(cmd.matter_id)
    if current is None:
        raise DomainRefusal("matter_not_found", f"no matter {cmd.matter_id}")
    if current.applicant_id != cmd.actor_id:
        raise DomainRefusal("not_applicant", "only the applicant can revise a matter")
    policy = await store.load_policy(current.matter_type, version=current.policy_version)
    if policy is None:
        raise RuntimeError(f"policy {current.matter_type} v{current.policy_version} is missing: policy versions are never deleted")
    directory = await store.load_directory()
    # A revision is checked against the form version the matter was submitted with, as it keeps its policy.
    form = None
    if current.form_version is not None:
        matter_type = await store.load_matter_type(current.matter_type, version=current.form_version)
        if matter_type is None:
            raise RuntimeError(f"form {current.matter_type} v{current.form_version} is missing: form versions are never deleted")
        form = matter_type.form
    try:
        if form is not None:
            forms.check_fields(form, cmd.fields)
        route = resolve_route(
            policy, directory, village_id=current.village_id, amount_fen=cmd.amount_fen, applicant_id=current.applicant_id
        )
    except Refused as refused:
        raise _refusal(refused) from refused

    def apply(matter: wf.Matter) -> wf.Effects:
        effects = wf.revise(
            matter, actor_id=cmd.actor_id, title=cmd.title, amount_fen=cmd.amount_fen, digest=cmd.digest, route=route, now=clock()
        )
        if effects.trail:  # a new revision (a retried request changes nothing): it gets its own sealed PDF
            effects.messages.append(_document_request(matter, cmd.fields, cmd.attachments, directory, policy.title, form))
        return effects

    stand_ins = await store.stand_ins_on(china_today(clock()))
    return (await change(cmd.matter_id, apply, stand_ins=stand_ins)).view()


async def withdraw(cmd: m.WithdrawMatter, *, change: ChangeMatter, clock: Clock) -> dict:
    def apply(matter: wf.Matter) -> wf.Effects:
        return wf.withdraw(matter, actor_id=cmd.actor_id, reason=cmd.reason, now=clock())

    return (await change(cmd.matter_id, apply)).view()


async def transfer(cmd: m.TransferTask, *, store: RoutingStore, change: ChangeMatter, clock: Clock) -> dict:
    directory = await store.load_directory()
    actor = directory.person(cmd.actor_id)
    is_admin = bool(actor and "admin" in actor.roles)

    def apply(matter: wf.Matter) -> wf.Effects:
        return wf.transfer(
            matter,
            actor_id=cmd.actor_id,
            actor_is_admin=is_admin,
            stage_number=cmd.stage,
            from_person_id=cmd.from_person_id,
            to_person_id=cmd.to_person_id,
            reason=cmd.reason,
            directory=directory,
            now=clock(),
        )

    return (await change(cmd.matter_id, apply)).view()


async def whois(query: m.WhoIs, *, store: RoutingStore) -> dict:
    directory = await store.load_directory()
    if query.role:  # who holds a role now (notify tells the 镇纪委 of an integrity alert)
        holders = [p for p in directory.people if p.active and query.role in p.roles]
        return {"role": query.role, "people": [{"id": p.id, "name": p.name, "village_id": p.village_id} for p in holders]}
    if query.village_id:
        village = directory.village(query.village_id)
        if village is None:
            raise DomainRefusal("unknown_village", f"{query.village_id} is not in the org directory")
        return {"id": village.id, "name": village.name, "active": village.active}
    person = directory.person(query.person_id)
    if person is None:
        raise DomainRefusal("unknown_person", f"{query.person_id} is not in the org directory")
    return person.model_dump()


async def on_signature_applied(event: m.SignatureApplied, *, change: ChangeMatter) -> None:
    await change(event.matter_id, lambda matter: wf.on_signature_applied(matter, event), event_id=event.event_id)


async def on_seal_applied(event: m.SealApplied, *, change: ChangeMatter) -> None:
    await change(event.matter_id, lambda matter: wf.on_seal_applied(matter, event), event_id=event.event_id)


async def on_seal_refused(event: m.SealRefused, *, change: ChangeMatter) -> None:
    await change(event.matter_id, lambda matter: wf.on_seal_refused(matter, event), event_id=event.event_id)


async def on_approval_registered(event: m.ApprovalRegistered, *, change: ChangeMatter) -> None:
    await change(event.matter_id, lambda matter: wf.on_approval_registered(matter, event), event_id=event.event_id)


async def on_deadline_set(event: m.DeadlineSet, *, change: ChangeMatter) -> None:
    await change(event.matter_id, lambda matter: wf.on_deadline_set(matter, event), event_id=event.event_id)


async def on_sla_event(event: m.ReminderDue | m.StageOverdue | m.EscalationRaised | m.UrgeIssued, *, change: ChangeMatter) -> None:
    await change(event.matter_id, lambda matter: wf.on_sla_event(matter, event), event_id=event.event_id)


# ---- changing a matter ---------------------------------------------------------------------------------


class Retry(enum.Enum):
    """Why an attempt at a change was rolled back and must run again."""

    WRITE_CONFLICT = "another writer changed the matter between our read and our write"
    NEEDS_APPROVAL_NUMBER = "the change completes the route: reserve the approval number (outside any transaction) first"


class _RollBack(Exception):
    """Raised inside the transaction only to roll it back (the claim on the event goes too); `_attempt` turns
    it back into the `Retry` it carries, so no exception leaves this module as control flow."""

    def __init__(self, retry: Retry) -> None:
        super().__init__(retry.value)
        self.retry = retry


async def change_matter(
    matter_id: str,
    apply: Callable[[wf.Matter], wf.Effects],
    *,
    event_id: str | None = None,
    stand_ins: dict[str, wf.StandIn] | None = None,
    store: RoutingStore,
    clock: Clock,
    after_commit: AfterCommit,
    reconcile_after: timedelta,
) -> wf.Matter:
    """Load, change, save with a version guard, trail and outbox — all in one transaction.

    With `event_id` the change is applied at most once however often the event is delivered. A change that
    may open a stage (a decision, a revision) passes today's `stand_ins`; the domain refuses to open one
    without them (`StandInsUnknown`), so a path that forgets fails loudly rather than skipping a delegation.
    A refusal (`Refused` from the domain) rolls everything back and reaches the caller as `DomainRefusal`;
    a lost race reruns the whole change on what is stored then, at most `MAX_ATTEMPTS` times in all.
    """
    approval_number: str | None = None  # reserved at most once, however many attempts follow
    for _ in range(MAX_ATTEMPTS):
        outcome = await _attempt(store, clock, reconcile_after, matter_id, apply, event_id, stand_ins, approval_number)
        if isinstance(outcome, wf.Matter):
            after_commit()
            return outcome
        if outcome is Retry.NEEDS_APPROVAL_NUMBER:
            directory = await store.load_directory()
            approval_number = await store.reserve_approval_number(matter_id, directory.town.approval_prefix, clock().year)
        # Retry.WRITE_CONFLICT: run the change again on what is stored now.
    raise MatterKeptChanging(matter_id, MAX_ATTEMPTS)


async def _attempt(
    store: RoutingStore,
    clock: Clock,
    reconcile_after: timedelta,
    matter_id: str,
    apply: Callable[[wf.Matter], wf.Effects],
    event_id: str | None,
    stand_ins: dict[str, wf.StandIn] | None,
    approval_number: str | None,
) -> wf.Matter | Retry:
    """One transaction: the matter as committed, or why it was rolled back and must run again."""

    async def work(tx: MatterTransaction) -> wf.Matter:
        if event_id and not await tx.claim_event(event_id):
            return await tx.load_matter(matter_id)
        matter = await tx.load_matter(matter_id)
        if matter is None:
            raise DomainRefusal("matter_not_found", f"no matter {matter_id}")
        read_version = matter.version
        matter.stand_ins = stand_ins
        try:
            effects = apply(matter)
        except Refused as refused:
            raise _refusal(refused) from refused
        if not effects.trail and not effects.messages:
            return matter
        now = clock()
        seal_requests = [msg for msg in effects.messages if isinstance(msg, m.RequestSeal)]
        if seal_requests:  # the seal checks the approvers' roles; the directory knows them
            directory = await store.load_directory()
            for request in seal_requests:
                request.triggered_by_roles = sorted(
                    {role for pid in request.triggered_by for role in (directory.person(pid).roles if directory.person(pid) else [])}
                )
        if effects.route_approved:
            if approval_number is None:
                raise _RollBack(Retry.NEEDS_APPROVAL_NUMBER)
            wf.register_route_approval(matter, approval_number, now, effects)
            matter.stalled_check_at = now + reconcile_after
        wf.track_requests(matter, effects.messages)
        matter.version = read_version + 1
        matter.updated_at = now
        if not await tx.replace_matter(matter, read_version=read_version):
            raise _RollBack(Retry.WRITE_CONFLICT)
        await _persist_effects(tx, matter, effects)
        return matter

    try:
        return await store.in_transaction(work)
    except _RollBack as rolled_back:
        return rolled_back.retry


async def _persist_effects(tx: MatterTransaction, matter: wf.Matter, effects: wf.Effects) -> None:
    if effects.trail:
        await tx.append_trail(effects.trail)
    update = m.MatterUpdated(matter_id=matter.id, version=matter.version, matter=matter.view(), new_trail_entries=effects.trail)
    await tx.stage([*effects.messages, update, *trailhead.closing_messages(matter, effects)])
