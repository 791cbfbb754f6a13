"""Granular edits of the org directory (docs/rules.md §7): villages and people added, changed and deactivated one at
a time, a roster imported all-or-nothing, and the whole-directory replacement checked the same way.

Pure: each function takes the directory as it stands and returns the new one with what changed (before →
after, for the administration trail), or raises `Refused` — `invalid_field` naming the field, `conflict` on a
stale version (If-Match), `not_found`, `already_exists`. Nothing is deleted: `active: false` instead.
"""

import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from sealflow_routing.domain.directory import ROLE_NAMES, VILLAGE_ROLES, Directory, Person, Village
from sealflow_routing.domain.errors import Refused

ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ROLE_BY_NAME = {name: role for role, name in ROLE_NAMES.items()}


class PersonIn(BaseModel):
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=60)
    village_id: str | None = None
    roles: list[str] = Field(default_factory=list, max_length=10)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    active: bool = True


class PersonPatch(BaseModel):
    """Only the fields sent are changed (`model_fields_set`)."""

    name: str | None = Field(default=None, min_length=1, max_length=60)
    village_id: str | None = None
    roles: list[str] | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class VillageIn(BaseModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=40)
    liaison_cadre: str = Field(min_length=1)
    liaison_leader: str = Field(min_length=1)


class VillagePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=40)
    liaison_cadre: str | None = None
    liaison_leader: str | None = None
    active: bool | None = None


class Change(BaseModel):
    """One entity's change, as the administration trail records it."""

    entity: str  # "person" | "village"
    id: str
    before: dict[str, Any] | None
    after: dict[str, Any]


def parse(model: type[BaseModel], body: dict[str, Any] | None) -> Any:
    """Validate a request body; the first bad field becomes `invalid_field` naming it."""
    try:
        return model.model_validate(body or {})
    except ValidationError as invalid:
        error = invalid.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "body"
        raise Refused("invalid_field", f"字段 {where}：{error['msg']}") from invalid


def coop_seal_id(village_id: str) -> str:
    return f"{village_id}-coop"


def coop_seal_name(village_name: str) -> str:
    return f"{village_name}经济联合社电子印章"


def expect_version(kind: str, entity: Person | Village, if_match: int | None) -> None:
    if if_match is not None and if_match != entity.version:
        raise Refused(
            "conflict",
            f"{kind}「{entity.name}」({entity.id}) 已被他人修改：当前是第 {entity.version} 版，您看到的是第 {if_match} 版。请刷新后再改。",
        )


def person_problems(directory: Directory, person: Person) -> list[tuple[str, str]]:
    """(field, Chinese message) for a person that does not fit the directory: unknown roles, a village role
    without a village (or a town role with one), a village that does not exist, a malformed e-mail."""
    found = []
    unknown = [r for r in person.roles if r not in ROLE_NAMES]
    if unknown:
        found.append(("roles", f"未知角色 {unknown}；可用：{'、'.join(f'{k}（{v}）' for k, v in ROLE_NAMES.items())}"))
    village_roles = [r for r in person.roles if r in VILLAGE_ROLES]
    town_roles = [r for r in person.roles if r in ROLE_NAMES and r not in VILLAGE_ROLES]
    if person.village_id is not None:
        village = directory.village(person.village_id)
        if village is None:
            found.append(("village_id", f"没有编号为 {person.village_id} 的村"))
        if town_roles:
            found.append(("roles", f"镇级角色 {town_roles} 不属于某个村：village_id 应为空"))
    elif village_roles:
        found.append(("village_id", f"村级角色 {village_roles} 需要所在村 village_id"))
    if person.email and not re.match(r"^[^@\s]+@[^@\s]+$", person.email):
        found.append(("email", f"邮箱 {person.email} 格式不对"))
    return found


def _into_active_village(directory: Directory, person: Person) -> list[tuple[str, str]]:
    """Someone added to or moved into a village: it must be active (people already there stay when it closes)."""
    village = directory.village(person.village_id) if person.village_id else None
    if village is not None and not village.active:
        return [("village_id", f"村 {village.name} 已停用")]
    return []


def _refuse_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise Refused("invalid_field", f"字段 {problems[0][0]}：{problems[0][1]}")


def _refuse_dangling(directory: Directory) -> None:
    """The directory as a whole must still hold: liaisons, domain leaders and the principal exist and are active."""
    problems = directory.problems()
    if not any("admin" in p.roles and p.active for p in directory.people):
        problems.append("nobody would hold the administrator role")
    if problems:
        raise Refused("invalid_field", "改后名录不一致：" + "；".join(problems))


def _dump(entity: Person | Village) -> dict[str, Any]:
    return entity.model_dump()


