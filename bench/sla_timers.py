"""Benchmark: sla-monitor's timer scan with many open deadlines (issue 5).

Loads `--count` pending timers (one per open deadline, due over the next 30 days) into a fresh
secantusd-py, plus `--due` timers falling due during the run (with their deadline documents, so firing
does the real work: claim + deadline read + outbox entries in one transaction). Then runs the real
scanner (`run_scanner`, 1 s tick) and reports the cost of one scan and the detection lag (firing time
minus due time).

    .venv/bin/python -m bench.sla_timers --count 1000000 --due 1000
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sealflow_contracts.messages import utcnow
from sealflow_runtime.mongo import connect
from sealflow_sla_monitor import handlers
from sealflow_sla_monitor.adapters import timers
from sealflow_sla_monitor.bootstrap import bootstrap
from sealflow_sla_monitor.config import SlaSettings

from tests.support.secantus import secantus_server


class _Log:
    def warning(self, *args, **kwargs) -> None:
        print("warning", args, kwargs)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(count: int, due: int, spread: float, uri: str) -> None:
    settings = SlaSettings(mongo_uri=uri, db_name="bench_sla")
    client = connect(uri)
    db = client[settings.db_name]
    sla = bootstrap(settings, client=client, db=db, wake_relay=lambda: None)
    now = utcnow()
    started = time.perf_counter()
    batch = 10_000
    for first in range(0, count, batch):
        await db.timers.insert_many(
            [
                {
                    "_id": f"future-{i}:overdue",
                    "deadline_id": f"future-{i}",
                    "kind": "overdue",
                    "fire_at": now + timedelta(hours=1) + timedelta(seconds=(i * 2_592_000) // max(1, count)),
                    "status": "pending",
                }
                for i in range(first, min(count, first + batch))
            ]
        )
    load_seconds = time.perf_counter() - started
    print(f"loaded {count:,} pending timers in {load_seconds:.1f} s ({count / load_seconds:,.0f}/s)")
    started = time.perf_counter()
    await timers.ensure_indexes(db)  # built after the bulk load: much faster than maintaining it per insert
    print(f"indexes built in {time.perf_counter() - started:.1f} s")

    # Cost of one scan with nothing due: the indexed range read alone.
    costs = []
    for _ in range(20):
        t0 = time.perf_counter()
        await db.timers.find({"status": "pending", "fire_at": {"$lte": utcnow()}}).sort("fire_at", 1).limit(500).to_list()
        costs.append(time.perf_counter() - t0)
    print(f"scan with 0 due among {count:,}: median {statistics.median(costs) * 1000:.1f} ms, max {max(costs) * 1000:.1f} ms")

    # Timers falling due during the run, with their deadlines, fired by the real scanner.
    start = utcnow() + timedelta(seconds=3)
    deadline_docs, timer_docs = [], []
    for i in range(due):
        key = f"due-{uuid.uuid4().hex}"
        at = start + timedelta(seconds=spread * i / max(1, due))
        deadline_docs.append(
            {
                "_id": key,
                "matter_id": key,
                "revision": 1,
                "stage": 1,
                "status": "open",
                "assignees": ["p"],
                "signed": [],
                "due_at": at,
                "opened_at": now,
                "stage_name": "s",
                "title": "t",
                "village_id": "v",
            }
        )
        timer_docs.append({"_id": f"{key}:overdue", "deadline_id": key, "kind": "overdue", "fire_at": at, "status": "pending"})
    await db.deadlines.insert_many(deadline_docs)
    await db.timers.insert_many(timer_docs)

    stopping = asyncio.Event()
    scanner = asyncio.create_task(
        timers.run_scanner(
            db,
            sla.transact,
            handlers.fire_timer(sla),
            sla.clock,
            interval=settings.scan_interval_seconds,
            batch=settings.scan_batch,
            log=_Log(),
            after_fired=lambda: None,
            stopping=stopping,
        )
    )
    t0 = time.perf_counter()
    last_due = start + timedelta(seconds=spread)
    while await db.timers.count_documents({"status": "pending", "fire_at": {"$lte": last_due}}) and time.perf_counter() - t0 < spread + 600:
        await asyncio.sleep(1.0)
    stopping.set()
    await scanner
    lags = [(d["fired_at"] - d["fire_at"]).total_seconds() async for d in db.timers.find({"status": "fired"})]
    fired_seconds = time.perf_counter() - t0
    print(f"fired {len(lags):,}/{due:,} timers due over {spread:.0f} s among {count:,} pending (wall {fired_seconds:.1f} s)")
    if lags:
        print(f"detection lag: p50 {pct(lags, 0.5):.2f} s, p99 {pct(lags, 0.99):.2f} s, max {max(lags):.2f} s")
    outbox = await db.outbox.count_documents({})
    print(f"outbox entries staged: {outbox:,} (StageOverdue + EscalationRaised per timer)")
    await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which the due timers fall due")
    parser.add_argument("--mongo-uri", default="", help="an existing MongoDB (default: a fresh secantusd-py)")
    args = parser.parse_args()
    if args.mongo_uri:
        asyncio.run(main(args.count, args.due, args.spread, args.mongo_uri))
    else:
        with tempfile.TemporaryDirectory() as tmp, secantus_server(Path(tmp) / "data") as uri:
            asyncio.run(main(args.count, args.due, args.spread, uri))
