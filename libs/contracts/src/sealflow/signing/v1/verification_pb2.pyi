from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VerifyApprovalRequest(_message.Message):
    __slots__ = ("approval_number", "digest")
    APPROVAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    approval_number: str
    digest: str
    def __init__(self, approval_number: _Optional[str] = ..., digest: _Optional[str] = ...) -> None: ...

class ChainAct(_message.Message):
    __slots__ = ("seq", "kind", "stage", "actor_id", "signed_at", "hash")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    seq: int
    kind: str
    stage: int
    actor_id: str
    signed_at: str
    hash: str
    def __init__(self, seq: _Optional[int] = ..., kind: _Optional[str] = ..., stage: _Optional[int] = ..., actor_id: _Optional[str] = ..., signed_at: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class VerificationResult(_message.Message):
    __slots__ = ("valid", "reason", "matter_id", "approval_number", "registered_at", "acts")
    VALID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MATTER_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    reason: str
    matter_id: str
    approval_number: str
    registered_at: str
    acts: _containers.RepeatedCompositeFieldContainer[ChainAct]
    def __init__(self, valid: _Optional[bool] = ..., reason: _Optional[str] = ..., matter_id: _Optional[str] = ..., approval_number: _Optional[str] = ..., registered_at: _Optional[str] = ..., acts: _Optional[_Iterable[_Union[ChainAct, _Mapping]]] = ...) -> None: ...
