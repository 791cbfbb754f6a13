"""The org directory and routing policies as pure data, and route resolution from them."""

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from sealflow_routing.domain.errors import Refused

# Role ids the directory knows, with the names people read. Village roles are held in one village; the
# rest are town roles (village_id null).
ROLE_NAMES = {
    "bookkeeper": "报账员",
    "director": "村委会主任",
    "supervisor": "村监委会主任",
    "secretary": "村党组织书记",
    "liaison_cadre": "联村干部",
    "liaison_leader": "联村领导",
    "domain_leader": "分管领导",
    "principal": "镇主要领导",
    "discipline": "镇纪委",
    "admin": "管理员",
}
VILLAGE_ROLES = {"bookkeeper", "director", "supervisor", "secretary"}


class Person(BaseModel):
    id: str
    name: str
    village_id: str | None = None
    roles: list[str]
    # Nobody is deleted (docs/rules.md §7): a deactivated person keeps their history and can no longer sign in
    # or be given a task.
    active: bool = True
    phone: str | None = None
    email: str | None = None
    version: int = 1  # this person's own version, for If-Match on granular edits


class Village(BaseModel):
    id: str
    name: str
    liaison_cadre: str
    liaison_leader: str
    coop_seal: str
    active: bool = True
    version: int = 1


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


class VillageVariant(BaseModel):
    """A village's own route for a matter type (e.g. a village whose committee signs in sequence, or whose
    threshold for the principal is lower): replaces the policy's stages and thresholds for that village."""

    villages: list[str] = Field(min_length=1)
    note: str = ""  # why this village differs, for the administrator who reads the policy next year
    stages: list[StagePolicy] = Field(min_length=1)
    thresholds: list[Threshold] = []


class Policy(BaseModel):
    matter_type: str = Field(min_length=1, max_length=64)
    title: str
    domain: str
    version: int = 0  # assigned by routing when the policy is stored
    stages: list[StagePolicy] = Field(min_length=1)
    thresholds: list[Threshold] = []
    variants: list[VillageVariant] = []
    allow_same_person_in_two_slots: bool = False

    @model_validator(mode="after")
    def _one_variant_per_village(self) -> "Policy":
        named = [v for variant in self.variants for v in variant.villages]
        twice = sorted({v for v in named if named.count(v) > 1})
        if twice:
            raise ValueError(f"villages {twice} are in more than one variant; each village has at most one")
        return self

    def for_village(self, village_id: str) -> tuple[list[StagePolicy], list[Threshold]]:
        """The stages and thresholds that route this village's matters: its variant's, else the policy's."""
        variant = next((v for v in self.variants if village_id in v.villages), None)
        return (variant.stages, variant.thresholds) if variant else (self.stages, self.thresholds)


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
        return next((p.id for p in self.people if p.village_id == village_id and role in p.roles and p.active), None)

    def problems(self) -> list[str]:
        """What makes a directory unusable: duplicate ids and references to people or villages that do not exist."""
        found = []
        ids = [p.id for p in self.people]
        found += [f"person {i!r} appears twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
        village_ids = {v.id for v in self.villages}
        vids = [v.id for v in self.villages]
        found += [f"village {i!r} appears twice" for i in sorted({i for i in vids if vids.count(i) > 1})]
        for village in self.villages:
            for ref in (village.liaison_cadre, village.liaison_leader):
                if self.person(ref) is None:
                    found.append(f"village {village.id!r} names {ref!r}, who is not in the directory")
                elif village.active and not self.person(ref).active:
                    found.append(f"village {village.id!r} names {ref!r}, who is deactivated")
        for domain, ref in {**self.domain_leaders, "principal": self.principal}.items():
            if self.person(ref) is None:
                found.append(f"{domain!r} names {ref!r}, who is not in the directory")
            elif not self.person(ref).active:
                found.append(f"{domain!r} names {ref!r}, who is deactivated")
        found += [
            f"person {p.id!r} belongs to unknown village {p.village_id!r}"
            for p in self.people
            if p.village_id and p.village_id not in village_ids
        ]
        return found


def same_authority(directory: Directory, role: str | None, village_id: str | None, person_id: str) -> bool:
    """转办 goes only to someone holding the slot's authority: the same role in the same village, or the
    same town role (`village_id` None)."""
    person = directory.person(person_id)
    return bool(person and person.active and role and role in person.roles and person.village_id == village_id)


class ResolvedStage(BaseModel):
    number: int
    name: str
    mode: Literal["all", "any", "sequence"]
    assignees: list[str]
    seal_id: str | None
    deadline_working_days: int
    # Each slot's authority (role, village or None for a town role): what a transfer must match.
    authorities: list[tuple[str | None, str | None]] = []


def resolve_route(policy: Policy, directory: Directory, *, village_id: str, amount_fen: int, applicant_id: str) -> list[ResolvedStage]:
    village = directory.village(village_id)
    if village is None:
        raise Refused("unknown_village", f"no village {village_id!r} in the directory")
    if not village.active:
        raise Refused("unknown_village", f"村 {village.name}（{village_id}）已停用，不再受理新的申请")
    base_stages, thresholds = policy.for_village(village_id)
    stage_policies = list(base_stages)
    for threshold in sorted(thresholds, key=lambda t: t.above_fen):
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
        # A deactivated person is never given a task: the slot is vacant until the administrator fills it.
        if not person_id or directory.person(person_id) is None or not directory.person(person_id).active:
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
