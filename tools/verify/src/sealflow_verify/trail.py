"""The trail's hash chain, re-implemented here so the verifier stands alone (tests/unit/test_verify_tool.py
holds it against sealflow_contracts.chain): each entry's hash is SHA-256 over the canonical JSON (sorted keys,
no whitespace, UTF-8) of matter_id, seq, type, at, actor_id, data and prev_hash; the first prev_hash is 64 zeros."""

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64
FIELDS = ("matter_id", "seq", "type", "at", "actor_id", "data", "prev_hash")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({k: entry[k] for k in FIELDS})).hexdigest()


def chain_problems(entries: list[dict[str, Any]]) -> list[str]:
    """Every break in the chain, each named (changed, removed, reordered, unlinked)."""
    problems: list[str] = []
    seqs = [e.get("seq") for e in entries]
    n = len(entries)
    if sorted(seqs, key=lambda s: (s is None, s)) == list(range(1, n + 1)) and seqs != list(range(1, n + 1)):
        moved = [f"{s}@{i + 1}" for i, s in enumerate(seqs) if s != i + 1]
        problems.append(f"留痕条目顺序被调换 / trail entries were reordered (seq@position: {', '.join(moved[:6])})")
    else:
        present = {s for s in seqs if isinstance(s, int)}
        top = max(present, default=0)
        missing = [s for s in range(1, top + 1) if s not in present]
        if missing:
            problems.append(
                f"留痕条目被删除：第 {', '.join(map(str, missing))} 条 / trail entries were removed: seq {', '.join(map(str, missing))}"
            )
    prev = GENESIS_HASH
    for position, entry in enumerate(entries, start=1):
        label = f"{entry.get('seq')} ({entry.get('type')})"
        try:
            recomputed = entry_hash(entry)
        except KeyError as missing_field:
            problems.append(f"留痕第 {position} 条缺少字段 {missing_field} / trail entry at position {position} lacks {missing_field}")
            prev = entry.get("hash", "")
            continue
        if recomputed != entry.get("hash"):
            problems.append(f"留痕第 {label} 条内容被改动 / trail entry {label} was changed: its hash does not match its content")
        elif entry.get("prev_hash") != prev:
            problems.append(f"留痕第 {label} 条与前一条不相连 / trail entry {label} does not link to the entry before it")
        prev = entry.get("hash", "")
    return problems
