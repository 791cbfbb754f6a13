"""Who holds a stage now (`waiting_on`), worked out once by routing's domain and published on every stage of
the matter view: all-of, any-of and sequence stages, transfers (转办), stand-ins for absent signers, and
cancelled or decided slots. intake reads it from the snapshot, with a fallback for snapshots stored before
routing published it."""

from datetime import UTC, datetime

import pytest
from sealflow_intake.adapters import readmodel
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory, Policy, ResolvedStage, resolve_route

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
D1 = "ab" * 32
STAND_IN = "jiulian-director-deputy"  # a second 村委会主任 authority in 久联村, for transfers


@pytest.fixture
def directory() -> Directory:
    data = pilot_data()
    data["people"].append({"id": STAND_IN, "name": "久联村村委会副主任", "village_id": "jiulian", "roles": ["director"]})
    return Directory.model_validate(data)


def route(directory: Directory, first_stage_mode: str = "all") -> list[ResolvedStage]:
    policy = Policy.model_validate(next(p for p in pilot_data()["policies"] if p["matter_type"] == "service_procurement"))
    stages = resolve_route(policy, directory, village_id="jiulian", amount_fen=12_000_000, applicant_id="jiulian-bookkeeper")
    stages[0].mode = first_stage_mode  # stage 1 is the village committee: director and supervisor
    return stages


def new_matter(directory: Directory, first_stage_mode: str = "all", stand_ins: dict[str, wf.StandIn] | None = None) -> wf.Matter:
    matter, _ = wf.open_matter(
        matter_id="m1", applicant_id="jiulian-bookkeeper", village_id="jiulian", matter_type="service_procurement", title="t",
        amount_fen=12_000_000, digest=D1, policy_version=1, route=route(directory, first_stage_mode), now=NOW,
        stand_ins=stand_ins or {},
    )  # fmt: skip
    return matter


def approve(matter: wf.Matter, person: str, stage: int) -> None:
    wf.decide(matter, actor_id=person, stage_number=stage, decision="approve", comment="同意", digest=matter.digest, now=NOW)


def transfer(matter: wf.Matter, directory: Directory, holder: str, to: str, stage: int = 1) -> None:
    wf.transfer(
        matter, actor_id=holder, actor_is_admin=False, stage_number=stage, from_person_id=None, to_person_id=to,
        reason="出差", directory=directory, now=NOW,
    )  # fmt: skip


def published(matter: wf.Matter) -> list[list[str]]:
    """`waiting_on` of each stage, as the view (routing's snapshot) carries it, through JSON as on the bus."""
    return [stage["waiting_on"] for stage in wf.Matter.model_validate(matter.model_dump()).view()["stages"]]


def test_an_all_of_stage_is_held_by_everyone_who_has_not_decided_in_slot_order(directory: Directory) -> None:
    matter = new_matter(directory)
    assert published(matter) == [["jiulian-director", "jiulian-supervisor"], [], [], [], []]
    approve(matter, "jiulian-supervisor", 1)
    assert published(matter) == [["jiulian-director"], [], [], [], []]
    approve(matter, "jiulian-director", 1)
    assert published(matter) == [[], ["jiulian-secretary"], [], [], []]
    assert matter.waiting_on() == ["jiulian-secretary"]


def test_an_any_of_stage_closes_on_the_first_approval_and_the_cancelled_slot_holds_nothing(directory: Directory) -> None:
    matter = new_matter(directory, "any")
    assert published(matter)[0] == ["jiulian-director", "jiulian-supervisor"]
    approve(matter, "jiulian-director", 1)
    supervisor = matter.stages[0].assignees[1]
    assert supervisor.cancelled_at is not None and supervisor.decision is None
    assert published(matter)[:2] == [[], ["jiulian-secretary"]]


def test_a_cancelled_slot_of_an_open_stage_is_not_waited_on() -> None:
    stage = wf.Stage(
        number=1, name="会签", mode="all", status="open", deadline_working_days=1,
        assignees=[
            wf.Assignee(person_id="a", cancelled_at=NOW), wf.Assignee(person_id="b"), wf.Assignee(person_id="c", decision="approve"),
        ],
    )  # fmt: skip
    assert stage.waiting_on() == ["b"]
    assert stage.model_copy(update={"mode": "sequence"}).waiting_on() == ["b"]
    assert stage.model_copy(update={"status": "waiting"}).waiting_on() == []


