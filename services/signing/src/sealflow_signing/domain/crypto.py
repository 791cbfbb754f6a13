"""Custodial keys and signed acts. ECDSA P-256 with SHA-256 (PDF readers reject Ed25519); private keys
are only ever held in memory or as AES-256-GCM ciphertext bound to their key id."""

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sealflow_contracts.canonical import canonical_json, sha256_hex


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def seal_private_key(key: ec.EllipticCurvePrivateKey, master_key: bytes, key_id: str) -> dict[str, str]:
    """Encrypt a private key under the master key; the key id is authenticated data, so a ciphertext
    copied onto another key's record does not decrypt."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    nonce = os.urandom(12)
    ciphertext = AESGCM(master_key).encrypt(nonce, der, key_id.encode())
    return {"nonce": base64.b64encode(nonce).decode(), "ciphertext": base64.b64encode(ciphertext).decode()}


def open_private_key(sealed: dict[str, str], master_key: bytes, key_id: str) -> ec.EllipticCurvePrivateKey:
    der = AESGCM(master_key).decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), key_id.encode())
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def sign(key: ec.EllipticCurvePrivateKey, payload: dict[str, Any]) -> bytes:
    return key.sign(canonical_json(payload), ec.ECDSA(hashes.SHA256()))


def verify(public_key_pem: str, payload: dict[str, Any], signature: bytes) -> bool:
    public_key = serialization.load_pem_public_key(public_key_pem.encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    try:
        public_key.verify(signature, canonical_json(payload), ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def act_hash(payload: dict[str, Any], signature: bytes) -> str:
    """An act's link in the chain: covers what was signed (including the previous hash) and the signature."""
    return sha256_hex(canonical_json(payload) + signature)
