"""Integrity alerts (docs/rules.md §9), evaluated by intake as matters change: intake's read model holds every
matter's form, route and decisions and the `viewed` facts it records, which is everything the rules read. The
rules are pure (domain/integrity.py); this module gathers their facts, keeps the alerts (one per key: a pattern
seen again updates its alert, never raises a second) and the administrator's thresholds, and announces each
new alert once (`IntegrityAlertRaised`, staged in the transaction that stores it) so notify tells the 镇纪委."""

import hashlib
import time
from datetime import date, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import rpc_call
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime

from sealflow_intake.domain import integrity as rules

SETTINGS_ID = "thresholds"
_FORMS: dict[str, Any] = {"at": 0.0, "meanings": {}}


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.views.create_index([("person_id", 1), ("matter_id", 1)])
    await db.alerts.create_index([("rule", 1), ("status", 1)])
    await db.matters.create_index([("village_id", 1), ("matter_type", 1)])


async def record_view(db: AsyncDatabase, person_id: str, matter_id: str, what: str) -> None:
    """A `viewed` fact: this person opened the matter's document or an attachment (the rubber-stamp rule reads it)."""
    await db.views.insert_one({"person_id": person_id, "matter_id": matter_id, "what": what, "at": m.utcnow()})


async def thresholds(db: AsyncDatabase) -> tuple[rules.Thresholds, int]:
    doc = await db.alert_settings.find_one({"_id": SETTINGS_ID})
    if doc is None:
        # The pilot's policy threshold (500,000 元 brings in the principal) for the procurement types.
        return rules.Thresholds(split_amount_fen={"service_procurement": 50_000_000, "village_project": 50_000_000}), 0
    return rules.Thresholds.model_validate(doc["thresholds"]), doc["version"]


async def set_thresholds(db: AsyncDatabase, value: rules.Thresholds, if_match: int, actor_id: str) -> int | None:
    """Versioned like every administrator's change: a stale version changes nothing (None)."""
    current = await db.alert_settings.find_one({"_id": SETTINGS_ID})
    version = current["version"] if current else 0
    if if_match != version:
        return None
    doc = {"thresholds": value.model_dump(), "version": version + 1, "changed_by": actor_id, "changed_at": m.utcnow()}
    if current is None:
        await db.alert_settings.insert_one({"_id": SETTINGS_ID, **doc})
    else:
        done = await db.alert_settings.update_one({"_id": SETTINGS_ID, "version": version}, {"$set": doc})
        if done.modified_count != 1:
            return None
    return version + 1


async def _meanings(rt: Runtime) -> dict[str, dict[str, str]]:
    """matter type → {meaning: field key}, from routing's forms (read at most once a minute)."""
    if time.monotonic() - _FORMS["at"] > 60 or not _FORMS["meanings"]:
        reply = await rpc_call(rt.broker, subjects.RPC_ADMIN, m.AdminRequest(actor_id="system", action="list_matter_types"))
        if reply.ok:
            _FORMS["meanings"] = {
                t["id"]: {f["meaning"]: f["key"] for f in t["form"]["fields"] if f.get("meaning")} for t in reply.result["items"]
            }
            _FORMS["at"] = time.monotonic()
    return _FORMS["meanings"]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def matter_facts(matter: dict[str, Any], meanings: dict[str, str], fields: dict[str, Any]) -> rules.MatterFacts:
    party = fields.get(meanings.get("counterparty", "counterparty"))
    return rules.MatterFacts(
        matter_id=matter["id"],
        village_id=matter["village_id"],
        matter_type=matter["matter_type"],
        amount_fen=matter["amount_fen"],
        submitted_at=_when(matter["created_at"]),
        counterparty=str(party) if party else None,
        service_start=_date(fields.get(meanings.get("service_start", "service_start"))),
    )


