"""signing's trail log against a real MongoDB-wire server (secantusd-py): heads delivered twice are one leaf,
two replicas checkpointing at once give every leaf one index and every size one checkpoint, a replica that
died between sequencing and signing leaves a size the next round checkpoints, and every proof and note
verifies with the standalone verifier's own code."""

import asyncio
import base64
import hashlib
import os
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from faststream.nats import NatsBroker
from sealflow_contracts import messages as m
from sealflow_runtime.mongo import connect
from sealflow_runtime.outbox import OutboxRelay
from sealflow_runtime.service import Runtime
from sealflow_signing import trail_log
from sealflow_signing.adapters import store
from sealflow_signing.config import SigningSettings
from sealflow_verify import tlog as verifier_tlog

from tests.support.secantus import secantus_server

pytestmark = pytest.mark.asyncio
MASTER = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory):
    with secantus_server(Path(tmp_path_factory.mktemp("secantus")) / "data") as uri:
        yield uri


class _Log:
    def info(self, *args, **kwargs) -> None:
        pass

    def warning(self, *args, **kwargs) -> None:
        raise AssertionError(f"unexpected warning {args} {kwargs}")


async def replica(uri: str, db_name: str) -> Runtime:
    """A signing replica as far as the trail log goes: real database, no broker."""
    settings = SigningSettings(mongo_uri=uri, db_name=db_name, master_key=MASTER, checkpoint_origin="sealflow.test/trail")
    client = connect(uri)
    db = client[db_name]
    broker = NatsBroker("nats://127.0.0.1:1")  # never started
    rt = Runtime("signing", settings, client, db, broker, OutboxRelay(db, broker), log=_Log())
    rt.extras["ca"] = await store.authority(db, settings)
    await trail_log.ensure_indexes(rt)
    return rt


def closed(matter_id: str, size: int) -> m.TrailClosed:
    return m.TrailClosed(
        event_id=f"trail-closed:{matter_id}:{size}", matter_id=matter_id, status="completed", revision=1, trail_size=size,
        head_hash=hashlib.sha256(f"{matter_id}:{size}".encode()).hexdigest(), ended_at=m.utcnow(),
    )  # fmt: skip


async def test_replicas_racing_give_one_index_per_leaf_and_one_checkpoint_per_size(mongo_uri: str) -> None:
    db_name = f"signing_{uuid.uuid4().hex[:8]}"
    a, b = await replica(mongo_uri, db_name), await replica(mongo_uri, db_name)
    events = [closed(f"matter-{i:02d}", 10 + i) for i in range(24)]
    # every head delivered twice, to both replicas at once
    await asyncio.gather(*(trail_log.on_trail_closed(rt_, e) for e in events for rt_ in (a, b)))
    assert await a.db.tlog_leaves.count_documents({}) == 24
    for _ in range(4):
        await asyncio.gather(trail_log.checkpoint_round(a), trail_log.checkpoint_round(b))
    leaves = await a.db.tlog_leaves.find({}).to_list()
    assert sorted(leaf["index"] for leaf in leaves) == list(range(24))
    checkpoints = await a.db.tlog_checkpoints.find({}).sort("_id", 1).to_list()
    assert checkpoints and checkpoints[-1]["tree_size"] == 24
    assert len({c["tree_size"] for c in checkpoints}) == len(checkpoints)

    # A replica died after sequencing new heads and before signing: the next round checkpoints that size.
    for e in [closed(f"late-{i}", 3) for i in range(5)]:
        await trail_log.on_trail_closed(a, e)
    assert await trail_log._sequence(a) == 29
    assert await a.db.tlog_checkpoints.find_one({"_id": 29}) is None
    made = await trail_log.checkpoint_round(b)
    assert made is not None and made["tree_size"] == 29

    # What intake is given verifies with the standalone verifier's code.
    identity = await trail_log.log_identity(a)
    name, _, encoded = identity["verifier_key"].split("+", 2)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded)[1:])
    for matter_id in ("matter-00", "matter-13", "late-4"):
        answer = await trail_log.proof(b, matter_id)
        head = verifier_tlog.parse_note(answer["head"]["note"])
        checkpoint = verifier_tlog.parse_note(answer["checkpoint"]["note"])
        assert verifier_tlog.note_signed_by(head, name, key) and verifier_tlog.note_signed_by(checkpoint, name, key)
        size, root = int(checkpoint.body.splitlines()[1]), base64.b64decode(checkpoint.body.splitlines()[2])
        proof = answer["inclusion_proof"]
        assert proof["tree_size"] == size == 29
        assert verifier_tlog.verify_inclusion(
            verifier_tlog.leaf_hash(head.body.encode()), proof["leaf_index"], size, [base64.b64decode(h) for h in proof["hashes"]], root
        )
    # The note key is certified by the town root.
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(identity["certificate_pem"].encode())
    cert.verify_directly_issued_by(a.extras["ca"].cert)
    for rt_ in (a, b):
        await rt_.client.close()
