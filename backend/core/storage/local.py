"""The local directory driver: the embedded default for development and single-machine installs."""

from __future__ import annotations

import io
import json
import os
import re
import stat as stat_mode
import tempfile
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backend.core.clock import utc_now
from backend.core.storage.errors import InvalidObjectKey, ObjectNotFound, StorageUnavailable
from backend.core.storage.port import ObjectStorage, ObjectStream, StoredObject
from backend.core.storage.validation import format_instant, parse_instant

# File names inside the root. A key's segments become directories and, for the last one, two kinds of file:
#   <segment>@m.json          the sidecar: content type, metadata, retention, digest, and which data file
#   <segment>@<version>.o     the content of one write
# Segments are escaped so that they never contain a raw "@", which makes every file name distinguishable
# from every directory name: keys "a" and "a/b" can coexist, as on S3.
_SIDECAR_SUFFIX = "@m.json"
_TEMP_MARK = "@tmp-"
_MAX_FILE_NAME_BYTES = 255
_SEGMENT_ESCAPE = re.compile(r"%(25|40)")


def _escape_segment(segment: str) -> str:
    return segment.replace("%", "%25").replace("@", "%40")


def _unescape_segment(name: str) -> str:
    return _SEGMENT_ESCAPE.sub(lambda match: "%" if match.group(1) == "25" else "@", name)


