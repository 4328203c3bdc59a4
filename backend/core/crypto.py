"""Personal identifiers at rest: AES-GCM encryption plus a keyed hash for exact lookup.

ID and phone numbers are stored only as ciphertext (`encrypt`) and as an HMAC-SHA256 digest (`lookup_hash`)
under a key derived from DATA_ENCRYPTION_KEY, so an exact search works without decrypting every row while
the database alone reveals neither the numbers nor a dictionary-attackable plain hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.config import get_settings

_VERSION = b"\x01"  # leading byte of every ciphertext, for key rotation later
_NONCE_BYTES = 12


class PersonalDataCipher:
    def __init__(self, key_b64: str) -> None:
        master = base64.urlsafe_b64decode(key_b64)
        if len(master) != 32:
            raise ValueError("DATA_ENCRYPTION_KEY must be 32 bytes, urlsafe base64")
        # Separate keys for the two purposes, so the lookup digests reveal nothing about the cipher key.
        self._aead = AESGCM(hmac.new(master, b"liuguan:encrypt", hashlib.sha256).digest())
        # Keyed once; each digest starts from a copy (the key schedule is not redone per value).
        self._keyed_hash = hmac.new(hmac.new(master, b"liuguan:lookup", hashlib.sha256).digest(), None, hashlib.sha256)

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """`context` (e.g. "person.resident_id") is bound in, so a value cannot be moved to another column."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, ciphertext: bytes, *, context: str) -> str:
        nonce, body = ciphertext[1 : 1 + _NONCE_BYTES], ciphertext[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, body, context.encode()).decode()

    def lookup_hash(self, value: str, *, context: str) -> str:
        digest = self._keyed_hash.copy()
        digest.update(f"{context}:{value}".encode())
        return digest.hexdigest()


@lru_cache
def cipher_for(key_b64: str) -> PersonalDataCipher:
    return PersonalDataCipher(key_b64)


def personal_data_cipher() -> PersonalDataCipher:
    return cipher_for(get_settings().data_encryption_key)
