"""Rosters: reading .xlsx and .csv files (intake) and checking their rows against the directory, all or
nothing (routing's pure plan)."""

import io

import pytest
from openpyxl import Workbook
from sealflow_intake.roster import RosterUnreadable, parse_roster
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.domain.directory import Directory
from sealflow_routing.domain.errors import Refused
from sealflow_routing.domain.people import RosterRow, add_person, patch_person, plan_roster, replace_checked


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def directory() -> Directory:
    return Directory.model_validate(pilot_data())


def test_an_xlsx_roster_with_chinese_headers_is_read_row_by_row() -> None:
    content = xlsx(
        [
            ["编号", "姓名", "村", "角色", "电话"],
            ["a-1", "甲", "jiulian", "报账员", 13800000000],
            [None, None, None, None, None],
            ["a-2", "乙", "", "liaison_cadre", None],
        ]
    )
    rows = parse_roster("名册.xlsx", content)
    assert [r["row"] for r in rows] == [2, 4]  # as the spreadsheet numbers them; the blank row is skipped
    assert rows[0] == {
        "row": 2,
        "errors": [],
        "id": "a-1",
        "name": "甲",
        "village_id": "jiulian",
        "roles": "报账员",
        "phone": "13800000000",
    }


def test_a_csv_roster_in_utf8_with_bom_or_gb18030() -> None:
    text = "id,name,village_id,roles,email\nb-1,丙,jiulian,director;supervisor,b@example.org\n"
    for encoding in ("utf-8-sig", "gb18030"):
        rows = parse_roster("roster.csv", text.encode(encoding))
        assert rows[0]["name"] == "丙" and rows[0]["roles"] == "director;supervisor" and rows[0]["email"] == "b@example.org"


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("x.xlsx", b"PK\x03\x04not a zip"),
        ("x.pdf", b"%PDF"),
        ("x.csv", b""),
        ("x.csv", b"id,name\n1,2\n"),
        ("x.csv", b"id,name,village_id,roles\n"),
    ],
)
def test_what_is_not_a_roster_is_refused_whole(filename: str, content: bytes) -> None:
    with pytest.raises(RosterUnreadable):
        parse_roster(filename, content)


def rows(*items: dict) -> list[RosterRow]:
    return [RosterRow(row=i + 2, **item) for i, item in enumerate(items)]


def test_a_good_roster_creates_and_updates() -> None:
    changed, results, changes = plan_roster(
        directory(),
        rows(
            {"id": "jiulian-clerk", "name": "久联村文书", "village_id": "jiulian", "roles": "bookkeeper"},
            {"id": "jiulian-director", "name": "久联村村委会主任（新）", "village_id": "jiulian", "roles": "村委会主任"},
            {"id": "jiulian-supervisor", "name": "久联村村监委会主任", "village_id": "jiulian", "roles": "supervisor"},
        ),
    )
    assert [(r["ok"], r["action"]) for r in results] == [(True, "create"), (True, "update"), (True, "unchanged")]
    assert changed.person("jiulian-clerk").version == 1 and changed.person("jiulian-director").version == 2
    assert [(c.id, c.before is None) for c in changes] == [("jiulian-clerk", True), ("jiulian-director", False)]


def test_each_bad_row_is_marked_with_its_reasons() -> None:
    _, results, _ = plan_roster(
        directory(),
        rows(
            {"id": "ok-1", "name": "好", "village_id": "jiulian", "roles": "bookkeeper"},
            {"id": "", "name": "无编号", "village_id": "jiulian", "roles": "bookkeeper"},
            {"id": "x-2", "name": "甲", "village_id": "atlantis", "roles": "director"},
            {"id": "x-3", "name": "乙", "village_id": "jiulian", "roles": "wizard"},
            {"id": "x-4", "name": "丙", "village_id": "", "roles": "secretary"},
            {"id": "ok-1", "name": "重复", "village_id": "jiulian", "roles": "director"},
        ),
    )
    assert [r["ok"] for r in results] == [True, False, False, False, False, False]
    assert "id" in results[1]["errors"][0] and "atlantis" in results[2]["errors"][0] and "wizard" in results[3]["errors"][0]
    assert "village_id" in results[4]["errors"][0] and "第 2 行" in results[5]["errors"][0]


def test_a_person_is_added_once_and_changed_only_at_the_version_seen() -> None:
    with_clerk, change = add_person(directory(), {"id": "jiulian-clerk", "name": "文书", "village_id": "jiulian", "roles": ["bookkeeper"]})
    assert change.before is None and with_clerk.person("jiulian-clerk").version == 1
    with pytest.raises(Refused) as twice:
        add_person(with_clerk, {"id": "jiulian-clerk", "name": "文书", "village_id": "jiulian", "roles": ["bookkeeper"]})
    assert twice.value.code == "already_exists"
    renamed, change = patch_person(with_clerk, "jiulian-clerk", {"name": "文书甲"}, if_match=1)
    assert change.before["name"] == "文书" and renamed.person("jiulian-clerk").version == 2
    with pytest.raises(Refused) as lost:
        patch_person(renamed, "jiulian-clerk", {"name": "文书乙"}, if_match=1)
    assert lost.value.code == "conflict"
    with pytest.raises(Refused) as bad:
        patch_person(renamed, "jiulian-clerk", {"roles": ["principal"]}, if_match=2)
    assert bad.value.code == "invalid_field" and "roles" in bad.value.message
    # A liaison cadre still named by a village cannot be deactivated.
    with pytest.raises(Refused):
        patch_person(renamed, "yinong-cadre-jiulian", {"active": False}, if_match=1)


def test_the_whole_directory_keeps_everyone_and_carries_versions() -> None:
    current = directory()
    new = current.model_copy(
        update={"people": [p.model_copy(update={"name": p.name + "（改）"}) if p.id == "jiulian-director" else p for p in current.people]}
    )
    replaced, changes = replace_checked(current, new)
    assert replaced.person("jiulian-director").version == 2 and replaced.person("jiulian-secretary").version == 1
    assert [c.id for c in changes] == ["jiulian-director"]
    with pytest.raises(Refused) as removed:
        replace_checked(current, current.model_copy(update={"people": current.people[1:]}))
    assert removed.value.code == "invalid_directory"
