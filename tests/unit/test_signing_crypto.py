"""signing's keys and chain of acts: real ECDSA P-256 and AES-GCM, no stand-ins."""

import base64
import os
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag
from sealflow_contracts.chain import GENESIS_HASH
from sealflow_signing.domain import chain, crypto

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DIGEST = "ab" * 32


def test_private_key_round_trips_only_under_its_master_key_and_id() -> None:
    master = os.urandom(32)
    key = crypto.generate_key()
    sealed = crypto.seal_private_key(key, master, "person:jiulian-director")
    assert b"PRIVATE" not in base64.b64decode(sealed["ciphertext"])
    opened = crypto.open_private_key(sealed, master, "person:jiulian-director")
    assert crypto.public_pem(opened) == crypto.public_pem(key)
    with pytest.raises(InvalidTag):
        crypto.open_private_key(sealed, master, "person:jiulian-secretary")  # copied onto another key's record
    with pytest.raises(InvalidTag):
        crypto.open_private_key(sealed, os.urandom(32), "person:jiulian-director")


def make_chain(n: int) -> tuple[list[dict], dict[str, str]]:
    key = crypto.generate_key()
    keys = {"person:p": crypto.public_pem(key)}
    acts, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        payload = chain.act_payload(
            matter_id="m1", revision=1, seq=seq, kind="signature", stage=seq, actor_id="p", digest=DIGEST, at=AT, prev_hash=prev
        )
        signature = crypto.sign(key, payload)
        act = {
            "key_id": "person:p",
            "payload": payload,
            "signature": base64.b64encode(signature).decode(),
            "hash": crypto.act_hash(payload, signature),
        }
        acts.append(act)
        prev = act["hash"]
    return acts, keys


def test_an_intact_chain_verifies() -> None:
    acts, keys = make_chain(3)
    assert chain.verify_acts(acts, keys, DIGEST) is None


def test_every_kind_of_tampering_is_caught() -> None:
    acts, keys = make_chain(3)
    assert "different document" in chain.verify_acts(acts, keys, "cd" * 32)
    altered = [dict(a) for a in acts]
    altered[1] = {**acts[1], "payload": {**acts[1]["payload"], "comment": "改过"}}
    assert "does not verify" in chain.verify_acts(altered, keys, DIGEST)
    assert "missing" in chain.verify_acts([acts[0], acts[2]], keys, DIGEST)
    other = crypto.generate_key()
    assert "does not verify" in chain.verify_acts(acts, {"person:p": crypto.public_pem(other)}, DIGEST)
