"""Forms as data: a submission's fields against its matter type's form (routing's pure check), and the
pilot forms themselves."""

import pytest
from pydantic import ValidationError
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.domain.errors import Refused
from sealflow_routing.domain.forms import Form, MatterType, check_fields, field_problems

from tests.support.api import seed_submission

FORM = Form.model_validate(
    {
        "fields": [
            {"key": "procurement_method", "label": "采购方式", "type": "select", "required": True, "options": ["公开招标", "询价"]},
            {"key": "budget_fen", "label": "预算金额", "type": "money", "required": True},
            {"key": "service_start", "label": "服务开始日期", "type": "date", "required": True, "meaning": "service_start"},
            {"key": "counterparty", "label": "供应商", "type": "text", "meaning": "counterparty"},
            {"key": "copies", "label": "份数", "type": "number"},
            {"key": "notes", "label": "说明", "type": "textarea"},
        ]
    }
)
GOOD = {"procurement_method": "公开招标", "budget_fen": 12_000_000, "service_start": "2027-01-01"}


def refusal(fields: dict) -> str:
    with pytest.raises(Refused) as refused:
        check_fields(FORM, fields)
    assert refused.value.code == "invalid_field"
    return refused.value.message


def test_fields_that_fit_pass() -> None:
    check_fields(FORM, GOOD)
    check_fields(FORM, {**GOOD, "counterparty": "益农保洁", "copies": 2.5, "notes": "", "budget_fen": 0})


def test_a_missing_required_field_is_named_by_label_and_key() -> None:
    message = refusal({k: v for k, v in GOOD.items() if k != "procurement_method"})
    assert "采购方式" in message and "procurement_method" in message and "必填" in message
    assert "procurement_method" in refusal({**GOOD, "procurement_method": "  "})  # blank is missing


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("budget_fen", "120000.00"),  # money is whole fen, not text
        ("budget_fen", 1.5),
        ("budget_fen", True),
        ("budget_fen", -1),
        ("service_start", "2027/01/01"),
        ("service_start", "2027-02-30"),
        ("service_start", 20270101),
        ("procurement_method", "拍脑袋"),
        ("copies", "两份"),
        ("copies", False),
        ("counterparty", 42),
        ("notes", "x" * 5001),
    ],
)
def test_a_wrong_type_is_refused_naming_the_key(key: str, value: object) -> None:
    assert key in refusal({**GOOD, key: value})


def test_an_unknown_key_is_refused() -> None:
    assert "预算明细" in refusal({**GOOD, "预算明细": "x"})


def test_every_problem_is_listed_in_form_order() -> None:
    problems = field_problems(FORM, {"budget_fen": "x", "extra": 1})
    assert [k for k, _ in problems] == ["extra", "procurement_method", "budget_fen", "service_start"]


@pytest.mark.parametrize(
    "fields",
    [
        [{"key": "a", "label": "甲", "type": "select"}],  # select without options
        [{"key": "a", "label": "甲", "type": "text", "options": ["x"]}],  # options on text
        [{"key": "a", "label": "甲", "type": "text"}, {"key": "a", "label": "乙", "type": "text"}],  # duplicate key
        [{"key": "Bad Key", "label": "甲", "type": "text"}],
        [{"key": "a", "label": "甲", "type": "text", "meaning": "service_start"}],  # service_start must be a date
        [{"key": "a", "label": "甲", "type": "colour"}],
    ],
)
def test_a_malformed_form_is_refused(fields: list) -> None:
    with pytest.raises(ValidationError):
        Form.model_validate({"fields": fields})


def test_the_pilot_types_have_real_forms_and_the_seed_case_fits_its_own() -> None:
    types = {t["id"]: MatterType.model_validate(t) for t in pilot_data()["matter_types"]}
    assert set(types) == {p["matter_type"] for p in pilot_data()["policies"]}
    for matter_type in types.values():
        meanings = {f.meaning for f in matter_type.form.fields}
        assert "counterparty" in meanings, matter_type.id
        assert any(f.required for f in matter_type.form.fields), matter_type.id
    tender = types["service_procurement"].form
    assert tender.field("procurement_method").type == "select" and tender.field("budget_fen").type == "money"
    assert tender.field("service_start").meaning == "service_start"
    check_fields(tender, seed_submission()["fields"])
