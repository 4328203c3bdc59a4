"""Rules of the storage port that need no driver: construction, headers, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend.config import Settings
from backend.core.storage import (
    InvalidObjectKey,
    LocalObjectStorage,
    ObjectExists,
    ObjectNotFound,
    ObjectRetained,
    S3ObjectStorage,
    StorageUnavailable,
    build_storage,
    content_disposition,
    validate_key,
)


def test_build_storage_gives_the_local_driver_on_its_directory(tmp_path: Path) -> None:
    storage = build_storage(Settings(storage_driver="local", storage_local_dir=tmp_path / "objects"))

    assert isinstance(storage, LocalObjectStorage)
    assert storage.root == (tmp_path / "objects").resolve()


def test_build_storage_gives_the_s3_driver_on_the_configured_bucket() -> None:
    storage = build_storage(Settings(storage_driver="s3", s3_bucket="liuguan-evidence"))

    assert isinstance(storage, S3ObjectStorage)
    assert storage.bucket == "liuguan-evidence"


def test_build_storage_refuses_an_unknown_driver() -> None:
    with pytest.raises(ValueError, match="storage_driver"):
        build_storage(Settings(storage_driver="ftp"))


def test_content_disposition_keeps_the_name_and_cannot_break_the_header() -> None:
    header = content_disposition('证明"; filename=evil.exe\r\nSet-Cookie: a=b.pdf')

    assert "\r" not in header and "\n" not in header
    assert header.count('"') == 2
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E8%AF%81%E6%98%8E%22%3B%20filename%3Devil.exe" in header


def test_valid_key_is_returned_unchanged() -> None:
    assert validate_key("t/330102/证明.pdf") == "t/330102/证明.pdf"


def test_invalid_key_message_is_bilingual_and_does_not_echo_the_key() -> None:
    with pytest.raises(InvalidObjectKey) as raised:
        validate_key("t/../secret-tenant-330102")

    assert raised.value.detail.startswith("文件存储键无效")
    assert "invalid storage key" in raised.value.detail
    assert "330102" not in raised.value.detail


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ObjectNotFound("k"), 404, "NOT_FOUND"),
        (ObjectExists("k"), 409, "OBJECT_EXISTS"),
        (ObjectRetained("k", datetime(2030, 1, 1, tzinfo=UTC)), 409, "OBJECT_RETAINED"),
        (InvalidObjectKey("k", "为空", "empty"), 422, "INVALID_OBJECT_KEY"),
        (StorageUnavailable("down"), 503, "STORAGE_UNAVAILABLE"),
    ],
)
def test_errors_carry_their_status_and_a_chinese_first_message(error, status: int, code: str) -> None:
    assert (error.status_code, error.code) == (status, code)
    chinese, _, english = error.detail.partition(" / ")
    assert not chinese.isascii()
    assert english.isascii()


def test_retained_error_names_the_date() -> None:
    error = ObjectRetained("k", datetime(2030, 1, 1, tzinfo=UTC))

    assert "2030-01-01T00:00:00Z" in error.detail
