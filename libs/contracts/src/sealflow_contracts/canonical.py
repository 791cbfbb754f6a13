"""One canonical JSON encoding for everything that is hashed or signed."""

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_digest(*, village_id: str, matter_type: str, title: str, amount_fen: int, fields: dict, attachment_hashes: list[dict]) -> str:
    """The digest every signature signs: the form and the attachments' hashes (not their bytes)."""
    return sha256_hex(
        canonical_json(
            {
                "village_id": village_id,
                "matter_type": matter_type,
                "title": title,
                "amount_fen": amount_fen,
                "fields": fields,
                "attachments": attachment_hashes,
            }
        )
    )
