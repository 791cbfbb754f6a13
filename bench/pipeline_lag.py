"""Where a matter's completion time goes: drive N matters through the local stack (as bench.run does),
then read every JetStream message's stored time and print, per act, how long signing took from the
request to the act applied, and from the last request to the matter completed.

    .venv/bin/python -m bench.pipeline_lag --matters 48 --concurrency 16
"""

import argparse
import asyncio
import collections
import json
import shutil
import statistics
import tempfile
from datetime import datetime
from pathlib import Path

import nats
from sealflow_cli.stack import Stack, free_port
from sealflow_contracts.subjects import STREAM_NAME

from bench.run import MONGO_QUIET, QUIET_ENV, SealflowDriver, drive


def _seconds(stamp: object) -> float:
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


async def main(options: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="sealflow-lag-"))
    stack = Stack(data_dir=data_dir, http_port=free_port(), ready_timeout=240,
                  mongo_uri_options=MONGO_QUIET, extra_env=QUIET_ENV)  # fmt: skip
    stack.start()
    try:
        driver = SealflowDriver(stack.base_url, stack.jwt_secret, options.poll_interval)
        await driver.matter(0)  # warm-up
        driver.handoffs.clear(), driver.completions.clear(), driver.completed.clear()
        wall = await drive(driver.matter, options.matters, options.concurrency, first=1)
        print(f"{options.matters} matters in {wall:.1f} s; hand-off p50 {statistics.median(driver.handoffs):.3f} s; "
              f"submission → completed p50 {statistics.median(driver.completions):.3f} s")  # fmt: skip
        await asyncio.sleep(3)  # the last events
        connection = await nats.connect(stack.nats_url)
        js = connection.jetstream()
        state = (await js.stream_info(STREAM_NAME)).state
        first_seen: dict[str, dict[str, float]] = collections.defaultdict(dict)
        for seq in range(state.first_seq, state.last_seq + 1):
            message = await js.get_msg(STREAM_NAME, seq)
            body = json.loads(message.data)
            kind = message.subject.split(".")[3] + (f"#{body['seq']}" if "seq" in body else "")
            first_seen[body.get("matter_id")].setdefault(kind, _seconds(message.time))
        await connection.close()
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    gaps: dict[str, list[float]] = collections.defaultdict(list)
    for matter in driver.completed:
        seen = first_seen[matter["id"]]
        for n in range(1, 8):
            asked, made = (
                seen.get(f"request-signature#{n}") or seen.get(f"request-seal#{n}"),
                seen.get(f"signature-applied#{n}") or seen.get(f"seal-applied#{n}"),
            )
            if asked and made:
                gaps[f"act {n}: requested → applied"].append(made - asked)
        for a, b in (
            ("register-approval", "approval-registered"),
            ("approval-registered", "matter-completed"),
            ("request-signature#7", "matter-completed"),
        ):
            if a in seen and b in seen:
                gaps[f"{a} → {b}"].append(seen[b] - seen[a])
    for name, values in gaps.items():
        values.sort()
        print(f"{name:45s} p50 {values[len(values) // 2]:.3f} s  p90 {values[int(len(values) * 0.9)]:.3f} s  max {values[-1]:.3f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--matters", type=int, default=48)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    asyncio.run(main(parser.parse_args()))
