"""When a seal may be applied (GB/T 38540's seal information: validity window, who may use it)."""

from datetime import datetime
from typing import Any


def refusal(seal: dict[str, Any], triggered_by_roles: list[str], now: datetime) -> str | None:
    """None when the seal may be applied now for approvers holding these roles; otherwise why not."""
    revoked_at = seal.get("revoked_at")
    if revoked_at is not None and revoked_at <= now:
        # Only acts from now on: what was sealed before the revocation stays valid (verification reads the act's time).
        reason = f"（{seal['revoked_reason']}）" if seal.get("revoked_reason") else ""
        return f"印章 {seal.get('name', seal['_id'])} ({seal['_id']}) 已于 {revoked_at.isoformat()} 吊销{reason}，不能再用于新的签章"
    if not seal["valid_from"] <= now <= seal["valid_to"]:
        return f"seal {seal['_id']} is outside its validity window ({seal['valid_from'].isoformat()} to {seal['valid_to'].isoformat()})"
    if not set(triggered_by_roles) & set(seal["allowed_roles"]):
        held = sorted(triggered_by_roles) or "approvers without a role"
        return f"seal {seal['_id']} may be triggered by the roles {sorted(seal['allowed_roles'])}, not by {held}"
    return None
