"""Issue 14's pure pieces: trail labels name people, the closing field locks and carries the QR code, the
QR stamp decodes, the public page's rate limit."""

from types import SimpleNamespace

import pytest
import zxingcpp
from PIL import Image
from sealflow_intake import labels
from sealflow_intake.entrypoints.limits import PublicRateLimit
from sealflow_intake.errors import ApiError
from sealflow_signing.domain import images
from sealflow_signing.domain.form import Box, Layout, slot_key
from sealflow_signing.pdfwork import plan_fields

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
NAMES = {"jiulian-director": "久联村村委会主任", "yinong-cadre-jiulian": "久联村联村干部", "yinong-cadre-changbei": "长北村联村干部"}


def entry(type_: str, actor: str = "system", **data) -> dict:
    return {"type": type_, "actor_id": actor, "data": data}


def test_trail_labels_are_chinese_with_names() -> None:
    returned = entry("decision.return", "jiulian-director", stage=1, comment="缺预算")
    assert labels.ids_in(returned) == ({"jiulian-director"}, set())
    assert labels.label(returned, NAMES, {}) == "久联村村委会主任在第1步退回，原因：缺预算"
    moved = entry(
        "task.transferred",
        "yinong-cadre-jiulian",
        stage=3,
        **{"from": "yinong-cadre-jiulian", "to": "yinong-cadre-changbei", "reason": "出差"},
    )
    assert labels.label(moved, NAMES, {}) == "久联村联村干部将第3步转办：久联村联村干部 → 长北村联村干部，原因：出差"
    sealed = entry("seal.applied", stage=2, seal_id="jiulian-coop")
    assert labels.ids_in(sealed) == (set(), {"jiulian-coop"})
    assert labels.label(sealed, {}, {"jiulian-coop": "久联村经济联合社电子印章"}) == "已加盖久联村经济联合社电子印章"
    skipped = entry(
        "delegation.skipped",
        stage=1,
        **{"from": "jiulian-director", "to": "yinong-cadre-jiulian", "reason": "the stand-in is the applicant"},
    )
    assert "代理人是申请人本人" in labels.label(skipped, NAMES, {})
    assert labels.label(entry("something.new"), {}, {}) == "其他记录"
    for text in (labels.label(e, NAMES, {}) for e in (returned, moved, skipped)):
        assert not any(pid in text for pid in NAMES)


def test_the_closing_field_locks_and_carries_the_approval_stamp() -> None:
    route = [
        {"number": 1, "name": "村党组织书记", "mode": "any", "seal_id": "coop", "assignees": [{"person_id": "sec"}]},
        {"number": 2, "name": "分管领导", "mode": "any", "assignees": [{"person_id": "lead"}]},
    ]
    layout = Layout(close_box=Box(0, 40, 400, 340, 484))
    layout.signer_boxes = {slot_key(1, "sec"): Box(0, 10, 10, 160, 62), slot_key(2, "lead"): Box(0, 10, 100, 160, 152)}
    layout.seal_boxes = {slot_key(1, "coop"): Box(0, 400, 10, 496, 106)}
    plan, expected = plan_fields(route, layout)
    assert expected == 3
    assert [f["name"] for f in plan if f["lock"]] == ["SealflowClose"]
    assert plan[-1]["approval_stamp"] is True and plan[-1]["box"] == [40, 400, 340, 484]


def test_the_approval_stamp_decodes_to_the_public_page() -> None:
    url = "https://sealflow.test/app/#/public/YN-2026-000042"
    stamp = images.approval_stamp("YN-2026-000042", url, FONT, width=300, height=84)
    # Printed at 150 dpi the 84 pt box is ~175 px high: decode at that size, not at the 4x drawing size.
    small = stamp.resize((625, 175), Image.Resampling.BILINEAR)
    assert [r.text for r in zxingcpp.read_barcodes(small)] == [url]


def test_the_public_rate_limit_refuses_with_retry_after_then_refills() -> None:
    limit = PublicRateLimit(per_minute=60, burst=3)
    client = SimpleNamespace(client=SimpleNamespace(host="10.0.0.1"))
    other = SimpleNamespace(client=SimpleNamespace(host="10.0.0.2"))
    for _ in range(3):
        limit.take(client)
    with pytest.raises(ApiError) as refused:
        limit.take(client)
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "1"}
    limit.take(other)  # per client
    limit._buckets["10.0.0.1"] = (0.0, limit._buckets["10.0.0.1"][1] - 1.5)  # 1.5 s later
    limit.take(client)


def test_an_alert_disposition_reads_as_what_the_office_decided() -> None:
    disposed = entry("alert.disposed", "yinong-discipline", rule="split_procurement", status="confirmed", reason="同一保洁公司三次拆分")
    assert labels.label(disposed, {"yinong-discipline": "镇纪委"}, {}) == "镇纪委确认了「拆分规避」预警，理由：同一保洁公司三次拆分"
