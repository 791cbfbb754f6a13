"""A matter's workflow: strict stage order, authority checks, signature and seal requests, the trail.

Pure: every operation mutates the `Matter` it is given and returns the `Effects` to persist and publish.
"""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sealflow_contracts import messages as m
from sealflow_contracts.chain import GENESIS_HASH, trail_entry_hash

from sealflow_routing.domain.directory import Directory, ResolvedStage, same_authority
from sealflow_routing.domain.errors import Refused

SYSTEM = "system"


class StandIn(BaseModel):
    """A registered absence in force today: `stand_in_id` takes `person_id`'s tasks in stages that open
    until `ends_on` (inclusive, China date)."""

    absence_id: str
    person_id: str
    stand_in_id: str
    ends_on: date


class StandInsUnknown(Exception):
    """A stage is opening and the matter was not told who stands in for whom today: load that, then rerun."""


class Assignee(BaseModel):
    person_id: str
    decision: Literal["approve", "return", "reject"] | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    role: str | None = None  # the slot's authority, which a transfer must match
    role_village_id: str | None = None  # None: a town role
    cancelled_at: datetime | None = None  # an any-of stage closed before this slot decided
    transferred_from: list[str] = []  # earlier holders of this slot (转办), oldest first


class Stage(BaseModel):
    number: int
    name: str
    mode: Literal["all", "any", "sequence"]
    status: Literal["waiting", "open", "done", "cancelled"] = "waiting"
    deadline_working_days: int
    deadline: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    seal_id: str | None = None
    assignees: list[Assignee]

    def waiting_on(self) -> list[str]:
        """Who holds this stage's task now, in slot order: while it is open, every slot not yet decided and
        not cancelled (a transfer or a stand-in has already put the new holder in the slot); in a sequence,
        only the first of them. Anything but an open stage holds nobody."""
        if self.status != "open":
            return []
        undecided = [a.person_id for a in self.assignees if a.decision is None and a.cancelled_at is None]
        return undecided[:1] if self.mode == "sequence" else undecided


class SealUse(BaseModel):
    seal_id: str
    stage: int
    applied_at: datetime
    seal_use_id: str
    revision: int = 1
    superseded: bool = False  # made for a revision that was later returned and revised


class SignatureRef(BaseModel):
    seq: int
    stage: int
    signer_id: str
    signature_hash: str
    signed_at: datetime
    revision: int = 1
    superseded: bool = False


class PastRevision(BaseModel):
    """A revision that came back: its document and how far its signers got, kept as it was."""

    revision: int
    digest: str
    title: str
    amount_fen: int
    stages: list[Stage]


INTERNAL_FIELDS = {
    "chain_seq", "trail_seq", "trail_head", "pending_approval_number", "revision_first_seq", "approval_registered_at",
    "outstanding", "stalled_check_at", "reissues",
}  # fmt: skip


class Matter(BaseModel):
    id: str
    version: int = 0
    revision: int = 1
    status: Literal["in_review", "returned", "rejected", "withdrawn", "completed"] = "in_review"
    village_id: str
    matter_type: str
    title: str
    amount_fen: int
    applicant_id: str
    digest: str
    policy_version: int
    # The matter type's form version its fields were checked against (issue 13), kept for its revisions;
    # None for matters submitted before forms were data.
    form_version: int | None = None
    current_stage: int | None = None
    approval_number: str | None = None
    pending_approval_number: str | None = None
    approval_registered_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    stages: list[Stage]
    seals: list[SealUse] = []
    signatures: list[SignatureRef] = []
    previous_revisions: list[PastRevision] = []
    chain_seq: int = 0  # acts (signatures + seals) requested so far: the next act's place in the chain
    revision_first_seq: int = 1  # the current revision's first act in the chain (earlier ones are superseded)
    trail_seq: int = 0
    trail_head: str = GENESIS_HASH
    # Requests to signing not yet confirmed (acts, approval), kept so the reconciler can send them again.
    outstanding: list[dict[str, Any]] = []
    # Route approved, matter not yet completed: when the reconciler next looks whether it is stalled.
    stalled_check_at: datetime | None = None
    reissues: int = 0
    # Absences in force today, by absent person: given by the handler when a stage may open; never stored.
    stand_ins: dict[str, StandIn] | None = Field(default=None, exclude=True)

    def view(self) -> dict[str, Any]:
        """What clients see; internal counters stay here. Each stage carries `waiting_on` (who holds its
        task now, see `Stage.waiting_on`), so that no reader works it out again from the slots."""
        shown = self.model_dump(mode="json", exclude=INTERNAL_FIELDS)
        for stage, stage_shown in zip(self.stages, shown["stages"], strict=True):
            stage_shown["waiting_on"] = stage.waiting_on()
        return shown

    def stage(self, number: int) -> Stage | None:
        return self.stages[number - 1] if 1 <= number <= len(self.stages) else None

    def earlier_signers(self) -> list[str]:
        """Who approved in this revision so far, in stage order."""
        return [a.person_id for s in self.stages for a in s.assignees if a.decision == "approve"]

    def waiting_on(self) -> list[str]:
        """Who holds a task now: the current stage's holders (`Stage.waiting_on`)."""
        stage = self.stage(self.current_stage) if self.current_stage else None
        return stage.waiting_on() if stage else []


