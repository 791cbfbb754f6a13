"""Property-based (hypothesis, stateful) tests of routing's ordering rules on the pure domain: random
policies, then random decisions, returns, revisions, withdrawals, transfers and signing replies by random
people. After every step the rules docs/rules.md §2 promises must hold; every refusal must change nothing."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sealflow_contracts import messages as m
from sealflow_contracts.chain import chain_is_valid
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory, Policy, resolve_route
from sealflow_routing.domain.errors import Refused

APPLICANT = "v1-bookkeeper"
VILLAGE_ROLES = ["director", "supervisor", "secretary", "treasurer"]
TOWN_ROLES = ["liaison_cadre", "liaison_leader", "domain_leader", "principal"]


def _directory() -> Directory:
    """One village; every role has a holder and a stand-in (for transfers), plus people with no authority."""
    people = [{"id": APPLICANT, "name": "报账员", "village_id": "v1", "roles": ["bookkeeper"]}]
    for role in VILLAGE_ROLES:
        people += [{"id": f"v1-{role}{n}", "name": role, "village_id": "v1", "roles": [role]} for n in (1, 2)]
        people.append({"id": f"v2-{role}1", "name": role, "village_id": "v2", "roles": [role]})  # same role, other village
    for role in TOWN_ROLES:
        people += [{"id": f"t-{role}{n}", "name": role, "village_id": None, "roles": [role]} for n in (1, 2)]
    people.append({"id": "t-admin", "name": "管理员", "village_id": None, "roles": ["admin"]})
    return Directory.model_validate(
        {
            "town": {"id": "t", "name": "镇", "approval_prefix": "T"},
            "villages": [
                {
                    "id": "v1",
                    "name": "一村",
                    "liaison_cadre": "t-liaison_cadre1",
                    "liaison_leader": "t-liaison_leader1",
                    "coop_seal": "v1-coop",
                },
                {
                    "id": "v2",
                    "name": "二村",
                    "liaison_cadre": "t-liaison_cadre2",
                    "liaison_leader": "t-liaison_leader2",
                    "coop_seal": "v2-coop",
                },
            ],
            "domain_leaders": {"services": "t-domain_leader1"},
            "principal": "t-principal1",
            "people": people,
        }
    )


DIRECTORY = _directory()
PEOPLE = [p.id for p in DIRECTORY.people]
SELECTORS = [{"kind": "village_role", "role": r} for r in VILLAGE_ROLES] + [{"kind": r} for r in TOWN_ROLES]
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """Stages over distinct selectors (the route must be staffable without one person in two slots)."""
    pool = draw(st.permutations(SELECTORS))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    stages, used = [], 0
    for size in sizes:
        chosen = pool[used : used + size]
        if not chosen:
            break
        used += len(chosen)
        stages.append(
            {
                "name": f"stage {len(stages) + 1}",
                "mode": draw(st.sampled_from(["all", "any", "sequence"])),
                "selectors": chosen,
                "seal": draw(st.sampled_from([None, None, "village_coop", "town"])),
                "deadline_working_days": 1,
            }
        )
    thresholds = []
    if used < len(pool) and draw(st.booleans()):
        extra = {
            "name": "above threshold",
            "mode": "any",
            "selectors": [pool[used]],
            "seal": draw(st.sampled_from([None, "town"])),
            "deadline_working_days": 2,
        }
        thresholds.append({"above_fen": 50_000, "add_stages": [extra]})
    return Policy.model_validate(
        {"matter_type": "t", "title": "t", "domain": "services", "version": 1, "stages": stages, "thresholds": thresholds}
    )


class RoutingRules(RuleBasedStateMachine):
    @initialize(policy=policies(), amount=st.sampled_from([1_000, 100_000]))
    def submit(self, policy: Policy, amount: int) -> None:
        self.policy = policy
        self.clock = T0
        self.digests = {1: "d1" * 32}
        route = resolve_route(policy, DIRECTORY, village_id="v1", amount_fen=amount, applicant_id=APPLICANT)
        self.matter, effects = wf.open_matter(
            matter_id="m", applicant_id=APPLICANT, village_id="v1", matter_type="t", title="t", amount_fen=amount,
            digest=self.digests[1], policy_version=1, route=route, now=self.clock, stand_ins={},
        )  # fmt: skip
        self.trail: list[dict] = []
        self.acts: list[m.RequestSignature | m.RequestSeal] = []  # what signing was asked, in order
        self.turns: list[m.MatterTurned] = []  # what notify was asked to tell
        self.delivered: set[int] = set()
        self.approval_requested = False
        self._take(effects)

    # ---- helpers ----------------------------------------------------------------------------------

    def _now(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def _take(self, effects: wf.Effects) -> None:
        self.trail += effects.trail
        self.acts += [x for x in effects.messages if isinstance(x, m.RequestSignature | m.RequestSeal)]
        self.turns += [x for x in effects.messages if isinstance(x, m.MatterTurned)]
        if effects.route_approved:
            assert not self.approval_requested, "a route is approved once"
            self.approval_requested = True
            wf.register_route_approval(self.matter, "T-2026-000001", self.clock, effects)
            self.trail += effects.trail[len(effects.trail) - 1 :]

    def _turn_holders(self) -> list[str]:
        """Who may decide now, worked out here rather than asked of the domain."""
        open_ = [s for s in self.matter.stages if s.status == "open"]
        if self.matter.status != "in_review" or not open_:
            return []
        undecided = [a.person_id for a in open_[0].assignees if a.decision is None and a.cancelled_at is None]
        return undecided[:1] if open_[0].mode == "sequence" else undecided

    def _attempt(self, change, allowed: bool) -> None:
        """Apply a change the rules allow, or see it refused with nothing changed."""
        before = self.matter.model_dump()
        try:
            effects = change()
        except Refused:
            assert self.matter.model_dump() == before, "a refusal changed the matter"
            assert not allowed, "an allowed change was refused"
            return
        assert allowed, "a change the rules forbid was applied"
        self._take(effects)

    # ---- rules ------------------------------------------------------------------------------------

    @rule(
        data=st.data(),
        decision=st.sampled_from(["approve"] * 10 + ["return"] * 3 + ["reject"]),
        stale=st.integers(0, 9),
        reason=st.sampled_from(["", "理由", "理由"]),
    )
    def decide(self, data: st.DataObject, decision: str, stale: int, reason: str) -> None:
        # Mostly someone whose turn it is (so matters get far), often anyone at all on any stage.
        holders = self._turn_holders()
        if holders and data.draw(st.integers(0, 3)) > 0:
            person, stage = data.draw(st.sampled_from(holders)), self.matter.current_stage
        else:  # out of turn: anyone, or someone holding a slot of another stage
            slots = [(a.person_id, s.number) for s in self.matter.stages for a in s.assignees]
            if data.draw(st.booleans()):
                person, stage = data.draw(st.sampled_from(slots))
            else:
                person, stage = data.draw(st.sampled_from(PEOPLE)), data.draw(st.integers(1, 6))
        stale = stale == 0
        matter = self.matter
        digest = matter.digest if not stale else self.digests.get(matter.revision - 1, "ee" * 32)  # the last revision's, or any other
        allowed = (
            matter.status == "in_review"
            and stage == matter.current_stage
            and person in self._turn_holders()
            and digest == matter.digest
            and (decision == "approve" or bool(reason))
        )
        now = self._now()
        self._attempt(
            lambda: wf.decide(matter, actor_id=person, stage_number=stage, decision=decision, comment=reason, digest=digest, now=now),
            allowed,
        )

    @rule(person=st.sampled_from([APPLICANT, APPLICANT, "v1-director1"]), amount=st.sampled_from([1_000, 100_000]))
    def revise(self, person: str, amount: int) -> None:
        matter = self.matter
        allowed = person == APPLICANT and matter.status == "returned"
        digest = f"{matter.revision + 1:02d}" * 32
        route = resolve_route(self.policy, DIRECTORY, village_id="v1", amount_fen=amount, applicant_id=APPLICANT)
        now = self._now()
        self._attempt(
            lambda: wf.revise(matter, actor_id=person, title="t", amount_fen=amount, digest=digest, route=route, now=now), allowed
        )
        if allowed:
            self.digests[matter.revision] = digest

    @rule(person=st.sampled_from([APPLICANT] + PEOPLE[1:12]))  # rarely the applicant: a withdrawal ends the story
    def withdraw(self, person: str) -> None:
        matter = self.matter
        allowed = person == APPLICANT and matter.status in ("in_review", "returned") and not self.approval_requested
        now = self._now()
        self._attempt(lambda: wf.withdraw(matter, actor_id=person, reason="", now=now), allowed)

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        matter = self.matter
        holders = self._turn_holders()
        if holders and data.draw(st.booleans()):
            # An open assignee hands over, usually to someone with the same role (the holder's stand-in or not).
            actor, stage = data.draw(st.sampled_from(holders)), matter.current_stage
            role = next(a.role for s in matter.stages for a in s.assignees if a.person_id == actor)
            same_role = [p.id for p in DIRECTORY.people if role in p.roles]
            to = data.draw(st.sampled_from(same_role + PEOPLE[:3]))
        else:
            actor, to, stage = data.draw(st.sampled_from(PEOPLE)), data.draw(st.sampled_from(PEOPLE)), data.draw(st.integers(1, 6))
        slot = next((a for s in matter.stages if s.number == stage for a in s.assignees if a.person_id == actor), None)
        target = DIRECTORY.person(to)
        allowed = bool(
            slot
            and matter.status == "in_review"
            and stage == matter.current_stage
            and slot.decision is None
            and slot.cancelled_at is None
            and to != APPLICANT
            and all(a.person_id != to for s in matter.stages for a in s.assignees)
            and slot.role in target.roles
            and target.village_id == slot.role_village_id
        )
        now = self._now()
        self._attempt(
            lambda: wf.transfer(
                matter, actor_id=actor, actor_is_admin=False, stage_number=stage, from_person_id=None, to_person_id=to,
                reason="出差", directory=DIRECTORY, now=now,
            ),
            allowed,
        )  # fmt: skip

    @rule(data=st.data())
    def signing_replies(self, data: st.DataObject) -> None:
        """signing answers one outstanding request (in any order, possibly after a revision)."""
        pending = [a for a in self.acts if a.seq not in self.delivered]
        if not pending:
            return
        act = data.draw(st.sampled_from(pending))
        self.delivered.add(act.seq)
        if isinstance(act, m.RequestSignature):
            event = m.SignatureApplied(
                matter_id="m",
                revision=act.revision,
                seq=act.seq,
                stage=act.stage,
                signer_id=act.signer_id,
                signature_hash="h" * 64,
                signed_at=self.clock,
            )
            self._take(wf.on_signature_applied(self.matter, event))
        else:
            event = m.SealApplied(
                matter_id="m", revision=act.revision, seq=act.seq, stage=act.stage, seal_id=act.seal_id,
                seal_use_id=f"m:{act.revision}:{act.stage}:{act.seal_id}", signature_hash="h" * 64, applied_at=self.clock,
            )  # fmt: skip
            self._take(wf.on_seal_applied(self.matter, event))

    @rule()
    def approval_registered(self) -> None:
        if self.approval_requested and self.matter.status == "in_review" and len(self.delivered) == len(self.acts):
            event = m.ApprovalRegistered(matter_id="m", approval_number="T-2026-000001", registered_at=self.clock)
            self._take(wf.on_approval_registered(self.matter, event))

    # ---- invariants -------------------------------------------------------------------------------

    @invariant()
    def stages_open_only_after_the_previous_completes(self) -> None:
        for revision in [*self.matter.previous_revisions, self.matter]:
            statuses = [s.status for s in revision.stages]
            assert statuses.count("open") <= 1
            for i, status in enumerate(statuses):
                if status in ("open", "done"):
                    assert all(earlier == "done" for earlier in statuses[:i]), statuses
        open_ = [s.number for s in self.matter.stages if s.status == "open"]
        assert (open_[0] if open_ else None) == self.matter.current_stage

    @invariant()
    def acts_are_one_chain_and_seals_come_once_per_completed_sealed_stage(self) -> None:
        assert [a.seq for a in self.acts] == list(range(1, len(self.acts) + 1))
        seals = [(a.revision, a.stage) for a in self.acts if isinstance(a, m.RequestSeal)]
        assert len(seals) == len(set(seals)), "a seal was requested twice"
        revisions = {r.revision: r.stages for r in self.matter.previous_revisions} | {self.matter.revision: self.matter.stages}
        expected = {(rev, s.number) for rev, stages in revisions.items() for s in stages if s.seal_id and s.status == "done"}
        assert set(seals) == expected
        for act in self.acts:  # every act signs the document of its own revision
            assert act.digest == self.digests[act.revision]

    @invariant()
    def a_closed_any_of_stage_cancels_the_others_and_tells_them(self) -> None:
        told = {(t.revision, t.stage, p) for t in self.turns if t.turn == "task_cancelled" for p in t.recipients}
        revisions = {r.revision: r.stages for r in self.matter.previous_revisions} | {self.matter.revision: self.matter.stages}
        for rev, stages in revisions.items():
            for stage in stages:
                for slot in stage.assignees:
                    cancelled = stage.mode == "any" and stage.status == "done" and slot.decision is None
                    assert (slot.cancelled_at is not None) == cancelled
                    assert ((rev, stage.number, slot.person_id) in told) == cancelled

    @invariant()
    def superseded_revisions_name_all_their_acts(self) -> None:
        named = [seq for e in self.trail if e["type"] == "revision.superseded" for seq in e["data"]["acts"]]
        assert named == [a.seq for a in self.acts if a.revision < self.matter.revision]

    @invariant()
    def one_person_one_slot_and_never_the_applicant(self) -> None:
        slots = [a.person_id for s in self.matter.stages for a in s.assignees]
        assert len(slots) == len(set(slots)) and APPLICANT not in slots

    @invariant()
    def signatures_come_only_from_decided_approvals(self) -> None:
        signed = {(a.revision, a.stage, a.signer_id) for a in self.acts if isinstance(a, m.RequestSignature)}
        revisions = {r.revision: r.stages for r in self.matter.previous_revisions} | {self.matter.revision: self.matter.stages}
        approved = {
            (rev, s.number, a.person_id)
            for rev, stages in revisions.items()
            for s in stages
            for a in s.assignees
            if a.decision == "approve"
        }
        assert signed == approved

    @invariant()
    def a_completed_route_has_exactly_the_signatures_it_requires(self) -> None:
        if not self.approval_requested:
            return
        assert all(s.status == "done" for s in self.matter.stages)
        for stage in self.matter.stages:
            approvers = [a.person_id for a in stage.assignees if a.decision == "approve"]
            if stage.mode == "any":
                assert len(approvers) == 1
            else:
                assert approvers == [a.person_id for a in stage.assignees] or sorted(approvers) == sorted(
                    a.person_id for a in stage.assignees
                )
        if self.matter.status == "completed":
            current = {(s.stage, s.signer_id) for s in self.matter.signatures if not s.superseded}
            assert current == {(s.number, a.person_id) for s in self.matter.stages for a in s.assignees if a.decision == "approve"}

    @invariant()
    def the_trail_only_grows_and_stays_chained(self) -> None:
        assert [e["seq"] for e in self.trail] == list(range(1, len(self.trail) + 1))
        assert self.matter.trail_seq == len(self.trail)
        assert chain_is_valid(self.trail)


RoutingRules.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestRoutingRules = RoutingRules.TestCase
