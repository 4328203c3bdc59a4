"""Object storage (对象存储): where the bytes of uploaded documents live.

The documents domain talks to `ObjectStorage` only (`port.py`). Two drivers implement it:

- `S3ObjectStorage` (`s3.py`): the `minio` SDK against MinIO (production) or any S3 endpoint;
- `LocalObjectStorage` (`local.py`): a directory, the embedded default for development.

The rules that matter for evidence (证据材料) live in the port itself, not in a driver and not in the server,
so every driver behaves the same and a misconfigured bucket cannot silently weaken them:

- every key is validated (`validation.validate_key`) before any driver sees it;
- an existing key is never replaced unless the caller passes `overwrite=True`;
- an object put with `retain_until` (保存期限) can be neither replaced nor deleted before that instant
  (`ObjectRetained`). On S3 the same date is also set as object-lock retention when the bucket has object
  lock enabled, so the server refuses too, even to clients that bypass this code.

The API is async; the blocking work (minio's urllib3 calls, file I/O, hashing) runs in worker threads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from backend.core.clock import utc_now
from backend.core.storage.errors import (
    InvalidObjectKey,
    InvalidObjectMetadata,
    ObjectExists,
    ObjectNotFound,
    ObjectRetained,
    StorageUnavailable,
)
from backend.core.storage.local import LocalObjectStorage
from backend.core.storage.port import MAX_PRESIGNED_LIFETIME, ObjectStorage, ObjectStream, StoredObject
from backend.core.storage.s3 import RetentionMode, S3ObjectStorage, make_minio_client
from backend.core.storage.validation import content_disposition, validate_key, validate_prefix

if TYPE_CHECKING:
    from backend.config import Settings

__all__ = [
    "MAX_PRESIGNED_LIFETIME",
    "InvalidObjectKey",
    "InvalidObjectMetadata",
    "LocalObjectStorage",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectRetained",
    "ObjectStorage",
    "ObjectStream",
    "RetentionMode",
    "S3ObjectStorage",
    "StorageUnavailable",
    "StoredObject",
    "build_storage",
    "content_disposition",
    "make_minio_client",
    "validate_key",
    "validate_prefix",
]


def build_storage(settings: Settings, *, now: Callable[[], datetime] = utc_now) -> ObjectStorage:
    """The storage driver the settings choose: `storage_driver` is "local" or "s3"."""
    if settings.storage_driver == "local":
        return LocalObjectStorage(settings.storage_local_dir, now=now)
    if settings.storage_driver == "s3":
        client = make_minio_client(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
            secure=settings.s3_secure,
        )
        return S3ObjectStorage(client, settings.s3_bucket, region=settings.s3_region, now=now)
    raise ValueError(f"unknown storage_driver {settings.storage_driver!r}; expected 'local' or 's3'")
