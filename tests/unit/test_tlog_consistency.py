"""Consistency proofs of the trail log (RFC 6962 §2.1.2, RFC 9162 §2.1.4): signing makes them, the standalone
verifier checks them with its own code. For random sizes m ≤ n the proof signing makes verifies in both; a
changed leaf (old or new), a changed or missing or extra proof hash, swapped roots or wrong sizes fail in both;
and the two verifiers give the same answer for every input, valid or not. Last, what `sealflow-verify
--previous-checkpoint` says about a kept checkpoint, from signed notes as signing makes them."""

import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from sealflow_signing.domain import tlog as service_tlog
from sealflow_verify import cli as verifier_cli
from sealflow_verify import tlog as verifier_tlog

MAX_LEAVES = 70  # past 64: trees of seven levels, with sizes either side of a power of two


def tree(n: int, salt: str = "") -> list[bytes]:
    return [service_tlog.leaf_hash(f"{salt}leaf {i}".encode()) for i in range(n)]


def both(first: int, second: int, proof: list[bytes], first_root: bytes, second_root: bytes) -> bool:
    """The verifier's answer, after checking signing's own verifier gives the same one."""
    answer = verifier_tlog.verify_consistency(first, second, proof, first_root, second_root)
    assert service_tlog.verify_consistency(first, second, proof, first_root, second_root) is answer
    return answer


sizes = st.integers(1, MAX_LEAVES).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n)))


def test_every_pair_of_sizes_up_to_33_verifies_and_the_rfc_proof_lengths_hold() -> None:
    for n in range(1, 34):
        leaves = tree(n)
        new_root = service_tlog.root(leaves)
        for m in range(1, n + 1):
            proof = service_tlog.consistency_proof(m, leaves)
            assert both(m, n, proof, service_tlog.root(leaves[:m]), new_root), (m, n)
            # At most ceil(log2 n) + 1 hashes; none at all between a tree and itself.
            assert len(proof) <= (n - 1).bit_length() + 1 and (m != n or proof == [])


def test_the_proofs_of_the_rfc_6962_example_tree() -> None:
    """RFC 6962 §2.1.3's tree of seven leaves: PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l],
    PROOF(6, D[7]) = [i, j, k] (a..f the leaves d0..d5, j the leaf d6, g, h, i, k, l the inner nodes)."""
    a, b, c, d, e, f, j = tree(7)
    node = service_tlog.node_hash
    g, h, i = node(a, b), node(c, d), node(e, f)
    k, l_ = node(g, h), node(i, j)
    leaves = [a, b, c, d, e, f, j]
    assert service_tlog.consistency_proof(3, leaves) == [c, d, g, l_]
    assert service_tlog.consistency_proof(4, leaves) == [l_]
    assert service_tlog.consistency_proof(6, leaves) == [i, j, k]
    assert service_tlog.consistency_proof(7, leaves) == []


@settings(max_examples=300, deadline=None)
@given(sizes=sizes)
def test_the_proof_signing_makes_verifies_in_the_verifier(sizes: tuple[int, int]) -> None:
    m, n = sizes
    leaves = tree(n)
    proof = service_tlog.consistency_proof(m, leaves)
    assert both(m, n, proof, service_tlog.root(leaves[:m]), service_tlog.root(leaves))


@settings(max_examples=300, deadline=None)
@given(sizes=sizes, data=st.data())
def test_a_changed_leaf_fails(sizes: tuple[int, int], data: st.DataObject) -> None:
    """A leaf of the old tree rewritten in the new one (history rewritten), or the old tree's own leaf different
    from what the log holds (a forked log): the proof no longer joins the two roots."""
    m, n = sizes
    leaves = tree(n)
    index = data.draw(st.integers(0, n - 1), label="changed leaf")
    changed = list(leaves)
    changed[index] = service_tlog.leaf_hash(b"rewritten")
    old_root, new_root = service_tlog.root(leaves[:m]), service_tlog.root(leaves)
    honest = service_tlog.consistency_proof(m, leaves)
    # The log rewrote leaf `index` after the old checkpoint: its new tree and its proof, against the old root.
    rewritten_proof, rewritten_root = service_tlog.consistency_proof(m, changed), service_tlog.root(changed)
    if index < m:
        assert not both(m, n, rewritten_proof, old_root, rewritten_root), (m, n, index)
        # A fork: the old checkpoint showed another leaf than the log holds now.
        assert not both(m, n, honest, service_tlog.root(changed[:m]), new_root)
    else:  # a leaf the old tree never had: appending is what a log may do
        assert both(m, n, rewritten_proof, old_root, rewritten_root)
    # The honest proof against a new root that is not the log's.
    assert not both(m, n, honest, old_root, rewritten_root)


