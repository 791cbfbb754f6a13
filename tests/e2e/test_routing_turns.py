"""The everyday turns of approval over HTTP with the real services: return → revise → complete,
withdraw, an any-of stage cancelling the others' tasks, transfer (转办), absence delegation — and each
refusal's code."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.api import Api, seed_submission, wait_for

pytestmark = pytest.mark.e2e

ROUTE = [
    (1, ["jiulian-director", "jiulian-supervisor"]),
    (2, ["jiulian-secretary"]),
    (3, ["yinong-cadre-jiulian"]),
    (4, ["yinong-leader-a"]),
    (5, ["yinong-deputy-services"]),
]


def submit(api: Api, matter_type: str = "service_procurement", **changes) -> dict:
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        response = bookkeeper.post("/v1/matters", json={**seed_submission(**changes), "matter_type": matter_type})
    assert response.status_code == 201, response.text
    return response.json()


def get_matter(api: Api, matter_id: str, as_person: str = "jiulian-bookkeeper") -> dict:
    with api.as_(as_person) as client:
        response = client.get(f"/v1/matters/{matter_id}")
    assert response.status_code == 200, response.text
    return response.json()


def decide(api: Api, person: str, matter: dict, stage: int, decision: str = "approve", comment: str = "同意", digest: str | None = None):
    with api.as_(person) as client:
        return client.post(
            f"/v1/matters/{matter['id']}/decisions",
            json={"stage": stage, "decision": decision, "comment": comment, "digest": digest or matter["digest"]},
        )


def approve(api: Api, person: str, matter: dict, stage: int) -> dict:
    response = decide(api, person, matter, stage)
    assert response.status_code == 200, response.text
    return response.json()


def post(api: Api, person: str, path: str, body: dict | None = None):
    with api.as_(person) as client:
        return client.post(path, json=body)


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


def inbox_of(api: Api, person: str, matter_id: str, kind: str) -> list[dict]:
    with api.as_(person) as client:
        return [n for n in client.get("/v1/inbox").json()["items"] if n["matter_id"] == matter_id and n["kind"] == kind]


def told(api: Api, person: str, matter_id: str, kind: str) -> dict:
    return wait_for(lambda: inbox_of(api, person, matter_id, kind), timeout=60, what=f"{person} told {kind}")[0]


def tasks_of(api: Api, person: str, matter_id: str) -> list[dict]:
    with api.as_(person) as client:
        return [t for t in client.get("/v1/tasks").json()["items"] if t["matter_id"] == matter_id]


def trail(api: Api, matter_id: str) -> dict:
    with api.as_("yinong-discipline") as client:
        return client.get(f"/v1/matters/{matter_id}/trail").json()


def completed_trail(api: Api, matter_id: str) -> dict | None:
    """The trail once it holds the completion (a late deadline entry may follow it)."""
    record = trail(api, matter_id)
    return record if any(e["type"] == "matter.completed" for e in record["entries"]) else None


def test_return_revise_and_complete_with_the_old_revision_superseded(api: Api, unique: str) -> None:
    matter = submit(api, title=f"保洁招标 {unique}")
    for person in ("jiulian-director", "jiulian-supervisor"):
        approve(api, person, matter, 1)
    approve(api, "jiulian-secretary", matter, 2)  # the cooperative seal follows stage 2 in revision 1

    refused(decide(api, "yinong-cadre-jiulian", matter, 3, "return", comment=" "), 422, "reason_required")
    returned = decide(api, "yinong-cadre-jiulian", matter, 3, "return", comment="预算明细缺失，请补充")
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned" and returned.json()["current_stage"] is None
    # The applicant and every earlier signer hear why.
    for person in ("jiulian-bookkeeper", "jiulian-director", "jiulian-supervisor", "jiulian-secretary"):
        assert "预算明细缺失" in told(api, person, matter["id"], "returned")["text"]

    refused(post(api, "jiulian-director", f"/v1/matters/{matter['id']}/revisions", seed_submission()), 403, "not_applicant")
    unchanged = seed_submission(title=f"保洁招标 {unique}")
    refused(post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/revisions", unchanged), 422, "unchanged_document")
    body = seed_submission(title=f"保洁招标 {unique}")
    body["fields"]["notes"] = "人工 80000 元，设备 40000 元"
    response = post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/revisions", body)
    assert response.status_code == 201, response.text
    revised = response.json()
    assert revised["revision"] == 2 and revised["status"] == "in_review" and revised["current_stage"] == 1
    assert revised["digest"] != matter["digest"] and revised["fields"]["notes"].startswith("人工")
    assert all(a["decision"] is None for s in revised["stages"] for a in s["assignees"])
    assert [p["revision"] for p in revised["previous_revisions"]] == [1]
    # What the next signer reads is the revised form, not the one first submitted.
    read = get_matter(api, matter["id"])
    assert read["fields"] == body["fields"] and [a["filename"] for a in read["attachments"]] == [a["filename"] for a in body["attachments"]]
    refused(post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/revisions", unchanged), 409, "not_returned")

    # The old digest is stale now; the new revision is signed from stage 1 again.
    refused(decide(api, "jiulian-director", matter, 1, digest=matter["digest"]), 409, "stale_digest")
    for stage, people in ROUTE:
        for person in people:
            approve(api, person, revised, stage)
    # signing's replies reach routing on their own consumers: wait until all 3 + 6 signatures and 2 seals are in.
    done = wait_for(
        lambda: (x := get_matter(api, matter["id"]))["status"] == "completed" and len(x["signatures"]) == 9 and len(x["seals"]) == 2 and x,
        timeout=120,
        what="completion with every act",
    )
    seals = sorted((s["seal_id"], s["revision"], s["superseded"]) for s in done["seals"])
    assert seals == [("jiulian-coop", 1, True), ("jiulian-coop", 2, False)]
    current = [s for s in done["signatures"] if not s["superseded"]]
    assert sorted(s["signer_id"] for s in current) == sorted(p for _, people in ROUTE for p in people)
    assert {s["revision"] for s in done["signatures"] if s["superseded"]} == {1}

    record = wait_for(lambda: completed_trail(api, matter["id"]), what="full trail")
    assert record["chain_valid"] is True
    superseded = next(e for e in record["entries"] if e["type"] == "revision.superseded")
    assert superseded["data"]["revision"] == 1 and superseded["data"]["acts"] == [1, 2, 3, 4]
    acts = [e["data"]["seq"] for e in record["entries"] if e["type"] in ("signature.applied", "seal.applied")]
    assert sorted(acts) == list(range(1, 12))  # 4 acts of revision 1, then 7 of revision 2: one chain

    with api.anonymous() as anyone:
        now_valid = anyone.post("/v1/verify", json={"approval_number": done["approval_number"], "digest": done["digest"]}).json()
        assert now_valid["valid"] is True, now_valid
        old = anyone.post("/v1/verify", json={"approval_number": done["approval_number"], "digest": matter["digest"]}).json()
        assert old["valid"] is False


def test_withdraw_before_completion_tells_signers_and_ends_their_tasks(api: Api, unique: str) -> None:
    matter = submit(api, title=f"撤回测试 {unique}")
    approve(api, "jiulian-director", matter, 1)
    wait_for(lambda: tasks_of(api, "jiulian-supervisor", matter["id"]), what="supervisor's task")
    refused(post(api, "jiulian-director", f"/v1/matters/{matter['id']}/withdraw", {}), 403, "not_applicant")
    response = post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/withdraw", {"reason": "预算调整"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert [s["status"] for s in response.json()["stages"]] == ["cancelled"] * 5
    assert tasks_of(api, "jiulian-supervisor", matter["id"]) == []
    for person in ("jiulian-director", "jiulian-supervisor"):
        told(api, person, matter["id"], "withdrawn")
    refused(decide(api, "jiulian-supervisor", matter, 1), 409, "matter_closed")
    refused(post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/withdraw", {}), 409, "matter_closed")
    assert wait_for(lambda: (t := trail(api, matter["id"]))["entries"][-1]["type"] == "matter.withdrawn" and t, what="trail")["chain_valid"]


def test_reject_ends_the_matter_and_everyone_involved_hears(api: Api, unique: str) -> None:
    matter = submit(api, title=f"终止测试 {unique}")
    approve(api, "jiulian-supervisor", matter, 1)
    response = decide(api, "jiulian-director", matter, 1, "reject", comment="不符合采购规定")
    assert response.status_code == 200 and response.json()["status"] == "rejected", response.text
    for person in ("jiulian-bookkeeper", "jiulian-supervisor"):
        assert "不符合采购规定" in told(api, person, matter["id"], "rejected")["text"]
    refused(post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/revisions", seed_submission(title="x")), 409, "not_returned")


def any_then_sequence_policy(unique: str) -> dict:
    return {
        "title": f"或签与依次测试 {unique}",
        "domain": "services",
        "stages": [
            {
                "name": "村两委或签",
                "mode": "any",
                "selectors": [{"kind": "village_role", "role": "director"}, {"kind": "village_role", "role": "supervisor"}],
                "deadline_working_days": 1,
            },
            {
                "name": "书记、联村干部依次",
                "mode": "sequence",
                "selectors": [{"kind": "village_role", "role": "secretary"}, {"kind": "liaison_cadre"}],
                "seal": "village_coop",
                "deadline_working_days": 1,
            },
        ],
    }


def test_admin_policy_with_an_any_stage_and_a_sequence_stage(api: Api, unique: str) -> None:
    matter_type = f"any_{unique}"
    policy = any_then_sequence_policy(unique)
    with api.as_("jiulian-director") as director:
        refused(director.put(f"/v1/admin/policies/{matter_type}", json=policy), 403, "forbidden")
    with api.as_("yinong-admin") as admin:
        bad = {**policy, "stages": [{**policy["stages"][0], "mode": "some"}]}
        refused(admin.put(f"/v1/admin/policies/{matter_type}", json=bad), 422, "invalid_policy")
        stored = admin.put(f"/v1/admin/policies/{matter_type}", json=policy)
        assert stored.status_code == 200 and stored.json()["version"] == 1, stored.text
        # A type is submitted with its form (issue 13): this one takes the tender's form.
        tender = next(t for t in admin.get("/v1/matter-types").json() if t["id"] == "service_procurement")
        created = admin.put(f"/v1/admin/matter-types/{matter_type}", json={"name": "或签与依次", "form": tender["form"]})
        assert created.status_code == 200 and created.json()["version"] == 1, created.text
    matter = submit(api, title=f"或签 {unique}", matter_type=matter_type)
    assert [(s["mode"], [a["person_id"] for a in s["assignees"]]) for s in matter["stages"]] == [
        ("any", ["jiulian-director", "jiulian-supervisor"]),
        ("sequence", ["jiulian-secretary", "yinong-cadre-jiulian"]),
    ]

    # 或签: the first approval closes the stage; the other's task ends and they are told.
    approve(api, "jiulian-director", matter, 1)
    stage_one = get_matter(api, matter["id"])["stages"][0]
    assert stage_one["status"] == "done"
    assert [a["cancelled_at"] is not None for a in stage_one["assignees"]] == [False, True]
    # Who holds it now, as routing publishes it: nobody on the closed stage, the secretary on the next.
    assert [s["waiting_on"] for s in get_matter(api, matter["id"])["stages"]] == [[], ["jiulian-secretary"]]
    told(api, "jiulian-supervisor", matter["id"], "task_cancelled")
    assert tasks_of(api, "jiulian-supervisor", matter["id"]) == []
    refused(decide(api, "jiulian-supervisor", matter, 1), 409, "task_cancelled")

    # 依次: the cadre waits for the secretary, then is told it is their turn.
    assert tasks_of(api, "yinong-cadre-jiulian", matter["id"]) == []
    refused(decide(api, "yinong-cadre-jiulian", matter, 2), 409, "not_your_turn")
    approve(api, "jiulian-secretary", matter, 2)
    told(api, "yinong-cadre-jiulian", matter["id"], "task")
    approve(api, "yinong-cadre-jiulian", matter, 2)
    done = wait_for(
        lambda: (x := get_matter(api, matter["id"]))["status"] == "completed" and x["seals"] and x, timeout=90, what="completion"
    )
    assert [(s["seal_id"], s["stage"]) for s in done["seals"]] == [("jiulian-coop", 2)]

    # A new policy version (its first stage renamed) leaves the matter routed before it on the version it was
    # routed with, read after the change; a matter submitted after it is routed by the new version.
    assert done["policy_version"] == 1
    renamed = {**policy, "title": "改", "stages": [{**policy["stages"][0], "name": "村两委或签（新版）"}, *policy["stages"][1:]]}
    with api.as_("yinong-admin") as admin:
        assert admin.put(f"/v1/admin/policies/{matter_type}", json=renamed).json()["version"] == 2
        assert [p["version"] for p in admin.get(f"/v1/admin/policies/{matter_type}").json()["versions"]] == [1, 2]
        assert matter_type in [p["matter_type"] for p in admin.get("/v1/admin/policies").json()["policies"]]
        admin_trail = admin.get("/v1/admin/trail").json()
    earlier = get_matter(api, matter["id"])
    assert earlier["policy_version"] == 1 and [s["name"] for s in earlier["stages"]] == ["村两委或签", "书记、联村干部依次"], earlier
    later = submit(api, title=f"或签 新版 {unique}", matter_type=matter_type)
    assert later["policy_version"] == 2 and [s["name"] for s in later["stages"]] == ["村两委或签（新版）", "书记、联村干部依次"], later
    assert get_matter(api, later["id"])["policy_version"] == 2
    assert post(api, "jiulian-bookkeeper", f"/v1/matters/{later['id']}/withdraw", {"reason": "测试结束"}).status_code == 200
    assert admin_trail["chain_valid"] is True
    mine = [
        e["data"]["version"] for e in admin_trail["entries"] if e["type"] == "policy.replaced" and e["data"]["matter_type"] == matter_type
    ]
    assert mine == [1, 2]


def test_amount_above_the_threshold_adds_the_principal(api: Api, unique: str) -> None:
    matter = submit(api, title=f"大额 {unique}", amount_fen=60_000_000)
    assert [a["person_id"] for a in matter["stages"][-1]["assignees"]] == ["yinong-principal"] and len(matter["stages"]) == 6


def test_transfer_to_a_stand_in_with_the_same_authority(api: Api, unique: str) -> None:
    stand_in = f"jiulian-standin-{unique}"
    with api.as_("yinong-admin") as admin:
        directory = admin.get("/v1/admin/directory").json()
        version = directory.pop("version")
        directory["people"].append({"id": stand_in, "name": "久联村村委会副主任（代理）", "village_id": "jiulian", "roles": ["director"]})
        broken = {**directory, "principal": "nobody"}
        refused(admin.put("/v1/admin/directory", json=broken), 422, "invalid_directory")
        replaced = admin.put("/v1/admin/directory", json=directory)
        assert replaced.status_code == 200 and replaced.json()["version"] == version + 1, replaced.text
        assert any(e["type"] == "directory.replaced" for e in admin.get("/v1/admin/trail").json()["entries"])
    with api.as_("jiulian-director") as director:
        refused(director.put("/v1/admin/directory", json=directory), 403, "forbidden")

    matter = submit(api, title=f"转办 {unique}")
    path = f"/v1/matters/{matter['id']}/transfers"
    # The same role in another village is not the same authority.
    refused(
        post(api, "jiulian-director", path, {"stage": 1, "to_person_id": "changbei-director", "reason": "出差"}), 422, "not_same_authority"
    )
    refused(post(api, "jiulian-secretary", path, {"stage": 2, "to_person_id": stand_in, "reason": "出差"}), 409, "not_your_turn")
    refused(post(api, "jiulian-secretary", path, {"stage": 1, "to_person_id": stand_in, "reason": "出差"}), 403, "not_assignee")
    refused(
        post(api, "jiulian-director", path, {"stage": 1, "to_person_id": "jiulian-supervisor", "reason": "出差"}), 422, "route_conflict"
    )
    refused(post(api, "jiulian-director", path, {"stage": 1, "to_person_id": stand_in, "reason": ""}), 422, "invalid_request")
    response = post(api, "jiulian-director", path, {"stage": 1, "to_person_id": stand_in, "reason": "主任出差一周"})
    assert response.status_code == 200, response.text
    slot = response.json()["stages"][0]["assignees"][0]
    assert slot["person_id"] == stand_in and slot["transferred_from"] == ["jiulian-director"]
    assert response.json()["stages"][0]["waiting_on"] == [stand_in, "jiulian-supervisor"]
    assert [t["stage"] for t in tasks_of(api, stand_in, matter["id"])] == [1]
    assert tasks_of(api, "jiulian-director", matter["id"]) == []

    told(api, stand_in, matter["id"], "task")
    assert told(api, "jiulian-director", matter["id"], "task_transferred")["reason"] == "主任出差一周"
    refused(decide(api, "jiulian-director", matter, 1), 403, "not_assignee")
    assert get_matter(api, matter["id"], as_person="jiulian-director")["stages"][0]["assignees"][0]["person_id"] == stand_in
    # One person never fills two slots: the stand-in cannot take the supervisor's slot as well.
    refused(post(api, "jiulian-supervisor", path, {"stage": 1, "to_person_id": stand_in, "reason": "x"}), 422, "route_conflict")
    approve(api, stand_in, matter, 1)
    approve(api, "jiulian-supervisor", matter, 1)
    assert get_matter(api, matter["id"])["current_stage"] == 2
    entries = wait_for(
        lambda: [e for e in trail(api, matter["id"])["entries"] if e["type"] == "task.transferred"], what="transfer in trail"
    )
    assert entries[0]["actor_id"] == "jiulian-director"
    assert entries[0]["data"] == {"stage": 1, "from": "jiulian-director", "to": stand_in, "reason": "主任出差一周"}


def test_absence_delegation_gives_stages_opening_in_the_range_to_the_stand_in(api: Api, unique: str) -> None:
    deputy = f"jiulian-deputy-secretary-{unique}"
    with api.as_("yinong-admin") as admin:
        directory = admin.get("/v1/admin/directory").json()
        directory.pop("version")
        directory["people"].append({"id": deputy, "name": "久联村党组织副书记", "village_id": "jiulian", "roles": ["secretary"]})
        assert admin.put("/v1/admin/directory", json=directory).status_code == 200
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    absence = {
        "stand_in_id": deputy,
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=2)).isoformat(),
        "reason": "外出培训",
    }
    # Only someone with the same authority, not oneself, a real range, and one's own absence.
    refused(post(api, "jiulian-secretary", "/v1/absences", {**absence, "stand_in_id": "changbei-secretary"}), 422, "not_same_authority")
    refused(post(api, "jiulian-secretary", "/v1/absences", {**absence, "stand_in_id": "jiulian-secretary"}), 422, "invalid_absence")
    refused(
        post(api, "jiulian-secretary", "/v1/absences", {**absence, "ends_on": (today - timedelta(days=1)).isoformat()}),
        422,
        "invalid_absence",
    )
    refused(post(api, "jiulian-director", "/v1/absences", {**absence, "person_id": "jiulian-secretary"}), 403, "forbidden")
    response = post(api, "jiulian-secretary", "/v1/absences", absence)
    assert response.status_code == 201, response.text
    registered = response.json()
    try:
        assert registered["person_id"] == "jiulian-secretary" and registered["stand_in_id"] == deputy
        for person in ("jiulian-secretary", deputy):
            with api.as_(person) as client:
                assert registered["id"] in [a["id"] for a in client.get("/v1/absences").json()["items"]]
        with api.as_("jiulian-director") as director:
            assert registered["id"] not in [a["id"] for a in director.get("/v1/absences").json()["items"]]

        matter = submit(api, title=f"代理签批 {unique}")
        approve(api, "jiulian-director", matter, 1)
        opened = approve(api, "jiulian-supervisor", matter, 1)
        slot = opened["stages"][1]["assignees"][0]
        assert slot["person_id"] == deputy and slot["transferred_from"] == ["jiulian-secretary"]
        told(api, deputy, matter["id"], "task")
        told(api, "jiulian-secretary", matter["id"], "task_delegated")
        refused(decide(api, "jiulian-secretary", matter, 2), 403, "not_assignee")
        approve(api, deputy, matter, 2)  # a secretary's authority: the village seal follows
        sealed = wait_for(
            lambda: (x := get_matter(api, matter["id"]))["current_stage"] == 3 and x["seals"] and x, what="the seal after stage 2"
        )
        assert sealed["seals"][0]["seal_id"] == "jiulian-coop"
        entries = wait_for(
            lambda: [e for e in trail(api, matter["id"])["entries"] if e["type"] == "task.delegated"], what="delegation in trail"
        )
        assert entries[0]["data"] == {
            "stage": 2,
            "from": "jiulian-secretary",
            "to": deputy,
            "absence_id": registered["id"],
            "until": absence["ends_on"],
        }
    finally:
        with api.as_("jiulian-director") as director:
            refused(director.delete(f"/v1/absences/{registered['id']}"), 404, "absence_not_found")
        with api.as_("jiulian-secretary") as secretary:
            cancelled = secretary.delete(f"/v1/absences/{registered['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["cancelled_at"], cancelled.text
    # Back at work: the next matter's stage 2 is the secretary's again.
    matter = submit(api, title=f"代理结束 {unique}")
    approve(api, "jiulian-director", matter, 1)
    assert approve(api, "jiulian-supervisor", matter, 1)["stages"][1]["assignees"][0]["person_id"] == "jiulian-secretary"
