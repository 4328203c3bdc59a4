"""What only the S3 driver does: server-side object lock, versions, signatures, an unreachable server."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from minio.error import S3Error

from backend.core.clock import utc_now
from backend.core.storage import (
    ObjectRetained,
    S3ObjectStorage,
    StorageUnavailable,
    build_storage,
    make_minio_client,
)
from tests.backend.core.conftest import MovableClock, s3_settings, unique_bucket_name
from tests.backend.core.s3_server import S3Endpoint, free_port

PDF_TYPE = "application/pdf"
MakeS3Storage = Callable[..., S3ObjectStorage]


@pytest.fixture
async def s3_storage(make_s3_storage: MakeS3Storage) -> S3ObjectStorage:
    storage = make_s3_storage()
    await storage.ensure_bucket()
    return storage


async def test_ensure_bucket_creates_the_bucket_with_object_lock_and_is_idempotent(
    make_s3_storage: MakeS3Storage,
) -> None:
    storage = make_s3_storage()

    await storage.ensure_bucket()
    await storage.ensure_bucket()

    assert storage.client.bucket_exists(storage.bucket)
    storage.client.get_object_lock_config(storage.bucket)  # raises when the bucket has no object lock


@pytest.mark.parametrize("mode", ["GOVERNANCE", "COMPLIANCE"])
async def test_retained_put_sets_object_lock_retention_on_the_server(make_s3_storage: MakeS3Storage, mode: str) -> None:
    storage = make_s3_storage(retention_mode=mode)
    await storage.ensure_bucket()
    retain_until = utc_now() + timedelta(days=1)

    stored = await storage.put("t/evidence.pdf", b"original", content_type=PDF_TYPE, retain_until=retain_until)

    headers = storage.client.stat_object(storage.bucket, "t/evidence.pdf").metadata or {}
    assert headers["x-amz-object-lock-mode"] == mode
    # Going around the port, straight to the server, still cannot remove the locked version.
    with pytest.raises(S3Error) as raised:
        storage.client.remove_object(storage.bucket, "t/evidence.pdf", version_id=stored.version_id)
    assert raised.value.code == "AccessDenied"


async def test_port_refuses_retained_delete_even_on_a_bucket_without_object_lock(
    make_s3_storage: MakeS3Storage, storage_clock: MovableClock
) -> None:
    storage = make_s3_storage()
    storage.client.make_bucket(storage.bucket)  # a plain bucket: the server would allow anything
    await storage.ensure_bucket()
    await storage.put("t/evidence.pdf", b"original", content_type=PDF_TYPE, retain_until=utc_now() + timedelta(hours=1))
    headers = storage.client.stat_object(storage.bucket, "t/evidence.pdf").metadata or {}
    assert "x-amz-object-lock-mode" not in headers

    with pytest.raises(ObjectRetained):
        await storage.delete("t/evidence.pdf")
    with pytest.raises(ObjectRetained):
        await storage.put("t/evidence.pdf", b"forged", content_type=PDF_TYPE, overwrite=True)

    storage_clock.advance(timedelta(hours=2))
    await storage.delete("t/evidence.pdf")
    assert await storage.exists("t/evidence.pdf") is False


async def test_delete_removes_every_version_not_just_the_current_one(s3_storage: S3ObjectStorage) -> None:
    await s3_storage.put("t/doc.pdf", b"one", content_type=PDF_TYPE)
    await s3_storage.put("t/doc.pdf", b"two", content_type=PDF_TYPE, overwrite=True)

    await s3_storage.delete("t/doc.pdf")

    versions = list(s3_storage.client.list_objects(s3_storage.bucket, prefix="t/", include_version=True))
    assert versions == []


async def test_delete_leaves_keys_that_only_share_the_prefix(s3_storage: S3ObjectStorage) -> None:
    await s3_storage.put("t/doc", b"one", content_type=PDF_TYPE)
    await s3_storage.put("t/doc/page-1", b"two", content_type=PDF_TYPE)
    await s3_storage.put("t/document", b"three", content_type=PDF_TYPE)

    await s3_storage.delete("t/doc")

    assert await s3_storage.list_keys("t/") == ["t/doc/page-1", "t/document"]


async def test_stat_hashes_an_object_written_around_the_port(s3_storage: S3ObjectStorage) -> None:
    content = b"uploaded by another tool"
    s3_storage.client.put_object(s3_storage.bucket, "t/foreign.bin", io.BytesIO(content), len(content))

    found = await s3_storage.stat("t/foreign.bin")

    assert found is not None
    assert found.sha256 == hashlib.sha256(content).hexdigest()
    assert found.retain_until is None


async def test_presigned_url_is_dated_by_the_storage_clock_and_lives_as_long_as_asked(
    s3_storage: S3ObjectStorage, storage_clock: MovableClock
) -> None:
    storage_clock.advance(timedelta(hours=-3))
    expected_date = storage_clock.now()

    url = await s3_storage.presigned_get_url("t/doc.pdf", expires=timedelta(seconds=90))

    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["90"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(signed_at - expected_date) < timedelta(seconds=5)


async def test_expired_presigned_url_is_refused(
    s3_server: S3Endpoint, s3_storage: S3ObjectStorage, storage_clock: MovableClock
) -> None:
    if not s3_server.checks_signatures:
        pytest.skip("moto does not check presigned URL expiry; runs against MinIO when `minio` is on PATH")
    await s3_storage.put("t/doc.pdf", b"secret", content_type=PDF_TYPE)
    storage_clock.advance(timedelta(hours=-1))  # signed an hour ago, valid for a minute

    url = await s3_storage.presigned_get_url("t/doc.pdf", expires=timedelta(minutes=1))

    assert url is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 403
    assert b"secret" not in response.content


async def test_tampered_presigned_url_is_refused(s3_server: S3Endpoint, s3_storage: S3ObjectStorage) -> None:
    if not s3_server.checks_signatures:
        pytest.skip("moto does not check signatures; runs against MinIO when `minio` is on PATH")
    await s3_storage.put("t/a.pdf", b"a", content_type=PDF_TYPE)
    await s3_storage.put("t/b.pdf", b"b", content_type=PDF_TYPE)

    url = await s3_storage.presigned_get_url("t/a.pdf", expires=timedelta(minutes=1))

    assert url is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(url.replace("/t/a.pdf", "/t/b.pdf"))
    assert response.status_code == 403


async def test_unreachable_server_raises_storage_unavailable(s3_server: S3Endpoint) -> None:
    settings = s3_settings(s3_server, unique_bucket_name()).model_copy(
        update={"s3_endpoint": f"127.0.0.1:{free_port()}"}
    )
    storage = build_storage(settings)

    with pytest.raises(StorageUnavailable) as raised:
        await storage.get("t/doc.pdf")

    assert raised.value.status_code == 503
    assert "不可用" in raised.value.detail


async def test_wrong_credentials_raise_storage_unavailable_not_not_found(
    s3_server: S3Endpoint, s3_storage: S3ObjectStorage
) -> None:
    if not s3_server.checks_signatures:
        pytest.skip("moto accepts any credentials; runs against MinIO when `minio` is on PATH")
    client = make_minio_client(
        s3_server.endpoint, access_key="nobody", secret_key="wrong-secret", region=s3_server.region, secure=False
    )

    with pytest.raises(StorageUnavailable):
        await S3ObjectStorage(client, s3_storage.bucket, region=s3_server.region).get("t/doc.pdf")


def test_endpoint_may_be_given_as_a_url() -> None:
    client = make_minio_client(
        "https://s3.example.internal:9443", access_key="a", secret_key="b", region="us-east-1", secure=False
    )

    url = client.presigned_get_object("bucket-name", "k", expires=timedelta(minutes=1))

    assert url.startswith("https://s3.example.internal:9443/bucket-name/k?")
