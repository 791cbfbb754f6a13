"""signing's MongoDB: keys (encrypted), acts (the signature chain), seals, seal uses, approvals."""

import base64
import json
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from sealflow_contracts.canonical import sha256_hex
from sealflow_contracts.messages import utcnow

from sealflow_signing.domain import crypto, images, pki

PLATFORM_KEY = "platform"


def person_key_id(person_id: str) -> str:
    return f"person:{person_id}"


def seal_key_id(seal_id: str) -> str:
    return f"seal:{seal_id}"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.acts.create_index([("matter_id", 1), ("seq", 1)], unique=True)
    await db.seal_uses.create_index([("seal_id", 1), ("used_at", 1)])
    await db.approvals.create_index("matter_id", unique=True)
    await db.pdf_signatures.create_index([("matter_id", 1), ("revision", 1)])
    await db.seal_uses.create_index([("village_id", 1), ("used_at", 1)])


async def seed_pilot_seals(db: AsyncDatabase) -> None:
    data = json.loads(resources.files("sealflow_signing.seed").joinpath("pilot_seals.json").read_text(encoding="utf-8"))
    for seal in data["seals"]:
        record = {k: v for k, v in seal.items() if k != "id"}
        record["valid_from"] = datetime.fromisoformat(record["valid_from"])
        record["valid_to"] = datetime.fromisoformat(record["valid_to"])
        with suppress(DuplicateKeyError):  # already there, or a replica starting beside us just put it there
            await db.seals.insert_one({"_id": seal["id"], **record})


MasterKeys = bytes | tuple[bytes, ...]


def _as_tuple(master_keys: MasterKeys) -> tuple[bytes, ...]:
    return (master_keys,) if isinstance(master_keys, bytes) else tuple(master_keys)


async def custodial_key(db: AsyncDatabase, key_id: str, master_keys: MasterKeys) -> ec.EllipticCurvePrivateKey:
    """The key for a person, seal or the platform, made on first use. Replicas racing to make the same
    key both insert; the unique id keeps the first and the loser uses it. `master_keys`: the current
    master key first, then older ones still accepted during a rotation."""
    keys = _as_tuple(master_keys)
    record = await db.keys.find_one({"_id": key_id})
    if record is None:
        key = crypto.generate_key()
        try:
            await db.keys.insert_one(
                {
                    "_id": key_id,
                    "algorithm": "ECDSA-P256-SHA256",
                    "public_pem": crypto.public_pem(key),
                    "private": crypto.seal_private_key(key, keys[0], key_id),
                    "created_at": utcnow(),
                }
            )
            return key
        except DuplicateKeyError:
            record = await db.keys.find_one({"_id": key_id})
    key, opened_with = _open(record, keys)
    if opened_with > 0:
        await _reseal(db, record, key, keys[0])
    return key


def _open(record: dict, keys: tuple[bytes, ...]) -> tuple[ec.EllipticCurvePrivateKey, int]:
    for index, master in enumerate(keys):
        try:
            return crypto.open_private_key(record["private"], master, record["_id"]), index
        except InvalidTag:
            continue
    raise InvalidTag(f"key {record['_id']} opens under none of the configured master keys")


async def _reseal(db: AsyncDatabase, record: dict, key: ec.EllipticCurvePrivateKey, master: bytes) -> bool:
    """Re-encrypt under the current master key; the guard keeps a concurrent re-seal from being overwritten."""
    done = await db.keys.update_one(
        {"_id": record["_id"], "private.ciphertext": record["private"]["ciphertext"]},
        {"$set": {"private": crypto.seal_private_key(key, master, record["_id"]), "resealed_at": utcnow()}},
    )
    return done.modified_count == 1


async def rotate_master_key(db: AsyncDatabase, master_keys: MasterKeys) -> int:
    """Re-encrypt every stored key that is not yet under the current master key; returns how many.
    Safe while the service runs: every replica accepts both keys until the old one is removed."""
    keys = _as_tuple(master_keys)
    moved = 0
    async for record in db.keys.find({}):
        key, opened_with = _open(record, keys)
        if opened_with > 0 and await _reseal(db, record, key, keys[0]):
            moved += 1
    return moved


async def public_keys(db: AsyncDatabase, key_ids: set[str]) -> dict[str, str]:
    cursor = db.keys.find({"_id": {"$in": sorted(key_ids)}}, {"public_pem": 1})
    return {doc["_id"]: doc["public_pem"] async for doc in cursor}


# ---- the certificate hierarchy -------------------------------------------------------------------

ROOT_KEY = "ca:root"


@dataclass
class Authority:
    """Who issues certificates: the self-managed town root, or a configured CA. Made once per process (at
    start): certificates are written once and never changed, so the ones issued or read are kept here."""

    cert: x509.Certificate
    trust_roots: list[x509.Certificate]
    # A configured CA's key, read from its file. The town root's key stays encrypted in `keys` and is
    # opened only to issue a certificate (first use of a key), like every other custodial key.
    key: ec.EllipticCurvePrivateKey | None = None
    issued: dict[str, x509.Certificate] = field(default_factory=dict)

    @property
    def chain(self) -> list[x509.Certificate]:
        """Issuer and anchors, embedded in each signature so readers can build the path."""
        seen, out = set(), []
        for c in [self.cert, *self.trust_roots]:
            if c.fingerprint(hashes.SHA256()) not in seen:
                seen.add(c.fingerprint(hashes.SHA256()))
                out.append(c)
        return out


