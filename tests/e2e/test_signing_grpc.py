"""Signing's gRPC seal records (SealedDocuments.GetSeal) over mutual TLS, as an allowed client (intake's
certificate) calls them: a pilot seal's GB/T 38540 fields and validity, a seal the administrator revokes
reported revoked (and still readable), an unknown seal NOT_FOUND."""

import asyncio
import hashlib
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from cryptography import x509
from sealflow.signing.v1 import verification_pb2 as pb
from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_cli.stack import Stack
from sealflow_contracts.messages import utcnow

from tests.support.api import Api

pytestmark = pytest.mark.e2e

CHINA = timezone(timedelta(hours=8))
PNG = b"\x89PNG\r\n\x1a\n"


def get_seal(stack: Stack, seal_id: str) -> pb.Seal | grpc.StatusCode:
    """The seal's record, or the status code signing answered with."""

    async def call() -> pb.Seal | grpc.StatusCode:
        async with stack.signing_channel() as channel:
            try:
                return await pb_grpc.SealedDocumentsStub(channel).GetSeal(pb.GetSealRequest(seal_id=seal_id), timeout=20)
            except grpc.aio.AioRpcError as error:
                return error.code()

    return asyncio.run(call())


def test_get_seal_returns_the_pilot_cooperative_seal_with_its_validity(stack: Stack) -> None:
    seal = get_seal(stack, "jiulian-coop")
    assert isinstance(seal, pb.Seal), seal
    assert (seal.seal_id, seal.name, seal.holder, list(seal.allowed_roles)) == (
        "jiulian-coop",
        "久联村经济联合社电子印章",
        "jiulian",
        ["secretary"],
    )
    assert datetime.fromisoformat(seal.valid_from) == datetime(2026, 1, 1, tzinfo=CHINA)
    assert datetime.fromisoformat(seal.valid_to) == datetime(2031, 12, 31, 23, 59, 59, tzinfo=CHINA)
    assert seal.status == "active" and seal.revoked_at == ""
    # The record is complete and vouched for: image (its hash as recorded), certificate, the maker's signature.
    assert seal.image_png.startswith(PNG) and hashlib.sha256(seal.image_png).hexdigest() == seal.image_sha256
    certificate = x509.load_pem_x509_certificate(seal.certificate_pem.encode())
    assert certificate.not_valid_before_utc <= utcnow() <= certificate.not_valid_after_utc
    assert seal.maker and seal.maker_signature and seal.maker_signature_valid is True


def test_get_seal_reports_a_revoked_seal_as_revoked_and_unknown_seals_as_not_found(stack: Stack, api: Api, unique: str) -> None:
    seal_id = f"grpc-{unique}"
    with api.as_("yinong-admin") as admin:
        created = admin.post(
            "/v1/admin/seals",
            json={
                "id": seal_id,
                "name": "益农镇gRPC测试章",
                "holder": "yinong",
                "allowed_roles": ["principal"],
                "valid_to": "2030-06-30T23:59:59+08:00",
            },
        )
        assert created.status_code == 201, created.text
        fresh = get_seal(stack, seal_id)
        assert isinstance(fresh, pb.Seal) and fresh.status == "active" and fresh.revoked_at == "", fresh
        assert datetime.fromisoformat(fresh.valid_to) == datetime(2030, 6, 30, 23, 59, 59, tzinfo=CHINA)

        revoked = admin.post(f"/v1/admin/seals/{seal_id}/revoke", json={"reason": "gRPC 测试：旧章停用"})
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text

    seal = get_seal(stack, seal_id)
    assert isinstance(seal, pb.Seal), seal
    assert (seal.seal_id, seal.name, seal.holder) == (seal_id, "益农镇gRPC测试章", "yinong")
    assert seal.status == "revoked"
    assert abs(datetime.fromisoformat(seal.revoked_at) - utcnow()) < timedelta(minutes=5), seal.revoked_at
    assert datetime.fromisoformat(seal.valid_to) == datetime(2030, 6, 30, 23, 59, 59, tzinfo=CHINA)  # revocation is not expiry
    assert seal.maker_signature_valid is True

    assert get_seal(stack, f"no-such-seal-{unique}") == grpc.StatusCode.NOT_FOUND
    assert get_seal(stack, "") == grpc.StatusCode.NOT_FOUND