class Effects(BaseModel):
    trail: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[m.Envelope] = Field(default_factory=list)
    route_approved: bool = False

    def record(self, matter: Matter, type_: str, actor_id: str, at: datetime, data: dict[str, Any]) -> None:
        """Append a trail entry chained to the matter's head."""
        matter.trail_seq += 1
        entry = {
            "matter_id": matter.id,
            "seq": matter.trail_seq,
            "type": type_,
            "at": at.isoformat(),
            "actor_id": actor_id,
            "data": data,
            "prev_hash": matter.trail_head,
        }
        entry["hash"] = trail_entry_hash(entry)
        matter.trail_head = entry["hash"]
        self.trail.append(entry)


def open_matter(
    *,
    matter_id: str,
    applicant_id: str,
    village_id: str,
    matter_type: str,
    title: str,
    amount_fen: int,
    digest: str,
    policy_version: int,
    route: list[ResolvedStage],
    now: datetime,
    stand_ins: dict[str, StandIn],
) -> tuple[Matter, Effects]:
    matter = Matter(
        id=matter_id,
        village_id=village_id,
        matter_type=matter_type,
        title=title,
        amount_fen=amount_fen,
        applicant_id=applicant_id,
        digest=digest,
        policy_version=policy_version,
        created_at=now,
        updated_at=now,
        stages=_fresh_stages(route),
        stand_ins=stand_ins,
    )
    effects = Effects()
    effects.record(
        matter,
        "matter.submitted",
        applicant_id,
        now,
        {
            "revision": 1,
            "digest": digest,
            "matter_type": matter_type,
            "village_id": village_id,
            "title": title,
            "amount_fen": amount_fen,
            "policy_version": policy_version,
            "route": _route_record(route),
        },
    )
    _open_stage(matter, 1, now, effects)
    return matter, effects


def _fresh_stages(route: list[ResolvedStage]) -> list[Stage]:
    def slot(s: ResolvedStage, i: int, person_id: str) -> Assignee:
        role, village = s.authorities[i] if i < len(s.authorities) else (None, None)
        return Assignee(person_id=person_id, role=role, role_village_id=village)

    return [
        Stage(
            number=s.number,
            name=s.name,
            mode=s.mode,
            deadline_working_days=s.deadline_working_days,
            seal_id=s.seal_id,
            assignees=[slot(s, i, p) for i, p in enumerate(s.assignees)],
        )
        for s in route
    ]


def _route_record(route: list[ResolvedStage]) -> list[dict[str, Any]]:
    return [{"stage": s.number, "name": s.name, "mode": s.mode, "assignees": s.assignees, "seal_id": s.seal_id} for s in route]


