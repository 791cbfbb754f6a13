"""What the discipline office reads when an integrity alert is raised: the rule's Chinese name, villages and
matters by name, the evidence in a sentence — no ids; and the announcement's event id is the alert's, so one
alert is one notice however often it is announced."""

import re
from datetime import UTC, datetime

from sealflow_intake.alerts import raised_event, summary, yuan
from sealflow_intake.domain.integrity import Alert
from sealflow_notify.handlers import RULE_NAMES, alert_text

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
IDS = re.compile(r"[A-Za-z0-9]{8,}|[a-z]+_[a-z]+")  # a uuid-ish id or a snake_case rule/type id


def act_first_alert(matter_id: str = "m-0001") -> Alert:
    return Alert(
        key=f"act_first:{matter_id}",
        rule="act_first",
        village_id="jiulian",
        matter_ids=[matter_id],
        evidence={"service_start": "2020-01-01", "submitted_on": "2026-11-30", "days_before": 2525},
    )


def test_money_reads_in_yuan() -> None:
    assert yuan(60_000_000) == "60万元"
    assert yuan(123_450) == "1,234.50元"
    assert yuan(100) == "1元"
    assert yuan(0) == "0元"


def test_each_rule_has_a_chinese_name_and_a_summary_without_ids() -> None:
    assert RULE_NAMES == {
        "split_procurement": "拆分规避",
        "act_first": "先斩后奏",
        "rubber_stamp": "走过场",
        "counterparty_concentration": "交易对象集中",
    }
    alerts = [
        act_first_alert(),
        Alert(
            key="split_procurement:m-1",
            rule="split_procurement",
            village_id="jiulian",
            matter_ids=["m-1", "m-2", "m-3"],
            evidence={
                "matter_type": "service_procurement",
                "counterparty": "益农保洁公司",
                "threshold_fen": 50_000_000,
                "total_fen": 60_000_000,
                "window_days": 90,
            },
        ),
        Alert(
            key="rubber_stamp:jiulian-director:m-1",
            rule="rubber_stamp",
            village_id=None,
            matter_ids=["m-1", "m-2", "m-3"],
            evidence={
                "person_id": "jiulian-director",
                "approvals": [{"matter_id": f"m-{n}", "viewed": n != 2, "seconds_after_task": 3.0} for n in (1, 2, 3)],
            },
        ),
        Alert(
            key="counterparty_concentration:jiulian:service_procurement:x",
            rule="counterparty_concentration",
            village_id="jiulian",
            matter_ids=["m-1", "m-2", "m-3"],
            evidence={
                "matter_type": "service_procurement",
                "counterparty": "益农保洁公司",
                "share": 0.75,
                "amount_fen": 30_000_000,
                "total_fen": 40_000_000,
                "limit": 0.6,
                "days": 365,
            },
        ),
    ]
    texts = {a.rule: summary(a) for a in alerts}
    assert texts["act_first"] == "服务（工程）开始日期2020-01-01早于提交日期2026-11-30，提前2525天。"
    assert "益农保洁公司" in texts["split_procurement"] and "合计60万元" in texts["split_procurement"]
    assert "每项均低于50万元" in texts["split_procurement"]
    assert "连续3次" in texts["rubber_stamp"] and "其中1次未打开文件或附件" in texts["rubber_stamp"]
    assert "75%" in texts["counterparty_concentration"] and "超过60%" in texts["counterparty_concentration"]
    for rule, text in texts.items():
        assert text and not IDS.search(text), (rule, text)


def test_the_notice_names_rule_villages_signer_and_matters() -> None:
    text = alert_text("act_first", ["久联村"], ["村道修缮"], "", "服务开始日期早于提交日期。")
    assert text == "【廉政预警·先斩后奏】村：久联村；事项：《村道修缮》。服务开始日期早于提交日期。请及时核查处置。"
    stamp = alert_text("rubber_stamp", ["久联村", "益农村"], ["甲", "乙", "丙"], "王主任", "连续3次签批未认真审阅。")
    assert stamp.startswith("【廉政预警·走过场】村：久联村、益农村；签批人：王主任；事项：《甲》、《乙》、《丙》。")
    many = alert_text("counterparty_concentration", ["久联村"], [f"事项{n}" for n in range(8)], "", "")
    assert "《事项4》等8项" in many and "《事项5》" not in many
    assert alert_text("a_rule_from_the_future", [], ["甲"], "", "").startswith("【廉政预警·其他风险】事项：《甲》")


def test_the_announcement_carries_titles_and_an_event_id_fixed_by_the_alert() -> None:
    matters = {"m-0001": {"_id": "m-0001", "title": "村道修缮", "village_id": "jiulian"}}
    first = raised_event(act_first_alert(), matters, NOW)
    again = raised_event(act_first_alert(), matters, NOW)
    other = raised_event(act_first_alert("m-0002"), {}, NOW)
    assert first.event_id == again.event_id != other.event_id
    assert first.event_id.isascii() and len(first.event_id) <= 64  # it is the Nats-Msg-Id header
    assert first.matter_id == "m-0001" and first.matter_titles == ["村道修缮"] and first.village_ids == ["jiulian"]
    assert first.alert_id == "act_first:m-0001" and first.rule == "act_first" and first.raised_at == NOW
    assert first.summary.startswith("服务（工程）开始日期2020-01-01")
    assert other.matter_titles == ["（标题不详）"]
