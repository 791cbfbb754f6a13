"""Key material in signing's MongoDB is ciphertext: read the raw documents and find no private key."""

import base64

import pytest
from cryptography.exceptions import InvalidTag
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
            assert set(record) <= {"_id", "algorithm", "public_pem", "private", "created_at", "resealed_at"}


def test_master_key_rotation_keeps_every_key_usable_throughout(stack: Stack, unique: str) -> None:
    """Phase 1: replicas accept the new key; phase 2: the new key encrypts and the old one is still
    accepted while stored keys are re-encrypted; phase 3: the old key is gone and everything opens."""
    import asyncio
    import os

    from pymongo import AsyncMongoClient
    from sealflow_signing.adapters import store

    old, new = os.urandom(32), os.urandom(32)

    async def scenario() -> None:
        client = AsyncMongoClient(stack.mongo_uri, tz_aware=True)
        db = client[f"rotation_{unique}"]  # its own database: the running signing service is not disturbed
        try:
            made = {f"person:p{i}": await store.custodial_key(db, f"person:p{i}", old) for i in range(5)}
            public = {k: crypto.public_pem(v) for k, v in made.items()}
            # Phase 1 (current=old, also new): nothing moves, everything opens.
            assert await store.rotate_master_key(db, (old, new)) == 0
            # Phase 2 (current=new, also old): a key in use opens at once and is re-encrypted on the way ...
            used = await store.custodial_key(db, "person:p0", (new, old))
            assert crypto.public_pem(used) == public["person:p0"]
            # ... and the background rotation moves the rest, exactly once.
            assert await store.rotate_master_key(db, (new, old)) == 4
            assert await store.rotate_master_key(db, (new, old)) == 0
            # Phase 3 (only new): every key opens; the old master key opens none.
            for key_id in made:
                assert crypto.public_pem(await store.custodial_key(db, key_id, new)) == public[key_id]
                record = await db.keys.find_one({"_id": key_id})
                with pytest.raises(InvalidTag):  # the old master key does not authenticate the ciphertext
                    crypto.open_private_key(record["private"], old, key_id)
        finally:
            await client.drop_database(f"rotation_{unique}")
            await client.close()

    asyncio.run(scenario())
