"""notify's channels against real local receivers: an HTTP webhook receiver that checks the HMAC
signature, a DingTalk-style robot that checks the signed URL, an SMTP server (aiosmtpd); retries with
backoff, a dead letter after the last try, and no duplicates when events are redelivered."""

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
import uuid
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from faststream.nats import NatsBroker
from sealflow_cli.stack import free_port
from sealflow_contracts import messages as m
from sealflow_notify import handlers
from sealflow_notify.adapters.channels import Channels, webhook_signature
from sealflow_notify.adapters.deliveries import DeliveryWorker
from sealflow_notify.adapters.names import Names
from sealflow_notify.config import NotifySettings
from sealflow_runtime.mongo import connect
from sealflow_runtime.outbox import OutboxRelay
from sealflow_runtime.service import Runtime

from tests.support.secantus import secantus_server

pytestmark = pytest.mark.asyncio
SECRET = "webhook-secret-for-tests"


@pytest.fixture(scope="module")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory):
    with secantus_server(Path(tmp_path_factory.mktemp("secantus")) / "data") as uri:
        yield uri


class Receiver:
    """A real HTTP server on loopback: answers `fail_first` requests with 500, then 200 (DingTalk: errcode)."""

    def __init__(self, fail_first: int = 0, dingtalk: bool = False) -> None:
        self.fail_first = fail_first
        self.dingtalk = dingtalk
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = 500 if len(receiver.requests) <= receiver.fail_first else 200
                answer = json.dumps({"errcode": 0, "errmsg": "ok"} if status == 200 else {"errcode": 1}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


class PilotNames(Names):
    """The pilot directory's names (routing answers these over NATS in the running system; this test is about
    the channels, so the names come from a table instead of a bus)."""

    TABLE = {
        ("person", "jiulian-supervisor"): "久联村村监委会主任",
        ("person", "yinong-admin"): "镇管理员",
        ("village", "jiulian"): "久联村",
    }

    async def _name(self, kind: str, entity_id: str) -> str:
        return self.TABLE[(kind, entity_id)]


def make_runtime(uri: str, **overrides) -> tuple[Runtime, DeliveryWorker]:
    settings = NotifySettings(
        mongo_uri=uri,
        db_name=f"notify_{uuid.uuid4().hex[:8]}",
        delivery_backoff_seconds=0.05,
        public_url="https://sealflow.test/app/",
        **overrides,
    )
    client = connect(uri)
    db = client[settings.db_name]
    broker = NatsBroker("nats://127.0.0.1:1")  # never started
    rt = Runtime("notify", settings, client, db, broker, OutboxRelay(db, broker), log=_Log())
    rt.extras["names"] = PilotNames(broker)
    worker = DeliveryWorker(db, Channels(settings, httpx.AsyncClient(timeout=5)), settings, rt.log)
    return rt, worker


class _Log:
    def __init__(self) -> None:
        self.errors: list = []

    def warning(self, *args, **kwargs) -> None:
        self.errors.append((args, kwargs))

    error = warning


def escalation(level: int = 1) -> m.EscalationRaised:
    return m.EscalationRaised(
        matter_id=uuid.uuid4().hex,
        revision=1,
        stage=1,
        stage_name="村两委会签",
        title="村级保洁服务招标呈报表",
        village_id="jiulian",
        holders=["jiulian-supervisor"],
        due_at=m.utcnow(),
        timer_id="t",
        level=level,
        supervisors=["yinong-discipline"],
    )


async def send_until(worker: DeliveryWorker, rt: Runtime, done, tries: int = 200) -> None:
    import asyncio

    for _ in range(tries):
        await worker.send_due()
        if await done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries did not settle")


async def test_signed_webhook_retried_with_backoff_then_delivered_once(mongo_uri: str) -> None:
    receiver = Receiver(fail_first=2)
    rt, worker = make_runtime(mongo_uri)
    try:
        await handlers.put_subscription(
            rt,
            m.SubscriptionPut(
                id="jw-hook", subscriber="yinong-discipline", channel="webhook", target=receiver.url, secret=SECRET, set_by="yinong-admin"
            ),
        )
        event = escalation()
        await handlers.on_escalation_raised(rt, event)
        await handlers.on_escalation_raised(rt, event)  # redelivered by the bus

        async def sent() -> bool:
            return await rt.db.deliveries.count_documents({"status": "sent"}) == 1

        await send_until(worker, rt, sent)
        assert len(receiver.requests) == 3, "two failures, then one success, and nothing after"
        delivery_ids = {r["headers"]["X-Sealflow-Delivery"] for r in receiver.requests}
        assert len(delivery_ids) == 1, "a retry carries the same delivery id"
        last = receiver.requests[-1]
        expected = webhook_signature(SECRET, last["headers"]["X-Sealflow-Timestamp"], last["body"])
        assert hmac.compare_digest(last["headers"]["X-Sealflow-Signature"], expected)
        assert webhook_signature("wrong", last["headers"]["X-Sealflow-Timestamp"], last["body"]) != expected
        payload = json.loads(last["body"])
        assert payload["kind"] == "escalation" and payload["recipient"] == "yinong-discipline"
        # Names, not ids; a link to the matter's page in the console.
        assert "【督办】" in payload["text"] and "久联村村监委会主任" in payload["text"] and "（久联村）" in payload["text"]
        assert "jiulian" not in payload["text"]
        assert payload["url"] == f"https://sealflow.test/app/#/matters/{event.matter_id}"
        delivery = await rt.db.deliveries.find_one({})
        assert delivery["attempts"] == 3 and len(delivery["errors"]) == 2
        # In-app: one inbox entry, unread, then read.
        inbox = await handlers.inbox(rt, m.InboxQuery(person_id="yinong-discipline"))
        assert len(inbox) == 1 and inbox[0]["read"] is False
        await handlers.mark_read(rt, m.InboxMarkRead(person_id="yinong-discipline", notification_id=inbox[0]["id"]))
        assert await handlers.inbox(rt, m.InboxQuery(person_id="yinong-discipline", unread_only=True)) == []
    finally:
        receiver.close()
        await rt.client.close()


async def test_last_failed_try_leaves_a_dead_letter(mongo_uri: str) -> None:
    receiver = Receiver(fail_first=10**6)
    rt, worker = make_runtime(mongo_uri, delivery_max_attempts=3)
    try:
        await handlers.put_subscription(
            rt,
            m.SubscriptionPut(
                id="down", subscriber="yinong-discipline", channel="webhook", target=receiver.url, secret=SECRET, set_by="yinong-admin"
            ),
        )
        await handlers.on_escalation_raised(rt, escalation(level=2))

        async def dead() -> bool:
            return await rt.db.deliveries.count_documents({"status": "dead"}) == 1

        await send_until(worker, rt, dead)
        assert len(receiver.requests) == 3
        letter = await rt.db.dead_letters.find_one({})
        assert letter["subject"] == "delivery.webhook" and "500" in letter["reason"]
    finally:
        receiver.close()
        await rt.client.close()


async def test_dingtalk_robot_signed_url_and_email_over_smtp(mongo_uri: str) -> None:
    robot = Receiver()
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    rt, worker = make_runtime(mongo_uri, smtp_port=smtp_port)
    try:
        secret = "SEC0123456789abcdef"
        await handlers.put_subscription(
            rt,
            m.SubscriptionPut(
                id="robot",
                subscriber="yinong-discipline",
                channel="dingtalk",
                target=robot.url + "?access_token=tok",
                secret=secret,
                set_by="yinong-admin",
            ),
        )
        await handlers.put_subscription(
            rt,
            m.SubscriptionPut(
                id="mail", subscriber="yinong-discipline", channel="email", target="jiwei@yinong.example", set_by="yinong-admin"
            ),
        )
        event = escalation()
        await handlers.on_escalation_raised(rt, event)
        await handlers.on_escalation_raised(rt, event)

        async def both_sent() -> bool:
            return await rt.db.deliveries.count_documents({"status": "sent"}) == 2

        await send_until(worker, rt, both_sent)
        # DingTalk: timestamp + sign in the query string, sign = base64(HmacSHA256(secret, "ts\nsecret")).
        (call,) = robot.requests
        query = urllib.parse.parse_qs(urllib.parse.urlparse(call["path"]).query)
        assert query["access_token"] == ["tok"]
        timestamp = query["timestamp"][0]
        expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()).decode()
        assert query["sign"] == [expected]
        body = json.loads(call["body"])
        assert body["msgtype"] == "text" and body["text"]["content"].startswith("【督办】")
        assert body["text"]["content"].endswith(f"查看详情：https://sealflow.test/app/#/matters/{event.matter_id}")
        # E-mail: one message, Chinese subject and body intact.
        assert len(mailbox.messages) == 1
        mail = message_from_bytes(mailbox.messages[0])
        assert str(make_header(decode_header(mail["Subject"]))) == "督办"
        assert mail["To"] == "jiwei@yinong.example"
        assert "村级保洁服务招标呈报表" in mail.get_payload(decode=True).decode("utf-8")
    finally:
        controller.stop()
        robot.close()
        await rt.client.close()


async def test_the_inbox_lists_the_last_notice_received_first_whatever_its_event_time(mongo_uri: str) -> None:
    # A deadline's reminder stamped with sla-monitor's clock a day ahead must not bury an urge that comes after it.
    from datetime import timedelta

    rt, _ = make_runtime(mongo_uri)
    try:
        ahead = escalation().model_copy(update={"occurred_at": m.utcnow() + timedelta(days=1)})
        await handlers.on_escalation_raised(rt, ahead)
        later = escalation(level=2)
        await handlers.on_escalation_raised(rt, later)
        inbox = await handlers.inbox(rt, m.InboxQuery(person_id="yinong-discipline", unread_only=True))
        assert [n["matter_id"] for n in inbox] == [later.matter_id, ahead.matter_id]
        assert [n["matter_id"] for n in await handlers.inbox(rt, m.InboxQuery(person_id="yinong-discipline", limit=1))] == [later.matter_id]
    finally:
        await rt.client.close()
