"""The storage contract: every test here runs against both drivers (local directory and S3)."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

import httpx
import pytest

from backend.core.clock import utc_now
from backend.core.storage import (
    InvalidObjectKey,
    InvalidObjectMetadata,
    ObjectExists,
    ObjectNotFound,
    ObjectRetained,
    ObjectStorage,
)

PDF_TYPE = "application/pdf"


async def test_put_then_get_returns_the_same_bytes_and_their_sha256(storage: ObjectStorage) -> None:
    content = b"%PDF-1.7 certificate of residence"

    stored = await storage.put("t/330102/doc-1.pdf", content, content_type=PDF_TYPE)

    assert stored.key == "t/330102/doc-1.pdf"
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.etag
    assert await storage.get("t/330102/doc-1.pdf") == content


async def test_stat_reports_size_type_digest_and_metadata(storage: ObjectStorage) -> None:
    content = os.urandom(3000)
    await storage.put(
        "t/doc.bin", content, content_type="image/png", metadata={"uploaded-by": "乡镇专干 王芳", "case": "c-17"}
    )

    found = await storage.stat("t/doc.bin")

    assert found is not None
    assert found.key == "t/doc.bin"
    assert found.size == 3000
    assert found.sha256 == hashlib.sha256(content).hexdigest()
    assert found.content_type == "image/png"
    assert dict(found.metadata) == {"uploaded-by": "乡镇专干 王芳", "case": "c-17"}
    assert found.retain_until is None


async def test_missing_key_has_no_stat_and_does_not_exist(storage: ObjectStorage) -> None:
    assert await storage.stat("t/missing.pdf") is None
    assert await storage.exists("t/missing.pdf") is False


async def test_exists_after_put(storage: ObjectStorage) -> None:
    await storage.put("t/present.pdf", b"x", content_type=PDF_TYPE)

    assert await storage.exists("t/present.pdf") is True


async def test_get_of_missing_key_raises_object_not_found(storage: ObjectStorage) -> None:
    with pytest.raises(ObjectNotFound) as raised:
        await storage.get("t/missing.pdf")

    assert raised.value.status_code == 404
    assert raised.value.key == "t/missing.pdf"


async def test_open_stream_of_missing_key_raises_before_any_byte(storage: ObjectStorage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.open_stream("t/missing.pdf")


async def test_put_refuses_to_replace_an_existing_key_without_overwrite(storage: ObjectStorage) -> None:
    await storage.put("t/doc.pdf", b"first", content_type=PDF_TYPE)

    with pytest.raises(ObjectExists) as raised:
        await storage.put("t/doc.pdf", b"second", content_type=PDF_TYPE)

    assert raised.value.status_code == 409
    assert await storage.get("t/doc.pdf") == b"first"


async def test_put_replaces_an_existing_key_when_overwrite_is_passed(storage: ObjectStorage) -> None:
    await storage.put("t/doc.pdf", b"first", content_type=PDF_TYPE, metadata={"rev": "1"})

    stored = await storage.put("t/doc.pdf", b"second!", content_type="image/jpeg", overwrite=True)

    assert await storage.get("t/doc.pdf") == b"second!"
    found = await storage.stat("t/doc.pdf")
    assert found is not None
    assert (found.size, found.sha256, found.content_type) == (7, stored.sha256, "image/jpeg")
    assert dict(found.metadata) == {}


@pytest.mark.parametrize("overwrite", [False, True])
async def test_retained_object_cannot_be_overwritten(storage: ObjectStorage, overwrite: bool) -> None:
    retain_until = utc_now() + timedelta(days=1)
    await storage.put("t/evidence.pdf", b"original", content_type=PDF_TYPE, retain_until=retain_until)

    with pytest.raises(ObjectRetained) as raised:
        await storage.put("t/evidence.pdf", b"forged", content_type=PDF_TYPE, overwrite=overwrite)

    assert raised.value.status_code == 409
    assert raised.value.code == "OBJECT_RETAINED"
    assert await storage.get("t/evidence.pdf") == b"original"


async def test_retained_object_cannot_be_deleted(storage: ObjectStorage) -> None:
    retain_until = utc_now() + timedelta(days=1)
    await storage.put("t/evidence.pdf", b"original", content_type=PDF_TYPE, retain_until=retain_until)

    with pytest.raises(ObjectRetained) as raised:
        await storage.delete("t/evidence.pdf")

    assert raised.value.retain_until is not None
    assert raised.value.retain_until >= retain_until - timedelta(seconds=1)
    assert "保存期" in raised.value.detail and "retained" in raised.value.detail
    assert await storage.get("t/evidence.pdf") == b"original"


async def test_stat_reports_retention_rounded_up_to_the_second(storage: ObjectStorage) -> None:
    retain_until = (utc_now() + timedelta(days=30)).replace(microsecond=250_000)
    await storage.put("t/evidence.pdf", b"x", content_type=PDF_TYPE, retain_until=retain_until)

    found = await storage.stat("t/evidence.pdf")

    assert found is not None
    assert found.retain_until == retain_until.replace(microsecond=0) + timedelta(seconds=1)


async def test_object_whose_retention_has_passed_can_be_deleted(storage: ObjectStorage) -> None:
    await storage.put("t/old.pdf", b"x", content_type=PDF_TYPE, retain_until=utc_now() - timedelta(days=1))

    await storage.delete("t/old.pdf")

    assert await storage.exists("t/old.pdf") is False


async def test_object_whose_retention_has_passed_can_be_overwritten(storage: ObjectStorage) -> None:
    await storage.put("t/old.pdf", b"x", content_type=PDF_TYPE, retain_until=utc_now() - timedelta(days=1))

    await storage.put("t/old.pdf", b"y", content_type=PDF_TYPE, overwrite=True)

    assert await storage.get("t/old.pdf") == b"y"


async def test_delete_removes_the_object(storage: ObjectStorage) -> None:
    await storage.put("t/doc.pdf", b"x", content_type=PDF_TYPE)

    await storage.delete("t/doc.pdf")

    assert await storage.stat("t/doc.pdf") is None
    assert await storage.list_keys("t/") == []
    with pytest.raises(ObjectNotFound):
        await storage.get("t/doc.pdf")


async def test_delete_of_missing_key_is_a_no_op(storage: ObjectStorage) -> None:
    await storage.delete("t/never-written.pdf")

    assert await storage.exists("t/never-written.pdf") is False


async def test_deleted_key_can_be_written_again(storage: ObjectStorage) -> None:
    await storage.put("t/doc.pdf", b"one", content_type=PDF_TYPE)
    await storage.delete("t/doc.pdf")

    await storage.put("t/doc.pdf", b"two", content_type=PDF_TYPE)

    assert await storage.get("t/doc.pdf") == b"two"


BAD_KEYS = {
    "empty": "",
    "absolute": "/etc/passwd",
    "parent segment": "../escape.pdf",
    "parent segment inside": "t/a/../../escape.pdf",
    "dot segment": "t/./doc.pdf",
    "empty segment": "t//doc.pdf",
    "trailing slash": "t/doc/",
    "backslash": "t\\..\\doc.pdf",
    "nul": "t/doc\x00.pdf",
    "newline": "t/doc\n.pdf",
    "delete char": "t/doc\x7f.pdf",
    "right-to-left override": "t/doc\u202efdp.exe",
    "too long": "t/" + "a/" * 511 + "b",
    "too long in utf-8": "证" * 342,
    "segment too long": "t/" + "a" * 201,
    "lone surrogate": "t/\udc80.pdf",
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
async def test_bad_keys_are_refused_by_every_operation(storage: ObjectStorage, key: str) -> None:
    with pytest.raises(InvalidObjectKey) as raised:
        await storage.put(key, b"x", content_type=PDF_TYPE)
    assert raised.value.status_code == 422
    for operation in (storage.get, storage.stat, storage.exists, storage.delete, storage.open_stream):
        with pytest.raises(InvalidObjectKey):
            await operation(key)
    with pytest.raises(InvalidObjectKey):
        await storage.presigned_get_url(key, expires=timedelta(minutes=5))
    assert await storage.list_keys("") == []


UNUSUAL_GOOD_KEYS = [
    "t/330102/证明 材料（复印件）.pdf",
    "t/a@o",
    "t/a@m.json",
    "t/a%40b",
    "t/%25",
    "t/.hidden",
    "t/a..b/c",
    "t/x",
    "t/x/y",
    "t/" + "a" * 200,
]


async def test_unusual_but_valid_keys_round_trip_and_do_not_collide(storage: ObjectStorage) -> None:
    for index, key in enumerate(UNUSUAL_GOOD_KEYS):
        await storage.put(key, f"content {index}".encode(), content_type="text/plain")

    assert await storage.list_keys("t/") == sorted(UNUSUAL_GOOD_KEYS)
    for index, key in enumerate(UNUSUAL_GOOD_KEYS):
        assert await storage.get(key) == f"content {index}".encode()


async def test_list_keys_returns_keys_under_a_prefix_sorted(storage: ObjectStorage) -> None:
    for key in ["t1/b/c.pdf", "t1/a.pdf", "t10/x.pdf", "t2/y.pdf"]:
        await storage.put(key, b"x", content_type=PDF_TYPE)

    assert await storage.list_keys("t1/") == ["t1/a.pdf", "t1/b/c.pdf"]
    assert await storage.list_keys("t1") == ["t1/a.pdf", "t1/b/c.pdf", "t10/x.pdf"]
    assert await storage.list_keys("t1/b/c") == ["t1/b/c.pdf"]
    assert await storage.list_keys("") == ["t1/a.pdf", "t1/b/c.pdf", "t10/x.pdf", "t2/y.pdf"]
    assert await storage.list_keys("t3/") == []


@pytest.mark.parametrize("prefix", ["../", "/t", "t/../", "t\\", "t/\x00"])
async def test_list_keys_refuses_bad_prefixes(storage: ObjectStorage, prefix: str) -> None:
    with pytest.raises(InvalidObjectKey):
        await storage.list_keys(prefix)


async def test_stream_yields_the_content_in_chunks(storage: ObjectStorage) -> None:
    content = os.urandom(200 * 1024 + 17)
    await storage.put("t/scan.tif", content, content_type="image/tiff")

    async with await storage.open_stream("t/scan.tif") as stream:
        assert stream.size == len(content)
        assert stream.content_type == "image/tiff"
        chunks = [chunk async for chunk in stream]

    assert len(chunks) > 1
    assert b"".join(chunks) == content


async def test_stream_of_an_empty_object_yields_nothing(storage: ObjectStorage) -> None:
    await storage.put("t/empty.txt", b"", content_type="text/plain")

    async with await storage.open_stream("t/empty.txt") as stream:
        chunks = [chunk async for chunk in stream]

    assert chunks == []


@pytest.mark.parametrize(
    ("metadata", "content_type"),
    [
        ({"liuguan-sha256": "0" * 64}, PDF_TYPE),  # reserved prefix
        ({"Uploaded-By": "x"}, PDF_TYPE),  # names are lower-case tokens
        ({"by": "a\r\nX-Amz-Acl: public-read"}, PDF_TYPE),  # header injection
        ({"big": "x" * 2000}, PDF_TYPE),  # beyond S3's 2 KiB
        (None, "application/pdf\r\nX-Amz-Acl: public-read"),
        (None, "pdf"),
    ],
    ids=["reserved", "upper-case", "crlf-value", "too-big", "crlf-type", "no-subtype"],
)
async def test_bad_metadata_and_content_types_are_refused(
    storage: ObjectStorage, metadata: dict[str, str] | None, content_type: str
) -> None:
    with pytest.raises(InvalidObjectMetadata):
        await storage.put("t/doc.pdf", b"x", content_type=content_type, metadata=metadata)

    assert await storage.exists("t/doc.pdf") is False


async def test_retain_until_must_carry_a_timezone(storage: ObjectStorage) -> None:
    with pytest.raises(ValueError, match="timezone"):
        await storage.put("t/doc.pdf", b"x", content_type=PDF_TYPE, retain_until=utc_now().replace(tzinfo=None))


async def test_presigned_url_serves_the_object_or_is_none_locally(storage: ObjectStorage, storage_kind: str) -> None:
    await storage.put("t/doc.pdf", b"%PDF-1.7 signed", content_type=PDF_TYPE)

    url = await storage.presigned_get_url("t/doc.pdf", expires=timedelta(minutes=5), download_name="证明.pdf")

    if storage_kind == "local":
        assert url is None
        return
    assert url is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.7 signed"
    assert "filename*=UTF-8''%E8%AF%81%E6%98%8E.pdf" in response.headers["content-disposition"]


@pytest.mark.parametrize("expires", [timedelta(0), timedelta(days=7, seconds=1)])
async def test_presigned_url_lifetime_must_be_within_sigv4_limits(storage: ObjectStorage, expires: timedelta) -> None:
    with pytest.raises(ValueError, match="expires"):
        await storage.presigned_get_url("t/doc.pdf", expires=expires)
