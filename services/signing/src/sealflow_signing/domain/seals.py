"""When a seal may be applied (GB/T 38540's seal information: validity window, who may use it)."""

from datetime import datetime
from typing import Any


def refusal(seal: dict[str, Any], triggered_by_roles: list[str], now: datetime) -> str | None:
    """None when the seal may be applied now for approvers holding these roles; otherwise why not."""
    if not seal["valid_from"] <= now <= seal["valid_to"]:
        return f"seal {seal['_id']} is outside its validity window ({seal['valid_from'].isoformat()} to {seal['valid_to'].isoformat()})"
    if not set(triggered_by_roles) & set(seal["allowed_roles"]):
        held = sorted(triggered_by_roles) or "approvers without a role"
        return f"seal {seal['_id']} may be triggered by the roles {sorted(seal['allowed_roles'])}, not by {held}"
    return None
