"""The peer: Sealflow's seed route assembled on Temporal — one workflow per matter that has the form
certified, waits for each stage's decisions (signals) in order, runs an activity per signature and one for
the seal, then applies every act to the PDF as a PAdES signature (the same code signing runs), and answers
a query with where it stands. Kept free of I/O imports: Temporal replays this code in its sandbox."""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow

ACTIVITY_TIMEOUT = timedelta(seconds=600)


@workflow.defn(name="Approval")
class Approval:
    def __init__(self) -> None:
        self._inbox: list[dict[str, Any]] = []
        self._stage = 0
        self._pending: list[str] = []
        self._status = "in_review"

    @workflow.run
    async def run(self, matter: dict[str, Any]) -> dict[str, Any]:
        # Like Sealflow, the form is certified beside the first stage, not before it.
        certified = workflow.start_activity("certify", matter, start_to_close_timeout=ACTIVITY_TIMEOUT)
        acts = []
        seq = 0
        for stage in matter["route"]:
            self._stage, self._pending = stage["number"], list(stage["assignees"])
            needed = len(self._pending) if stage["mode"] == "all" else 1
            approvals = 0
            while approvals < needed:
                await workflow.wait_condition(lambda: bool(self._inbox))
                decision = self._inbox.pop(0)
                if decision["stage"] != self._stage or decision["person_id"] not in self._pending:
                    continue  # not this stage's turn or not an open assignee: refused, as Sealflow refuses it
                self._pending.remove(decision["person_id"])
                approvals += 1
                seq += 1
                act = {
                    "matter_id": matter["id"],
                    "digest": matter["digest"],
                    "seq": seq,
                    "stage": self._stage,
                    "actor_id": decision["person_id"],
                }
                # Like Sealflow, the next stage opens at once; the signature is made beside it.
                acts.append(workflow.start_activity("sign", act, start_to_close_timeout=ACTIVITY_TIMEOUT))
            self._pending = []
            if stage.get("seal_id"):
                seq += 1
                act = {
                    "matter_id": matter["id"],
                    "digest": matter["digest"],
                    "seq": seq,
                    "stage": self._stage,
                    "actor_id": stage["seal_id"],
                }
                acts.append(workflow.start_activity("seal", act, start_to_close_timeout=ACTIVITY_TIMEOUT))
        self._stage = 0
        signed = await asyncio.gather(*acts)
        self._status = "completed"  # every act made: Sealflow's "completed" (its approval register is not modelled)
        plan = await certified
        document = await workflow.execute_activity(
            "seal_document", {"matter": matter, "plan": plan, "acts": signed}, start_to_close_timeout=ACTIVITY_TIMEOUT
        )
        self._status = "sealed"
        return {"matter_id": matter["id"], "acts": signed, "document": document}

    @workflow.signal(name="decide")
    def decide(self, decision: dict[str, Any]) -> None:
        self._inbox.append(decision)

    @workflow.query(name="state")
    def state(self) -> dict[str, Any]:
        return {"status": self._status, "stage": self._stage, "pending": list(self._pending)}
