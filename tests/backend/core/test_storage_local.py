"""What only the local directory driver does: stay inside its root, write atomically, keep sidecars."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from backend.core.clock import utc_now
from backend.core.storage import (
    InvalidObjectKey,
    LocalObjectStorage,
    ObjectRetained,
    StorageUnavailable,
)
from tests.backend.core.conftest import MovableClock

PDF_TYPE = "application/pdf"


@pytest.fixture
async def local(tmp_path: Path, storage_clock: MovableClock) -> LocalObjectStorage:
    storage = LocalObjectStorage(tmp_path / "root", now=storage_clock.now)
    await storage.ensure_bucket()
    return storage


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "/tmp/escape.txt", "..\\escape.txt"])
async def test_a_key_cannot_write_outside_the_root(local: LocalObjectStorage, tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        await local.put(key, b"owned", content_type="text/plain")

    assert files_under(tmp_path) == []


async def test_a_symlink_inside_the_root_cannot_lead_outside(local: LocalObjectStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (local.root / "t").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidObjectKey) as raised:
        await local.put("t/doc.pdf", b"owned", content_type=PDF_TYPE)

    assert "outside" in raised.value.detail
    assert list(outside.iterdir()) == []


async def test_a_symlinked_object_file_is_not_read(local: LocalObjectStorage, tmp_path: Path) -> None:
    await local.put("t/doc.pdf", b"mine", content_type=PDF_TYPE)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"host secret")
    [data_file] = [path for path in files_under(local.root) if path.name.endswith(".o")]
    data_file.unlink()
    data_file.symlink_to(secret)

    with pytest.raises(StorageUnavailable):
        await local.get("t/doc.pdf")


async def test_a_write_leaves_one_private_data_file_and_one_sidecar(local: LocalObjectStorage) -> None:
    retain_until = utc_now() + timedelta(days=3)

    stored = await local.put(
        "t/330102/doc.pdf", b"content", content_type=PDF_TYPE, metadata={"by": "王芳"}, retain_until=retain_until
    )

    files = files_under(local.root)
    assert [path.name for path in files] == [f"doc.pdf@{stored.version_id}.o", "doc.pdf@m.json"]
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    sidecar = json.loads((local.root / "t" / "330102" / "doc.pdf@m.json").read_text(encoding="utf-8"))
    assert sidecar["content_type"] == PDF_TYPE
    assert sidecar["metadata"] == {"by": "王芳"}
    assert sidecar["retain_until"] == (retain_until.replace(microsecond=0) + timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert sidecar["sha256"] == stored.sha256


async def test_overwrite_replaces_the_data_file_and_removes_the_old_one(local: LocalObjectStorage) -> None:
    first = await local.put("t/doc.pdf", b"one", content_type=PDF_TYPE)

    second = await local.put("t/doc.pdf", b"two", content_type=PDF_TYPE, overwrite=True)

    names = [path.name for path in files_under(local.root)]
    assert names == sorted([f"doc.pdf@{second.version_id}.o", "doc.pdf@m.json"])
    assert first.version_id != second.version_id


async def test_an_open_stream_keeps_reading_the_version_it_opened(local: LocalObjectStorage) -> None:
    old = os.urandom(300 * 1024)
    await local.put("t/doc.pdf", old, content_type=PDF_TYPE)

    async with await local.open_stream("t/doc.pdf") as stream:
        first_chunk = await anext(stream)
        await local.put("t/doc.pdf", b"new", content_type=PDF_TYPE, overwrite=True)
        rest = [chunk async for chunk in stream]

    assert first_chunk + b"".join(rest) == old
    assert await local.get("t/doc.pdf") == b"new"


async def test_delete_prunes_directories_it_leaves_empty(local: LocalObjectStorage) -> None:
    await local.put("t/330102/2026/doc.pdf", b"x", content_type=PDF_TYPE)
    await local.put("t/keep.pdf", b"y", content_type=PDF_TYPE)

    await local.delete("t/330102/2026/doc.pdf")

    assert not (local.root / "t" / "330102").exists()
    assert (local.root / "t").is_dir()


async def test_retention_follows_the_storage_clock(local: LocalObjectStorage, storage_clock: MovableClock) -> None:
    await local.put("t/doc.pdf", b"x", content_type=PDF_TYPE, retain_until=utc_now() + timedelta(hours=1))
    storage_clock.advance(timedelta(minutes=59))
    with pytest.raises(ObjectRetained):
        await local.delete("t/doc.pdf")

    storage_clock.advance(timedelta(minutes=2))
    await local.delete("t/doc.pdf")

    assert await local.exists("t/doc.pdf") is False


async def test_a_corrupt_sidecar_is_a_storage_failure_not_a_missing_file(local: LocalObjectStorage) -> None:
    await local.put("t/doc.pdf", b"x", content_type=PDF_TYPE)
    (local.root / "t" / "doc.pdf@m.json").write_text("{not json")

    with pytest.raises(StorageUnavailable):
        await local.stat("t/doc.pdf")


async def test_stray_temp_files_are_not_listed(local: LocalObjectStorage) -> None:
    await local.put("t/doc.pdf", b"x", content_type=PDF_TYPE)
    (local.root / "t" / "@tmp-abc123").write_bytes(b"half a write")

    assert await local.list_keys("") == ["t/doc.pdf"]


async def test_listing_a_missing_root_is_empty(tmp_path: Path) -> None:
    assert await LocalObjectStorage(tmp_path / "never-created").list_keys("t/") == []


async def test_presigned_url_is_none_so_the_api_streams(local: LocalObjectStorage) -> None:
    await local.put("t/doc.pdf", b"x", content_type=PDF_TYPE)

    assert await local.presigned_get_url("t/doc.pdf", expires=timedelta(minutes=5)) is None