@settings(max_examples=300, deadline=None)
@given(sizes=sizes, data=st.data())
def test_a_changed_missing_or_extra_hash_fails(sizes: tuple[int, int], data: st.DataObject) -> None:
    m, n = sizes
    leaves = tree(n)
    proof = service_tlog.consistency_proof(m, leaves)
    old_root, new_root = service_tlog.root(leaves[:m]), service_tlog.root(leaves)
    flip = data.draw(st.integers(0, 255), label="bit to flip")
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="changed hash")
        bad = bytearray(proof[at])
        bad[flip // 8] ^= 1 << (flip % 8)
        assert not both(m, n, [*proof[:at], bytes(bad), *proof[at + 1 :]], old_root, new_root)
        assert not both(m, n, proof[:-1], old_root, new_root)
        assert not both(m, n, proof[1:], old_root, new_root)
    extra = hashlib.sha256(b"extra").digest()
    assert not both(m, n, [*proof, extra], old_root, new_root)
    bad_root = bytearray(old_root)
    bad_root[flip // 8] ^= 1 << (flip % 8)
    assert not both(m, n, proof, bytes(bad_root), new_root)
    bad_root = bytearray(new_root)
    bad_root[flip // 8] ^= 1 << (flip % 8)
    assert not both(m, n, proof, old_root, bytes(bad_root))
    if m != n:
        assert not both(m, n, proof, new_root, old_root)


@settings(max_examples=200, deadline=None)
@given(sizes=sizes, other=st.integers(1, MAX_LEAVES + 5))
def test_a_proof_given_for_other_sizes_fails(sizes: tuple[int, int], other: int) -> None:
    """The proof from m to n, presented as one from m to another size or from another size to n (each with the
    real roots of those sizes), fails — unless it happens to be that pair's proof too."""
    m, n = sizes
    leaves = tree(max(n, other))
    proof = service_tlog.consistency_proof(m, leaves[:n])
    for first, second in ((m, other), (other, n)):
        if (first, second) != (m, n) and first <= second and service_tlog.consistency_proof(first, leaves[:second]) != proof:
            assert not both(first, second, proof, service_tlog.root(leaves[:first]), service_tlog.root(leaves[:second]))
    old_root, new_root = service_tlog.root(leaves[:m]), service_tlog.root(leaves[:n])
    assert not both(0, n, proof, old_root, new_root)
    if m < n:
        assert not both(n, m, proof, new_root, old_root)


@settings(max_examples=300, deadline=None)
@given(
    first=st.integers(-2, 40),
    second=st.integers(-2, 40),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=8),
    first_root=st.binary(min_size=32, max_size=32),
    second_root=st.binary(min_size=32, max_size=32),
)
def test_the_two_verifiers_agree_on_any_input(first: int, second: int, proof: list[bytes], first_root: bytes, second_root: bytes) -> None:
    both(first, second, proof, first_root, second_root)


def test_signing_refuses_sizes_with_no_proof() -> None:
    leaves = tree(5)
    for first in (0, -1, 6):
        try:
            service_tlog.consistency_proof(first, leaves)
        except ValueError:
            continue
        raise AssertionError(f"a proof from size {first} to 5 was made")


ORIGIN = "sealflow.test/yinong/trail"


def test_the_verifier_judges_a_kept_checkpoint_against_the_packages() -> None:
    key = Ed25519PrivateKey.generate()
    leaves = tree(9)
    rewritten = [*leaves[:2], service_tlog.leaf_hash(b"a head rewritten"), *leaves[3:]]

    def note(size: int, hashes: list[bytes] = leaves, signer: Ed25519PrivateKey = key, origin: str = ORIGIN) -> str:
        return service_tlog.sign_note(service_tlog.checkpoint_body(origin, size, service_tlog.root(hashes[:size])), origin, signer)

    def proof(first: int, second: int, hashes: list[bytes] = leaves) -> bytes:
        path = service_tlog.consistency_proof(first, hashes[:second])
        return json.dumps({"first": first, "second": second, "hashes": [base64.b64encode(h).decode() for h in path]}).encode()

    def judge(kept: str, size: int, proof_json: bytes | None, hashes: list[bytes] = leaves) -> verifier_cli.Report:
        report = verifier_cli.Report()
        root = service_tlog.root(hashes[:size])
        verifier_cli._check_previous(report, kept, proof_json, ORIGIN, key.public_key(), size, root)
        return report

    def said(report: verifier_cli.Report) -> str:
        return "\n".join(report.checked + report.failures)

    extended = judge(note(5), 9, proof(5, 9))
    assert not extended.failures and "the checkpoint of tree size 9 extends the one of tree size 5" in said(extended)
    newer_kept = judge(note(9), 5, proof(5, 9))  # an older package, a newer checkpoint kept: the proof runs the other way
    assert not newer_kept.failures and "consistency proof holds" in said(newer_kept)
    same = judge(note(9), 9, None)
    assert not same.failures and "is the package's own" in said(same)

    fork = judge(note(9, rewritten), 9, None)
    assert "a fork" in said(fork) and fork.failures
    rewritten_since = judge(note(5), 9, proof(5, 9, rewritten), rewritten)  # the log rewrote a head the kept one covered
    assert "does not extend" in said(rewritten_since) and rewritten_since.failures
    for missing in (None, proof(4, 9), b"[1, 2]"):
        report = judge(note(5), 9, missing)
        assert report.failures and not report.checked, said(report)
    assert "no consistency proof from tree size 5 to 9" in said(judge(note(5), 9, None))
    assert "signature does not verify" in said(judge(note(5, signer=Ed25519PrivateKey.generate()), 9, proof(5, 9)))
    assert "cannot be read" in said(judge(note(5, origin="another.log/trail"), 9, proof(5, 9)))
    assert "cannot be read" in said(judge("not a note", 9, proof(5, 9)))
