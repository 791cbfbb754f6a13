"""Key material in signing's MongoDB is ciphertext: read the raw documents and find no private key."""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from pymongo import MongoClient

from sealflow_cli.stack import Stack, load_secrets
from sealflow_signing.domain import crypto
from tests.e2e.test_seed_case import approve, submit
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e


def test_no_private_key_is_stored_in_the_clear(api: Api, stack: Stack) -> None:
    matter = submit(api, title="密钥检查")
    approve(api, "jiulian-director", matter, 1)  # makes (or reuses) the director's key
    master = base64.b64decode(load_secrets(stack.data_dir)["master_key"])
    with MongoClient(stack.mongo_uri, tz_aware=True) as client:
        db = client["sealflow_signing"]
        keys = wait_for(lambda: (k := list(db.keys.find())) and any(d["_id"] == "person:jiulian-director" for d in k) and k, what="keys")
        assert {"ca:root", "platform", "person:jiulian-director"} <= {k["_id"] for k in keys}
        raw = b"".join(repr(doc).encode() for coll in ("keys", "certificates", "seals") for doc in db[coll].find())
        assert b"PRIVATE KEY" not in raw
        for record in keys:
            key = crypto.open_private_key(record["private"], master, record["_id"])
            der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            ciphertext = base64.b64decode(record["private"]["ciphertext"])
            assert der not in ciphertext and der[-32:] not in ciphertext  # the scalar does not appear either
            assert set(record) == {"_id", "algorithm", "public_pem", "private", "created_at"}
