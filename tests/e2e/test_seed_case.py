"""The pilot's seed case end to end: HTTP → routing → signing → sla-monitor → notify, real processes,
real nats-server, real MongoDB-wire server. What a bookkeeper, a signer and an inspector would check."""

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
SIGNERS_IN_ORDER = [p for _, people in ROUTE for p in people]


def submit(api: Api, key: str | None = None, **changes) -> dict:
    headers = {"Idempotency-Key": key} if key else {}
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        response = bookkeeper.post("/v1/matters", json=seed_submission(**changes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def get_matter(api: Api, matter_id: str, as_person: str = "jiulian-bookkeeper") -> dict:
    with api.as_(as_person) as client:
        response = client.get(f"/v1/matters/{matter_id}")
    assert response.status_code == 200, response.text
    return response.json()


def decide(api: Api, person: str, matter: dict, stage: int, decision: str = "approve", digest: str | None = None):
    with api.as_(person) as client:
        return client.post(
            f"/v1/matters/{matter['id']}/decisions",
            json={"stage": stage, "decision": decision, "comment": f"{person} 同意", "digest": digest or matter["digest"]},
        )


def approve(api: Api, person: str, matter: dict, stage: int) -> dict:
    response = decide(api, person, matter, stage)
    assert response.status_code == 200, response.text
    return response.json()


def trail(api: Api, matter_id: str, as_person: str = "yinong-discipline") -> dict:
    with api.as_(as_person) as client:
        response = client.get(f"/v1/matters/{matter_id}/trail")
    assert response.status_code == 200, response.text
    return response.json()


def test_seed_case_runs_through_every_signature_and_the_seal_to_completion(api: Api, unique: str) -> None:
    matter = submit(api, title=f"村级保洁服务招标呈报表 {unique}")
    assert matter["status"] == "in_review" and matter["current_stage"] == 1
    assert [(s["number"], [a["person_id"] for a in s["assignees"]]) for s in matter["stages"]] == ROUTE
    assert [s["mode"] for s in matter["stages"]] == ["all", "any", "any", "any", "any"]
    assert matter["stages"][1]["seal_id"] == "jiulian-coop"
    assert len(matter["digest"]) == 64

    # Each assignee of the open stage sees the task; sla-monitor's deadline reaches the matter view.
    with api.as_("jiulian-director") as director:
        tasks = wait_for(
            lambda: [t for t in director.get("/v1/tasks").json()["items"] if t["matter_id"] == matter["id"]], what="director's task"
        )
    assert tasks[0]["stage"] == 1
    wait_for(lambda: get_matter(api, matter["id"])["stages"][0]["deadline"], what="stage 1 deadline from sla-monitor")

    # Stage 1 is all-of, either order: supervisor first, then director.
    approve(api, "jiulian-supervisor", matter, 1)
    after_one = get_matter(api, matter["id"])
    assert after_one["current_stage"] == 1, "stage 1 needs both village committee signatures"
    approve(api, "jiulian-director", matter, 1)
    for stage, people in ROUTE[1:]:
        # Each signer is told by an inbox entry before they act.
        with api.as_(people[0]) as signer:
            wait_for(
                lambda: [n for n in signer.get("/v1/inbox").json()["items"] if n["matter_id"] == matter["id"] and n["kind"] == "task"],
                what=f"{people[0]}'s inbox entry",
            )
        approve(api, people[0], matter, stage)

    done = wait_for(lambda: (m := get_matter(api, matter["id"]))["status"] == "completed" and m, timeout=90, what="completion")
    assert done["approval_number"].startswith("YN-")
    assert done["current_stage"] is None
    assert [s["status"] for s in done["stages"]] == ["done"] * 5
    assert [(s["seal_id"], s["stage"]) for s in done["seals"]] == [("jiulian-coop", 2)]

    # The trail: six signatures in decision order, the seal exactly once right after the secretary's (by seq).
    def completed_trail() -> dict | None:
        current = trail(api, matter["id"])
        return current if any(e["type"] == "matter.completed" for e in current["entries"]) else None

    record = wait_for(completed_trail, what="the trail up to completion")
    assert record["chain_valid"] is True
    # Routing records signatures and seals as their events arrive (separate consumers), so the trail's order
    # of the secretary's signature and the seal may swap; the chain's order is their `seq` (signing's).
    acts = sorted((e for e in record["entries"] if e["type"] in ("signature.applied", "seal.applied")), key=lambda e: e["data"]["seq"])
    assert [(e["type"], e["actor_id"] if e["type"] == "signature.applied" else e["data"]["seal_id"]) for e in acts] == [
        ("signature.applied", "jiulian-supervisor"),
        ("signature.applied", "jiulian-director"),
        ("signature.applied", "jiulian-secretary"),
        ("seal.applied", "jiulian-coop"),
        ("signature.applied", "yinong-cadre-jiulian"),
        ("signature.applied", "yinong-leader-a"),
        ("signature.applied", "yinong-deputy-services"),
    ]
    assert [e["data"]["seq"] for e in acts] == list(range(1, 8))
    assert [e["seq"] for e in record["entries"]] == list(range(1, len(record["entries"]) + 1))

    # Anyone can verify: true for the approval number and the digest, false for a changed digest.
    with api.anonymous() as anyone:
        verified = anyone.post("/v1/verify", json={"approval_number": done["approval_number"], "digest": done["digest"]}).json()
        assert verified["valid"] is True, verified
        assert verified["matter_id"] == matter["id"]
        assert [a["kind"] for a in verified["acts"]] == ["signature"] * 3 + ["seal"] + ["signature"] * 3
        assert [a["actor_id"] for a in verified["acts"] if a["kind"] == "signature"] == [
            "jiulian-supervisor", "jiulian-director", "jiulian-secretary",
            "yinong-cadre-jiulian", "yinong-leader-a", "yinong-deputy-services",
        ]  # fmt: skip
        changed = done["digest"][:-1] + ("0" if done["digest"][-1] != "0" else "1")
        forged = anyone.post("/v1/verify", json={"approval_number": done["approval_number"], "digest": changed}).json()
        assert forged["valid"] is False and forged["reason"]
        unknown = anyone.post("/v1/verify", json={"approval_number": "YN-1999-000001", "digest": done["digest"]}).json()
        assert unknown["valid"] is False

    # The applicant is told; nobody holds a task on it any more.
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        wait_for(
            lambda: [n for n in bookkeeper.get("/v1/inbox").json()["items"] if n["matter_id"] == matter["id"] and n["kind"] == "completed"],
            what="completion notice",
        )
    for person in SIGNERS_IN_ORDER:
        with api.as_(person) as signer:
            assert not [t for t in signer.get("/v1/tasks").json()["items"] if t["matter_id"] == matter["id"]]


def test_every_refusal_leaves_the_matter_unchanged(api: Api, unique: str) -> None:
    matter = submit(api, title=f"退回测试 {unique}")

    def state() -> tuple:
        current = get_matter(api, matter["id"])
        return current["status"], current["current_stage"], [[a["decision"] for a in s["assignees"]] for s in current["stages"]]

    before = state()
    cases = [
        ("jiulian-secretary", 2, None, 409, "not_your_turn"),  # a later stage's signer, out of turn
        ("yinong-admin", 1, None, 403, "not_assignee"),
        ("changbei-director", 1, None, 403, "not_assignee"),
        ("jiulian-bookkeeper", 1, None, 403, "self_approval"),  # the applicant
        ("jiulian-director", 1, "0" * 64, 409, "stale_digest"),
    ]
    for person, stage, digest, status, code in cases:
        response = decide(api, person, matter, stage, digest=digest)
        assert response.status_code == status, (person, response.text)
        assert response.json()["error"]["code"] == code, (person, response.text)
        assert response.json()["error"]["message"]
        assert state() == before, f"refusing {person} changed the matter"

    approve(api, "jiulian-director", matter, 1)
    after_first = state()
    twice = decide(api, "jiulian-director", matter, 1)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_decided"
    assert state() == after_first
    assert sum(e["type"] == "decision.approve" for e in trail(api, matter["id"])["entries"]) == 1


def test_same_idempotency_key_returns_the_same_matter(api: Api, unique: str) -> None:
    first = submit(api, key=f"tender-{unique}", title=f"幂等 {unique}")
    again = submit(api, key=f"tender-{unique}", title=f"幂等 {unique}")
    assert again["id"] == first["id"] and again["digest"] == first["digest"]
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        listed = bookkeeper.get("/v1/matters", params={"mine": "true", "limit": 200}).json()["items"]
        assert sum(m["title"] == f"幂等 {unique}" for m in listed) == 1
        reused = bookkeeper.post(
            "/v1/matters", json=seed_submission(title=f"别的 {unique}"), headers={"Idempotency-Key": f"tender-{unique}"}
        )
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"


def test_a_refused_submission_keeps_nothing_and_its_key_serves_the_corrected_form(api: Api, unique: str) -> None:
    """Bad input changes nothing: a form refused by the server leaves no key behind, so the bookkeeper's
    corrected form (the phone resends with the same Idempotency-Key) makes the one matter."""
    key = {"Idempotency-Key": f"corrected-{unique}"}
    broken = seed_submission(title=f"改正后提交 {unique}")
    del broken["fields"]["procurement_method"]
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        refused = bookkeeper.post("/v1/matters", json=broken, headers=key)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_field", refused.text
        assert "procurement_method" in refused.json()["error"]["message"]
        corrected = bookkeeper.post("/v1/matters", json=seed_submission(title=f"改正后提交 {unique}"), headers=key)
        assert corrected.status_code == 201, corrected.text
        again = bookkeeper.post("/v1/matters", json=seed_submission(title=f"改正后提交 {unique}"), headers=key)
        assert again.status_code == 201 and again.json()["id"] == corrected.json()["id"]
        listed = bookkeeper.get("/v1/matters", params={"mine": "true", "limit": 200}).json()["items"]
    assert sum(m["title"] == f"改正后提交 {unique}" for m in listed) == 1


def test_who_may_read_a_matter(api: Api, unique: str) -> None:
    matter = submit(api, title=f"可见性 {unique}")
    for reader in ("jiulian-bookkeeper", "jiulian-director", "yinong-deputy-services", "yinong-discipline", "yinong-admin"):
        assert get_matter(api, matter["id"], reader)["id"] == matter["id"]
        assert trail(api, matter["id"], reader)["entries"]
    for outsider in ("changbei-bookkeeper", "sanwei-secretary", "yinong-leader-b"):
        with api.as_(outsider) as client:
            for path in (f"/v1/matters/{matter['id']}", f"/v1/matters/{matter['id']}/trail"):
                response = client.get(path)
                assert response.status_code == 404 and response.json()["error"]["code"] == "matter_not_found"
    with api.anonymous() as anyone:
        response = anyone.get(f"/v1/matters/{matter['id']}")
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_bad_submissions_get_clear_errors(api: Api) -> None:
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        wrong_village = bookkeeper.post("/v1/matters", json={**seed_submission(), "village_id": "changbei"})
        assert wrong_village.status_code == 403 and wrong_village.json()["error"]["code"] == "not_applicant"
        unknown_type = bookkeeper.post("/v1/matters", json={**seed_submission(), "matter_type": "teleport"})
        assert unknown_type.status_code == 422 and unknown_type.json()["error"]["code"] == "unknown_matter_type"
        negative = bookkeeper.post("/v1/matters", json={**seed_submission(), "amount_fen": -1})
        assert negative.status_code == 422 and negative.json()["error"]["code"] == "invalid_request"
        broken = bookkeeper.post("/v1/matters", content=b"{not json", headers={"Content-Type": "application/json"})
        assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_request"
    with api.as_("jiulian-director") as director:
        not_bookkeeper = director.post("/v1/matters", json=seed_submission())
        assert not_bookkeeper.status_code == 403
    with api.anonymous() as anyone:
        forged = anyone.get("/v1/tasks", headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_token"
