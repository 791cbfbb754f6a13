"""A new integrity alert is a notice to the discipline office (镇纪委), exactly once: intake stores the alert and
stages its announcement in one transaction, notify delivers it to every active member of the office. The
notice reads the rule's Chinese name, the village and the matters by name. Judging the same facts again — a
revision, the administrator's thresholds re-run over the whole history — finds the same alert and tells nobody
again; nor does a notify that was down, or an intake killed mid-way, lose or double the notice.

Counting "nothing more arrived" needs a barrier: a second new alert raised afterwards. Its notice travels the
same outbox and the same durable consumer, behind anything the re-judging could have sent, so once it is in
the inbox a duplicate would be too."""

import re
import signal

import pytest
from sealflow_cli.stack import Stack

from tests.e2e.test_integrity_alerts import alerts, submit
from tests.e2e.test_routing_turns import decide, get_matter, post
from tests.support.api import PUBLIC_URL, Api, seed_submission, wait_for

pytestmark = pytest.mark.e2e

OFFICE = "yinong-discipline"  # 镇纪委, the pilot's discipline office


def late_submission(title: str, unique: str) -> dict:
    """A form whose service began years before it was submitted: 先斩后奏."""
    body = seed_submission(title=title)
    body["fields"]["service_start"] = "2020-01-01"
    body["fields"]["counterparty"] = f"先斩后奏测试公司{unique}"  # its own counterparty: no split or concentration pattern
    return body


def act_first_alert(api: Api, matter_id: str) -> dict:
    found = wait_for(
        lambda: [a for a in alerts(api, rule="act_first") if a["matter_ids"] == [matter_id]], timeout=90, what="the act_first alert"
    )
    assert len(found) == 1, found
    return found[0]


def alert_notices(api: Api, matter_id: str, alert_id: str, person: str = OFFICE) -> list[dict]:
    with api.as_(person) as client:
        response = client.get("/v1/inbox", params={"matter_id": matter_id, "limit": 500})
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["kind"] == "alert" and n.get("alert_id") == alert_id]


def told_once(api: Api, matter_id: str, alert_id: str) -> dict:
    notices = wait_for(lambda: alert_notices(api, matter_id, alert_id), timeout=90, what=f"{OFFICE} told of {alert_id}")
    assert len(notices) == 1, notices
    return notices[0]


def barrier(api: Api, unique: str, label: str) -> None:
    """A second new alert, told to the office: everything staged before it has been delivered too."""
    matter = submit(api, late_submission(f"先斩后奏（{label}）{unique}", unique + label))
    told_once(api, matter["id"], act_first_alert(api, matter["id"])["id"])


def test_a_new_alert_is_one_notice_to_the_office_and_judging_again_sends_none(api: Api, unique: str) -> None:
    title = f"先斩后奏通知测试 {unique}"
    matter = submit(api, late_submission(title, unique))
    alert = act_first_alert(api, matter["id"])
    notice = told_once(api, matter["id"], alert["id"])

    text = notice["text"]
    assert text.startswith("【廉政预警·先斩后奏】"), text
    assert "久联村" in text and f"《{title}》" in text and "2020-01-01" in text, text
    assert matter["id"] not in text and "jiulian" not in text and "act_first" not in text, text  # names, not ids
    assert not re.search(r"[0-9a-f]{32}", text), text
    assert notice["url"] == f"{PUBLIC_URL.rstrip('/')}/#/matters/{matter['id']}", notice
    assert notice["rule"] == "act_first" and notice["matter_ids"] == [matter["id"]] and notice["read"] is False
    # Nobody outside the office hears of it.
    assert alert_notices(api, matter["id"], alert["id"], person="jiulian-bookkeeper") == []

    # Judged again on a revision: the director returns it, the applicant resubmits with the same early start.
    returned = decide(api, "jiulian-director", matter, 1, "return", comment="请补充开工说明")
    assert returned.status_code == 200, returned.text
    revision = late_submission(title, unique)
    revision["fields"]["notes"] = "开工日期系笔误，实际尚未开工"
    revised = post(api, "jiulian-bookkeeper", f"/v1/matters/{matter['id']}/revisions", revision)
    assert revised.status_code == 201, revised.text
    wait_for(lambda: get_matter(api, matter["id"])["revision"] == 2, what="the revision in intake's view")

    # Judged again over the whole history: the administrator saves the thresholds (unchanged numbers, new version).
    with api.as_("yinong-admin") as admin:
        current = admin.get("/v1/supervision/alert-thresholds").json()
        saved = admin.put("/v1/supervision/alert-thresholds", json=current)
        assert saved.status_code == 200, saved.text
        assert saved.json()["alerts_raised_or_updated"] >= 1
    assert act_first_alert(api, matter["id"])["raised_at"] == alert["raised_at"]  # kept, not raised anew

    barrier(api, unique, "屏障")
    assert len(alert_notices(api, matter["id"], alert["id"])) == 1, "the same alert judged again told the office again"


def test_a_notice_survives_a_dead_notify_and_a_killed_intake(stack: Stack, api: Api, unique: str) -> None:
    killed = []
    try:
        stack.processes["notify"].send_signal(signal.SIGKILL)
        stack.processes["notify"].wait(timeout=10)
        killed.append("notify")
        title = f"先斩后奏（宕机）{unique}"
        matter = submit(api, late_submission(title, unique))
        # intake dies wherever it is: before judging the matter, between storing the alert and publishing it, or after.
        stack.processes["intake"].send_signal(signal.SIGKILL)
        stack.processes["intake"].wait(timeout=10)
        killed.append("intake")
    finally:
        assert sorted(stack.restart_dead()) == sorted(killed)
        stack.wait_ready()

    alert = act_first_alert(api, matter["id"])
    notice = told_once(api, matter["id"], alert["id"])
    assert "先斩后奏" in notice["text"] and "久联村" in notice["text"] and f"《{title}》" in notice["text"], notice
    barrier(api, unique, "重启后")
    assert len(alert_notices(api, matter["id"], alert["id"])) == 1