async def authority(db: AsyncDatabase, settings: Any) -> Authority:
    if settings.ca_cert_file and settings.ca_key_file:
        cert = pki.load_pem(Path(settings.ca_cert_file).read_text())
        key = pki.load_private_key_pem(Path(settings.ca_key_file).read_text(), settings.ca_key_password)
        roots = pki.load_pem_chain(Path(settings.trust_roots_file).read_text()) if settings.trust_roots_file else [cert]
        return Authority(cert, roots, key)
    record = await db.certificates.find_one({"_id": ROOT_KEY})
    if record is None:
        key = await custodial_key(db, ROOT_KEY, settings.master_keys())
        cert = pki.root_certificate(key, settings.town_name, utcnow())
        try:
            await db.certificates.insert_one({"_id": ROOT_KEY, "pem": pki.pem(cert), "issuer": None, "created_at": utcnow()})
            return Authority(cert, [cert])
        except DuplicateKeyError:  # another replica made the root first: use that one
            record = await db.certificates.find_one({"_id": ROOT_KEY})
    cert = pki.load_pem(record["pem"])
    return Authority(cert, [cert])


async def certificate(db: AsyncDatabase, ca: Authority, key_id: str, subject: pki.Subject, master_key: MasterKeys) -> x509.Certificate:
    """The certificate for a custodial key under the current issuer, issued on first use."""
    issuer_fp = ca.cert.fingerprint(hashes.SHA256()).hex()
    record_id = f"{key_id}@{issuer_fp[:16]}"
    if record_id in ca.issued:
        return ca.issued[record_id]
    record = await db.certificates.find_one({"_id": record_id})
    if record is None:
        key = await custodial_key(db, key_id, master_key)
        issuer_key = ca.key or await custodial_key(db, ROOT_KEY, master_key)
        cert = pki.issue(issuer_key, ca.cert, key.public_key(), subject, utcnow())
        try:
            await db.certificates.insert_one(
                {
                    "_id": record_id,
                    "key_id": key_id,
                    "pem": pki.pem(cert),
                    "issuer": issuer_fp,
                    "subject": subject.common_name,
                    "created_at": utcnow(),
                }
            )
            ca.issued[record_id] = cert
            return cert
        except DuplicateKeyError:  # another replica issued it first: theirs is the one
            record = await db.certificates.find_one({"_id": record_id})
    ca.issued[record_id] = pki.load_pem(record["pem"])
    return ca.issued[record_id]


async def enrich_seals(db: AsyncDatabase, ca: Authority, settings: Any) -> None:
    """Complete each seal record as GB/T 38540 describes it: its image (drawn from the name), the
    seal's certificate, and the maker's signature over the whole record."""
    master_key = settings.master_keys()
    async for seal in db.seals.find({"maker_signature": {"$exists": False}}):
        image = images.png_bytes(images.seal_image(seal["name"], settings.cjk_font, bottom="电子印章"))
        cert = await certificate(db, ca, seal_key_id(seal["_id"]), seal_subject(seal), master_key)
        record = seal_record(seal, image_sha256=sha256_hex(image), cert_pem=pki.pem(cert))
        maker = await custodial_key(db, PLATFORM_KEY, master_key)
        await db.seals.update_one(
            {"_id": seal["_id"], "maker_signature": {"$exists": False}},
            {
                "$set": {
                    "image_png": image,
                    "image_sha256": record["image_sha256"],
                    "certificate_pem": record["certificate_pem"],
                    "maker": PLATFORM_KEY,
                    "maker_signature": base64.b64encode(crypto.sign(maker, record)).decode(),
                }
            },
        )


def seal_subject(seal: dict) -> pki.Subject:
    """The seal certificate names the organisation (e.g. 久联村经济联合社) and the holder's id."""
    return pki.Subject("seal", seal["name"], seal["name"].removesuffix("电子印章") or seal["name"], seal["holder"])


def seal_record(seal: dict, *, image_sha256: str, cert_pem: str) -> dict:
    """What the maker signs (GB/T 38540's seal information): id, name, holder, who may use it, when, image, certificate."""
    return {
        "seal_id": seal["_id"],
        "name": seal["name"],
        "holder": seal["holder"],
        "allowed_roles": seal["allowed_roles"],
        "valid_from": seal["valid_from"].isoformat() if isinstance(seal["valid_from"], datetime) else seal["valid_from"],
        "valid_to": seal["valid_to"].isoformat() if isinstance(seal["valid_to"], datetime) else seal["valid_to"],
        "image_sha256": image_sha256,
        "certificate_pem": cert_pem,
    }
