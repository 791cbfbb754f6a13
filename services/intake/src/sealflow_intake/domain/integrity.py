"""The integrity rules of docs/rules.md §9 (数智监督) as pure functions over facts: no I/O, no clock — `now` is passed.

Each rule returns alerts with a stable `key` (the same pattern seen again gives the same key, so an alert is
raised once and updated, never duplicated) and the evidence that triggered it. Thresholds are data
(`Thresholds`), kept by the administrator. intake's `alerts.py` gathers the facts and keeps the alerts.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

CHINA = ZoneInfo("Asia/Shanghai")
Rule = Literal["split_procurement", "act_first", "rubber_stamp", "counterparty_concentration"]


class Thresholds(BaseModel):
    """The administrator's numbers. `split_amount_fen`: per matter type, the amount a single matter must stay
    under for splitting to matter (the policy's threshold); types without one are not checked for splitting."""

    split_window_days: int = Field(default=90, ge=1)
    split_amount_fen: dict[str, int] = Field(default_factory=dict)
    rubber_stamp_run: int = Field(default=3, ge=2)  # consecutive unexamined approvals by one person
    rubber_stamp_seconds: float = Field(default=30.0, ge=0)  # an approval this soon after the task arrived is unexamined
    concentration_share: float = Field(default=0.6, gt=0, lt=1)
    concentration_days: int = Field(default=365, ge=1)
    concentration_min_matters: int = Field(default=3, ge=1)


class MatterFacts(BaseModel):
    matter_id: str
    village_id: str
    matter_type: str
    amount_fen: int
    submitted_at: datetime
    counterparty: str | None = None
    service_start: date | None = None


class Approval(BaseModel):
    """One approval by a signer: when the task reached them, when they decided, whether they opened the
    matter's document or attachments before deciding (intake's `viewed` facts)."""

    person_id: str
    matter_id: str
    reached_at: datetime
    decided_at: datetime
    viewed: bool


class Alert(BaseModel):
    key: str
    rule: Rule
    village_id: str | None
    matter_ids: list[str]
    evidence: dict[str, Any]


def counterparty_key(name: str | None) -> str | None:
    """The same vendor written with different spacing or full-width brackets is the same vendor."""
    if not name:
        return None
    folded = name.replace("（", "(").replace("）", ")").replace("\u3000", " ")
    return "".join(folded.split()).lower() or None


def split_procurement(matters: list[MatterFacts], thresholds: Thresholds) -> list[Alert]:
    """拆分规避: matters of one village, type and counterparty within the window, each under the threshold,
    together above it. One alert per maximal window (a window inside another is not reported again)."""
    groups: dict[tuple[str, str, str], list[MatterFacts]] = defaultdict(list)
    for matter in matters:
        limit = thresholds.split_amount_fen.get(matter.matter_type)
        party = counterparty_key(matter.counterparty)
        if limit is not None and party and matter.amount_fen < limit:
            groups[(matter.village_id, matter.matter_type, party)].append(matter)
    window = timedelta(days=thresholds.split_window_days)
    alerts = []
    for (village, matter_type, _party), members in sorted(groups.items()):
        members.sort(key=lambda m: (m.submitted_at, m.matter_id))
        limit = thresholds.split_amount_fen[matter_type]
        windows: list[list[MatterFacts]] = []
        for start, first in enumerate(members):
            inside = [m for m in members[start:] if m.submitted_at - first.submitted_at <= window]
            if len(inside) >= 2 and sum(m.amount_fen for m in inside) > limit:
                ids = {m.matter_id for m in inside}
                if not any(ids <= {m.matter_id for m in w} for w in windows):
                    windows.append(inside)
        for inside in windows:
            alerts.append(
                Alert(
                    key=f"split_procurement:{inside[0].matter_id}",
                    rule="split_procurement",
                    village_id=village,
                    matter_ids=[m.matter_id for m in inside],
                    evidence={
                        "matter_type": matter_type,
                        "counterparty": inside[0].counterparty,
                        "threshold_fen": limit,
                        "total_fen": sum(m.amount_fen for m in inside),
                        "amounts_fen": {m.matter_id: m.amount_fen for m in inside},
                        "window_days": thresholds.split_window_days,
                        "first_submitted_at": inside[0].submitted_at.isoformat(),
                        "last_submitted_at": inside[-1].submitted_at.isoformat(),
                    },
                )
            )
    return alerts


def act_first(matter: MatterFacts) -> Alert | None:
    """先斩后奏: the work or service starts (China date) before the matter was submitted."""
    submitted_on = matter.submitted_at.astimezone(CHINA).date()
    if matter.service_start is None or matter.service_start >= submitted_on:
        return None
    return Alert(
        key=f"act_first:{matter.matter_id}",
        rule="act_first",
        village_id=matter.village_id,
        matter_ids=[matter.matter_id],
        evidence={
            "service_start": matter.service_start.isoformat(),
            "submitted_on": submitted_on.isoformat(),
            "days_before": (submitted_on - matter.service_start).days,
        },
    )


def unexamined(approval: Approval, thresholds: Thresholds) -> bool:
    return not approval.viewed or (approval.decided_at - approval.reached_at).total_seconds() < thresholds.rubber_stamp_seconds


def rubber_stamp(approvals: list[Approval], thresholds: Thresholds) -> list[Alert]:
    """走过场: a signer whose approvals, in time order, include a run of `rubber_stamp_run` or more in a row made
    without opening the document or attachments, or within seconds of the task arriving. One alert per run."""
    by_person: dict[str, list[Approval]] = defaultdict(list)
    for approval in approvals:
        by_person[approval.person_id].append(approval)
    alerts = []
    for person, own in sorted(by_person.items()):
        own.sort(key=lambda a: (a.decided_at, a.matter_id))
        run: list[Approval] = []
        for approval in [*own, None]:
            if approval is not None and unexamined(approval, thresholds):
                run.append(approval)
                continue
            if len(run) >= thresholds.rubber_stamp_run:
                alerts.append(
                    Alert(
                        key=f"rubber_stamp:{person}:{run[0].matter_id}",
                        rule="rubber_stamp",
                        village_id=None,
                        matter_ids=[a.matter_id for a in run],
                        evidence={
                            "person_id": person,
                            "approvals": [
                                {
                                    "matter_id": a.matter_id,
                                    "viewed": a.viewed,
                                    "seconds_after_task": round((a.decided_at - a.reached_at).total_seconds(), 1),
                                }
                                for a in run
                            ],
                        },
                    )
                )
            run = []
    return alerts


def counterparty_concentration(matters: list[MatterFacts], thresholds: Thresholds, now: datetime) -> list[Alert]:
    """One counterparty takes more than `concentration_share` of a village's amounts of a type over the last
    `concentration_days` (at least `concentration_min_matters` matters in that village and type)."""
    since = now - timedelta(days=thresholds.concentration_days)
    groups: dict[tuple[str, str], list[MatterFacts]] = defaultdict(list)
    for matter in matters:
        if since <= matter.submitted_at <= now and counterparty_key(matter.counterparty):
            groups[(matter.village_id, matter.matter_type)].append(matter)
    alerts = []
    for (village, matter_type), members in sorted(groups.items()):
        total = sum(m.amount_fen for m in members)
        if len(members) < thresholds.concentration_min_matters or total <= 0:
            continue
        shares: dict[str, list[MatterFacts]] = defaultdict(list)
        for m in members:
            shares[counterparty_key(m.counterparty)].append(m)
        for party, taken in sorted(shares.items()):
            amount = sum(m.amount_fen for m in taken)
            if amount / total > thresholds.concentration_share:
                alerts.append(
                    Alert(
                        key=f"counterparty_concentration:{village}:{matter_type}:{party}",
                        rule="counterparty_concentration",
                        village_id=village,
                        matter_ids=[m.matter_id for m in sorted(taken, key=lambda m: m.submitted_at)],
                        evidence={
                            "matter_type": matter_type,
                            "counterparty": taken[0].counterparty,
                            "share": round(amount / total, 4),
                            "amount_fen": amount,
                            "total_fen": total,
                            "limit": thresholds.concentration_share,
                            "days": thresholds.concentration_days,
                        },
                    )
                )
    return alerts
