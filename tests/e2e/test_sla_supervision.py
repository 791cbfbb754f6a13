"""Deadlines that hold people to account, end to end with real processes: a stage goes overdue, the signers
are reminded first, the discipline inspector is escalated to in the inbox, by signed webhook and by
e-mail (real local receivers), sees it in /v1/supervision/overdue and the figures, urges the signer, and
one working day later an accountability record is raised. sla-monitor is killed and restarted while its
timers are pending; none is lost and none fires twice.

"Now" moves through sla-monitor's test clock (SEALFLOW_SLA_TEST_CLOCK + an offset in its database) so
the test never waits for working days."""

import json
import signal
import threading
from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from pymongo import MongoClient
from sealflow_cli.stack import Stack, free_port
from sealflow_contracts.messages import utcnow
from sealflow_notify.adapters.channels import webhook_signature
from sealflow_sla_monitor.domain.calendar import WorkCalendar
from sealflow_sla_monitor.domain.timers import parse_reminder_points, plan

from tests.support.api import Api, seed_submission, wait_for

pytestmark = pytest.mark.e2e
SH = ZoneInfo("Asia/Shanghai")
SECRET = "e2e-webhook-secret"


class Hooks:
    def __init__(self) -> None:
        self.received: list[dict] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hooks.received.append({"headers": dict(self.headers), "body": body, "json": json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jiwei"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


def restart(stack: Stack, name: str, *, kill: bool = False, **env: str) -> None:
    process = stack.processes[name]
    process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    process.wait(timeout=60)
    stack._env[name].update(env)
    assert name in stack.restart_dead()
    stack.wait_ready()


def set_clock(stack: Stack, moment: datetime) -> None:
    with MongoClient(stack.mongo_uri) as client:
        client.sealflow_sla.test_clock.replace_one({"_id": "offset"}, {"seconds": (moment - utcnow()).total_seconds()}, upsert=True)


def inbox(api: Api, person: str, matter_id: str, kind: str) -> list[dict]:
    with api.as_(person) as client:
        return [n for n in client.get("/v1/inbox").json()["items"] if n["matter_id"] == matter_id and n["kind"] == kind]


def trail_types(api: Api, matter_id: str) -> list[str]:
    with api.as_("yinong-discipline") as client:
        return [e["type"] for e in client.get(f"/v1/matters/{matter_id}/trail").json()["entries"]]


def test_overdue_stage_reminds_escalates_and_is_supervised(stack: Stack, api: Api, unique: str) -> None:
    hooks, mailbox = Hooks(), Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    restart(stack, "notify", SEALFLOW_SMTP_PORT=str(smtp.port))
    restart(stack, "sla-monitor", SEALFLOW_SLA_TEST_CLOCK="true")
    second_replica = None
    try:
        # The administrator registers the inspector's channels (stored as data in notify).
        with api.as_("yinong-admin") as admin:
            for sub_id, body in (
                (f"jw-hook-{unique}", {"channel": "webhook", "target": hooks.url, "secret": SECRET, "kinds": ["escalation"]}),
                (f"jw-mail-{unique}", {"channel": "email", "target": "jiwei@yinong.example", "kinds": ["escalation"]}),
            ):
                response = admin.put(f"/v1/subscriptions/{sub_id}", json={"subscriber": "yinong-discipline", **body})
                assert response.status_code == 200, response.text
        with api.as_("jiulian-director") as director:
            refused = director.put(f"/v1/subscriptions/x-{unique}", json={"channel": "webhook", "target": hooks.url, "secret": "s"})
            assert refused.status_code == 403

        with api.as_("jiulian-bookkeeper") as bookkeeper:
            created = bookkeeper.post("/v1/matters", json=seed_submission(title=f"超时督办测试 {unique}"))
        assert created.status_code == 201, created.text
        matter = created.json()
        matter_id = matter["id"]
        with api.as_("jiulian-bookkeeper") as bookkeeper:
            stage = wait_for(lambda: bookkeeper.get(f"/v1/matters/{matter_id}").json()["stages"][0], what="stage 1 view")
            deadline = wait_for(lambda: bookkeeper.get(f"/v1/matters/{matter_id}").json()["stages"][0]["deadline"], what="deadline")
        opened = datetime.fromisoformat(stage["opened_at"]).astimezone(SH)
        timers = {p.kind: p.fire_at for p in plan(WorkCalendar(), opened, 1, parse_reminder_points("50%,2h"))}
        # (The matter view's opened_at is stored to the millisecond, hence the tolerance.)
        assert abs(datetime.fromisoformat(deadline) - timers["overdue"]) < timedelta(milliseconds=1)

        # Kill sla-monitor while every timer is pending; the restarted one still fires each exactly once —
        # with a second replica scanning the same timers beside it.
        restart(stack, "sla-monitor", kill=True)
        second_replica = stack.add_replica("sla-monitor", SEALFLOW_SLA_TEST_CLOCK="true")
        stack.wait_ready()

        # Half the time allowed has passed: the signers are reminded, the inspector hears nothing yet.
        set_clock(stack, timers["reminder:50%"] + timedelta(seconds=1))
        for signer in ("jiulian-director", "jiulian-supervisor"):
            (reminder,) = wait_for(lambda s=signer: inbox(api, s, matter_id, "reminder"), timeout=90, what=f"{signer}'s reminder")
            assert reminder["text"].startswith("【签批提醒】") and reminder["read"] is False
        assert inbox(api, "yinong-discipline", matter_id, "escalation") == []
        assert not [h for h in hooks.received if h["json"]["matter_id"] == matter_id]

        # The director signs in time; the village supervisor does not.
        with api.as_("jiulian-director") as director:
            signed = director.post(
                f"/v1/matters/{matter_id}/decisions",
                json={"stage": 1, "decision": "approve", "comment": "同意", "digest": matter["digest"]},
            )
        assert signed.status_code == 200, signed.text

        def director_signed_per_sla_monitor() -> bool:
            with api.as_("yinong-discipline") as inspector:
                figures = inspector.get("/v1/supervision/stats", params={"from": (opened - timedelta(hours=1)).isoformat()}).json()
            return any(r["person"] == "jiulian-director" and r["signed"] >= 1 for r in figures["by"]["person"])

        wait_for(director_signed_per_sla_monitor, timeout=90, what="sla-monitor to record the director's signature")

        # Due: an overdue alert to the holder, escalation level 1 to the inspector on every channel.
        set_clock(stack, timers["overdue"] + timedelta(seconds=1))
        (overdue_note,) = wait_for(lambda: inbox(api, "jiulian-supervisor", matter_id, "overdue"), timeout=90, what="overdue alert")
        assert overdue_note["text"].startswith("【超时提醒】")
        assert inbox(api, "jiulian-director", matter_id, "overdue") == [], "the director had signed"
        (escalated,) = wait_for(lambda: inbox(api, "yinong-discipline", matter_id, "escalation"), timeout=90, what="escalation in inbox")
        # Names, not ids (issue 14): who has not signed, and the village.
        assert escalated["text"].startswith("【督办】") and "久联村村监委会主任" in escalated["text"] and "jiulian" not in escalated["text"]
        hook = wait_for(lambda: [h for h in hooks.received if h["json"]["matter_id"] == matter_id], timeout=90, what="webhook")[0]
        assert hook["headers"]["X-Sealflow-Signature"] == webhook_signature(SECRET, hook["headers"]["X-Sealflow-Timestamp"], hook["body"])
        mails = wait_for(
            lambda: [x for x in mailbox.messages if f"超时督办测试 {unique}" in x.get_payload(decode=True).decode()],
            timeout=90,
            what="e-mail",
        )
        mail = mails[0]
        assert mail["To"] == "jiwei@yinong.example"

        # 码上督: the inspector sees who holds what and since when; CSV too.
        with api.as_("yinong-discipline") as inspector:
            listed = inspector.get("/v1/supervision/overdue", params={"village_id": "jiulian"}).json()
            (item,) = [i for i in listed["items"] if i["matter_id"] == matter_id]
            assert item["holders"] == ["jiulian-supervisor"] and item["office"] == "村两委会签" and item["escalation_level"] == 1
            assert abs(datetime.fromisoformat(item["due_at"]) - timers["overdue"]) < timedelta(milliseconds=1)
            assert listed["by_village"]["jiulian"] >= 1
            exported = inspector.get("/v1/supervision/overdue", params={"format": "csv"})
            assert exported.headers["content-type"].startswith("text/csv") and matter_id in exported.text
            figures = inspector.get("/v1/supervision/stats", params={"from": (opened - timedelta(hours=1)).isoformat()}).json()
            people = {row["person"]: row for row in figures["by"]["person"]}
            assert people["jiulian-director"]["on_time"] >= 1 and people["jiulian-supervisor"]["open_overdue"] >= 1
            assert inspector.get("/v1/supervision/stats", params={"format": "csv"}).text.lstrip("\ufeff").startswith("dimension,key,signed")
            # The inspector urges the holder: recorded in the trail, delivered to the signer.
            urged = inspector.post("/v1/supervision/urge", json={"matter_id": matter_id, "message": "请于今日内签批"})
            assert urged.status_code == 202, urged.text
            assert urged.json()["holders"] == ["jiulian-supervisor"]
            assert inspector.post("/v1/supervision/urge", json={"matter_id": "nope"}).status_code == 404
        (urge_note,) = wait_for(lambda: inbox(api, "jiulian-supervisor", matter_id, "urge"), timeout=90, what="urge notice")
        assert "请于今日内签批" in urge_note["text"]

        # A signer sees their own figures only; nobody but the inspector and the administrator urges.
        with api.as_("jiulian-director") as director:
            own = director.get("/v1/supervision/stats").json()
            assert {row["person"] for row in own["by"]["person"]} <= {"jiulian-director"}
            assert director.get("/v1/supervision/stats", params={"person_id": "jiulian-supervisor"}).status_code == 403
            assert director.post("/v1/supervision/urge", json={"matter_id": matter_id}).status_code == 403
            # Marking a notification read: one's own only.
            note = inbox(api, "jiulian-director", matter_id, "reminder")[0]
            assert director.post(f"/v1/inbox/{note['id']}/read").json()["read"] is True
            unread = director.get("/v1/inbox", params={"unread_only": True}).json()["items"]
            assert note["id"] not in [n["id"] for n in unread]
        with api.as_("jiulian-supervisor") as supervisor:
            assert supervisor.post(f"/v1/inbox/{note['id']}/read").status_code == 404

        # One working day later: level 2, an accountability record.
        set_clock(stack, timers["escalation-2"] + timedelta(seconds=1))
        level_2 = wait_for(
            lambda: [n for n in inbox(api, "yinong-discipline", matter_id, "escalation") if n.get("level") == 2], timeout=90, what="level 2"
        )
        assert level_2[0]["text"].startswith("【问责】") and level_2[0]["accountability_id"]
        # The discipline office finds the record and records its disposition, once (issue 14).
        record_id = level_2[0]["accountability_id"]
        with api.as_("yinong-discipline") as inspector:
            records = inspector.get("/v1/supervision/accountability", params={"status": "open"}).json()["items"]
            assert [r["matter_id"] for r in records if r["id"] == record_id] == [matter_id]
            path = f"/v1/supervision/accountability/{record_id}/disposition"
            disposed = inspector.post(path, json={"outcome": "reminded", "note": "已提醒谈话"})
            assert disposed.status_code == 200 and disposed.json()["status"] == "disposed", disposed.text
            assert disposed.json()["disposition"]["by"] == "yinong-discipline"
            again = inspector.post(path, json={"outcome": "excused", "note": "改判"})
            assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

        # The trail holds every timer exactly once, in order, despite the kill and restart.
        types = wait_for(lambda: (t := trail_types(api, matter_id)).count("sla.escalated") == 2 and t, timeout=90, what="trail")
        # (Separate consumers record reminders and escalations, so only the counts are fixed, not the order.)
        assert Counter(t for t in types if t.startswith(("sla.", "supervision."))) == {
            "sla.reminder": 2,  # 50 % and 2 h before due
            "sla.overdue": 1,
            "sla.escalated": 2,  # levels 1 and 2
            "supervision.urged": 1,
        }
        ours = wait_for(
            lambda: len(m := [x for x in mailbox.messages if f"超时督办测试 {unique}" in x.get_payload(decode=True).decode()]) >= 2 and m,
            timeout=90,
            what="level 2 e-mail",
        )
        assert len(ours) == 2, "one e-mail per escalation level, none repeated"
        with api.as_("yinong-discipline") as inspector:
            assert inspector.get(f"/v1/matters/{matter_id}/trail").json()["chain_valid"] is True
        # Webhooks are delivered beside the e-mails, not before them: wait for both levels' hooks too.
        escalation_hooks = wait_for(
            lambda: len(h := [x for x in hooks.received if x["json"]["matter_id"] == matter_id]) >= 2 and h,
            timeout=90,
            what="level 2 webhook",
        )
        assert len(escalation_hooks) == 2 and len({h["headers"]["X-Sealflow-Delivery"] for h in escalation_hooks}) == 2
    finally:
        if second_replica:
            stack.remove_replica(second_replica)
        set_clock(stack, utcnow())  # offset back to zero for the tests that follow
        with api.as_("yinong-admin") as admin:
            for sub_id in (f"jw-hook-{unique}", f"jw-mail-{unique}"):
                admin.put(
                    f"/v1/subscriptions/{sub_id}",
                    json={"subscriber": "yinong-discipline", "channel": "email", "target": "off@x.y", "active": False},
                )
        smtp.stop()
        hooks.server.shutdown()


def test_after_a_transfer_the_overdue_alert_board_and_urge_go_to_the_new_holder(stack: Stack, api: Api, unique: str) -> None:
    """转办 moves the director's task to a stand-in before due: sla-monitor alerts, lists and urges whoever
    routing says holds the stage now, not the assignees named when it opened."""
    restart(stack, "sla-monitor", SEALFLOW_SLA_TEST_CLOCK="true")
    stand_in = f"jiulian-standin-{unique}"
    with api.as_("yinong-admin") as admin:
        directory = admin.get("/v1/admin/directory").json()
        directory.pop("version")
        directory["people"].append({"id": stand_in, "name": "久联村村委会副主任（代理）", "village_id": "jiulian", "roles": ["director"]})
        assert admin.put("/v1/admin/directory", json=directory).status_code == 200
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        created = bookkeeper.post("/v1/matters", json=seed_submission(title=f"转办超时 {unique}"))
        assert created.status_code == 201, created.text
        matter_id = created.json()["id"]
        deadline = wait_for(lambda: bookkeeper.get(f"/v1/matters/{matter_id}").json()["stages"][0]["deadline"], what="deadline")
    with api.as_("jiulian-director") as director:
        moved = director.post(f"/v1/matters/{matter_id}/transfers", json={"stage": 1, "to_person_id": stand_in, "reason": "出差"})
    assert moved.status_code == 200, moved.text
    holding = [stand_in, "jiulian-supervisor"]
    assert moved.json()["stages"][0]["waiting_on"] == holding

    def heard_of_the_transfer() -> bool:
        # A fresh durable consumer may still be reading older matter updates: let the clock move only after this one.
        with MongoClient(stack.mongo_uri) as client:
            record = client.sealflow_sla.deadlines.find_one({"matter_id": matter_id, "stage": 1}) or {}
        return record.get("waiting_on") == holding

    wait_for(heard_of_the_transfer, timeout=120, what="sla-monitor to hear of the transfer")
    try:
        set_clock(stack, datetime.fromisoformat(deadline) + timedelta(seconds=1))
        wait_for(lambda: inbox(api, stand_in, matter_id, "overdue"), timeout=90, what="the stand-in's overdue alert")
        wait_for(lambda: inbox(api, "jiulian-supervisor", matter_id, "overdue"), timeout=90, what="the supervisor's overdue alert")
        assert inbox(api, "jiulian-director", matter_id, "overdue") == [], "the director passed the task on"
        with api.as_("yinong-discipline") as inspector:
            listed = inspector.get("/v1/supervision/overdue", params={"village_id": "jiulian"}).json()
            assert [i["holders"] for i in listed["items"] if i["matter_id"] == matter_id] == [holding]
            theirs = inspector.get("/v1/supervision/overdue", params={"person_id": "jiulian-director"}).json()
            assert matter_id not in [i["matter_id"] for i in theirs["items"]]
            urged = inspector.post("/v1/supervision/urge", json={"matter_id": matter_id})
            assert urged.status_code == 202 and urged.json()["holders"] == holding, urged.text
    finally:
        set_clock(stack, utcnow())


def test_the_administrator_corrects_the_calendar_and_nobody_else_may(api: Api) -> None:
    with api.as_("yinong-admin") as admin:
        # chinese-calendar 1.11 does not know 2027: the administrator records New Year's Day as a holiday.
        response = admin.put("/v1/supervision/calendar/2027-01-01", json={"working": False, "note": "元旦"})
        assert response.status_code == 200, response.text
        assert {"day": "2027-01-01", "working": False, "note": "元旦"} in response.json()["overrides"]
        assert admin.put("/v1/supervision/calendar/2027-02-30", json={"working": False}).status_code == 422
        removed = admin.put("/v1/supervision/calendar/2027-01-01", json={"working": None})
        assert "2027-01-01" not in [o["day"] for o in removed.json()["overrides"]]
    with api.as_("yinong-discipline") as inspector:
        assert inspector.put("/v1/supervision/calendar/2027-01-01", json={"working": True}).status_code == 403
        assert inspector.get("/v1/supervision/stats", params={"from": "2026-11-01T00:00:00"}).status_code == 422
