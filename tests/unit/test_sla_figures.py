"""sla-monitor's supervision numbers as pure functions: who holds a stage (routing's `waiting_on`, or the
fallback for records without it), the overdue board, and the on-time figures (rates, median, nearest-rank
90th percentile) by person, village, stage and matter type."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sealflow_sla_monitor.domain import figures
from sealflow_sla_monitor.domain.holders import holders, open_stage_holders

SH = ZoneInfo("Asia/Shanghai")
OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=SH)
DUE = OPENED + timedelta(days=1)
NOW = OPENED + timedelta(days=2)


def hours(start: datetime, end: datetime) -> float:
    """Wall-clock hours stand in for working hours here: the calendar has its own tests."""
    return (end - start).total_seconds() / 3600


def deadline(**changes) -> dict:
    record = {
        "_id": "m1:1:1",
        "matter_id": "m1",
        "revision": 1,
        "stage": 1,
        "stage_name": "村两委会签",
        "title": "保洁招标",
        "village_id": "jiulian",
        "matter_type": "service_procurement",
        "assignees": ["director", "supervisor"],
        "signed": [],
        "status": "open",
        "opened_at": OPENED,
        "due_at": DUE,
    }
    return record | changes


def signed(person: str, after_hours: float) -> dict:
    return {"person_id": person, "at": OPENED + timedelta(hours=after_hours)}


def test_holders_are_routings_waiting_on_less_whoever_has_signed_since() -> None:
    assert holders(deadline(waiting_on=["standin", "supervisor"])) == ["standin", "supervisor"]
    assert holders(deadline(waiting_on=["standin", "supervisor"], signed=[signed("standin", 1)])) == ["supervisor"]
    assert holders(deadline(waiting_on=[])) == []  # everyone decided: nobody to remind


def test_without_waiting_on_the_holders_are_the_assignees_who_have_not_signed() -> None:
    assert holders(deadline()) == ["director", "supervisor"]
    assert holders(deadline(signed=[signed("director", 1)])) == ["supervisor"]
    assert holders({"signed": []}) == []  # a record whose open has not arrived


def test_open_stage_holders_reads_only_open_stages_that_carry_waiting_on() -> None:
    view = {
        "revision": 2,
        "stages": [
            {"number": 1, "status": "done", "waiting_on": []},
            {"number": 2, "status": "open", "waiting_on": ["secretary"]},
            {"number": 3, "status": "waiting", "waiting_on": []},
        ],
    }
    assert open_stage_holders(view) == [(2, ["secretary"])]
    assert open_stage_holders({"stages": [{"number": 1, "status": "open", "assignees": []}]}) == []  # an older routing


def test_the_overdue_board_lists_holders_and_counts_by_village_and_office() -> None:
    records = [
        deadline(waiting_on=["standin", "supervisor"]),
        deadline(_id="m2:1:2", matter_id="m2", stage=2, stage_name="村党组织审核", waiting_on=["secretary"], escalation_level=1),
        deadline(_id="m3:1:1", matter_id="m3", village_id="changbei", assignees=["cb-director"]),
    ]
    board = figures.overdue_board(records, now=NOW, hours=hours)
    assert [(i["matter_id"], i["holders"], i["escalation_level"]) for i in board["items"]] == [
        ("m1", ["standin", "supervisor"], 0),
        ("m2", ["secretary"], 1),
        ("m3", ["cb-director"], 0),
    ]
    assert board["items"][0]["overdue_working_hours"] == 24.0 and board["items"][0]["office"] == "村两委会签"
    assert board["by_village"] == {"jiulian": 2, "changbei": 1}
    assert board["by_office"] == {"村两委会签": 2, "村党组织审核": 1}
    mine = figures.overdue_board(records, now=NOW, hours=hours, person_id="director")
    assert mine["items"] == [] and mine["by_village"] == {}, "the director passed the task on"


def test_rows_count_who_signed_and_who_still_holds_it_past_due() -> None:
    record = deadline(waiting_on=["supervisor"], signed=[signed("standin", 3), signed("supervisor", 30)])
    record["status"] = "done"
    rows = figures.rows(record, now=NOW, hours=hours)
    assert [(r.person, r.hours, r.on_time, r.open_overdue) for r in rows] == [
        ("supervisor", 30.0, False, False),
        ("standin", 3.0, True, False),
    ]
    still = figures.rows(deadline(waiting_on=["supervisor"], signed=[signed("director", 2)]), now=NOW, hours=hours)
    assert [(r.person, r.open_overdue) for r in still] == [("director", False), ("supervisor", True)]
    # Not yet due: a holder is not late.
    assert figures.rows(deadline(), now=OPENED + timedelta(hours=1), hours=hours) == []
    # The caller's own figures only; a record without its open has none.
    assert [r.person for r in figures.rows(deadline(), now=NOW, hours=hours, person_id="supervisor")] == ["supervisor"]
    assert figures.rows({"stage": 1, "signed": [signed("director", 1)], "status": "open"}, now=NOW, hours=hours) == []


def test_without_waiting_on_the_rows_are_what_they_always_were() -> None:
    rows = figures.rows(deadline(signed=[signed("director", 4)]), now=NOW, hours=hours)
    assert [(r.person, r.hours, r.on_time, r.open_overdue) for r in rows] == [
        ("director", 4.0, True, False),
        ("supervisor", None, False, True),
    ]


def test_figures_by_dimension_rates_median_and_nearest_rank_p90() -> None:
    rows = [
        figures.Row("a", "jiulian", "会签", "t", h, h <= 24, False)
        for h in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 30.0)  # nine on time, one late
    ]
    rows.append(figures.Row("b", "changbei", "会签", "t", None, False, True))
    by_person = figures.figures(rows, "person")
    assert by_person == [
        {
            "person": "a",
            "signed": 10,
            "on_time": 9,
            "on_time_rate": 0.9,
            "median_hours_to_sign": 5.5,
            "p90_hours_to_sign": 9.0,
            "overdue": 1,
            "open_overdue": 0,
        },
        {
            "person": "b",
            "signed": 0,
            "on_time": 0,
            "on_time_rate": None,
            "median_hours_to_sign": None,
            "p90_hours_to_sign": None,
            "overdue": 1,
            "open_overdue": 1,
        },
    ]
    assert [(g["stage"], g["signed"], g["overdue"]) for g in figures.figures(rows, "stage")] == [("会签", 10, 2)]
    assert [g["village"] for g in figures.figures(rows, "village")] == ["changbei", "jiulian"]


@pytest.mark.parametrize(("values", "q", "expected"), [([1.0], 0.9, 1.0), ([1.0, 2.0], 0.5, 1.0), ([1.0, 2.0, 3.0], 0.9, 3.0)])
def test_nearest_rank_percentile(values: list[float], q: float, expected: float) -> None:
    assert figures.percentile(values, q) == expected