def add_person(directory: Directory, body: dict[str, Any] | None) -> tuple[Directory, Change]:
    new = parse(PersonIn, body)
    if directory.person(new.id) is not None:
        raise Refused("already_exists", f"编号 {new.id} 已有人使用（{directory.person(new.id).name}）；停用的人员可重新启用，不能重建")
    person = Person(**new.model_dump(), version=1)
    _refuse_problems(person_problems(directory, person) + _into_active_village(directory, person))
    changed = directory.model_copy(update={"people": [*directory.people, person]})
    return changed, Change(entity="person", id=person.id, before=None, after=_dump(person))


def patch_person(
    directory: Directory, person_id: str, body: dict[str, Any] | None, if_match: int | None
) -> tuple[Directory, Change | None]:
    current = directory.person(person_id)
    if current is None:
        raise Refused("not_found", f"名录中没有 {person_id}")
    expect_version("人员", current, if_match)
    patch = parse(PersonPatch, body)
    updates = {k: getattr(patch, k) for k in patch.model_fields_set}
    for required in ("name", "roles", "active"):
        if required in updates and updates[required] is None:
            raise Refused("invalid_field", f"字段 {required} 不能为空")
    candidate = current.model_copy(update=updates)
    if _dump(candidate) == _dump(current):
        return directory, None  # nothing to change: no new version, no trail entry
    person = candidate.model_copy(update={"version": current.version + 1})
    moved = person.village_id != current.village_id
    _refuse_problems(person_problems(directory, person) + (_into_active_village(directory, person) if moved else []))
    changed = directory.model_copy(update={"people": [person if p.id == person_id else p for p in directory.people]})
    _refuse_dangling(changed)
    return changed, Change(entity="person", id=person_id, before=_dump(current), after=_dump(person))


def _check_liaisons(directory: Directory, village: Village) -> None:
    for field, role in (("liaison_cadre", "liaison_cadre"), ("liaison_leader", "liaison_leader")):
        person = directory.person(getattr(village, field))
        if person is None:
            raise Refused("invalid_field", f"字段 {field}：名录中没有 {getattr(village, field)}")
        if not person.active:
            raise Refused("invalid_field", f"字段 {field}：{person.name} 已停用")
        if role not in person.roles:
            raise Refused("invalid_field", f"字段 {field}：{person.name} 不是{ROLE_NAMES[role]}")


def add_village(directory: Directory, body: dict[str, Any] | None) -> tuple[Directory, Change]:
    new = parse(VillageIn, body)
    if directory.village(new.id) is not None:
        raise Refused("already_exists", f"村编号 {new.id} 已存在（{directory.village(new.id).name}）")
    village = Village(**new.model_dump(), coop_seal=coop_seal_id(new.id), version=1)
    _check_liaisons(directory, village)
    changed = directory.model_copy(update={"villages": [*directory.villages, village]})
    return changed, Change(entity="village", id=village.id, before=None, after=_dump(village))


def patch_village(
    directory: Directory, village_id: str, body: dict[str, Any] | None, if_match: int | None
) -> tuple[Directory, Change | None]:
    current = directory.village(village_id)
    if current is None:
        raise Refused("not_found", f"没有编号为 {village_id} 的村")
    expect_version("村", current, if_match)
    patch = parse(VillagePatch, body)
    updates = {k: getattr(patch, k) for k in patch.model_fields_set}
    if any(v is None for v in updates.values()):
        raise Refused("invalid_field", f"字段 {next(k for k, v in updates.items() if v is None)} 不能为空")
    candidate = current.model_copy(update=updates)
    if _dump(candidate) == _dump(current):
        return directory, None
    village = candidate.model_copy(update={"version": current.version + 1})
    if village.active:
        _check_liaisons(directory, village)
    changed = directory.model_copy(update={"villages": [village if v.id == village_id else v for v in directory.villages]})
    return changed, Change(entity="village", id=village_id, before=_dump(current), after=_dump(village))


# ---- rosters ---------------------------------------------------------------------------------------


class RosterRow(BaseModel):
    """One row of a roster as intake read it from the file (`errors`: what could not be read)."""

    row: int
    id: str = ""
    name: str = ""
    village_id: str = ""
    roles: str = ""
    phone: str = ""
    email: str = ""
    errors: list[str] = []


def _roles(text: str) -> tuple[list[str], list[str]]:
    """Roles separated by `;` (also `；`, `,`, `、`), as ids or Chinese names; returns (roles, unknown)."""
    roles, unknown = [], []
    for part in re.split(r"[;；,，、]", text):
        part = part.strip()
        if not part:
            continue
        role = part if part in ROLE_NAMES else ROLE_BY_NAME.get(part)
        if role is None:
            unknown.append(part)
        elif role not in roles:
            roles.append(role)
    return roles, unknown


