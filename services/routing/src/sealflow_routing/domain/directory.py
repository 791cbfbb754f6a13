"""The org directory and routing policies as pure data, and route resolution from them."""

from typing import Literal

from pydantic import BaseModel

from sealflow_routing.domain.errors import Refused


class Person(BaseModel):
    id: str
    name: str
    village_id: str | None = None
    roles: list[str]


class Village(BaseModel):
    id: str
    name: str
    liaison_cadre: str
    liaison_leader: str
    coop_seal: str


class Town(BaseModel):
    id: str
    name: str
    approval_prefix: str


class Selector(BaseModel):
    """Who fills a slot: a village role, the village's liaison cadre/leader, the domain's leader, the
    town's principal, or a named person."""

    kind: Literal["village_role", "liaison_cadre", "liaison_leader", "domain_leader", "principal", "person"]
    role: str | None = None
    person_id: str | None = None


class StagePolicy(BaseModel):
    name: str
    mode: Literal["all", "any", "sequence"]
    selectors: list[Selector]
    seal: Literal["village_coop", "town"] | None = None
    deadline_working_days: int


class Threshold(BaseModel):
    above_fen: int
    add_stages: list[StagePolicy]


class Policy(BaseModel):
    matter_type: str
    title: str
    domain: str
    version: int
    stages: list[StagePolicy]
    thresholds: list[Threshold] = []
    allow_same_person_in_two_slots: bool = False


class Directory(BaseModel):
    town: Town
    villages: list[Village]
    domain_leaders: dict[str, str]
    principal: str
    people: list[Person]

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def village(self, village_id: str) -> Village | None:
        return next((v for v in self.villages if v.id == village_id), None)

    def holder_of(self, village_id: str, role: str) -> str | None:
        return next((p.id for p in self.people if p.village_id == village_id and role in p.roles), None)


class ResolvedStage(BaseModel):
    number: int
    name: str
    mode: Literal["all", "any", "sequence"]
    assignees: list[str]
    seal_id: str | None
    deadline_working_days: int


def resolve_route(
    policy: Policy, directory: Directory, *, village_id: str, amount_fen: int, applicant_id: str
) -> list[ResolvedStage]:
    village = directory.village(village_id)
    if village is None:
        raise Refused("unknown_village", f"no village {village_id!r} in the directory")
    stage_policies = list(policy.stages)
    for threshold in sorted(policy.thresholds, key=lambda t: t.above_fen):
        if amount_fen > threshold.above_fen:
            stage_policies.extend(threshold.add_stages)

    def fill(selector: Selector) -> str:
        match selector.kind:
            case "village_role":
                person_id = directory.holder_of(village_id, selector.role or "")
            case "liaison_cadre":
                person_id = village.liaison_cadre
            case "liaison_leader":
                person_id = village.liaison_leader
            case "domain_leader":
                person_id = directory.domain_leaders.get(policy.domain)
            case "principal":
                person_id = directory.principal
            case "person":
                person_id = selector.person_id
        if not person_id or directory.person(person_id) is None:
            raise Refused("route_unresolved", f"nobody holds {selector.model_dump(exclude_none=True)} for {village_id}")
        return person_id

    stages: list[ResolvedStage] = []
    seen: set[str] = set()
    for number, stage in enumerate(stage_policies, start=1):
        assignees = [fill(s) for s in stage.selectors]
        for person_id in assignees:
            if person_id == applicant_id:
                raise Refused("self_approval", f"the applicant {applicant_id} would sign their own matter at stage {number}")
            if person_id in seen and not policy.allow_same_person_in_two_slots:
                raise Refused("route_conflict", f"{person_id} would fill two slots of one matter")
            seen.add(person_id)
        seal_id = {"village_coop": village.coop_seal, "town": f"{directory.town.id}-town", None: None}[stage.seal]
        stages.append(
            ResolvedStage(
                number=number,
                name=stage.name,
                mode=stage.mode,
                assignees=assignees,
                seal_id=seal_id,
                deadline_working_days=stage.deadline_working_days,
            )
        )
    return stages
