"""The standalone verifier (tools/verify) re-implements the trail's hash rule and the log's proofs; these hold
it to the services' own code, so the two can never drift apart, and check how it names each break."""

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from sealflow_contracts.chain import GENESIS_HASH, chain_is_valid, trail_entry_hash
from sealflow_signing.domain import tlog as service_tlog
from sealflow_verify import tlog as verifier_tlog
from sealflow_verify import trail as verifier_trail

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def chained(datas: list, types: list[str]) -> list[dict]:
    entries, prev = [], GENESIS_HASH
    for seq, (data, type_) in enumerate(zip(datas, types, strict=True), start=1):
        entry = {
            "matter_id": "m1",
            "seq": seq,
            "type": type_,
            "at": "2026-11-30T10:00:00+00:00",
            "actor_id": "jiulian-director",
            "data": data,
            "prev_hash": prev,
        }
        entry["hash"] = trail_entry_hash(entry)
        prev = entry["hash"]
        entries.append(entry)
    return entries


@settings(max_examples=200, deadline=None)
@given(data=json_values, type_=st.text(min_size=1, max_size=20), actor=st.text(max_size=20))
def test_the_verifier_hashes_an_entry_as_the_services_do(data, type_: str, actor: str) -> None:
    entry = {
        "matter_id": "事项-1",
        "seq": 3,
        "type": type_,
        "at": "2026-11-30T10:00:00+00:00",
        "actor_id": actor,
        "data": data,
        "prev_hash": "ab" * 32,
    }
    assert verifier_trail.entry_hash(entry) == trail_entry_hash(entry)
    assert verifier_trail.GENESIS_HASH == GENESIS_HASH


@settings(max_examples=50, deadline=None)
@given(datas=st.lists(json_values, min_size=1, max_size=8))
def test_a_chain_valid_to_the_services_is_valid_to_the_verifier(datas: list) -> None:
    entries = chained(datas, ["matter.submitted"] * len(datas))
    assert chain_is_valid(entries)
    assert verifier_trail.chain_problems(entries) == []


def test_each_break_is_named() -> None:
    entries = chained([{"n": i} for i in range(6)], [f"t{i}" for i in range(6)])
    changed = [dict(e) for e in entries]
    changed[2]["data"] = {"n": 99}
    assert any("was changed" in p for p in verifier_trail.chain_problems(changed))
    removed = entries[:3] + entries[4:]
    assert any("were removed: seq 4" in p for p in verifier_trail.chain_problems(removed))
    reordered = [entries[0], entries[2], entries[1], *entries[3:]]
    assert any("were reordered" in p for p in verifier_trail.chain_problems(reordered))


def test_rfc6962_vector_and_proofs_agree() -> None:
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        bytes.fromhex("5051525354555657"),
        bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
    ]
    hashes = [service_tlog.leaf_hash(leaf) for leaf in leaves]
    assert service_tlog.root(hashes).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    for size in range(1, 34):
        tree = [service_tlog.leaf_hash(f"leaf {i}".encode()) for i in range(size)]
        root = service_tlog.root(tree)
        for index in range(size):
            proof = service_tlog.inclusion_proof(index, tree)
            assert verifier_tlog.verify_inclusion(verifier_tlog.leaf_hash(f"leaf {index}".encode()), index, size, proof, root)
            assert not verifier_tlog.verify_inclusion(verifier_tlog.leaf_hash(b"another"), index, size, proof, root)
            if size > 1:
                assert not verifier_tlog.verify_inclusion(tree[index], (index + 1) % size, size, proof, root)


def test_signed_notes_follow_c2sp_and_verify_in_the_verifier() -> None:
    key = Ed25519PrivateKey.generate()
    origin = "sealflow.test/yinong/trail"
    body = service_tlog.checkpoint_body(origin, 5, b"\x07" * 32)
    note = service_tlog.sign_note(body, origin, key)
    text, signature_line = note.split("\n\n")
    assert text.splitlines() == [origin, "5", base64.b64encode(b"\x07" * 32).decode()]
    assert signature_line.startswith(f"\u2014 {origin} ") and signature_line.endswith("\n")
    blob = base64.b64decode(signature_line.split(" ")[-1])
    assert len(blob) == 4 + 64
    # The verifier key string: name, hex key hash, base64 of 0x01 ‖ key — and the hint in the signature is that hash.
    name, hint, encoded = service_tlog.verifier_key(origin, key.public_key()).split("+", 2)
    assert name == origin and bytes.fromhex(hint) == blob[:4] and base64.b64decode(encoded)[0] == 1
    parsed = verifier_tlog.parse_note(note)
    assert parsed.body == body
    assert verifier_tlog.note_signed_by(parsed, origin, key.public_key())
    assert not verifier_tlog.note_signed_by(verifier_tlog.parse_note(note.replace("\n5\n", "\n6\n")), origin, key.public_key())
    assert not verifier_tlog.note_signed_by(parsed, origin, Ed25519PrivateKey.generate().public_key())