def plan_roster(directory: Directory, rows: list[RosterRow]) -> tuple[Directory, list[dict[str, Any]], list[Change]]:
    """Check every row against the directory and each other; the directory with every row applied, each
    row's result (`row`, `id`, `ok`, `errors`, `action`), and the changes. The caller writes nothing unless
    every row is ok. An existing id updates that person (name, village, roles, contact; `active` stays)."""
    results: list[dict[str, Any]] = []
    changes: list[Change] = []
    seen: dict[str, int] = {}
    people = {p.id: p for p in directory.people}
    for raw in rows:
        errors = list(raw.errors)
        person_id = raw.id.strip()
        action = "unchanged"
        if not person_id:
            errors.append("缺少编号 id")
        elif not re.match(ID, person_id):
            errors.append(f"编号 {person_id} 只能用小写字母、数字、- 和 _")
        elif person_id in seen:
            errors.append(f"编号 {person_id} 与第 {seen[person_id]} 行重复")
        if not raw.name.strip():
            errors.append("缺少姓名 name")
        roles, unknown = _roles(raw.roles)
        if unknown:
            errors.append(f"未知角色：{'、'.join(unknown)}")
        if not roles and not unknown:
            errors.append("缺少角色 roles")
        if not errors:
            seen[person_id] = raw.row
            current = people.get(person_id)
            fields = {
                "name": raw.name.strip(),
                "village_id": raw.village_id.strip() or None,
                "roles": roles,
                "phone": raw.phone.strip() or (current.phone if current else None),
                "email": raw.email.strip() or (current.email if current else None),
            }
            if current is None:
                person = Person(id=person_id, **fields)
                action = "create"
            else:
                person = current.model_copy(update=fields)
                if _dump(person) != _dump(current):
                    person = person.model_copy(update={"version": current.version + 1})
                    action = "update"
            moved = current is None or person.village_id != current.village_id
            problems = person_problems(directory, person) + (_into_active_village(directory, person) if moved else [])
            errors += [f"{field}：{message}" for field, message in problems]
            if not errors and action != "unchanged":
                people[person_id] = person
                changes.append(Change(entity="person", id=person_id, before=_dump(current) if current else None, after=_dump(person)))
        elif person_id and person_id not in seen:
            seen[person_id] = raw.row
        results.append({"row": raw.row, "id": person_id, "ok": not errors, "errors": errors, "action": action if not errors else "error"})
    changed = directory.model_copy(update={"people": list(people.values())})
    if all(r["ok"] for r in results):
        problems = changed.problems()
        if problems:  # e.g. a liaison cadre's role taken away: blame the rows of the people named
            for result in results:
                mine = [p for p in problems if f"'{result['id']}'" in p]
                if mine:
                    result.update(ok=False, errors=mine, action="error")
            if all(r["ok"] for r in results) and results:
                results[0].update(ok=False, errors=problems, action="error")
    return changed, results, changes


def replace_checked(current: Directory, new: Directory) -> tuple[Directory, list[Change]]:
    """The whole-directory replacement, checked like the granular edits: nobody and no village removed
    (deactivate instead), each person's and village's version carried over and raised where it changed."""
    problems = []
    kept_people = {p.id for p in new.people}
    kept_villages = {v.id for v in new.villages}
    problems += [
        f"person {p.id!r} would be removed: deactivate them (active: false) instead" for p in current.people if p.id not in kept_people
    ]
    problems += [
        f"village {v.id!r} would be removed: deactivate it (active: false) instead" for v in current.villages if v.id not in kept_villages
    ]
    if problems:
        raise Refused("invalid_directory", "; ".join(problems))
    changes: list[Change] = []

    def carry(kind: str, entity: Person | Village, before: Person | Village | None) -> Person | Village:
        if before is None:
            after = entity.model_copy(update={"version": 1})
            changes.append(Change(entity=kind, id=entity.id, before=None, after=_dump(after)))
            return after
        same = entity.model_copy(update={"version": before.version})
        if _dump(same) == _dump(before):
            return same
        after = entity.model_copy(update={"version": before.version + 1})
        changes.append(Change(entity=kind, id=entity.id, before=_dump(before), after=_dump(after)))
        return after

    people = [carry("person", p, current.person(p.id)) for p in new.people]
    villages = [carry("village", v, current.village(v.id)) for v in new.villages]
    for person in people:
        problems += [f"person {person.id!r}: {field}: {message}" for field, message in person_problems(new, person)]
    if problems:
        raise Refused("invalid_directory", "; ".join(problems))
    return new.model_copy(update={"people": people, "villages": villages}), changes
