"""routing's pure rules: route resolution from policy + directory, and the order and authority checks."""

from datetime import UTC, datetime

import pytest
from sealflow_contracts import messages as m
from sealflow_contracts.chain import chain_is_valid
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory, Policy, resolve_route
from sealflow_routing.domain.errors import Refused

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DIGEST = "ab" * 32


@pytest.fixture
def directory() -> Directory:
    return Directory.model_validate(pilot_data())


def policy(matter_type: str) -> Policy:
    return Policy.model_validate(next(p for p in pilot_data()["policies"] if p["matter_type"] == matter_type))


def seed_matter(directory: Directory, amount_fen: int = 12_000_000) -> tuple[wf.Matter, wf.Effects]:
    route = resolve_route(
        policy("service_procurement"), directory, village_id="jiulian", amount_fen=amount_fen, applicant_id="jiulian-bookkeeper"
    )
    return wf.open_matter(
        matter_id="m1",
        applicant_id="jiulian-bookkeeper",
        village_id="jiulian",
        matter_type="service_procurement",
        title="村级保洁服务招标呈报表",
        amount_fen=amount_fen,
        digest=DIGEST,
        policy_version=1,
        route=route,
        now=NOW,
        stand_ins={},
    )


def approve(matter: wf.Matter, person: str, stage: int) -> wf.Effects:
    return wf.decide(matter, actor_id=person, stage_number=stage, decision="approve", comment="同意", digest=DIGEST, now=NOW)


def test_seed_route_has_five_stages_from_the_directory(directory: Directory) -> None:
    matter, effects = seed_matter(directory)
    assert [[a.person_id for a in s.assignees] for s in matter.stages] == [
        ["jiulian-director", "jiulian-supervisor"],
        ["jiulian-secretary"],
        ["yinong-cadre-jiulian"],
        ["yinong-leader-a"],
        ["yinong-deputy-services"],
    ]
    assert matter.stages[1].seal_id == "jiulian-coop"
    assert matter.current_stage == 1
    assert {type(msg) for msg in effects.messages} == {m.StageOpened, m.TaskAssigned}
    assert sorted(msg.person_id for msg in effects.messages if isinstance(msg, m.TaskAssigned)) == [
        "jiulian-director",
        "jiulian-supervisor",
    ]


def test_amount_above_threshold_adds_the_principal_last(directory: Directory) -> None:
    matter, _ = seed_matter(directory, amount_fen=60_000_000)
    assert [a.person_id for a in matter.stages[-1].assignees] == ["yinong-principal"]
    assert len(matter.stages) == 6


def test_liaisons_follow_the_village(directory: Directory) -> None:
    route = resolve_route(policy("village_project"), directory, village_id="sanwei", amount_fen=1, applicant_id="sanwei-bookkeeper")
    assert [s.assignees for s in route][2:] == [["yinong-cadre-sanwei"], ["yinong-leader-b"], ["yinong-deputy-projects"]]


def test_applicant_in_the_route_is_refused(directory: Directory) -> None:
    with pytest.raises(Refused) as refused:
        resolve_route(policy("service_procurement"), directory, village_id="jiulian", amount_fen=1, applicant_id="jiulian-secretary")
    assert refused.value.code == "self_approval"


def test_all_of_stage_needs_both_and_the_seal_follows_stage_two(directory: Directory) -> None:
    matter, _ = seed_matter(directory)
    first = approve(matter, "jiulian-director", 1)
    assert matter.current_stage == 1 and [type(x) for x in first.messages] == [m.RequestSignature]
    second = approve(matter, "jiulian-supervisor", 1)
    assert matter.current_stage == 2
    assert [x.seq for x in second.messages if isinstance(x, m.RequestSignature)] == [2]
    third = approve(matter, "jiulian-secretary", 2)
    seals = [x for x in third.messages if isinstance(x, m.RequestSeal)]
    assert [(s.seal_id, s.seq, s.triggered_by) for s in seals] == [("jiulian-coop", 4, ["jiulian-secretary"])]
    for stage, person in [(3, "yinong-cadre-jiulian"), (4, "yinong-leader-a")]:
        assert not approve(matter, person, stage).route_approved
    last = approve(matter, "yinong-deputy-services", 5)
    assert last.route_approved and matter.current_stage is None and matter.chain_seq == 7


