"""Matter types and their forms as data (docs/rules.md §7), and the check of a submission's `fields` against a form.

Pure: stdlib and pydantic only. A form is versioned with its matter type; a matter keeps the version it was
submitted with (`form_version`), also for its revisions, as it keeps its policy version.
"""

import math
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sealflow_routing.domain.errors import Refused

FieldType = Literal["text", "textarea", "money", "date", "select", "number"]
# What the system understands about a field (docs/rules.md §9's integrity rules read these).
Meaning = Literal["counterparty", "service_start"]
KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_LIMITS = {"text": 200, "textarea": 5000}
MAX_MONEY_FEN = 10**14  # the same bound as a matter's amount


class FormField(BaseModel):
    key: str
    label: str = Field(min_length=1, max_length=60)
    type: FieldType
    required: bool = False
    options: list[str] | None = None
    meaning: Meaning | None = None
    help: str | None = Field(default=None, max_length=300)

    @field_validator("key")
    @classmethod
    def _ascii_key(cls, key: str) -> str:
        # Keys are what integrations and the digest see: stable ASCII; people read the label.
        if not KEY.match(key):
            raise ValueError(f"字段键「{key}」须为小写英文字母开头的 snake_case（如 procurement_method）")
        return key

    @model_validator(mode="after")
    def _options_only_for_select(self) -> "FormField":
        if self.type == "select":
            if not self.options or any(not o.strip() for o in self.options) or len(set(self.options)) != len(self.options):
                raise ValueError(f"下拉字段「{self.label}」({self.key}) 需要不重复、非空的选项 options")
        elif self.options:
            raise ValueError(f"只有下拉字段 (select) 才有选项，「{self.label}」({self.key}) 是 {self.type}")
        if self.meaning == "service_start" and self.type != "date":
            raise ValueError(f"含义 service_start 的字段「{self.label}」({self.key}) 须为日期 (date)")
        if self.meaning == "counterparty" and self.type not in ("text", "select"):
            raise ValueError(f"含义 counterparty 的字段「{self.label}」({self.key}) 须为文本或下拉")
        return self


class Form(BaseModel):
    fields: list[FormField] = Field(default_factory=list, max_length=60)

    @model_validator(mode="after")
    def _unique(self) -> "Form":
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"字段键重复：{sorted({k for k in keys if keys.count(k) > 1})}")
        meanings = [f.meaning for f in self.fields if f.meaning]
        if len(set(meanings)) != len(meanings):
            raise ValueError(f"同一含义只能用于一个字段：{sorted({x for x in meanings if meanings.count(x) > 1})}")
        return self

    def field(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)


class MatterType(BaseModel):
    """A kind of matter people submit: its Chinese name and its form. Its route is the policy of the same id."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    name: str = Field(min_length=1, max_length=60)
    active: bool = True
    version: int = 0  # assigned by routing when stored
    form: Form = Field(default_factory=Form)


def _problem(field: FormField, value: Any) -> str | None:
    """Why `value` does not fit `field` (Chinese, naming label and key), or None."""
    name = f"字段「{field.label}」({field.key})"
    match field.type:
        case "text" | "textarea":
            if not isinstance(value, str):
                return f"{name} 应为文字"
            if len(value) > TEXT_LIMITS[field.type]:
                return f"{name} 不能超过 {TEXT_LIMITS[field.type]} 字"
        case "money":
            # Money is whole fen, as `amount_fen`: floats would round, strings would hide units.
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{name} 应为以分计的整数金额（如 12000000 表示 12 万元）"
            if not 0 <= value <= MAX_MONEY_FEN:
                return f"{name} 金额超出范围"
        case "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
                return f"{name} 应为数字"
        case "date":
            if not isinstance(value, str):
                return f"{name} 应为日期，格式 YYYY-MM-DD"
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"{name} 应为日期，格式 YYYY-MM-DD"
            if len(value) != 10:
                return f"{name} 应为日期，格式 YYYY-MM-DD"
        case "select":
            if not isinstance(value, str) or value not in (field.options or []):
                return f"{name} 须为以下之一：{'、'.join(field.options or [])}"
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def field_problems(form: Form, fields: dict[str, Any]) -> list[tuple[str, str]]:
    """Every problem of `fields` against `form`, in form order, as (key, Chinese message): unknown keys,
    missing required fields, wrong types, options not in the list. Empty when the fields fit."""
    found: list[tuple[str, str]] = []
    for key in fields:
        if form.field(key) is None:
            found.append((key, f"字段 {key} 不在此类事项的表单中"))
    for field in form.fields:
        value = fields.get(field.key)
        if _blank(value):
            if field.required:
                found.append((field.key, f"字段「{field.label}」({field.key}) 为必填项"))
            continue
        problem = _problem(field, value)
        if problem:
            found.append((field.key, problem))
    return found


def check_fields(form: Form, fields: dict[str, Any]) -> None:
    """Refuse (`invalid_field`, naming the first bad key) fields that break the form."""
    problems = field_problems(form, fields)
    if problems:
        more = f"（另有 {len(problems) - 1} 处问题）" if len(problems) > 1 else ""
        raise Refused("invalid_field", problems[0][1] + more)


def labels(form: Form) -> dict[str, str]:
    """Key → label, for documents people read."""
    return {f.key: f.label for f in form.fields}
