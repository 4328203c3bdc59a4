"""The object storage port: what the documents domain may ask of any storage driver.

`ObjectStorage` holds the rules (key validation, no silent overwrite, retention) so that every driver
enforces them the same way; drivers only supply blocking primitives, run in worker threads.
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType

import anyio.to_thread

from backend.core.clock import utc_now
from backend.core.storage.errors import ObjectExists, ObjectRetained
from backend.core.storage.validation import (
    normalize_retain_until,
    validate_content_type,
    validate_key,
    validate_metadata,
    validate_prefix,
)

STREAM_CHUNK_BYTES = 64 * 1024
MAX_PRESIGNED_LIFETIME = timedelta(days=7)  # the SigV4 maximum


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What the storage knows about one object.

    `sha256` is the hex digest of the content; `etag` and `version_id` are the backend's (S3 ETag and
    version, or for the local driver the digest and a random version per write).
    """

    key: str
    size: int
    sha256: str
    content_type: str
    etag: str | None = None
    version_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    retain_until: datetime | None = None

    def is_retained(self, now: datetime) -> bool:
        """True while the retention period has not passed at `now`."""
        return self.retain_until is not None and self.retain_until > now


class ObjectStream:
    """An object being read chunk by chunk: an async iterator of bytes and an async context manager.

    `open_stream` returns it already opened, so a missing object fails before an HTTP response has
    started; leaving the `async with` block (or exhausting the iterator) releases the file or connection.
    """

    def __init__(
        self,
        *,
        key: str,
        size: int,
        content_type: str,
        etag: str | None,
        read_chunk: Callable[[int], bytes],
        close: Callable[[], None],
        chunk_size: int = STREAM_CHUNK_BYTES,
    ) -> None:
        self.key = key
        self.size = size
        self.content_type = content_type
        self.etag = etag
        self._read_chunk = read_chunk
        self._close = close
        self._chunk_size = chunk_size
        self._closed = False

    def __aiter__(self) -> ObjectStream:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        try:
            chunk = await anyio.to_thread.run_sync(self._read_chunk, self._chunk_size)
        except BaseException:
            await self.aclose()
            raise
        if not chunk:
            await self.aclose()
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Release the underlying file or connection; safe to call twice."""
        if not self._closed:
            self._closed = True
            await anyio.to_thread.run_sync(self._close)

    async def __aenter__(self) -> ObjectStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class ObjectStorage(ABC):
    """Where document bytes are kept. Public methods validate and enforce the write-once rules, then call
    the driver's blocking primitives (`_*_sync`) in a worker thread.

    `now` is the clock used for retention decisions and URL signing; tests pass their own.
    """

    def __init__(self, *, now: Callable[[], datetime] = utc_now) -> None:
        self._now = now
        # Check-then-write must not interleave for one key inside this process; striping keeps unrelated
        # keys from waiting on each other.
        self._key_locks = tuple(threading.Lock() for _ in range(64))

    # -- public API -----------------------------------------------------------------------------------

    async def ensure_bucket(self) -> None:
        """Create the bucket (S3, with object lock where the server supports it) or root directory if
        missing. Idempotent; call at start-up."""
        await anyio.to_thread.run_sync(self._ensure_bucket_sync)

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
        retain_until: datetime | None = None,
        overwrite: bool = False,
    ) -> StoredObject:
        """Store `data` under `key` and return what was stored (with its SHA-256).

        Raises `ObjectExists` if the key exists and `overwrite` is false, `ObjectRetained` if the existing
        object is within its retention period (whatever `overwrite` says), `InvalidObjectKey` /
        `InvalidObjectMetadata` for bad input. `retain_until` (timezone-aware) makes the new object
        write-once until that instant.
        """
        key = validate_key(key)
        content_type = validate_content_type(content_type)
        checked_metadata = validate_metadata(metadata)
        until = normalize_retain_until(retain_until)
        payload = bytes(data)
        return await anyio.to_thread.run_sync(
            self._put_checked, key, payload, content_type, checked_metadata, until, overwrite
        )

    async def get(self, key: str) -> bytes:
        """The whole content of `key`; raises `ObjectNotFound`."""
        key = validate_key(key)
        return await anyio.to_thread.run_sync(self._read_sync, key)

    async def open_stream(self, key: str) -> ObjectStream:
        """Open `key` for reading in chunks (for streaming downloads); raises `ObjectNotFound` now, before
        any byte is sent. Use as `async with await storage.open_stream(key) as stream: async for chunk in
        stream: ...`."""
        key = validate_key(key)
        return await anyio.to_thread.run_sync(self._open_sync, key)

    async def stat(self, key: str) -> StoredObject | None:
        """What is stored under `key`, or None if nothing is."""
        key = validate_key(key)
        return await anyio.to_thread.run_sync(self._stat_sync, key)

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        return await self.stat(key) is not None

    async def delete(self, key: str) -> None:
        """Remove `key` for good (on a versioned S3 bucket: every version). Deleting a missing key is a
        no-op, so retried clean-ups are idempotent. Raises `ObjectRetained` within the retention period."""
        key = validate_key(key)
        await anyio.to_thread.run_sync(self._delete_checked, key)

    async def presigned_get_url(self, key: str, *, expires: timedelta, download_name: str | None = None) -> str | None:
        """A time-limited URL a browser can fetch `key` from directly (S3), downloading as `download_name`
        if given; None when the driver cannot serve URLs (local), in which case the API streams instead.
        The URL is not checked against the object's existence."""
        key = validate_key(key)
        if not timedelta(seconds=1) <= expires <= MAX_PRESIGNED_LIFETIME:
            raise ValueError("expires must be between 1 second and 7 days")
        return await anyio.to_thread.run_sync(self._presign_sync, key, expires, download_name)

    async def list_keys(self, prefix: str = "") -> list[str]:
        """Every key starting with `prefix` (plain string prefix, as S3), sorted. For the orphan clean-up
        job: it lists the whole subtree, so keep prefixes narrow (a tenant, a month)."""
        prefix = validate_prefix(prefix)
        keys = await anyio.to_thread.run_sync(self._list_sync, prefix)
        return sorted(keys)

    # -- shared rules (run in a worker thread) --------------------------------------------------------

    def _lock_for(self, key: str) -> threading.Lock:
        return self._key_locks[hash(key) % len(self._key_locks)]

    def _refuse_if_retained(self, existing: StoredObject) -> None:
        if existing.is_retained(self._now()):
            raise ObjectRetained(existing.key, existing.retain_until)

    def _put_checked(
        self,
        key: str,
        data: bytes,
        content_type: str,
        metadata: dict[str, str],
        retain_until: datetime | None,
        overwrite: bool,
    ) -> StoredObject:
        sha256 = hashlib.sha256(data).hexdigest()
        with self._lock_for(key):
            existing = self._stat_sync(key)
            if existing is not None:
                # Retention first: it is the stronger reason and holds even with overwrite=True.
                self._refuse_if_retained(existing)
                if not overwrite:
                    raise ObjectExists(key)
            return self._write_sync(key, data, sha256, content_type, metadata, retain_until)

    def _delete_checked(self, key: str) -> None:
        with self._lock_for(key):
            existing = self._stat_sync(key)
            if existing is None:
                return
            self._refuse_if_retained(existing)
            self._remove_sync(key)

    # -- driver primitives (blocking) -----------------------------------------------------------------

    @abstractmethod
    def _ensure_bucket_sync(self) -> None: ...

    @abstractmethod
    def _stat_sync(self, key: str) -> StoredObject | None: ...

    @abstractmethod
    def _write_sync(
        self,
        key: str,
        data: bytes,
        sha256: str,
        content_type: str,
        metadata: dict[str, str],
        retain_until: datetime | None,
    ) -> StoredObject: ...

    @abstractmethod
    def _read_sync(self, key: str) -> bytes: ...

    @abstractmethod
    def _open_sync(self, key: str) -> ObjectStream: ...

    @abstractmethod
    def _remove_sync(self, key: str) -> None: ...

    @abstractmethod
    def _presign_sync(self, key: str, expires: timedelta, download_name: str | None) -> str | None: ...

    @abstractmethod
    def _list_sync(self, prefix: str) -> list[str]: ...
