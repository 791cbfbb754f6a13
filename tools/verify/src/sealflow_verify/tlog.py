"""RFC 6962 Merkle inclusion and consistency proofs and C2SP signed notes (Ed25519), as the transparency-log
ecosystem defines them: https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint, RFC 9162 §2.1.3.2 and
§2.1.4.2. Written from the RFCs, not imported from Sealflow: tests/unit holds the two to each other."""

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DASH = "\u2014"


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, proof: list[bytes], first_root: bytes, second_root: bytes) -> bool:
    """True when the tree of `second` leaves with root `second_root` extends the tree of `first` leaves with root
    `first_root`: every leaf of the older tree is still there, unchanged and in its place."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def key_hash(name: str, key: Ed25519PublicKey) -> bytes:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + raw).digest()[:4]


@dataclass
class Note:
    body: str
    signatures: list[tuple[str, bytes]]  # (key name, hint ‖ signature)


def parse_note(text: str) -> Note:
    body, sep, rest = text.partition("\n\n")
    if not sep or not body:
        raise ValueError("not a signed note (no blank line after the text)")
    signatures = []
    for line in rest.splitlines():
        if not line.startswith(DASH + " "):
            raise ValueError(f"not a signature line: {line[:40]!r}")
        name, _, blob = line[2:].rpartition(" ")
        signatures.append((name, base64.b64decode(blob, validate=True)))
    return Note(body + "\n", signatures)


def note_signed_by(note: Note, name: str, key: Ed25519PublicKey) -> bool:
    """True when one of the note's signatures is `name`'s, by `key` (hint and Ed25519 signature)."""
    hint = key_hash(name, key)
    for signer, blob in note.signatures:
        if signer == name and blob[:4] == hint and len(blob) == 68:
            try:
                key.verify(blob[4:], note.body.encode())
                return True
            except InvalidSignature:
                return False
    return False
