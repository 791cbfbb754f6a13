"""What the operations take: a submission, a revision, a decision, a withdrawal, a transfer. The HTTP API
takes the same shapes as its request bodies (their names are those of intake's published OpenAPI)."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

HEX64 = r"^[0-9a-fA-F]{64}$"
FORM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class AttachmentIn(BaseModel):
    """A new file `{filename, content_type, content_base64}`, or — in a revision only — `{"keep": i}`: the
    current revision's attachment at index i (0-based), unchanged."""

    filename: str | None = Field(default=None, min_length=1, max_length=255)
    content_type: str | None = Field(default=None, min_length=1, max_length=127)
    content_base64: str | None = None
    keep: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _a_file_or_a_kept_one(self) -> "AttachmentIn":
        new = (self.filename, self.content_type, self.content_base64)
        if self.keep is None and None in new:
            raise ValueError("an attachment needs filename, content_type and content_base64 (or, in a revision, keep)")
        if self.keep is not None and any(v is not None for v in new):
            raise ValueError("an attachment is either {keep} or a new file, not both")
        return self


def form_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The shape every form's values have (routing checks them against the type's form): snake_case keys and
    plain values. Checked before anything is stored — a key with a NUL byte or a nested object would
    otherwise reach MongoDB, which refuses it with an error instead of the caller's 422."""
    for key, value in fields.items():
        if not FORM_KEY.match(key):
            raise ValueError(f"字段键 {key!r} 不是表单的字段（须为小写字母开头的 snake_case）")
        if not isinstance(value, str | int | float | bool) and value is not None:
            raise ValueError(f"字段 {key} 的值须为文字、数字或日期，不能是列表或对象")
    return fields


FormValues = Annotated[dict[str, Any], AfterValidator(form_values)]


class SubmissionIn(BaseModel):
    village_id: str = Field(min_length=1, max_length=64)
    matter_type: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    amount_fen: int = Field(ge=0, le=10**14)
    fields: FormValues = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list)


class RevisionIn(BaseModel):
    """As for a submission; the village and the matter type stay what they were. `attachments` omitted: the
    previous revision's attachments, all kept; given: exactly that list, where `{"keep": i}` keeps the
    previous revision's i-th attachment (so replacing one is a new file in its place, removing one is
    leaving it out)."""

    title: str = Field(min_length=1, max_length=200)
    amount_fen: int = Field(ge=0, le=10**14)
    fields: FormValues = Field(default_factory=dict)
    attachments: list[AttachmentIn] | None = None


class DecisionIn(BaseModel):
    stage: int = Field(ge=1)
    decision: Literal["approve", "return", "reject"]
    comment: str = Field(default="", max_length=2000)
    digest: str = Field(pattern=HEX64)


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


class TransferIn(BaseModel):
    stage: int = Field(ge=1)
    to_person_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    from_person_id: str | None = Field(default=None, max_length=64)  # the administrator reassigning someone's task