def decide(
    matter: Matter,
    *,
    actor_id: str,
    stage_number: int,
    decision: Literal["approve", "return", "reject"],
    comment: str,
    digest: str,
    now: datetime,
) -> Effects:
    """Apply one signer's decision, or refuse it without changing anything."""
    if actor_id == matter.applicant_id:
        raise Refused("self_approval", "the applicant cannot decide on their own matter")
    stage = matter.stage(stage_number)
    slot = next((a for a in stage.assignees if a.person_id == actor_id), None) if stage else None
    if slot is None:
        raise Refused("not_assignee", f"{actor_id} is not an assignee of stage {stage_number}")
    if matter.status != "in_review":
        raise Refused("matter_closed", f"the matter is {matter.status}")
    if slot.decision is not None:
        raise Refused("already_decided", f"{actor_id} already decided on stage {stage_number}")
    if slot.cancelled_at is not None:
        raise Refused("task_cancelled", f"stage {stage_number} was closed by another assignee's approval; nothing is left to decide")
    if stage.status != "open":
        raise Refused("not_your_turn", f"stage {stage_number} is {stage.status}; the open stage is {matter.current_stage}")
    if stage.mode == "sequence":
        first_undecided = next(a for a in stage.assignees if a.decision is None)
        if first_undecided.person_id != actor_id:
            raise Refused("not_your_turn", f"stage {stage_number} is signed in sequence; {first_undecided.person_id} signs first")
    if digest != matter.digest:
        raise Refused("stale_digest", "the document changed since you read it; reload and decide again")
    if decision in ("return", "reject") and not comment.strip():
        raise Refused("reason_required", f"a {decision} needs a reason in the comment")

    effects = Effects()
    slot.decision, slot.decided_at, slot.comment = decision, now, comment
    effects.record(matter, f"decision.{decision}", actor_id, now, {"stage": stage_number, "comment": comment, "digest": digest})

    if decision == "approve":
        matter.chain_seq += 1
        effects.messages.append(
            m.RequestSignature(
                matter_id=matter.id,
                revision=matter.revision,
                seq=matter.chain_seq,
                stage=stage_number,
                signer_id=actor_id,
                decision="approve",
                comment=comment,
                digest=matter.digest,
                decided_at=now,
            )
        )
        if stage.mode == "any" or all(a.decision == "approve" for a in stage.assignees):
            _cancel_undecided(matter, stage, actor_id, now, effects)
            _complete_stage(matter, stage, now, effects)
        elif stage.mode == "sequence":
            _tell(matter, stage, matter.waiting_on(), effects)  # the next in line's turn has come
    else:
        turn: Literal["returned", "rejected"] = "returned" if decision == "return" else "rejected"
        # Told: the applicant, everyone who signed this revision, and whoever still held a task.
        told = _people(matter.applicant_id, *matter.earlier_signers(), *matter.waiting_on(), without=actor_id)
        _close_matter(matter, turn, actor_id, now, effects)
        _announce(matter, effects, turn, actor_id, told, stage=stage_number, reason=comment)
    return effects


def withdraw(matter: Matter, *, actor_id: str, reason: str, now: datetime) -> Effects:
    """The applicant pulls the matter back before it completes; the signers so far and the task holders are told."""
    if actor_id != matter.applicant_id:
        raise Refused("not_applicant", "only the applicant can withdraw a matter")
    if matter.status not in ("in_review", "returned") or matter.pending_approval_number:
        raise Refused(
            "matter_closed",
            f"the matter is {matter.status if not matter.pending_approval_number else 'approved'}; it can no longer be withdrawn",
        )
    effects = Effects()
    told = _people(*matter.earlier_signers(), *matter.waiting_on(), without=actor_id)
    _close_matter(matter, "withdrawn", actor_id, now, effects, reason=reason)
    _announce(matter, effects, "withdrawn", actor_id, told, reason=reason)
    return effects