class LocalObjectStorage(ObjectStorage):
    """Objects as files under `root`, for development and single-machine installs.

    Writes are atomic: each write goes to a new data file (temp file, fsync, `os.replace`) and becomes
    visible only when its sidecar is atomically replaced, so a reader sees the old object or the new one,
    never a mix, and a crash leaves at worst an unreferenced data file. Every path is resolved and checked
    to lie under the root, so neither a key nor a symlink planted inside the root can lead outside.
    One process per root: the lock is in-process.
    """

    def __init__(self, root: Path | str, *, now: Callable[[], datetime] = utc_now) -> None:
        super().__init__(now=now)
        self._root = Path(root).resolve()
        # One lock for all mutations: deleting prunes empty directories, which must not race a write that
        # is about to create a file in one of them.
        self._mutation_lock = threading.Lock()

    @property
    def root(self) -> Path:
        """The directory objects live in."""
        return self._root

    def _lock_for(self, key: str) -> threading.Lock:
        return self._mutation_lock

    # -- paths --

    def _paths(self, key: str) -> tuple[Path, str, Path]:
        """(directory, escaped last segment, sidecar path) for `key`, checked to stay under the root."""
        escaped = [_escape_segment(segment) for segment in key.split("/")]
        for name in escaped:
            # The longest name we create is "<segment>@<32 hex>.o".
            if len(name.encode("utf-8")) + 35 > _MAX_FILE_NAME_BYTES:
                raise InvalidObjectKey(key, "路径段过长", "a path segment is too long for the local store")
        directory = self._root.joinpath(*escaped[:-1])
        sidecar = directory / (escaped[-1] + _SIDECAR_SUFFIX)
        self._check_inside(key, sidecar)
        return directory, escaped[-1], sidecar

    def _check_inside(self, key: str, path: Path) -> None:
        # resolve() follows any symlink on the way, including ones planted inside the root.
        if not path.resolve().is_relative_to(self._root):
            raise InvalidObjectKey(key, "指向存储目录之外", "resolves outside the storage root")

    @staticmethod
    def _data_path(directory: Path, escaped: str, version_id: str) -> Path:
        return directory / f"{escaped}@{version_id}.o"

    # -- primitives --

    def _ensure_bucket_sync(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _read_sidecar(self, key: str, sidecar: Path) -> dict[str, Any] | None:
        try:
            raw = _read_file_nofollow(sidecar)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageUnavailable(f"cannot read sidecar of {key!r}: {exc}") from exc
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise StorageUnavailable(f"corrupt sidecar for {key!r}") from exc
        if not isinstance(document, dict) or document.get("key") != key:
            raise StorageUnavailable(f"sidecar does not belong to {key!r}")
        return document

    def _stat_sync(self, key: str) -> StoredObject | None:
        _, _, sidecar = self._paths(key)
        document = self._read_sidecar(key, sidecar)
        if document is None:
            return None
        retain_until = document.get("retain_until")
        return StoredObject(
            key=key,
            size=int(document["size"]),
            sha256=str(document["sha256"]),
            content_type=str(document["content_type"]),
            etag=str(document["sha256"]),
            version_id=str(document["version_id"]),
            metadata=dict(document.get("metadata") or {}),
            retain_until=parse_instant(retain_until) if isinstance(retain_until, str) else None,
        )

    def _write_sync(
        self,
        key: str,
        data: bytes,
        sha256: str,
        content_type: str,
        metadata: dict[str, str],
        retain_until: datetime | None,
    ) -> StoredObject:
        directory, escaped, sidecar = self._paths(key)
        previous = self._read_sidecar(key, sidecar)
        version_id = uuid.uuid4().hex
        data_path = self._data_path(directory, escaped, version_id)
        document = {
            "format": 1,
            "key": key,
            "size": len(data),
            "sha256": sha256,
            "content_type": content_type,
            "metadata": metadata,
            "retain_until": format_instant(retain_until) if retain_until else None,
            "version_id": version_id,
            "written_at": format_instant(self._now()),
        }
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._check_inside(key, directory)
            _atomic_write(data_path, data)
            # The sidecar's replacement is the commit point of the whole write.
            _atomic_write(sidecar, json.dumps(document, ensure_ascii=False).encode("utf-8"))
            _fsync_directory(directory)
        except OSError as exc:
            data_path.unlink(missing_ok=True)
            raise StorageUnavailable(f"cannot write {key!r}: {exc}") from exc
        if previous is not None:
            self._data_path(directory, escaped, str(previous["version_id"])).unlink(missing_ok=True)
        return StoredObject(
            key=key,
            size=len(data),
            sha256=sha256,
            content_type=content_type,
            etag=sha256,
            version_id=version_id,
            metadata=dict(metadata),
            retain_until=retain_until,
        )

    def _open_file(self, key: str) -> tuple[io.BufferedReader, dict[str, Any]]:
        directory, escaped, sidecar = self._paths(key)
        # Two tries: an overwrite between reading the sidecar and opening its data file removes that file;
        # reading the sidecar again finds the new one.
        for _ in range(2):
            document = self._read_sidecar(key, sidecar)
            if document is None:
                raise ObjectNotFound(key)
            try:
                fd = os.open(
                    self._data_path(directory, escaped, str(document["version_id"])),
                    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0),
                )
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StorageUnavailable(f"cannot open {key!r}: {exc}") from exc
            return os.fdopen(fd, "rb"), document
        raise ObjectNotFound(key)

    def _read_sync(self, key: str) -> bytes:
        handle, _ = self._open_file(key)
        with handle:
            return handle.read()

    def _open_sync(self, key: str) -> ObjectStream:
        handle, document = self._open_file(key)
        return ObjectStream(
            key=key,
            size=int(document["size"]),
            content_type=str(document["content_type"]),
            etag=str(document["sha256"]),
            read_chunk=handle.read,
            close=handle.close,
        )

    def _remove_sync(self, key: str) -> None:
        directory, escaped, sidecar = self._paths(key)
        document = self._read_sidecar(key, sidecar)
        if document is None:
            return
        try:
            sidecar.unlink(missing_ok=True)  # the commit point: the object is gone from here on
            self._data_path(directory, escaped, str(document["version_id"])).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot delete {key!r}: {exc}") from exc
        self._prune_empty_directories(directory)

    def _prune_empty_directories(self, directory: Path) -> None:
        # Deleted subtrees would otherwise pile up empty directories that every listing walks.
        while directory != self._root and directory.is_relative_to(self._root):
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def _presign_sync(self, key: str, expires: timedelta, download_name: str | None) -> str | None:
        return None

    def _list_sync(self, prefix: str) -> list[str]:
        # Start the walk at the deepest directory that every match must be under.
        complete_segments = prefix.split("/")[:-1]
        start = self._root.joinpath(*(_escape_segment(segment) for segment in complete_segments))
        if not start.resolve().is_relative_to(self._root) or not start.is_dir():
            return []
        keys = []
        for directory, _, files in os.walk(start):  # does not follow symlinked directories
            relative = Path(directory).relative_to(self._root).parts
            for name in files:
                if not name.endswith(_SIDECAR_SUFFIX) or _TEMP_MARK in name:
                    continue
                segments = [*relative, name[: -len(_SIDECAR_SUFFIX)]]
                key = "/".join(_unescape_segment(segment) for segment in segments)
                if key.startswith(prefix):
                    keys.append(key)
        return keys


def _read_file_nofollow(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat_mode.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        return handle.read()


def _atomic_write(path: Path, content: bytes) -> None:
    """Write `content` to `path` so that `path` shows either its old content or all of the new."""
    # mkstemp creates the file with mode 0600; its "@" keeps it apart from directories and sidecars.
    fd, temp_name = tempfile.mkstemp(prefix=_TEMP_MARK, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _fsync_directory(directory: Path) -> None:
    # Makes the renames themselves durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
