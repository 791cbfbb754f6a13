"""routing's turns on the pilot data, example by example: return and revise, withdraw, transfer by the
administrator, the next in a sequence being told, and the signing chain accepting earlier revisions."""

import base64
from datetime import UTC, datetime

import pytest
from sealflow_contracts import messages as m
from sealflow_contracts.chain import GENESIS_HASH
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory, Policy, resolve_route
from sealflow_routing.domain.errors import Refused
from sealflow_signing.domain import chain, crypto

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
D1, D2 = "ab" * 32, "cd" * 32


@pytest.fixture
def directory() -> Directory:
    return Directory.model_validate(pilot_data())


def policy(matter_type: str = "service_procurement") -> Policy:
    return Policy.model_validate(next(p for p in pilot_data()["policies"] if p["matter_type"] == matter_type))


def route(directory: Directory, amount_fen: int = 12_000_000, matter_type: str = "service_procurement"):
    return resolve_route(policy(matter_type), directory, village_id="jiulian", amount_fen=amount_fen, applicant_id="jiulian-bookkeeper")


def new_matter(directory: Directory, matter_type: str = "service_procurement") -> wf.Matter:
    matter, _ = wf.open_matter(
        matter_id="m1", applicant_id="jiulian-bookkeeper", village_id="jiulian", matter_type=matter_type, title="t",
        amount_fen=12_000_000, digest=D1, policy_version=1, route=route(directory, matter_type=matter_type), now=NOW, stand_ins={},
    )  # fmt: skip
    return matter


def act(matter: wf.Matter, person: str, stage: int, decision: str = "approve", comment: str = "同意") -> wf.Effects:
    return wf.decide(matter, actor_id=person, stage_number=stage, decision=decision, comment=comment, digest=matter.digest, now=NOW)


def turns(effects: wf.Effects) -> list[m.MatterTurned]:
    return [x for x in effects.messages if isinstance(x, m.MatterTurned)]


def test_return_tells_the_applicant_and_earlier_signers_then_a_revision_restarts(directory: Directory) -> None:
    matter = new_matter(directory)
    act(matter, "jiulian-director", 1)
    act(matter, "jiulian-supervisor", 1)
    act(matter, "jiulian-secretary", 2)
    returned = act(matter, "yinong-cadre-jiulian", 3, "return", "缺预算明细")
    assert matter.status == "returned"
    assert turns(returned)[0].recipients == ["jiulian-bookkeeper", "jiulian-director", "jiulian-supervisor", "jiulian-secretary"]

    bigger = route(directory, amount_fen=60_000_000)  # the revision crosses the threshold: the principal joins
    revised = wf.revise(matter, actor_id="jiulian-bookkeeper", title="t2", amount_fen=60_000_000, digest=D2, route=bigger, now=NOW)
    assert (matter.revision, matter.digest, matter.current_stage, len(matter.stages)) == (2, D2, 1, 6)
    assert [e["type"] for e in revised.trail][:2] == ["revision.superseded", "matter.revised"]
    assert turns(revised)[0].recipients == ["yinong-cadre-jiulian"]
    assert matter.previous_revisions[0].stages[2].assignees[0].decision == "return"
    # Retrying the same revision changes nothing; the old digest is stale.
    assert wf.revise(matter, actor_id="jiulian-bookkeeper", title="t2", amount_fen=60_000_000, digest=D2, route=bigger, now=NOW).trail == []
    with pytest.raises(Refused) as stale:
        wf.decide(matter, actor_id="jiulian-director", stage_number=1, decision="approve", comment="", digest=D1, now=NOW)
    assert stale.value.code == "stale_digest"
    signature = next(x for x in act(matter, "jiulian-director", 1).messages if isinstance(x, m.RequestSignature))
    assert (signature.revision, signature.seq) == (2, 5)  # the chain runs on: 4 acts in revision 1


