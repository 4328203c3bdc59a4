"""Rules for what the port accepts: keys, prefixes, content types, metadata and retention instants.

They run before any driver sees the input, so both drivers accept and refuse exactly the same things.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from backend.core.storage.errors import InvalidObjectKey, InvalidObjectMetadata

MAX_KEY_BYTES = 1024
# One segment must also be a file name for the local driver (255 bytes on common file systems, less our
# suffixes); keeping the rule in the port keeps the two drivers interchangeable.
MAX_KEY_SEGMENT_BYTES = 200
# S3 caps user metadata at 2 KiB in total; ours (digest, retention) needs some of it.
MAX_METADATA_BYTES = 1536
RESERVED_METADATA_PREFIX = "liuguan-"

# Control, format (e.g. U+202E right-to-left override, zero-width joiners), surrogate and line/paragraph
# separator characters: invisible or misleading in logs and listings, and a classic injection vehicle.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_METADATA_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}", re.ASCII)
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_PARAMETER = rf"\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"[^\"\\\x00-\x1f]*\")"
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:{_PARAMETER})*", re.ASCII)


def validate_key(key: object) -> str:
    """Return `key` if it is a safe object key, else raise `InvalidObjectKey`.

    A key is a relative, `/`-separated path of non-empty segments: no `.` or `..` segment, no backslash,
    no control or invisible characters, at most 1024 UTF-8 bytes (the S3 limit) and 200 per segment.
    """
    if not isinstance(key, str) or key == "":
        raise InvalidObjectKey(key, "为空", "empty")
    _check_key_text(key)
    if key.startswith("/"):
        raise InvalidObjectKey(key, "不能是绝对路径", "must not be absolute")
    for segment in key.split("/"):
        _check_segment(key, segment)
    return key


def validate_prefix(prefix: object) -> str:
    """Return `prefix` if it is usable for `list_keys`: empty, or a key prefix by the same rules as keys
    (a trailing `/` is allowed)."""
    if not isinstance(prefix, str):
        raise InvalidObjectKey(prefix, "前缀不是文本", "prefix is not text")
    if prefix == "":
        return prefix
    _check_key_text(prefix)
    if prefix.startswith("/"):
        raise InvalidObjectKey(prefix, "不能是绝对路径", "must not be absolute")
    segments = prefix.split("/")
    if segments[-1] == "":
        segments.pop()
    for segment in segments:
        _check_segment(prefix, segment)
    return prefix


def _check_key_text(key: str) -> None:
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidObjectKey(key, "不是有效的 UTF-8 文本", "not valid UTF-8") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidObjectKey(key, f"超过 {MAX_KEY_BYTES} 字节", f"longer than {MAX_KEY_BYTES} bytes")
    if "\\" in key:
        raise InvalidObjectKey(key, "含反斜杠", "contains a backslash")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in key):
        raise InvalidObjectKey(key, "含控制字符或不可见字符", "contains control or invisible characters")


def _check_segment(key: str, segment: str) -> None:
    if segment == "":
        raise InvalidObjectKey(key, "含空的路径段", "contains an empty path segment")
    if segment in (".", ".."):
        raise InvalidObjectKey(key, "含 . 或 .. 路径段", "contains a . or .. path segment")
    if len(segment.encode("utf-8")) > MAX_KEY_SEGMENT_BYTES:
        limit = MAX_KEY_SEGMENT_BYTES
        raise InvalidObjectKey(key, f"路径段超过 {limit} 字节", f"a path segment exceeds {limit} bytes")


def validate_content_type(content_type: object) -> str:
    """Return a media type such as `application/pdf` if it is safe to send as a header, else raise."""
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidObjectMetadata("内容类型格式不正确", "content type is not a valid media type")
    return content_type


def validate_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of caller metadata if the names are lower-case tokens (`[a-z0-9-]`, not starting with
    the reserved `liuguan-`) and the values are text without control characters, within S3's size limit."""
    if metadata is None:
        return {}
    checked: dict[str, str] = {}
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not _METADATA_NAME.fullmatch(name):
            raise InvalidObjectMetadata("元数据名称只能用小写字母、数字和连字符", "metadata names must be [a-z0-9-]")
        if name.startswith(RESERVED_METADATA_PREFIX):
            raise InvalidObjectMetadata("元数据名称使用了保留前缀", f"metadata name {name!r} uses the reserved prefix")
        if not isinstance(value, str) or any(unicodedata.category(char) == "Cc" for char in value):
            raise InvalidObjectMetadata(
                "元数据取值须为不含控制字符的文本", "metadata values must be text without control characters"
            )
        total += len(name) + len(encode_metadata_value(value))
        checked[name] = value
    if total > MAX_METADATA_BYTES:
        limit = MAX_METADATA_BYTES
        raise InvalidObjectMetadata(f"元数据超过 {limit} 字节", f"metadata exceeds {limit} bytes")
    return checked


def normalize_retain_until(retain_until: datetime | None) -> datetime | None:
    """UTC, rounded UP to the whole second: S3 object lock keeps milliseconds at best and our sidecars
    and metadata keep seconds; rounding down would shorten a legal retention period."""
    if retain_until is None:
        return None
    if retain_until.tzinfo is None or retain_until.utcoffset() is None:
        raise ValueError("retain_until must be timezone-aware")
    instant = retain_until.astimezone(UTC)
    if instant.microsecond:
        instant = instant.replace(microsecond=0) + timedelta(seconds=1)
    return instant


def format_instant(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def encode_metadata_value(value: str) -> str:
    # HTTP headers carry ASCII only; percent-encoding keeps Chinese values intact across every S3 server.
    return quote(value, safe=" !#$&'()*+,-./:;=?@[]^_`{|}~")


def content_disposition(download_name: str) -> str:
    """An `attachment` Content-Disposition for `download_name`: an ASCII fallback for old clients and the
    exact UTF-8 name in `filename*` (RFC 6266/5987), with quotes, backslashes and control characters made
    harmless so the value cannot break out of the header."""
    cleaned = "".join(char for char in download_name if unicodedata.category(char) not in _FORBIDDEN_CATEGORIES)
    cleaned = cleaned.replace("/", "_").replace("\\", "_") or "file"
    fallback = "".join(char if 0x20 <= ord(char) < 0x7F and char not in '"%;' else "_" for char in cleaned)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned, safe='')}"
