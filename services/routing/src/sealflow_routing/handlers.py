"""routing's handlers: one async function per request or event, each one transaction with its outbox."""

from collections.abc import Callable
from datetime import timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.inbox import claim_event
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime

from sealflow_routing import trailhead
from sealflow_routing.absences import china_today, stand_ins_today
from sealflow_routing.adapters import admin_store, store
from sealflow_routing.domain import forms
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory, resolve_route
from sealflow_routing.domain.errors import Refused
from sealflow_routing.domain.forms import Form

CONSUMER = "routing"
MAX_ATTEMPTS = 8


class _VersionConflict(Exception):
    """Another replica changed the matter between our read and our write: run the change again."""


class _NeedsApprovalNumber(Exception):
    """The change completes the route: reserve the approval number (outside the transaction), then rerun."""


def _refusal(refused: Refused) -> DomainRefusal:
    return DomainRefusal(refused.code, refused.message)


async def submit_matter(rt: Runtime, cmd: m.SubmitMatter) -> dict:
    existing = await store.load_matter(rt.db, cmd.matter_id)
    if existing is not None:
        return _same_submission(existing, cmd)
    directory = await store.load_directory(rt.db)
    applicant = directory.person(cmd.applicant_id)
    if applicant is None:
        raise DomainRefusal("unknown_person", f"{cmd.applicant_id} is not in the org directory")
    if "bookkeeper" not in applicant.roles or applicant.village_id != cmd.village_id or not applicant.active:
        raise DomainRefusal("not_applicant", f"{cmd.applicant_id} does not keep the books of {cmd.village_id}")
    # The type's form as it stands now: its fields are checked here and its version frozen on the matter.
    matter_type = await admin_store.load_matter_type(rt.db, cmd.matter_type)
    if matter_type is None or not matter_type.active:
        raise DomainRefusal("unknown_matter_type", f"没有可申报的事项类型 {cmd.matter_type!r} (no such matter type)")
    try:
        forms.check_fields(matter_type.form, cmd.fields)
    except Refused as refused:
        raise _refusal(refused) from refused
    policy = await store.load_policy(rt.db, cmd.matter_type)
    if policy is None:
        raise DomainRefusal(
            "unknown_matter_type", f"事项类型「{matter_type.name}」还没有签批路由 (no routing policy for {cmd.matter_type!r})"
        )
    try:
        route = resolve_route(policy, directory, village_id=cmd.village_id, amount_fen=cmd.amount_fen, applicant_id=cmd.applicant_id)
    except Refused as refused:
        raise _refusal(refused) from refused
    now = m.utcnow()
    stand_ins = await stand_ins_today(rt.db, china_today(now))
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

    async def work(session: AsyncClientSession) -> wf.Matter:
        racing = await store.load_matter(rt.db, cmd.matter_id, session)
        if racing is not None:  # the same submission arrived twice at once
            return racing
        await rt.db.matters.insert_one(store.matter_document(matter), session=session)
        await _persist_effects(rt, session, matter, effects)
        return matter

    stored = await in_transaction(rt.client, work)
    rt.relay.wake()
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


async def decide(rt: Runtime, cmd: m.Decide) -> dict:
    def apply(matter: wf.Matter) -> wf.Effects:
        return wf.decide(
            matter,
            actor_id=cmd.actor_id,
            stage_number=cmd.stage,
            decision=cmd.decision,
            comment=cmd.comment,
            digest=cmd.digest,
            now=m.utcnow(),
        )

    # Who stands in for whom today, in case this decision opens the next stage (one find).
    stand_ins = await stand_ins_today(rt.db, china_today(m.utcnow()))
    matter = await change_matter(rt, cmd.matter_id, apply, stand_ins=stand_ins)
    return matter.view()


async def revise(rt: Runtime, cmd: m.ReviseMatter) -> dict:
    """A new revision is routed again with the policy version the matter was first routed with."""
    current = await store.load_matter(rt.db, cmd.matter_id)
    if current is None:
        raise DomainRefusal("matter_not_found", f"no matter {cmd.matter_id}")
    if current.applicant_id != cmd.actor_id:
        raise DomainRefusal("not_applicant", "only the applicant can revise a matter")
    policy = await store.load_policy(rt.db, current.matter_type, version=current.policy_version)
    if policy is None:
        raise RuntimeError(f"policy {current.matter_type} v{current.policy_version} is missing: policy versions are never deleted")
    directory = await store.load_directory(rt.db)
    # A revision is checked against the form version the matter was submitted with, as it keeps its policy.
    form = None
    if current.form_version is not None:
        matter_type = await admin_store.load_matter_type(rt.db, current.matter_type, version=current.form_version)
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
            matter, actor_id=cmd.actor_id, title=cmd.title, amount_fen=cmd.amount_fen, digest=cmd.digest, route=route, now=m.utcnow()
        )
        if effects.trail:  # a new revision (a retried request changes nothing): it gets its own sealed PDF
            effects.messages.append(_document_request(matter, cmd.fields, cmd.attachments, directory, policy.title, form))
        return effects

    stand_ins = await stand_ins_today(rt.db, china_today(m.utcnow()))
    return (await change_matter(rt, cmd.matter_id, apply, stand_ins=stand_ins)).view()