def test_withdraw_is_the_applicants_and_only_before_completion(directory: Directory) -> None:
    matter = new_matter(directory)
    act(matter, "jiulian-director", 1)
    with pytest.raises(Refused) as refused:
        wf.withdraw(matter, actor_id="jiulian-director", reason="", now=NOW)
    assert refused.value.code == "not_applicant"
    effects = wf.withdraw(matter, actor_id="jiulian-bookkeeper", reason="预算调整", now=NOW)
    assert matter.status == "withdrawn" and {s.status for s in matter.stages} == {"cancelled"}
    assert turns(effects)[0].recipients == ["jiulian-director", "jiulian-supervisor"]
    assert [x.outcome for x in effects.messages if isinstance(x, m.StageClosed)] == ["cancelled"]


def test_the_administrator_reassigns_an_absent_signer_to_a_same_role_stand_in(directory: Directory) -> None:
    matter = new_matter(directory)
    for stage, person in [(1, "jiulian-director"), (1, "jiulian-supervisor"), (2, "jiulian-secretary"), (3, "yinong-cadre-jiulian")]:
        act(matter, person, stage)
    kwargs = dict(stage_number=4, from_person_id="yinong-leader-a", reason="外出学习", directory=directory, now=NOW)
    with pytest.raises(Refused) as refused:
        wf.transfer(matter, actor_id="yinong-cadre-sanwei", actor_is_admin=False, to_person_id="yinong-leader-b", **kwargs)
    assert refused.value.code == "forbidden"
    with pytest.raises(Refused) as refused:
        wf.transfer(matter, actor_id="yinong-admin", actor_is_admin=True, to_person_id="yinong-cadre-sanwei", **kwargs)
    assert refused.value.code == "not_same_authority"
    effects = wf.transfer(matter, actor_id="yinong-admin", actor_is_admin=True, to_person_id="yinong-leader-b", **kwargs)
    assert matter.stages[3].assignees[0].person_id == "yinong-leader-b"
    assert [x.person_id for x in effects.messages if isinstance(x, m.TaskAssigned)] == ["yinong-leader-b"]
    assert effects.trail[0]["data"] == {"stage": 4, "from": "yinong-leader-a", "to": "yinong-leader-b", "reason": "外出学习"}
    act(matter, "yinong-leader-b", 4)
    assert matter.current_stage == 5


def stand_in(person: str, to: str) -> dict[str, wf.StandIn]:
    return {person: wf.StandIn(absence_id="a1", person_id=person, stand_in_id=to, ends_on=NOW.date())}


def test_a_stage_opening_while_its_signer_is_away_goes_to_their_stand_in(directory: Directory) -> None:
    matter, _ = wf.open_matter(
        matter_id="m1", applicant_id="jiulian-bookkeeper", village_id="jiulian", matter_type="service_procurement", title="t",
        amount_fen=12_000_000, digest=D1, policy_version=1, route=route(directory), now=NOW,
        stand_ins=stand_in("yinong-leader-a", "yinong-leader-b"),
    )  # fmt: skip
    act(matter, "jiulian-director", 1)
    act(matter, "jiulian-supervisor", 1)
    act(matter, "jiulian-secretary", 2)
    opened = act(matter, "yinong-cadre-jiulian", 3)
    slot = matter.stage(4).assignees[0]
    assert (slot.person_id, slot.transferred_from) == ("yinong-leader-b", ["yinong-leader-a"])
    delegated = [e for e in opened.trail if e["type"] == "task.delegated"]
    assert delegated and delegated[0]["data"] | {"until": None} == {
        "stage": 4,
        "from": "yinong-leader-a",
        "to": "yinong-leader-b",
        "absence_id": "a1",
        "until": None,
    }
    assert [(t.turn, t.recipients) for t in turns(opened)] == [("task_delegated", ["yinong-leader-a", "yinong-leader-b"])]
    assert ["yinong-leader-b"] == [x.person_id for x in opened.messages if isinstance(x, m.TaskAssigned)]
    with pytest.raises(Refused) as refused:
        act(matter, "yinong-leader-a", 4)
    assert refused.value.code == "not_assignee"
    act(matter, "yinong-leader-b", 4)
    assert matter.current_stage == 5


