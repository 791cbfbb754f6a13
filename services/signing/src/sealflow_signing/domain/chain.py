"""The per-matter chain of signed acts (each decision's signature and each seal use), and its checks."""

import base64
from datetime import datetime
from typing import Any

from sealflow_contracts.chain import GENESIS_HASH

from sealflow_signing.domain import crypto


def act_payload(
    *,
    matter_id: str,
    revision: int,
    seq: int,
    kind: str,
    stage: int,
    actor_id: str,
    digest: str,
    at: datetime,
    prev_hash: str,
    comment: str = "",
) -> dict[str, Any]:
    """What a signature covers (docs/rules.md §2): matter, revision, digest, stage, decision, time, previous hash."""
    return {
        "matter_id": matter_id,
        "revision": revision,
        "seq": seq,
        "kind": kind,
        "decision": "approve" if kind == "signature" else "seal",
        "stage": stage,
        "actor_id": actor_id,
        "comment": comment,
        "digest": digest,
        "at": at.isoformat(),
        "prev_hash": prev_hash,
    }


def verify_acts(acts: list[dict[str, Any]], public_keys: dict[str, str], digest: str, revision: int | None = None) -> str | None:
    """None when the chain holds; otherwise the first reason it does not.

    A matter's chain runs on across revisions: acts of an earlier revision (returned, then revised)
    signed that revision's document, so with `revision` only acts of that revision must carry `digest`.
    """
    prev = GENESIS_HASH
    for expected_seq, act in enumerate(acts, start=1):
        payload = act["payload"]
        signature = base64.b64decode(act["signature"])
        if payload["seq"] != expected_seq:
            return f"act {expected_seq} is missing"
        if payload["prev_hash"] != prev:
            return f"act {expected_seq} does not link to act {expected_seq - 1}"
        if payload["digest"] != digest and (revision is None or payload["revision"] >= revision):
            return f"act {expected_seq} signed a different document"
        pem = public_keys.get(act["key_id"])
        if pem is None or not crypto.verify(pem, payload, signature):
            return f"the signature of act {expected_seq} does not verify"
        if crypto.act_hash(payload, signature) != act["hash"]:
            return f"act {expected_seq} was altered"
        prev = act["hash"]
    return None