def test_a_sequence_stage_is_held_by_the_first_undecided_only(directory: Directory) -> None:
    matter = new_matter(directory, "sequence")
    assert published(matter)[0] == ["jiulian-director"]
    approve(matter, "jiulian-director", 1)
    assert published(matter)[0] == ["jiulian-supervisor"]


def test_a_transfer_puts_the_new_holder_in_the_slots_place(directory: Directory) -> None:
    matter = new_matter(directory)
    transfer(matter, directory, "jiulian-director", STAND_IN)
    assert published(matter)[0] == [STAND_IN, "jiulian-supervisor"]
    approve(matter, STAND_IN, 1)
    assert published(matter)[0] == ["jiulian-supervisor"]


def test_a_transfer_of_a_later_turn_in_a_sequence_waits_for_that_turn(directory: Directory) -> None:
    matter = new_matter(directory, "sequence")
    transfer(matter, directory, "jiulian-director", STAND_IN)
    assert published(matter)[0] == [STAND_IN]
    approve(matter, STAND_IN, 1)
    assert published(matter)[0] == ["jiulian-supervisor"]


def test_a_stage_opening_while_its_signer_is_away_is_held_by_the_stand_in(directory: Directory) -> None:
    away = {"yinong-leader-a": wf.StandIn(absence_id="a1", person_id="yinong-leader-a", stand_in_id="yinong-leader-b", ends_on=NOW.date())}
    matter = new_matter(directory, stand_ins=away)
    for stage, person in [(1, "jiulian-director"), (1, "jiulian-supervisor"), (2, "jiulian-secretary")]:
        approve(matter, person, stage)
    matter.stand_ins = away  # the handler tells the matter who is away whenever a stage may open
    approve(matter, "yinong-cadre-jiulian", 3)
    assert published(matter)[3] == ["yinong-leader-b"]


def test_a_stand_in_who_would_sign_twice_leaves_the_task_with_the_holder(directory: Directory) -> None:
    # The supervisor already fills a slot of this matter: the secretary keeps their own task.
    away = {
        "jiulian-secretary": wf.StandIn(
            absence_id="a1", person_id="jiulian-secretary", stand_in_id="jiulian-supervisor", ends_on=NOW.date()
        )
    }
    matter = new_matter(directory, stand_ins=away)
    approve(matter, "jiulian-director", 1)
    matter.stand_ins = away
    approve(matter, "jiulian-supervisor", 1)
    assert published(matter)[1] == ["jiulian-secretary"]


@pytest.mark.parametrize("turn", ["return", "withdraw"])
def test_nobody_holds_anything_once_the_matter_leaves_review(directory: Directory, turn: str) -> None:
    matter = new_matter(directory)
    if turn == "return":
        wf.decide(matter, actor_id="jiulian-director", stage_number=1, decision="return", comment="缺附件", digest=D1, now=NOW)
    else:
        wf.withdraw(matter, actor_id="jiulian-bookkeeper", reason="预算调整", now=NOW)
    assert published(matter) == [[], [], [], [], []] and matter.waiting_on() == []


def test_intake_reads_waiting_on_and_falls_back_only_for_snapshots_stored_before_it(directory: Directory) -> None:
    matter = new_matter(directory, "any")
    transfer(matter, directory, "jiulian-director", STAND_IN)
    view = readmodel.with_overdue(matter.view())
    assert [t["stage"] for t in readmodel.open_tasks(view, STAND_IN)] == [1]
    assert readmodel.open_tasks(view, "jiulian-director") == []
    # The published list wins over the slots (it is routing's word) ...
    view["stages"][0]["waiting_on"] = ["jiulian-supervisor"]
    assert readmodel.open_tasks(view, STAND_IN) == []
    # ... and a snapshot without it gets the same rule: undecided, not cancelled, the first in a sequence.
    old = matter.model_dump(mode="json")
    old["stages"][0]["assignees"][1]["cancelled_at"] = NOW.isoformat()
    assert readmodel.waiting_on(old["stages"][0]) == [STAND_IN]
    old["stages"][0]["mode"], old["stages"][0]["assignees"][1]["cancelled_at"] = "sequence", None
    assert readmodel.waiting_on(old["stages"][0]) == [STAND_IN]
    assert [readmodel.waiting_on(s) for s in old["stages"][1:]] == [[], [], [], []]