async def _approvals(db: AsyncDatabase, person_id: str) -> list[rules.Approval]:
    views: dict[str, list[datetime]] = {}
    async for view in db.views.find({"person_id": person_id}, {"matter_id": 1, "at": 1}):
        views.setdefault(view["matter_id"], []).append(_when(view["at"]).replace(tzinfo=None))
    approvals = []
    async for matter in db.matters.find({"stages.assignees.person_id": person_id}, {"id": 1, "stages": 1}):
        for stage in matter["stages"]:
            for slot in stage["assignees"]:
                if (
                    slot["person_id"] == person_id
                    and slot.get("decision") == "approve"
                    and slot.get("decided_at")
                    and stage.get("opened_at")
                ):
                    decided = _when(slot["decided_at"])
                    seen = any(at <= decided.replace(tzinfo=None) for at in views.get(matter["id"], []))
                    approvals.append(
                        rules.Approval(
                            person_id=person_id,
                            matter_id=matter["id"],
                            reached_at=_when(stage["opened_at"]),
                            decided_at=decided,
                            viewed=seen,
                        )
                    )
    return approvals


async def evaluate(rt: Runtime, matter_id: str, entry_types: set[str]) -> list[rules.Alert]:
    """Run the rules a change can affect: a submission or revision (split, act first, concentration), an approval
    (rubber stamp). Returns the alerts raised or updated."""
    submitted = bool(entry_types & {"matter.submitted", "matter.revised"})
    approved = "decision.approve" in entry_types
    if not (submitted or approved):
        return []
    matter = await rt.db.matters.find_one({"_id": matter_id})
    if matter is None:
        return []
    limits, _ = await thresholds(rt.db)
    found: list[rules.Alert] = []
    if submitted:
        meanings = await _meanings(rt)
        docs = await rt.db.matters.find(
            {"village_id": matter["village_id"], "matter_type": matter["matter_type"], "status": {"$nin": ["rejected", "withdrawn"]}}
        ).to_list()
        # The form as submitted: intake keeps it in `documents` before routing is asked, so it is there already.
        forms = {
            d["_id"]: d.get("fields") or {} async for d in rt.db.documents.find({"_id": {"$in": [d["_id"] for d in docs]}}, {"fields": 1})
        }
        peers = [
            matter_facts(doc, meanings.get(doc["matter_type"], {}), forms.get(doc["_id"]) or (doc.get("form") or {}).get("fields") or {})
            for doc in docs
        ]
        own = next((p for p in peers if p.matter_id == matter_id), None)
        found += [a for a in rules.split_procurement(peers, limits) if matter_id in a.matter_ids]
        found += [a for a in rules.counterparty_concentration(peers, limits, m.utcnow()) if matter_id in a.matter_ids]
        if own is not None and (alert := rules.act_first(own)):
            found.append(alert)
    if approved:
        people = {s["person_id"] for stage in matter["stages"] for s in stage["assignees"] if s.get("decision") == "approve"}
        for person in sorted(people):
            found += [a for a in rules.rubber_stamp(await _approvals(rt.db, person), limits) if matter_id in a.matter_ids]
    for alert in found:
        await keep(rt, alert)
    return found


async def reevaluate(rt: Runtime) -> int:
    """Every rule over the whole history, after the thresholds changed: new patterns are raised (kept alerts and
    their dispositions stay; an alert is never deleted). Returns how many alerts were raised or updated."""
    limits, _ = await thresholds(rt.db)
    meanings = await _meanings(rt)
    docs = await rt.db.matters.find({"status": {"$nin": ["rejected", "withdrawn"]}}).to_list()
    forms = {d["_id"]: d.get("fields") or {} async for d in rt.db.documents.find({}, {"fields": 1})}
    facts = [
        matter_facts(doc, meanings.get(doc["matter_type"], {}), forms.get(doc["_id"]) or (doc.get("form") or {}).get("fields") or {})
        for doc in docs
    ]
    found = rules.split_procurement(facts, limits) + rules.counterparty_concentration(facts, limits, m.utcnow())
    found += [a for f in facts if (a := rules.act_first(f))]
    people = {s["person_id"] for doc in docs for stage in doc["stages"] for s in stage["assignees"] if s.get("decision") == "approve"}
    for person in sorted(people):
        found += rules.rubber_stamp(await _approvals(rt.db, person), limits)
    for alert in found:
        await keep(rt, alert)
    return len(found)


