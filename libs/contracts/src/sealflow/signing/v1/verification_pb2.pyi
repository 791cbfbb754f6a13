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
    __slots__ = ("valid", "reason", "matter_id", "approval_number", "registered_at", "acts", "reason_code")
    VALID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MATTER_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    reason: str
    matter_id: str
    approval_number: str
    registered_at: str
    acts: _containers.RepeatedCompositeFieldContainer[ChainAct]
    reason_code: str
    def __init__(self, valid: _Optional[bool] = ..., reason: _Optional[str] = ..., matter_id: _Optional[str] = ..., approval_number: _Optional[str] = ..., registered_at: _Optional[str] = ..., acts: _Optional[_Iterable[_Union[ChainAct, _Mapping]]] = ..., reason_code: _Optional[str] = ...) -> None: ...

class GetDocumentRequest(_message.Message):
    __slots__ = ("matter_id",)
    MATTER_ID_FIELD_NUMBER: _ClassVar[int]
    matter_id: str
    def __init__(self, matter_id: _Optional[str] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("matter_id", "revision", "pdf", "sealed", "signatures", "expected_acts")
    MATTER_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PDF_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_ACTS_FIELD_NUMBER: _ClassVar[int]
    matter_id: str
    revision: int
    pdf: bytes
    sealed: bool
    signatures: int
    expected_acts: int
    def __init__(self, matter_id: _Optional[str] = ..., revision: _Optional[int] = ..., pdf: _Optional[bytes] = ..., sealed: _Optional[bool] = ..., signatures: _Optional[int] = ..., expected_acts: _Optional[int] = ...) -> None: ...

class VerifyDocumentRequest(_message.Message):
    __slots__ = ("pdf",)
    PDF_FIELD_NUMBER: _ClassVar[int]
    pdf: bytes
    def __init__(self, pdf: _Optional[bytes] = ...) -> None: ...

class PdfSignature(_message.Message):
    __slots__ = ("field", "signer", "signer_subject", "role", "kind", "stage", "signed_at", "intact", "valid", "trusted", "chain", "modification_level", "docmdp_ok", "known")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SIGNER_FIELD_NUMBER: _ClassVar[int]
    SIGNER_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    INTACT_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    MODIFICATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    DOCMDP_OK_FIELD_NUMBER: _ClassVar[int]
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    field: str
    signer: str
    signer_subject: str
    role: str
    kind: str
    stage: int
    signed_at: str
    intact: bool
    valid: bool
    trusted: bool
    chain: str
    modification_level: str
    docmdp_ok: bool
    known: bool
    def __init__(self, field: _Optional[str] = ..., signer: _Optional[str] = ..., signer_subject: _Optional[str] = ..., role: _Optional[str] = ..., kind: _Optional[str] = ..., stage: _Optional[int] = ..., signed_at: _Optional[str] = ..., intact: _Optional[bool] = ..., valid: _Optional[bool] = ..., trusted: _Optional[bool] = ..., chain: _Optional[str] = ..., modification_level: _Optional[str] = ..., docmdp_ok: _Optional[bool] = ..., known: _Optional[bool] = ...) -> None: ...

class SealCheck(_message.Message):
    __slots__ = ("seal_id", "name", "holder", "valid_from", "valid_to", "within_validity", "maker_signature_valid", "revoked_at", "revoked_before_use")
    SEAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    WITHIN_VALIDITY_FIELD_NUMBER: _ClassVar[int]
    MAKER_SIGNATURE_VALID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_BEFORE_USE_FIELD_NUMBER: _ClassVar[int]
    seal_id: str
    name: str
    holder: str
    valid_from: str
    valid_to: str
    within_validity: bool
    maker_signature_valid: bool
    revoked_at: str
    revoked_before_use: bool
    def __init__(self, seal_id: _Optional[str] = ..., name: _Optional[str] = ..., holder: _Optional[str] = ..., valid_from: _Optional[str] = ..., valid_to: _Optional[str] = ..., within_validity: _Optional[bool] = ..., maker_signature_valid: _Optional[bool] = ..., revoked_at: _Optional[str] = ..., revoked_before_use: _Optional[bool] = ...) -> None: ...

class DocumentVerification(_message.Message):
    __slots__ = ("valid", "reason", "matter_id", "revision", "approval_number", "latest", "sealed", "changed_after_last_signature", "signatures", "seals", "reason_code")
    VALID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MATTER_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AFTER_LAST_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    SEALS_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    reason: str
    matter_id: str
    revision: int
    approval_number: str
    latest: bool
    sealed: bool
    changed_after_last_signature: bool
    signatures: _containers.RepeatedCompositeFieldContainer[PdfSignature]
    seals: _containers.RepeatedCompositeFieldContainer[SealCheck]
    reason_code: str
    def __init__(self, valid: _Optional[bool] = ..., reason: _Optional[str] = ..., matter_id: _Optional[str] = ..., revision: _Optional[int] = ..., approval_number: _Optional[str] = ..., latest: _Optional[bool] = ..., sealed: _Optional[bool] = ..., changed_after_last_signature: _Optional[bool] = ..., signatures: _Optional[_Iterable[_Union[PdfSignature, _Mapping]]] = ..., seals: _Optional[_Iterable[_Union[SealCheck, _Mapping]]] = ..., reason_code: _Optional[str] = ...) -> None: ...

class GetTrustRootsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TrustRoots(_message.Message):
    __slots__ = ("pem",)
    PEM_FIELD_NUMBER: _ClassVar[int]
    pem: str
    def __init__(self, pem: _Optional[str] = ...) -> None: ...

class GetSealRequest(_message.Message):
    __slots__ = ("seal_id",)
    SEAL_ID_FIELD_NUMBER: _ClassVar[int]
    seal_id: str
    def __init__(self, seal_id: _Optional[str] = ...) -> None: ...

class Seal(_message.Message):
    __slots__ = ("seal_id", "name", "holder", "allowed_roles", "valid_from", "valid_to", "image_png", "image_sha256", "certificate_pem", "maker", "maker_signature", "maker_signature_valid", "status", "revoked_at")
    SEAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_ROLES_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PNG_FIELD_NUMBER: _ClassVar[int]
    IMAGE_SHA256_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    MAKER_FIELD_NUMBER: _ClassVar[int]
    MAKER_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    MAKER_SIGNATURE_VALID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    seal_id: str
    name: str
    holder: str
    allowed_roles: _containers.RepeatedScalarFieldContainer[str]
    valid_from: str
    valid_to: str
    image_png: bytes
    image_sha256: str
    certificate_pem: str
    maker: str
    maker_signature: str
    maker_signature_valid: bool
    status: str
    revoked_at: str
    def __init__(self, seal_id: _Optional[str] = ..., name: _Optional[str] = ..., holder: _Optional[str] = ..., allowed_roles: _Optional[_Iterable[str]] = ..., valid_from: _Optional[str] = ..., valid_to: _Optional[str] = ..., image_png: _Optional[bytes] = ..., image_sha256: _Optional[str] = ..., certificate_pem: _Optional[str] = ..., maker: _Optional[str] = ..., maker_signature: _Optional[str] = ..., maker_signature_valid: _Optional[bool] = ..., status: _Optional[str] = ..., revoked_at: _Optional[str] = ...) -> None: ...

class ListSealUsesRequest(_message.Message):
    __slots__ = ("seal_id", "village_id", "to", "limit")
    SEAL_ID_FIELD_NUMBER: _ClassVar[int]
    VILLAGE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    seal_id: str
    village_id: str
    to: str
    limit: int
    def __init__(self, seal_id: _Optional[str] = ..., village_id: _Optional[str] = ..., to: _Optional[str] = ..., limit: _Optional[int] = ..., **kwargs) -> None: ...

class SealUse(_message.Message):
    __slots__ = ("seal_use_id", "seal_id", "village_id", "matter_id", "revision", "stage", "triggered_by", "triggered_by_roles", "act_hash", "used_at")
    SEAL_USE_ID_FIELD_NUMBER: _ClassVar[int]
    SEAL_ID_FIELD_NUMBER: _ClassVar[int]
    VILLAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MATTER_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_BY_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_BY_ROLES_FIELD_NUMBER: _ClassVar[int]
    ACT_HASH_FIELD_NUMBER: _ClassVar[int]
    USED_AT_FIELD_NUMBER: _ClassVar[int]
    seal_use_id: str
    seal_id: str
    village_id: str
    matter_id: str
    revision: int
    stage: int
    triggered_by: _containers.RepeatedScalarFieldContainer[str]
    triggered_by_roles: _containers.RepeatedScalarFieldContainer[str]
    act_hash: str
    used_at: str
    def __init__(self, seal_use_id: _Optional[str] = ..., seal_id: _Optional[str] = ..., village_id: _Optional[str] = ..., matter_id: _Optional[str] = ..., revision: _Optional[int] = ..., stage: _Optional[int] = ..., triggered_by: _Optional[_Iterable[str]] = ..., triggered_by_roles: _Optional[_Iterable[str]] = ..., act_hash: _Optional[str] = ..., used_at: _Optional[str] = ...) -> None: ...

class SealUses(_message.Message):
    __slots__ = ("uses",)
    USES_FIELD_NUMBER: _ClassVar[int]
    uses: _containers.RepeatedCompositeFieldContainer[SealUse]
    def __init__(self, uses: _Optional[_Iterable[_Union[SealUse, _Mapping]]] = ...) -> None: ...
