"""Endpoint secrets: `whsec_` + base64 of 32 random bytes, shown once, kept encrypted.

The gateway must sign with a secret, so it cannot keep only a hash: the raw bytes
are encrypted with AES-256-GCM under a key from configuration, with the endpoint's
id as associated data (a ciphertext copied onto another endpoint's row does not
decrypt). Keys rotate like the portal signing secrets: the first encrypts, every
one decrypts. Each configured key is stretched to 32 bytes with HKDF; without one,
the key is derived from API_KEY_PEPPER under its own label, so production needs no
new secret to start and a stolen database alone opens nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.config import Settings

PREFIX = "whsec_"
_SECRET_BYTES = 32
_NONCE_BYTES = 12
_VERSION = "v1."


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: v1, + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode()


def _derive(material: str, label: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
        material.encode())
    return AESGCM(key)


class SecretBox:
    def __init__(self, settings: Settings) -> None:
        if settings.webhook_encryption_keys:
            self._keys = [_derive(key, b"makepay webhook secrets v1")
                          for key in settings.webhook_encryption_keys]
        else:
            self._keys = [_derive(settings.api_key_pepper, b"makepay webhook secrets from pepper v1")]

    def seal(self, endpoint_id: uuid.UUID, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[0].encrypt(nonce, secret_bytes(secret), endpoint_id.bytes)
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, endpoint_id: uuid.UUID, sealed: str) -> bytes:
        """The raw key bytes (what signs), never the printable secret."""
        raw = base64.urlsafe_b64decode(sealed.removeprefix(_VERSION))
        nonce, data = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        for key in self._keys:
            try:
                return key.decrypt(nonce, data, endpoint_id.bytes)
            except InvalidTag:
                continue
        raise RuntimeError("no configured WEBHOOK_ENCRYPTION_KEYS opens this endpoint's secret")