async def keep(rt: Runtime, alert: rules.Alert) -> bool:
    """Store an alert; True when it is new. A pattern seen again updates its alert in one write and announces
    nothing. A new alert is inserted with its `IntegrityAlertRaised` staged in the same transaction: a crash
    before the commit leaves neither (the redelivered matter update raises it again), after it the outbox relay
    publishes — so the discipline office hears of each alert exactly once, however often the rules run."""
    now = m.utcnow()
    fields = {
        "rule": alert.rule,
        "village_id": alert.village_id,
        "matter_ids": alert.matter_ids,
        "evidence": alert.evidence,
        "updated_at": now,
    }
    seen = await rt.db.alerts.update_one({"_id": alert.key}, {"$set": fields})
    if seen.matched_count:
        return False
    matters = {d["_id"]: d async for d in rt.db.matters.find({"_id": {"$in": alert.matter_ids}}, {"title": 1, "village_id": 1})}
    notice = raised_event(alert, matters, now)

    async def work(session: AsyncClientSession) -> bool:
        stored = await rt.db.alerts.update_one(
            {"_id": alert.key}, {"$set": fields, "$setOnInsert": {"raised_at": now, "status": "open"}}, upsert=True, session=session
        )
        if stored.upserted_id is None:
            return False  # another replica (or an earlier delivery) raised it first, and announced it
        await stage_messages(rt.db, session, [notice])
        return True

    raised = await in_transaction(rt.client, work)
    if raised:
        rt.relay.wake()
        rt.log.info("integrity alert raised", alert_id=alert.key, rule=alert.rule)
    return raised


def raised_event(alert: rules.Alert, matters: dict[str, dict[str, Any]], now: datetime) -> m.IntegrityAlertRaised:
    """The announcement of a new alert. Its event id comes from the alert's id: one alert, one notice."""
    villages = [matters[i]["village_id"] for i in alert.matter_ids if matters.get(i, {}).get("village_id")]
    return m.IntegrityAlertRaised(
        event_id="alert-" + hashlib.sha256(alert.key.encode()).hexdigest()[:32],
        matter_id=alert.matter_ids[0],
        occurred_at=now,
        alert_id=alert.key,
        rule=alert.rule,
        village_id=alert.village_id,
        village_ids=list(dict.fromkeys(([alert.village_id] if alert.village_id else []) + villages)),
        matter_ids=alert.matter_ids,
        matter_titles=[matters.get(i, {}).get("title") or "（标题不详）" for i in alert.matter_ids],
        person_id=alert.evidence.get("person_id") if alert.rule == "rubber_stamp" else None,
        raised_at=now,
        summary=summary(alert),
    )


def yuan(fen: int) -> str:
    """Money as people say it: 60万元, 1,234.50元."""
    if fen and fen % 1_000_000 == 0:
        return f"{fen // 1_000_000:,}万元"
    return f"{fen / 100:,.2f}元".replace(".00元", "元")


def summary(alert: rules.Alert) -> str:
    """The evidence of an alert in one Chinese sentence, with no ids (names of people and villages are notify's)."""
    e = alert.evidence
    match alert.rule:
        case "split_procurement":
            return (
                f"{len(alert.matter_ids)}项同类事项在{e['window_days']}天内与「{e['counterparty']}」签约，"
                f"每项均低于{yuan(e['threshold_fen'])}，合计{yuan(e['total_fen'])}，超过限额。"
            )
        case "act_first":
            return f"服务（工程）开始日期{e['service_start']}早于提交日期{e['submitted_on']}，提前{e['days_before']}天。"
        case "rubber_stamp":
            approvals = e.get("approvals") or []
            n, unopened = len(approvals), sum(1 for a in approvals if not a.get("viewed"))
            how = (
                "均未打开文件或附件"
                if unopened == n
                else "均在收到任务后数秒内签批"
                if unopened == 0
                else f"其中{unopened}次未打开文件或附件，其余在收到任务后数秒内签批"
            )
            return f"连续{n}次签批未认真审阅（{how}）。"
        case "counterparty_concentration":
            return (
                f"{e['days']}天内「{e['counterparty']}」承接的金额{yuan(e['amount_fen'])}占同类事项总额{yuan(e['total_fen'])}的"
                f"{e['share']:.0%}，超过{e['limit']:.0%}。"
            )
    return ""


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "rule": doc["rule"],
        "village_id": doc["village_id"],
        "matter_ids": doc["matter_ids"],
        "evidence": doc["evidence"],
        "raised_at": _when(doc["raised_at"]).isoformat(),
        "status": doc["status"],
        **({"disposition": doc["disposition"]} if doc.get("disposition") else {}),
    }