def revise(
    matter: Matter, *, actor_id: str, title: str, amount_fen: int, digest: str, route: list[ResolvedStage], now: datetime
) -> Effects:
    """A returned matter comes back as a new revision: new digest, fresh slots, approval from stage 1.

    The old revision's decisions and signatures stay where they are (trail, `previous_revisions`),
    marked superseded. Asking again for the revision just made changes nothing (a retried request).
    """
    if actor_id != matter.applicant_id:
        raise Refused("not_applicant", "only the applicant can revise a matter")
    if matter.status == "in_review" and matter.revision > 1 and digest == matter.digest:
        return Effects()
    if matter.status != "returned":
        raise Refused("not_returned", f"only a returned matter can be revised; this one is {matter.status}")
    if digest == matter.digest:
        raise Refused("unchanged_document", "the revision is identical to the returned document; change what was asked for")
    effects = Effects()
    returned_by = [a.person_id for s in matter.stages for a in s.assignees if a.decision == "return"]
    matter.previous_revisions.append(
        PastRevision(revision=matter.revision, digest=matter.digest, title=matter.title, amount_fen=matter.amount_fen, stages=matter.stages)
    )
    for act in [*matter.signatures, *matter.seals]:
        if act.revision == matter.revision:
            act.superseded = True
    effects.record(
        matter,
        "revision.superseded",
        actor_id,
        now,
        {
            "revision": matter.revision,
            "digest": matter.digest,
            # Every act requested for this revision, applied yet or not (signing's replies may still be on their way).
            "acts": list(range(matter.revision_first_seq, matter.chain_seq + 1)),
            "decisions": [
                {"stage": s.number, "person_id": a.person_id, "decision": a.decision}
                for s in matter.stages
                for a in s.assignees
                if a.decision
            ],
        },
    )
    matter.revision += 1
    matter.revision_first_seq = matter.chain_seq + 1
    matter.digest, matter.title, matter.amount_fen = digest, title, amount_fen
    matter.stages = _fresh_stages(route)
    matter.status = "in_review"
    effects.record(
        matter,
        "matter.revised",
        actor_id,
        now,
        {"revision": matter.revision, "digest": digest, "title": title, "amount_fen": amount_fen, "route": _route_record(route)},
    )
    _open_stage(matter, 1, now, effects)
    _announce(matter, effects, "revised", actor_id, _people(*returned_by, without=actor_id))
    return effects


def transfer(
    matter: Matter,
    *,
    actor_id: str,
    actor_is_admin: bool,
    stage_number: int,
    from_person_id: str | None,
    to_person_id: str,
    reason: str,
    directory: Directory,
    now: datetime,
) -> Effects:
    """转办: an undecided slot of the open stage passes to someone with the same role authority."""
    holder = from_person_id or actor_id
    if holder != actor_id and not actor_is_admin:
        raise Refused("forbidden", "only the administrator can reassign someone else's task")
    stage = matter.stage(stage_number)
    slot = next((a for a in stage.assignees if a.person_id == holder), None) if stage else None
    if slot is None:
        raise Refused("not_assignee", f"{holder} is not an assignee of stage {stage_number}")
    if matter.status != "in_review":
        raise Refused("matter_closed", f"the matter is {matter.status}")
    if slot.decision is not None:
        raise Refused("already_decided", f"{holder} already decided on stage {stage_number}; a decided task cannot be transferred")
    if stage.status != "open" or slot.cancelled_at is not None:
        raise Refused("not_your_turn", f"stage {stage_number} is not open; only the open stage's tasks can be transferred")
    if not reason.strip():
        raise Refused("reason_required", "a transfer needs a reason")
    if to_person_id == matter.applicant_id:
        raise Refused("self_approval", "the applicant cannot sign their own matter")
    if any(a.person_id == to_person_id for s in matter.stages for a in s.assignees):
        raise Refused("route_conflict", f"{to_person_id} already fills a slot of this matter; one person never fills two")
    if not same_authority(directory, slot.role, slot.role_village_id, to_person_id):
        where = f"in {slot.role_village_id}" if slot.role_village_id else "in the town"
        raise Refused("not_same_authority", f"{to_person_id} does not hold the role {slot.role!r} {where} that this task needs")
    had_turn = holder in matter.waiting_on()
    slot.transferred_from.append(holder)
    slot.person_id = to_person_id
    effects = Effects()
    effects.record(matter, "task.transferred", actor_id, now, {"stage": stage_number, "from": holder, "to": to_person_id, "reason": reason})
    if had_turn:
        _tell(matter, stage, [to_person_id], effects)
    _announce(
        matter, effects, "task_transferred", actor_id, _people(holder, to_person_id), stage=stage_number, reason=reason,
        from_person_id=holder, to_person_id=to_person_id,
    )  # fmt: skip
    return effects


def register_route_approval(matter: Matter, approval_number: str, now: datetime, effects: Effects) -> None:
    """The last stage is done: ask signing to register the approval once every act is signed."""
    matter.pending_approval_number = approval_number
    effects.messages.append(
        m.RegisterApproval(
            matter_id=matter.id,
            revision=matter.revision,
            approval_number=approval_number,
            digest=matter.digest,
            final_seq=matter.chain_seq,
        )
    )
    effects.record(matter, "approval.requested", SYSTEM, now, {"approval_number": approval_number, "acts": matter.chain_seq})


SIGNING_REQUESTS: dict[str, type[m.Envelope]] = {"signature": m.RequestSignature, "seal": m.RequestSeal, "approval": m.RegisterApproval}