def test_a_stand_in_who_already_signs_the_matter_does_not_take_the_task(directory: Directory) -> None:
    matter, effects = wf.open_matter(
        matter_id="m1", applicant_id="jiulian-bookkeeper", village_id="jiulian", matter_type="service_procurement", title="t",
        amount_fen=12_000_000, digest=D1, policy_version=1, route=route(directory), now=NOW,
        stand_ins=stand_in("jiulian-director", "jiulian-supervisor"),
    )  # fmt: skip
    assert [a.person_id for a in matter.stage(1).assignees] == ["jiulian-director", "jiulian-supervisor"]
    skipped = [e for e in effects.trail if e["type"] == "delegation.skipped"]
    assert skipped and "already fills a slot" in skipped[0]["data"]["reason"]


def test_a_stage_cannot_open_without_knowing_who_is_away(directory: Directory) -> None:
    matter = new_matter(directory)
    matter.stand_ins = None  # as loaded from the database: the handler must say who stands in today
    act(matter, "jiulian-director", 1)
    with pytest.raises(wf.StandInsUnknown):
        act(matter, "jiulian-supervisor", 1)


def test_a_vacant_role_is_refused_naming_it(directory: Directory) -> None:
    directory.people = [p for p in directory.people if p.id != "jiulian-supervisor"]
    with pytest.raises(Refused) as refused:
        route(directory)
    assert refused.value.code == "route_unresolved" and "supervisor" in refused.value.message


def test_signing_accepts_earlier_revisions_acts_in_one_chain() -> None:
    """One chain per matter across revisions: only the approved revision's acts must sign its digest."""
    key = crypto.generate_key()
    acts, prev = [], GENESIS_HASH
    for seq, (revision, digest) in enumerate([(1, D1), (2, D2), (2, D2)], start=1):
        payload = chain.act_payload(
            matter_id="m", revision=revision, seq=seq, kind="signature", stage=1, actor_id="p", digest=digest, at=NOW, prev_hash=prev
        )
        signature = crypto.sign(key, payload)
        acts.append(
            {
                "payload": payload,
                "signature": base64.b64encode(signature).decode(),
                "key_id": "k",
                "hash": crypto.act_hash(payload, signature),
            }
        )
        prev = acts[-1]["hash"]
    keys = {"k": crypto.public_pem(key)}
    assert chain.verify_acts(acts, keys, D2, revision=2) is None
    assert "different document" in chain.verify_acts(acts, keys, D2, revision=1)
    assert "different document" in chain.verify_acts(acts, keys, D2)  # without a revision every act must match


def test_who_may_stand_in_holds_every_role_where_the_absent_person_holds_it(directory: Directory) -> None:
    from sealflow_routing.absences import may_stand_in

    def offered(person_id: str) -> list[str]:
        return [p.id for p in may_stand_in(directory, directory.person(person_id))]

    # Town roles have peers; a village role has none until the administrator adds a deputy in that village.
    assert offered("yinong-cadre-sanwei") == ["yinong-cadre-jiulian", "yinong-cadre-changbei"]
    assert offered("jiulian-director") == []
    assert offered("yinong-principal") == []
    deputy = {"id": "jiulian-deputy", "name": "副主任", "village_id": "jiulian", "roles": ["director"]}
    roleless = {"id": "visitor", "name": "来访者", "village_id": "jiulian", "roles": []}
    grown = Directory.model_validate({**pilot_data(), "people": [*pilot_data()["people"], deputy, roleless]})
    assert [p.id for p in may_stand_in(grown, grown.person("jiulian-director"))] == ["jiulian-deputy"]
    assert [p.id for p in may_stand_in(grown, grown.person("jiulian-deputy"))] == ["jiulian-director"]
    assert may_stand_in(grown, grown.person("visitor")) == []  # nothing to hand over, not "anyone at all"
