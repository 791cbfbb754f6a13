"""The org directory and routing policies as pure data, and route resolution from them."""

from typing import Literal

from pydantic import BaseModel, Field, model_validator

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

    @model_validator(mode="after")
    def _says_who(self) -> "Selector":
        if self.kind == "village_role" and not self.role:
            raise ValueError("a village_role selector needs `role`")
        if self.kind == "person" and not self.person_id:
            raise ValueError("a person selector needs `person_id`")
        return self


class StagePolicy(BaseModel):
    name: str = Field(min_length=1)
    mode: Literal["all", "any", "sequence"]
    selectors: list[Selector] = Field(min_length=1)
    seal: Literal["village_coop", "town"] | None = None
    deadline_working_days: int = Field(ge=1, le=60)


class Threshold(BaseModel):
    above_fen: int
    add_stages: list[StagePolicy]


class Policy(BaseModel):
    matter_type: str = Field(min_length=1, max_length=64)
    title: str
    domain: str
    version: int = 0  # assigned by routing when the policy is stored
    stages: list[StagePolicy] = Field(min_length=1)
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

    def problems(self) -> list[str]:
        """What makes a directory unusable: duplicate ids and references to people or villages that do not exist."""
        found = []
        ids = [p.id for p in self.people]
        found += [f"person {i!r} appears twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
        village_ids = {v.id for v in self.villages}
        for village in self.villages:
            for ref in (village.liaison_cadre, village.liaison_leader):
                if self.person(ref) is None:
                    found.append(f"village {village.id!r} names {ref!r}, who is not in the directory")
        for domain, ref in {**self.domain_leaders, "principal": self.principal}.items():
            if self.person(ref) is None:
                found.append(f"{domain!r} names {ref!r}, who is not in the directory")
        found += [f"person {p.id!r} belongs to unknown village {p.village_id!r}" for p in self.people if p.village_id and p.village_id not in village_ids]
        return found


def same_authority(directory: Directory, role: str | None, village_id: str | None, person_id: str) -> bool:
    """转办 goes only to someone holding the slot's authority: the same role in the same village, or the
    same town role (`village_id` None)."""
    person = directory.person(person_id)
    return bool(person and role and role in person.roles and person.village_id == village_id)


class ResolvedStage(BaseModel):
    number: int
    name: str
    mode: Literal["all", "any", "sequence"]
    assignees: list[str]
    seal_id: str | None
    deadline_working_days: int
    # Each slot's authority (role, village or None for a town role): what a transfer must match.
    authorities: list[tuple[str | None, str | None]] = []


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

    def authority(selector: Selector, person_id: str) -> tuple[str | None, str | None]:
        if selector.kind == "village_role":
            return selector.role, village_id
        if selector.kind == "person":
            person = directory.person(person_id)
            return (person.roles[0] if person.roles else None), person.village_id
        return selector.kind, None

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
                authorities=[authority(s, p) for s, p in zip(stage.selectors, assignees, strict=True)],
            )
        )
    return stages