def track_requests(matter: Matter, messages: list[m.Envelope]) -> None:
    """Remember what was asked of signing until it confirms, so a request lost on the way can be sent again."""
    for msg in messages:
        kind = next((k for k, model in SIGNING_REQUESTS.items() if isinstance(msg, model)), None)
        if kind and not msg.reissued:  # a reissue sends what is already remembered
            matter.outstanding.append({"kind": kind, "seq": getattr(msg, "seq", None), "body": msg.model_dump(mode="json")})


def _confirmed(matter: Matter, *, act_seq: int | None = None, approval: bool = False) -> None:
    matter.outstanding = [
        r for r in matter.outstanding if not ((approval and r["kind"] == "approval") or (act_seq is not None and r["seq"] == act_seq))
    ]


def reissue_stalled(matter: Matter, now: datetime, next_check: datetime) -> Effects:
    """The route was approved long ago and the matter is still not complete: send signing every request it
    has not confirmed again (each is idempotent there), and say so in the trail."""
    effects = Effects()
    if matter.status != "in_review" or matter.stalled_check_at is None or matter.stalled_check_at > now:
        return effects  # completed meanwhile, or another replica just did it
    matter.stalled_check_at = next_check
    matter.reissues += 1
    for request in matter.outstanding:
        body = {**request["body"], "event_id": m.new_id(), "occurred_at": now.isoformat(), "reissued": True}
        effects.messages.append(SIGNING_REQUESTS[request["kind"]].model_validate(body))
    effects.record(
        matter,
        "reconcile.reissued",
        SYSTEM,
        now,
        {
            "acts": sorted(r["seq"] for r in matter.outstanding if r["seq"] is not None),
            "approval": any(r["kind"] == "approval" for r in matter.outstanding),
            "attempt": matter.reissues,
        },
    )
    return effects


def on_signature_applied(matter: Matter, event: m.SignatureApplied) -> Effects:
    effects = Effects()
    if any(s.seq == event.seq for s in matter.signatures):
        return effects  # announced again after a reissue: applied once
    _confirmed(matter, act_seq=event.seq)
    matter.signatures.append(
        SignatureRef(
            seq=event.seq,
            stage=event.stage,
            signer_id=event.signer_id,
            signature_hash=event.signature_hash,
            signed_at=event.signed_at,
            revision=event.revision,
            superseded=event.revision < matter.revision,  # signed after its revision was already returned
        )
    )
    effects.record(
        matter,
        "signature.applied",
        event.signer_id,
        event.signed_at,
        {"seq": event.seq, "stage": event.stage, "signature_hash": event.signature_hash},
    )
    _complete_when_sealed(matter, effects)
    return effects


def on_seal_applied(matter: Matter, event: m.SealApplied) -> Effects:
    effects = Effects()
    if any(s.seal_use_id == event.seal_use_id for s in matter.seals):
        return effects  # announced again after a reissue: applied once
    _confirmed(matter, act_seq=event.seq)
    matter.seals.append(
        SealUse(
            seal_id=event.seal_id,
            stage=event.stage,
            applied_at=event.applied_at,
            seal_use_id=event.seal_use_id,
            revision=event.revision,
            superseded=event.revision < matter.revision,
        )
    )
    effects.record(
        matter,
        "seal.applied",
        SYSTEM,
        event.applied_at,
        {
            "seq": event.seq,
            "stage": event.stage,
            "seal_id": event.seal_id,
            "seal_use_id": event.seal_use_id,
            "signature_hash": event.signature_hash,
        },
    )
    _complete_when_sealed(matter, effects)
    return effects


def on_seal_refused(matter: Matter, event: m.SealRefused) -> Effects:
    """signing refused a seal (validity window, role): the trail says why; operators see the dead letter."""
    effects = Effects()
    effects.record(
        matter, "seal.refused", SYSTEM, event.occurred_at, {"stage": event.stage, "seal_id": event.seal_id, "reason": event.reason}
    )
    return effects


def on_approval_registered(matter: Matter, event: m.ApprovalRegistered) -> Effects:
    effects = Effects()
    if matter.approval_registered_at is not None:
        return effects  # announced again after a reissue: applied once
    _confirmed(matter, approval=True)
    matter.approval_registered_at = event.registered_at
    effects.record(matter, "approval.registered", SYSTEM, event.registered_at, {"approval_number": event.approval_number})
    _complete_when_sealed(matter, effects)
    return effects


