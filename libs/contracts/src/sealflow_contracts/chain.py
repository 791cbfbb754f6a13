"""The audit trail's hash chain: each entry's hash covers its content and the previous entry's hash."""

from typing import Any

from sealflow_contracts.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64


def trail_entry_hash(entry: dict[str, Any]) -> str:
    """Hash of an entry without its own `hash` field (`prev_hash` included, so entries link)."""
    body = {k: entry[k] for k in ("matter_id", "seq", "type", "at", "actor_id", "data", "prev_hash")}
    return sha256_hex(canonical_json(body))


def chain_is_valid(entries: list[dict[str, Any]]) -> bool:
    """Re-verify a whole trail: seq runs 1..n, each prev_hash is the previous hash, each hash recomputes."""
    prev = GENESIS_HASH
    for expected_seq, entry in enumerate(entries, start=1):
        if entry["seq"] != expected_seq or entry["prev_hash"] != prev or trail_entry_hash(entry) != entry["hash"]:
            return False
        prev = entry["hash"]
    return True