async def withdraw(rt: Runtime, cmd: m.WithdrawMatter) -> dict:
    def apply(matter: wf.Matter) -> wf.Effects:
        return wf.withdraw(matter, actor_id=cmd.actor_id, reason=cmd.reason, now=m.utcnow())

    return (await change_matter(rt, cmd.matter_id, apply)).view()


async def transfer(rt: Runtime, cmd: m.TransferTask) -> dict:
    directory = await store.load_directory(rt.db)
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
            now=m.utcnow(),
        )

    return (await change_matter(rt, cmd.matter_id, apply)).view()


async def whois(rt: Runtime, query: m.WhoIs) -> dict:
    directory = await store.load_directory(rt.db)
    if query.village_id:
        village = directory.village(query.village_id)
        if village is None:
            raise DomainRefusal("unknown_village", f"{query.village_id} is not in the org directory")
        return {"id": village.id, "name": village.name, "active": village.active}
    person = directory.person(query.person_id)
    if person is None:
        raise DomainRefusal("unknown_person", f"{query.person_id} is not in the org directory")
    return person.model_dump()


async def on_signature_applied(rt: Runtime, event: m.SignatureApplied) -> None:
    await change_matter(rt, event.matter_id, lambda matter: wf.on_signature_applied(matter, event), event_id=event.event_id)


async def on_seal_applied(rt: Runtime, event: m.SealApplied) -> None:
    await change_matter(rt, event.matter_id, lambda matter: wf.on_seal_applied(matter, event), event_id=event.event_id)


async def on_seal_refused(rt: Runtime, event: m.SealRefused) -> None:
    await change_matter(rt, event.matter_id, lambda matter: wf.on_seal_refused(matter, event), event_id=event.event_id)


async def on_approval_registered(rt: Runtime, event: m.ApprovalRegistered) -> None:
    await change_matter(rt, event.matter_id, lambda matter: wf.on_approval_registered(matter, event), event_id=event.event_id)


async def on_deadline_set(rt: Runtime, event: m.DeadlineSet) -> None:
    await change_matter(rt, event.matter_id, lambda matter: wf.on_deadline_set(matter, event), event_id=event.event_id)


async def on_sla_event(rt: Runtime, event: m.ReminderDue | m.StageOverdue | m.EscalationRaised | m.UrgeIssued) -> None:
    await change_matter(rt, event.matter_id, lambda matter: wf.on_sla_event(matter, event), event_id=event.event_id)


async def change_matter(
    rt: Runtime,
    matter_id: str,
    apply: Callable[[wf.Matter], wf.Effects],
    *,
    event_id: str | None = None,
    stand_ins: dict[str, wf.StandIn] | None = None,
) -> wf.Matter:
    """Load, change, save with a version guard, trail and outbox — all in one transaction.

    With `event_id` the change is applied at most once however often the event is delivered. A change that
    may open a stage (a decision, a revision) passes today's `stand_ins`; the domain refuses to open one
    without them (`StandInsUnknown`), so a path that forgets fails loudly rather than skipping a delegation.
    """
    reserved: dict[str, str] = {}
    for _ in range(MAX_ATTEMPTS):

        async def work(session: AsyncClientSession) -> wf.Matter:
            if event_id and not await claim_event(rt.db, session, event_id, CONSUMER):
                return await store.load_matter(rt.db, matter_id, session)
            matter = await store.load_matter(rt.db, matter_id, session)
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
            now = m.utcnow()
            seal_requests = [msg for msg in effects.messages if isinstance(msg, m.RequestSeal)]
            if seal_requests:  # the seal checks the approvers' roles; the directory knows them
                directory = await store.load_directory(rt.db)
                for request in seal_requests:
                    request.triggered_by_roles = sorted(
                        {role for pid in request.triggered_by for role in (directory.person(pid).roles if directory.person(pid) else [])}
                    )
            if effects.route_approved:
                if "number" not in reserved:
                    raise _NeedsApprovalNumber()
                wf.register_route_approval(matter, reserved["number"], now, effects)
                matter.stalled_check_at = now + timedelta(seconds=rt.settings.reconcile_after_seconds)
            wf.track_requests(matter, effects.messages)
            matter.version = read_version + 1
            matter.updated_at = now
            saved = await rt.db.matters.replace_one(
                {"_id": matter_id, "version": read_version}, store.matter_document(matter), session=session
            )
            if saved.modified_count != 1:
                raise _VersionConflict()
            await _persist_effects(rt, session, matter, effects)
            return matter

        try:
            matter = await in_transaction(rt.client, work)
        except _VersionConflict:
            continue
        except _NeedsApprovalNumber:
            directory = await store.load_directory(rt.db)
            prefix, year = directory.town.approval_prefix, m.utcnow().year
            reserved["number"] = await store.reserve_approval_number(rt.db, matter_id, prefix, year)
            continue
        rt.relay.wake()
        return matter
    raise RuntimeError(f"matter {matter_id} kept changing under us; giving up after {MAX_ATTEMPTS} attempts")


async def _persist_effects(rt: Runtime, session: AsyncClientSession, matter: wf.Matter, effects: wf.Effects) -> None:
    if effects.trail:
        await rt.db.trail.insert_many([{"_id": f"{e['matter_id']}:{e['seq']}", **e} for e in effects.trail], session=session)
    update = m.MatterUpdated(matter_id=matter.id, version=matter.version, matter=matter.view(), new_trail_entries=effects.trail)
    await stage_messages(rt.db, session, [*effects.messages, update, *trailhead.closing_messages(matter, effects)])