def _complete_when_sealed(matter: Matter, effects: Effects) -> None:
    """Completed means: the approval is registered and every act's confirmation has reached the trail,
    whatever order the events arrived in — so the trail never shows a signature after completion."""
    acts_recorded = sum(not act.superseded for act in [*matter.signatures, *matter.seals])
    acts_requested = matter.chain_seq - matter.revision_first_seq + 1
    if matter.status != "in_review" or matter.approval_registered_at is None or acts_recorded < acts_requested:
        return
    matter.status = "completed"
    matter.approval_number = matter.pending_approval_number
    matter.stalled_check_at = None
    effects.record(matter, "matter.completed", SYSTEM, matter.approval_registered_at, {"approval_number": matter.approval_number})
    effects.messages.append(
        m.MatterCompleted(matter_id=matter.id, approval_number=matter.approval_number, applicant_id=matter.applicant_id, title=matter.title)
    )


def on_deadline_set(matter: Matter, event: m.DeadlineSet) -> Effects:
    effects = Effects()
    stage = matter.stage(event.stage)
    if stage is None or event.revision != matter.revision:
        return effects
    stage.deadline = event.due_at
    effects.record(matter, "deadline.set", SYSTEM, event.occurred_at, {"stage": event.stage, "due_at": event.due_at.isoformat()})
    return effects


def on_sla_event(matter: Matter, event: m.ReminderDue | m.StageOverdue | m.EscalationRaised | m.UrgeIssued) -> Effects:
    """sla-monitor's timers and a supervisor's 督办 go into the trail while the stage they concern is open."""
    effects = Effects()
    stage = matter.stage(event.stage)
    if stage is None or stage.status != "open" or getattr(event, "revision", matter.revision) != matter.revision:
        return effects  # signed meanwhile: the timer raced the signature, nothing to record
    if isinstance(event, m.UrgeIssued):
        data = {"stage": event.stage, "holders": event.holders, "message": event.message}
        effects.record(matter, "supervision.urged", event.supervisor_id, event.occurred_at, data)
        return effects
    data = {"stage": event.stage, "holders": event.holders, "due_at": event.due_at.isoformat()}
    if isinstance(event, m.ReminderDue):
        effects.record(matter, "sla.reminder", SYSTEM, event.occurred_at, data | {"point": event.point})
    elif isinstance(event, m.StageOverdue):
        effects.record(matter, "sla.overdue", SYSTEM, event.occurred_at, data)
    else:
        extra = {"level": event.level, "supervisors": event.supervisors, "accountability_id": event.accountability_id}
        effects.record(matter, "sla.escalated", SYSTEM, event.occurred_at, data | extra)
    return effects


def _open_stage(matter: Matter, number: int, now: datetime, effects: Effects) -> None:
    if matter.stand_ins is None:
        raise StandInsUnknown()
    stage = matter.stages[number - 1]
    for slot in stage.assignees:
        if slot.decision is None and slot.cancelled_at is None and slot.person_id in matter.stand_ins:
            _delegate(matter, stage, slot, matter.stand_ins[slot.person_id], now, effects)
    stage.status, stage.opened_at = "open", now
    matter.current_stage = number
    assignees = [a.person_id for a in stage.assignees]
    effects.record(matter, "stage.opened", SYSTEM, now, {"stage": number, "name": stage.name, "assignees": assignees})
    effects.messages.append(
        m.StageOpened(
            matter_id=matter.id,
            revision=matter.revision,
            stage=number,
            name=stage.name,
            assignees=assignees,
            deadline_working_days=stage.deadline_working_days,
            opened_at=now,
            village_id=matter.village_id,
            title=matter.title,
            matter_type=matter.matter_type,
        )
    )
    # In a sequence stage only the first signer holds a task; the next is told when their turn comes.
    _tell(matter, stage, matter.waiting_on(), effects)


