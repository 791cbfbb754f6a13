"""The everyday turns of approval over HTTP with the real services: return → revise → complete,
withdraw, an any-of stage cancelling the others' tasks, transfer (转办) — and each refusal's code."""

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


def submit(api: Api, **changes) -> dict:
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        response = bookkeeper.post("/v1/matters", json=seed_submission(**changes))
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
    body["fields"]["预算明细"] = "人工 80000 元，设备 40000 元"
    response = post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/revisions", body)
    assert response.status_code == 201, response.text
    revised = response.json()
    assert revised["revision"] == 2 and revised["status"] == "in_review" and revised["current_stage"] == 1
    assert revised["digest"] != matter["digest"] and revised["fields"]["预算明细"].startswith("人工")
    assert all(a["decision"] is None for s in revised["stages"] for a in s["assignees"])
    assert [p["revision"] for p in revised["previous_revisions"]] == [1]
    refused(post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/revisions", unchanged), 409, "not_returned")

    # The old digest is stale now; the new revision is signed from stage 1 again.
    refused(decide(api, "jiulian-director", matter, 1, digest=matter["digest"]), 409, "stale_digest")
    for stage, people in ROUTE:
        for person in people:
            approve(api, person, revised, stage)
    done = wait_for(lambda: (x := get_matter(api, matter["id"]))["status"] == "completed" and x, timeout=120, what="completion")
    assert [(s["seal_id"], s["revision"], s["superseded"]) for s in done["seals"]] == [("jiulian-coop", 1, True), ("jiulian-coop", 2, False)]
    current = [s for s in done["signatures"] if not s["superseded"]]
    assert sorted(s["signer_id"] for s in current) == sorted(p for _, people in ROUTE for p in people)
    assert {s["revision"] for s in done["signatures"] if s["superseded"]} == {1}

    record = wait_for(lambda: (t := trail(api, matter["id"]))["entries"][-1]["type"] == "matter.completed" and t, what="full trail")
    assert record["chain_valid"] is True
    superseded = next(e for e in record["entries"] if e["type"] == "revision.superseded")
    assert superseded["data"]["revision"] == 1 and superseded["data"]["signatures"] == [1, 2, 3]
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