@pytest.mark.parametrize(
    ("person", "stage", "digest", "code"),
    [
        ("jiulian-secretary", 2, DIGEST, "not_your_turn"),
        ("yinong-admin", 1, DIGEST, "not_assignee"),
        ("jiulian-secretary", 1, DIGEST, "not_assignee"),
        ("jiulian-bookkeeper", 1, DIGEST, "self_approval"),
        ("jiulian-director", 1, "cd" * 32, "stale_digest"),
    ],
)
def test_refusals_change_nothing(directory: Directory, person: str, stage: int, digest: str, code: str) -> None:
    matter, _ = seed_matter(directory)
    before = matter.model_dump()
    with pytest.raises(Refused) as refused:
        wf.decide(matter, actor_id=person, stage_number=stage, decision="approve", comment="", digest=digest, now=NOW)
    assert refused.value.code == code
    assert matter.model_dump() == before


def test_second_decision_is_already_decided(directory: Directory) -> None:
    matter, _ = seed_matter(directory)
    approve(matter, "jiulian-director", 1)
    with pytest.raises(Refused) as refused:
        approve(matter, "jiulian-director", 1)
    assert refused.value.code == "already_decided"


def test_reject_needs_a_reason_and_closes_everything(directory: Directory) -> None:
    matter, _ = seed_matter(directory)
    with pytest.raises(Refused) as refused:
        wf.decide(matter, actor_id="jiulian-director", stage_number=1, decision="reject", comment=" ", digest=DIGEST, now=NOW)
    assert refused.value.code == "reason_required"
    wf.decide(matter, actor_id="jiulian-director", stage_number=1, decision="reject", comment="价格过高", digest=DIGEST, now=NOW)
    assert matter.status == "rejected" and {s.status for s in matter.stages} == {"cancelled"}


def test_trail_entries_chain(directory: Directory) -> None:
    matter, opened = seed_matter(directory)
    entries = opened.trail + approve(matter, "jiulian-director", 1).trail
    assert chain_is_valid(entries)
    tampered = [dict(e) for e in entries]
    tampered[1]["data"] = {**tampered[1]["data"], "stage": 9}
    assert not chain_is_valid(tampered)
    assert not chain_is_valid(entries[1:])  # a cut-off head is caught too


def test_a_village_variant_replaces_the_route_for_that_village_only(directory: Directory) -> None:
    raw = next(p for p in pilot_data()["policies"] if p["matter_type"] == "service_procurement")
    variant = {
        "villages": ["sanwei"],
        "note": "三围村村两委会签后直接报联村领导（试点）",
        "stages": [
            {"name": "村两委会签", "mode": "sequence", "selectors": raw["stages"][0]["selectors"], "deadline_working_days": 1},
            {"name": "联村领导", "mode": "any", "selectors": [{"kind": "liaison_leader"}], "deadline_working_days": 2},
        ],
        "thresholds": [
            {
                "above_fen": 100_000,
                "add_stages": [{"name": "镇主要领导", "mode": "any", "selectors": [{"kind": "principal"}], "deadline_working_days": 2}],
            }
        ],
    }
    varied = Policy.model_validate({**raw, "variants": [variant]})
    sanwei = resolve_route(varied, directory, village_id="sanwei", amount_fen=12_000_000, applicant_id="sanwei-bookkeeper")
    assert [(s.name, s.mode, s.assignees) for s in sanwei] == [
        ("村两委会签", "sequence", ["sanwei-director", "sanwei-supervisor"]),
        ("联村领导", "any", ["yinong-leader-b"]),
        ("镇主要领导", "any", ["yinong-principal"]),  # the variant's own, lower threshold
    ]
    jiulian = resolve_route(varied, directory, village_id="jiulian", amount_fen=12_000_000, applicant_id="jiulian-bookkeeper")
    assert len(jiulian) == 5 and jiulian[1].seal_id == "jiulian-coop"  # the policy's own route, unchanged


def test_a_village_in_two_variants_is_refused() -> None:
    raw = next(p for p in pilot_data()["policies"] if p["matter_type"] == "service_procurement")
    variant = {"villages": ["sanwei"], "stages": raw["stages"]}
    with pytest.raises(ValueError, match="more than one variant"):
        Policy.model_validate({**raw, "variants": [variant, variant]})