def _delegate(matter: Matter, stage: Stage, slot: Assignee, stand_in: StandIn, now: datetime, effects: Effects) -> None:
    """The slot's holder is away: their stand-in (checked for the same authority when registered) holds it,
    unless that would break separation of duties — then the holder keeps it and the trail says why."""
    away, to = slot.person_id, stand_in.stand_in_id
    if to == matter.applicant_id:
        conflict = "the stand-in is the applicant"
    elif any(a.person_id == to for s in matter.stages for a in s.assignees):
        conflict = "the stand-in already fills a slot of this matter"
    else:
        conflict = ""
    data = {"stage": stage.number, "from": away, "to": to, "absence_id": stand_in.absence_id, "until": stand_in.ends_on.isoformat()}
    if conflict:
        effects.record(matter, "delegation.skipped", SYSTEM, now, {**data, "reason": conflict})
        return
    slot.transferred_from.append(away)
    slot.person_id = to
    effects.record(matter, "task.delegated", SYSTEM, now, data)
    _announce(
        matter, effects, "task_delegated", SYSTEM, _people(away, to), stage=stage.number,
        reason=f"{away} 不在岗，至 {stand_in.ends_on.isoformat()}", from_person_id=away, to_person_id=to,
    )  # fmt: skip


def _tell(matter: Matter, stage: Stage, people: list[str], effects: Effects) -> None:
    for person_id in people:
        effects.messages.append(
            m.TaskAssigned(
                matter_id=matter.id,
                revision=matter.revision,
                stage=stage.number,
                person_id=person_id,
                title=matter.title,
                village_id=matter.village_id,
            )
        )


def _people(*person_ids: str, without: str | None = None) -> list[str]:
    """Each person once, in the order given."""
    return [p for p in dict.fromkeys(person_ids) if p != without]


def _announce(matter: Matter, effects: Effects, turn: str, actor_id: str, recipients: list[str], **details: Any) -> None:
    if recipients:
        effects.messages.append(
            m.MatterTurned(
                matter_id=matter.id,
                revision=matter.revision,
                turn=turn,
                actor_id=actor_id,
                title=matter.title,
                recipients=recipients,
                **details,
            )
        )


def _cancel_undecided(matter: Matter, stage: Stage, actor_id: str, now: datetime, effects: Effects) -> None:
    """An any-of stage closes on its first approval: the others' tasks end, and they are told."""
    cancelled = [a for a in stage.assignees if a.decision is None and a.cancelled_at is None]
    for slot in cancelled:
        slot.cancelled_at = now
    if cancelled:
        people = [a.person_id for a in cancelled]
        effects.record(matter, "task.cancelled", SYSTEM, now, {"stage": stage.number, "people": people, "closed_by": actor_id})
        _announce(matter, effects, "task_cancelled", actor_id, people, stage=stage.number)


def _complete_stage(matter: Matter, stage: Stage, now: datetime, effects: Effects) -> None:
    stage.status, stage.closed_at = "done", now
    effects.record(matter, "stage.completed", SYSTEM, now, {"stage": stage.number})
    effects.messages.append(m.StageClosed(matter_id=matter.id, revision=matter.revision, stage=stage.number, outcome="done", closed_at=now))
    if stage.seal_id:
        matter.chain_seq += 1
        approvers = [a.person_id for a in stage.assignees if a.decision == "approve"]
        effects.messages.append(
            m.RequestSeal(
                matter_id=matter.id,
                revision=matter.revision,
                seq=matter.chain_seq,
                stage=stage.number,
                seal_id=stage.seal_id,
                digest=matter.digest,
                triggered_by=approvers,
            )
        )
        effects.record(matter, "seal.requested", SYSTEM, now, {"stage": stage.number, "seal_id": stage.seal_id, "seq": matter.chain_seq})
    if stage.number < len(matter.stages):
        _open_stage(matter, stage.number + 1, now, effects)
    else:
        matter.current_stage = None
        effects.route_approved = True


def _close_matter(
    matter: Matter, status: Literal["returned", "rejected", "withdrawn"], actor_id: str, now: datetime, effects: Effects, reason: str = ""
) -> None:
    matter.status = status
    for stage in matter.stages:
        if stage.status in ("open", "waiting"):
            if stage.status == "open":
                effects.messages.append(
                    m.StageClosed(matter_id=matter.id, revision=matter.revision, stage=stage.number, outcome="cancelled", closed_at=now)
                )
            stage.status, stage.closed_at = "cancelled", now
    matter.current_stage = None
    effects.record(matter, f"matter.{status}", actor_id, now, {"revision": matter.revision, **({"reason": reason} if reason else {})})
