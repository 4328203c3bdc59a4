"""The S3 driver: one bucket on MinIO or any S3 endpoint, through the `minio` SDK."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import unquote, urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from minio.retention import Retention

from backend.core.clock import utc_now
from backend.core.storage.errors import ObjectNotFound, ObjectRetained, StorageUnavailable
from backend.core.storage.port import STREAM_CHUNK_BYTES, ObjectStorage, ObjectStream, StoredObject
from backend.core.storage.validation import (
    RESERVED_METADATA_PREFIX,
    content_disposition,
    encode_metadata_value,
    format_instant,
    parse_instant,
)

log = logging.getLogger(__name__)

RetentionMode = Literal["GOVERNANCE", "COMPLIANCE"]

_S3_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion", "NotFound"})
_META_PREFIX = "x-amz-meta-"
_SHA256_META = RESERVED_METADATA_PREFIX + "sha256"
_RETAIN_META = RESERVED_METADATA_PREFIX + "retain-until"


class S3ObjectStorage(ObjectStorage):
    """Objects in one S3 bucket through the `minio` SDK (MinIO or any S3 endpoint).

    Every object carries its SHA-256 in metadata, and the same digest is sent as `x-amz-checksum-sha256`
    so servers that check it refuse a corrupted upload. Retention is kept in metadata (read back by the
    port on every put and delete) and, when the bucket has object lock, also set as object-lock retention
    in `retention_mode`. GOVERNANCE is the default: nobody without the bypass permission can shorten it,
    and an operator who holds that permission can still correct a mistaken date; deployments that must
    prove immutability against their own administrators pass COMPLIANCE.

    Overwrite and retention checks are a stat then a write: two processes writing the same new key at the
    same moment could both succeed (the server's object lock still protects retained versions). Keys are
    generated unique by the callers, so this does not arise in practice.
    """

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        region: str | None = None,
        retention_mode: RetentionMode = "GOVERNANCE",
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(now=now)
        self._client = client
        self._bucket = bucket
        self._region = region
        self._retention_mode = retention_mode
        self._object_lock: bool | None = None

    @property
    def bucket(self) -> str:
        """The bucket objects live in."""
        return self._bucket

    @property
    def client(self) -> Minio:
        """The underlying minio client (for operations the port does not cover)."""
        return self._client

    @contextmanager
    def _translate_errors(self, key: str | None) -> Iterator[None]:
        """Turn SDK and network failures into typed errors; the cause stays chained for the logs."""
        try:
            yield
        except S3Error as exc:
            if key is not None and exc.code in _S3_MISSING:
                raise ObjectNotFound(key) from exc
            log.error("storage.s3_error", extra={"code": exc.code, "bucket": self._bucket})
            raise StorageUnavailable(f"S3 error {exc.code}") from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            log.error("storage.s3_unreachable", extra={"bucket": self._bucket, "error": repr(exc)})
            raise StorageUnavailable(repr(exc)) from exc

    def _ensure_bucket_sync(self) -> None:
        with self._translate_errors(None):
            if not self._client.bucket_exists(self._bucket):
                try:
                    self._client.make_bucket(self._bucket, location=self._region, object_lock=True)
                except S3Error as exc:
                    if exc.code == "BucketAlreadyOwnedByYou":  # another process won the race
                        pass
                    elif exc.code in ("NotImplemented", "InvalidRequest", "InvalidArgument"):
                        # Servers without object lock still get a bucket; the port enforces retention.
                        log.warning("storage.object_lock_unsupported", extra={"bucket": self._bucket})
                        self._client.make_bucket(self._bucket, location=self._region)
                    else:
                        raise
            self._object_lock = self._detect_object_lock()

    def _detect_object_lock(self) -> bool:
        try:
            self._client.get_object_lock_config(self._bucket)
        except S3Error as exc:
            if exc.code in ("ObjectLockConfigurationNotFoundError", "NotImplemented", "InvalidRequest"):
                return False
            raise
        return True

    def _object_lock_enabled(self) -> bool:
        if self._object_lock is None:
            self._object_lock = self._detect_object_lock()
        return self._object_lock

    def _stat_sync(self, key: str) -> StoredObject | None:
        with self._translate_errors(key):
            try:
                found = self._client.stat_object(self._bucket, key)
            except S3Error as exc:
                if exc.code in _S3_MISSING:
                    return None
                raise
            headers = {name.lower(): value for name, value in (found.metadata or {}).items()}
            user = {
                name[len(_META_PREFIX) :]: unquote(value)
                for name, value in headers.items()
                if name.startswith(_META_PREFIX)
            }
            sha256 = user.get(_SHA256_META) or self._digest_sync(key)
            retentions = [
                instant
                for instant in (
                    parse_instant(user.get(_RETAIN_META, "")),
                    parse_instant(headers.get("x-amz-object-lock-retain-until-date", "")),
                )
                if instant is not None
            ]
            return StoredObject(
                key=key,
                size=int(found.size or 0),
                sha256=sha256,
                content_type=found.content_type or "application/octet-stream",
                etag=found.etag,
                version_id=found.version_id,
                metadata={name: value for name, value in user.items() if not name.startswith(RESERVED_METADATA_PREFIX)},
                retain_until=max(retentions) if retentions else None,
            )

    def _digest_sync(self, key: str) -> str:
        # Only for objects written around the port (no digest in metadata): read and hash them.
        digest = hashlib.sha256()
        response = self._client.get_object(self._bucket, key)
        try:
            for chunk in response.stream(STREAM_CHUNK_BYTES):
                digest.update(chunk)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest()

    def _write_sync(
        self,
        key: str,
        data: bytes,
        sha256: str,
        content_type: str,
        metadata: dict[str, str],
        retain_until: datetime | None,
    ) -> StoredObject:
        headers: dict[str, str | list[str] | tuple[str]] = {
            name: encode_metadata_value(value) for name, value in metadata.items()
        }
        headers[_SHA256_META] = sha256
        # The server recomputes and compares; AWS and MinIO also require a checksum with object lock.
        headers["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        headers["x-amz-sdk-checksum-algorithm"] = "SHA256"
        retention = None
        if retain_until is not None:
            headers[_RETAIN_META] = format_instant(retain_until)
            # Servers refuse a lock date in the past; such an object is simply not retained any more.
            if retain_until > self._now() and self._object_lock_enabled():
                retention = Retention(self._retention_mode, retain_until)
        with self._translate_errors(key):
            result = self._client.put_object(
                self._bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=headers,
                retention=retention,
            )
        return StoredObject(
            key=key,
            size=len(data),
            sha256=sha256,
            content_type=content_type,
            etag=result.etag,
            version_id=result.version_id,
            metadata=dict(metadata),
            retain_until=retain_until,
        )

    def _read_sync(self, key: str) -> bytes:
        with self._translate_errors(key):
            response = self._client.get_object(self._bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def _open_sync(self, key: str) -> ObjectStream:
        with self._translate_errors(key):
            response = self._client.get_object(self._bucket, key)

        def read_chunk(size: int) -> bytes:
            with self._translate_errors(key):
                return response.read(size)

        def close() -> None:
            response.close()
            response.release_conn()

        etag = response.headers.get("ETag")
        return ObjectStream(
            key=key,
            size=int(response.headers.get("Content-Length", "0")),
            content_type=response.headers.get("Content-Type", "application/octet-stream"),
            etag=etag.strip('"') if etag else None,
            read_chunk=read_chunk,
            close=close,
        )

    def _remove_sync(self, key: str) -> None:
        with self._translate_errors(key):
            # On a versioned bucket (object lock implies versioning) a plain DELETE only adds a delete
            # marker and the bytes stay; personal data must really go, so remove every version.
            versions = [
                found
                for found in self._client.list_objects(self._bucket, prefix=key, include_version=True)
                if found.object_name == key
            ]
            if not versions:
                self._client.remove_object(self._bucket, key)
                return
            # S3 lists a key's versions newest first; remove them oldest first, so that if the server
            # refuses one (still locked) the newer ones, including the current version, are untouched and
            # the object reads as before.
            for found in reversed(versions):
                try:
                    self._client.remove_object(self._bucket, key, version_id=found.version_id)
                except S3Error as exc:
                    if exc.code in ("AccessDenied", "ObjectLocked", "InvalidRequest"):
                        raise ObjectRetained(key, None) from exc
                    raise

    def _presign_sync(self, key: str, expires: timedelta, download_name: str | None) -> str | None:
        response_headers: dict[str, str | list[str] | tuple[str]] | None = None
        if download_name:
            response_headers = {"response-content-disposition": content_disposition(download_name)}
        with self._translate_errors(key):
            return self._client.presigned_get_object(
                self._bucket,
                key,
                expires=expires,
                response_headers=response_headers,
                request_date=self._now(),
            )

    def _list_sync(self, prefix: str) -> list[str]:
        with self._translate_errors(None):
            return [
                found.object_name
                for found in self._client.list_objects(self._bucket, prefix=prefix or None, recursive=True)
                if found.object_name is not None and not found.is_dir
            ]


def make_minio_client(endpoint: str, *, access_key: str, secret_key: str, region: str | None, secure: bool) -> Minio:
    """A minio client with timeouts suited to a request path (the SDK's default waits 5 minutes).

    `endpoint` is `host:port`; a URL (`http://host:port`) is accepted too and its scheme wins over `secure`.
    """
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        secure = parts.scheme == "https"
        endpoint = parts.netloc
    http_client = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=60),
        maxsize=20,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
    # With the region given the SDK never has to ask the server for it (one round trip less, and
    # presigning works offline).
    return Minio(
        endpoint,
        access_key=access_key,
        secret_key=secret_key,
        secure=secure,
        region=region,
        http_client=http_client,
    )
