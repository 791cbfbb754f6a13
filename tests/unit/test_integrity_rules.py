"""The integrity rules of docs/rules.md §9 as pure functions: hypothesis checks their boundaries."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sealflow_intake.domain.integrity import (
    CHINA,
    Approval,
    MatterFacts,
    Thresholds,
    act_first,
    counterparty_concentration,
    rubber_stamp,
    split_procurement,
    unexamined,
)

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
LIMIT = 10_000_000  # 10万元
THRESHOLDS = Thresholds(split_amount_fen={"service_procurement": LIMIT})

matter_strategy = st.builds(
    lambda i, village, party, amount, days: MatterFacts(
        matter_id=f"m{i}", village_id=village, matter_type="service_procurement", amount_fen=amount,
        submitted_at=T0 + timedelta(days=days), counterparty=party,
    ),
    st.integers(0, 10**6), st.sampled_from(["jiulian", "changbei"]), st.sampled_from(["甲公司", "乙公司", " 甲公司 "]),
    st.integers(1, 2 * LIMIT), st.integers(0, 400),
)  # fmt: skip


def unique_ids(matters: list[MatterFacts]) -> list[MatterFacts]:
    return [m.model_copy(update={"matter_id": f"m{i}"}) for i, m in enumerate(matters)]


@settings(max_examples=300, deadline=None)
@given(st.lists(matter_strategy, max_size=12).map(unique_ids))
def test_split_procurement_alerts_only_what_the_rule_says(matters: list[MatterFacts]) -> None:
    by_id = {m.matter_id: m for m in matters}
    alerts = split_procurement(matters, THRESHOLDS)
    for alert in alerts:
        members = [by_id[i] for i in alert.matter_ids]
        assert len(members) >= 2
        assert all(m.amount_fen < LIMIT for m in members), "each below the threshold"
        assert sum(m.amount_fen for m in members) > LIMIT, "together above it"
        assert len({(m.village_id, m.matter_type, m.counterparty.strip()) for m in members}) == 1
        span = max(m.submitted_at for m in members) - min(m.submitted_at for m in members)
        assert span <= timedelta(days=THRESHOLDS.split_window_days)
    assert len({a.key for a in alerts}) == len(alerts), "one alert per pattern"
    # Completeness: any two same-group sub-threshold matters within the window that together exceed it are alerted.
    small = [m for m in matters if m.amount_fen < LIMIT]
    for a in small:
        for b in small:
            if a.matter_id < b.matter_id and a.village_id == b.village_id and a.counterparty.strip() == b.counterparty.strip():
                if abs(a.submitted_at - b.submitted_at) <= timedelta(days=90) and a.amount_fen + b.amount_fen > LIMIT:
                    assert any({a.matter_id, b.matter_id} <= set(x.matter_ids) for x in alerts), (a, b)


def test_three_matters_each_under_together_over_raise_one_alert_naming_all_three() -> None:
    matters = [
        MatterFacts(
            matter_id=f"m{i}",
            village_id="jiulian",
            matter_type="service_procurement",
            amount_fen=4_000_000,
            submitted_at=T0 + timedelta(days=10 * i),
            counterparty="益农保洁服务有限公司",
        )
        for i in range(3)
    ]
    alerts = split_procurement(matters, THRESHOLDS)
    assert [a.matter_ids for a in alerts] == [["m0", "m1", "m2"]]
    assert alerts[0].evidence["total_fen"] == 12_000_000
    # Seen again with nothing new, the same key: an alert is raised once.
    assert [a.key for a in split_procurement(matters, THRESHOLDS)] == [alerts[0].key]
    # Outside the window, no alert.
    far = [m.model_copy(update={"submitted_at": T0 + timedelta(days=100 * i)}) for i, m in enumerate(matters)]
    assert split_procurement(far, THRESHOLDS) == []


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(date(2025, 1, 1), date(2028, 1, 1)),
    submitted=st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1), timezones=st.just(UTC)),
)
def test_act_first_iff_service_starts_before_the_submission_day_in_china(start: date, submitted: datetime) -> None:
    matter = MatterFacts(matter_id="m", village_id="v", matter_type="t", amount_fen=1, submitted_at=submitted, service_start=start)
    alert = act_first(matter)
    assert (alert is not None) == (start < submitted.astimezone(CHINA).date())
    if alert:
        assert alert.evidence["days_before"] >= 1


approval_strategy = st.builds(
    lambda person, viewed, wait, gap: (person, viewed, wait, gap),
    st.sampled_from(["a", "b"]), st.booleans(), st.floats(0, 600), st.floats(1, 86_400),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(approval_strategy, max_size=15))
def test_rubber_stamp_raises_exactly_for_runs_of_unexamined_approvals(raw) -> None:
    approvals, at = [], T0
    for i, (person, viewed, wait, gap) in enumerate(raw):
        at += timedelta(seconds=gap)
        approvals.append(
            Approval(person_id=person, matter_id=f"m{i}", reached_at=at - timedelta(seconds=wait), decided_at=at, viewed=viewed)
        )
    alerts = rubber_stamp(approvals, THRESHOLDS)
    for person in ("a", "b"):
        flags = [unexamined(a, THRESHOLDS) for a in approvals if a.person_id == person]
        longest, run = 0, 0
        for flag in flags:
            run = run + 1 if flag else 0
            longest = max(longest, run)
        own = [a for a in alerts if a.evidence["person_id"] == person]
        assert bool(own) == (longest >= THRESHOLDS.rubber_stamp_run)
        for alert in own:
            assert len(alert.matter_ids) >= THRESHOLDS.rubber_stamp_run


def test_opening_the_document_and_taking_time_is_not_rubber_stamping() -> None:
    approvals = [
        Approval(person_id="p", matter_id=f"m{i}", reached_at=T0, decided_at=T0 + timedelta(minutes=5), viewed=True) for i in range(5)
    ]
    assert rubber_stamp(approvals, THRESHOLDS) == []
    hasty = [a.model_copy(update={"viewed": False}) for a in approvals]
    assert [a.matter_ids for a in rubber_stamp(hasty, THRESHOLDS)] == [[f"m{i}" for i in range(5)]]


@settings(max_examples=300, deadline=None)
@given(st.lists(matter_strategy, max_size=12).map(unique_ids))
def test_counterparty_concentration_is_a_share_above_the_limit(matters: list[MatterFacts]) -> None:
    now = T0 + timedelta(days=200)
    alerts = counterparty_concentration(matters, THRESHOLDS, now)
    for alert in alerts:
        assert alert.evidence["share"] > THRESHOLDS.concentration_share
        assert alert.evidence["amount_fen"] <= alert.evidence["total_fen"]
    for village in ("jiulian", "changbei"):
        recent = [m for m in matters if m.village_id == village and now - timedelta(days=365) <= m.submitted_at <= now]
        total = sum(m.amount_fen for m in recent)
        assume(total > 0 or not recent)
        for party in ("甲公司", "乙公司"):
            amount = sum(m.amount_fen for m in recent if m.counterparty.strip() == party)
            expected = len(recent) >= THRESHOLDS.concentration_min_matters and total > 0 and amount / total > THRESHOLDS.concentration_share
            assert expected == any(a.village_id == village and a.evidence["counterparty"].strip() == party for a in alerts)
