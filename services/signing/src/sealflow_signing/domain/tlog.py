"""The trail log's pure parts: RFC 6962 Merkle hashing, inclusion and consistency proofs, and C2SP signed notes
(`signed-note`, `tlog-checkpoint`) with an Ed25519 key.

Ed25519 rather than the ECDSA P-256 of the PDFs: C2SP signed notes define Ed25519 (algorithm 0x01) as the
signature every note verifier and witness understands; ECDSA notes exist only as log-specific types. PDF
readers never see these signatures, so poppler's Ed25519 gap does not apply. The note key's certificate,
issued by the town root, ties it to the same trust anchor as the sealed documents.
"""

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"  # the signed-note algorithm byte for Ed25519
DASH = "\u2014"  # "—", which starts every signature line


# ---- RFC 6962 Merkle tree --------------------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(hashes: list[bytes]) -> bytes:
    """MTH over leaf hashes (already `leaf_hash`ed)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(root(hashes[:k]), root(hashes[k:]))


def inclusion_proof(index: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 6962 §2.1.1, from the leaf's neighbour up."""
    if not 0 <= index < len(hashes):
        raise ValueError(f"leaf {index} is not in a tree of {len(hashes)}")
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*inclusion_proof(index, hashes[:k]), root(hashes[k:])]
    return [*inclusion_proof(index - k, hashes[k:]), root(hashes[:k])]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def consistency_proof(first: int, hashes: list[bytes]) -> list[bytes]:
    """PROOF(first, D[n]) of RFC 6962 §2.1.2: the hashes that show the tree of the first `first` leaves is a
    prefix of the tree of all `len(hashes)` — no earlier leaf changed or removed. Empty when the sizes are equal."""
    if not 0 < first <= len(hashes):
        raise ValueError(f"no consistency proof from size {first} to size {len(hashes)}")
    return _subproof(first, hashes, True)


def _subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b): `whole` says the first m leaves are the old tree itself, whose root the verifier has."""
    n = len(hashes)
    if m == n:
        return [] if whole else [root(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], whole), root(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), root(hashes[:k])]


def verify_consistency(first: int, second: int, proof: list[bytes], first_root: bytes, second_root: bytes) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first & (first - 1) == 0:  # the old tree is a complete subtree: its root starts the path
        proof = [first_root, *proof]
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# ---- C2SP signed notes -----------------------------------------------------------------------------


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_hash(name: str, public: bytes) -> bytes:
    """The 4-byte key hint: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """`<name>+<hex hint>+<base64(0x01 ‖ key)>`, the form note verifiers and witnesses are configured with."""
    public = public_bytes(key)
    return f"{name}+{key_hash(name, public).hex()}+{base64.b64encode(ED25519 + public).decode()}"


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    """The note: its text (lines ending in newline), a blank line, `— <name> <base64(hint ‖ signature)>`."""
    if not body.endswith("\n") or "\n\n" in body:
        raise ValueError("a note's text is non-empty lines, each ending in a newline")
    signature = key.sign(body.encode())
    hint = key_hash(name, public_bytes(key.public_key()))
    return f"{body}\n{DASH} {name} {base64.b64encode(hint + signature).decode()}\n"


def checkpoint_body(origin: str, size: int, root_hash: bytes) -> str:
    """C2SP tlog-checkpoint: origin, decimal tree size, base64 root hash."""
    return f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\n"


def head_body(origin: str, matter_id: str, size: int, head_hash: str) -> str:
    """A matter's signed trail head, also the leaf the log holds for it. Its first line (origin + `/trail-head`)
    keeps it from ever reading as a checkpoint signed by the same key."""
    return f"{origin}/trail-head\n{matter_id}\n{size}\n{head_hash}\n"
