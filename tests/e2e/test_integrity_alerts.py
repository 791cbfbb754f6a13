"""Integrity alerts end to end (docs/rules.md §9): three procurements of one village and counterparty, each under the
threshold and together above it, raise one split_procurement alert naming all three; a service starting
before its submission raises act_first; approving again and again without opening the document raises
rubber_stamp; a disposition lands in each matter's trail. Only the discipline office and the administrator
read them."""

import pytest

from tests.e2e.test_seed_case import approve, get_matter, trail
from tests.support.api import Api, seed_submission, wait_for

pytestmark = pytest.mark.e2e


def submit(api: Api, body: dict) -> dict:
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        response = bookkeeper.post("/v1/matters", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def alerts(api: Api, **query) -> list[dict]:
    with api.as_("yinong-discipline") as discipline:
        response = discipline.get("/v1/supervision/alerts", params=query)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_split_act_first_rubber_stamp_and_a_disposition_in_each_trail(api: Api, unique: str) -> None:
    party = f"益农测试保洁公司{unique}"
    ids = []
    for n in range(3):
        body = seed_submission(title=f"村级保洁服务（第{n + 1}段）{unique}", amount_fen=20_000_000)
        body["fields"]["counterparty"] = party
        ids.append(submit(api, body)["id"])

    def split_alert():
        found = [a for a in alerts(api, rule="split_procurement", village_id="jiulian") if a["evidence"]["counterparty"] == party]
        return found if found and set(found[0]["matter_ids"]) == set(ids) else None

    found = wait_for(split_alert, timeout=60, what="the split_procurement alert")
    assert len(found) == 1, found
    alert = found[0]
    assert alert["status"] == "open" and alert["evidence"]["total_fen"] == 60_000_000 and alert["evidence"]["threshold_fen"] == 50_000_000

    late = seed_submission(title=f"先斩后奏测试 {unique}")
    late["fields"]["service_start"] = "2020-01-01"
    late_id = submit(api, late)["id"]
    act_first = wait_for(
        lambda: [a for a in alerts(api, rule="act_first") if a["matter_ids"] == [late_id]], timeout=60, what="the act_first alert"
    )
    assert act_first[0]["evidence"]["service_start"] == "2020-01-01"

    # The director approves all three at once, opening none of them.
    for matter_id in ids:
        wait_for(lambda i=matter_id: get_matter(api, i)["current_stage"] == 1, what="stage 1 open")
        approve(api, "jiulian-director", get_matter(api, matter_id), 1)

    def stamped():
        return [
            a
            for a in alerts(api, rule="rubber_stamp")
            if a["evidence"]["person_id"] == "jiulian-director" and set(ids) & set(a["matter_ids"])
        ]

    stamp = wait_for(stamped, timeout=60, what="the rubber_stamp alert")
    # The run may take in the director's quick approvals from other tests of the session; ours are unopened.
    ours = [a for a in stamp[0]["evidence"]["approvals"] if a["matter_id"] in ids]
    assert {a["matter_id"] for a in ours} == set(ids) and all(not a["viewed"] for a in ours)

    # Not for everyone's eyes.
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        assert bookkeeper.get("/v1/supervision/alerts").status_code == 403
        assert (
            bookkeeper.post(f"/v1/supervision/alerts/{alert['id']}/disposition", json={"status": "confirmed", "reason": "x"}).status_code
            == 403
        )

    with api.as_("yinong-discipline") as discipline:
        response = discipline.post(
            f"/v1/supervision/alerts/{alert['id']}/disposition", json={"status": "confirmed", "reason": "同一公司分三次签约，已立案核查"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    assert alerts(api, rule="split_procurement", status="confirmed", village_id="jiulian")
    for matter_id in ids:
        entry = wait_for(
            lambda i=matter_id: next((e for e in trail(api, i)["entries"] if e["type"] == "alert.disposed"), None),
            timeout=60,
            what="the disposition in the trail",
        )
        assert (
            entry["actor_id"] == "yinong-discipline" and entry["data"]["status"] == "confirmed" and entry["data"]["alert_id"] == alert["id"]
        )
        assert trail(api, matter_id)["chain_valid"]
        assert sum(e["type"] == "alert.disposed" for e in trail(api, matter_id)["entries"]) == 1

    # The same disposition again (a retry after a lost answer) is the same one; a different one is refused,
    # so two officers on stale pages never overwrite each other.
    with api.as_("yinong-discipline") as discipline:
        again = discipline.post(
            f"/v1/supervision/alerts/{alert['id']}/disposition", json={"status": "confirmed", "reason": "同一公司分三次签约，已立案核查"}
        )
        other = discipline.post(f"/v1/supervision/alerts/{alert['id']}/disposition", json={"status": "dismissed", "reason": "看错了"})
    assert again.status_code == 200, again.text
    assert other.status_code == 409 and other.json()["error"]["code"] == "alert_already_disposed", other.text
    assert "确认" in other.json()["error"]["message"]
    assert alerts(api, rule="split_procurement", status="confirmed", village_id="jiulian")
    for matter_id in ids:
        assert sum(e["type"] == "alert.disposed" for e in trail(api, matter_id)["entries"]) == 1


def test_thresholds_are_the_administrators_data_and_a_change_judges_history_again(api: Api, unique: str) -> None:
    party = f"阈值测试公司{unique}"
    ids = []
    for n in range(2):
        body = seed_submission(title=f"阈值测试（第{n + 1}段）{unique}", amount_fen=20_000_000)
        body["fields"]["counterparty"] = party
        ids.append(submit(api, body)["id"])
    wait_for(lambda: all(get_matter(api, i)["current_stage"] == 1 for i in ids), what="both routed")

    def for_party():
        return [a for a in alerts(api, rule="split_procurement") if a["evidence"]["counterparty"] == party]

    assert for_party() == [], "40万 together is under the 50万 threshold"
    with api.as_("yinong-admin") as admin, api.as_("yinong-discipline") as discipline:
        current = admin.get("/v1/supervision/alert-thresholds").json()
        lowered = {
            **current["thresholds"],
            "split_amount_fen": {**current["thresholds"]["split_amount_fen"], "service_procurement": 30_000_000},
        }
        assert (
            discipline.put("/v1/supervision/alert-thresholds", json={"version": current["version"], "thresholds": lowered}).status_code
            == 403
        )
        changed = admin.put("/v1/supervision/alert-thresholds", json={"version": current["version"], "thresholds": lowered})
        assert changed.status_code == 200, changed.text
        stale = admin.put("/v1/supervision/alert-thresholds", json={"version": current["version"], "thresholds": lowered})
        assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
        try:
            found = for_party()
            assert len(found) == 1 and set(found[0]["matter_ids"]) == set(ids), found
            assert found[0]["evidence"]["threshold_fen"] == 30_000_000
        finally:
            restored = admin.put(
                "/v1/supervision/alert-thresholds", json={"version": changed.json()["version"], "thresholds": current["thresholds"]}
            )
            assert restored.status_code == 200, restored.text
