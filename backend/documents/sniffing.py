"""Deciding what an uploaded file is from its bytes alone (内容识别), and cleaning its display name.

The file name and the client's Content-Type are chosen by whoever uploads, so neither decides anything
here: an HTML page or a shell script named `证明.pdf` and sent as `application/pdf` is still refused.
Accepted: PDF, JPEG, PNG, TIFF. Beyond the magic bytes each type must pass checks that keep the files safe
to store, preview and archive:

- PDF: a proper header at offset 0 and `%%EOF` at the end (a truncated upload is refused); no active
  content (JavaScript, launch actions, embedded files, XFA forms, form submission, remote go-to), also
  when hidden in compressed object streams or behind `#xx` name escapes; no encryption, which would hide
  the contents from these checks (and from OCR and archiving later). The byte scan here is a cheap first
  filter; then the file is parsed as a PDF and every object checked (`pdf_structure.py`).
- Images: the pixel count is checked from the header BEFORE any pixel is decoded (decompression bombs,
  解压炸弹: a few KB of PNG can claim 20000×20000 pixels), for every frame of a multi-page TIFF; then the
  whole image must decode, so a truncated or corrupt file is refused now rather than when a clerk opens it.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

from backend.documents.errors import (
    ImageTooLarge,
    PdfUnverifiable,
    UnsupportedUploadType,
    UploadActiveContent,
    UploadEmpty,
    UploadMalformed,
    UploadRejected,
    UploadTooLarge,
)
from backend.documents.pdf_structure import check_pdf_structure

# 50 megapixels covers a 600 dpi A3 scan (≈ 49 MP) and phone photos; decoding one as RGB needs ~150 MB.
MAX_IMAGE_PIXELS = 50_000_000
# A multi-page TIFF is decoded page by page; this bounds the work for the whole file.
MAX_TOTAL_IMAGE_PIXELS = 200_000_000
MAX_IMAGE_FRAMES = 500
# Readers accept `%%EOF` within the last 1024 bytes (Adobe's tolerance for trailing junk).
PDF_EOF_WINDOW = 1024
# Decoding work (bytes) spent looking inside a PDF's streams, on top of twice the file's size; only a
# crafted file comes near it.
PDF_INFLATE_BUDGET = 64 * 1024 * 1024
MAX_DISPLAY_NAME_CHARS = 120


@dataclass(frozen=True, slots=True)
class SniffedFile:
    """The type an upload really is: the media type to store and serve it as, and the extension to use."""

    media_type: str
    extension: str


PDF = SniffedFile("application/pdf", "pdf")
JPEG = SniffedFile("image/jpeg", "jpg")
PNG = SniffedFile("image/png", "png")
TIFF = SniffedFile("image/tiff", "tif")


def sniff_upload(data: bytes, *, max_bytes: int, max_pixels: int = MAX_IMAGE_PIXELS) -> SniffedFile:
    """Decide what `data` is from its bytes and check it is safe to keep.

    Raises (all `UploadRejected`, naming the field `file`): `UploadEmpty` (422), `UploadTooLarge` (413),
    `UnsupportedUploadType` (415), `UploadMalformed` (422, truncated or corrupt), `UploadActiveContent`
    (422), `PdfUnverifiable` (422, encrypted or encoded so it cannot be checked), `ImageTooLarge` (413).
    """
    if not data:
        raise UploadEmpty()
    if len(data) > max_bytes:
        raise UploadTooLarge(max_bytes)
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        _check_image(data, "JPEG", max_pixels)
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_image(data, "PNG", max_pixels)
        return PNG
    if data.startswith((b"II*\x00", b"MM\x00*")):  # little- and big-endian TIFF
        _check_image(data, "TIFF", max_pixels)
        return TIFF
    raise UnsupportedUploadType()


# ---------------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------------

_PDF_HEADER = re.compile(rb"%PDF-(?:1\.[0-7]|2\.0)\s")
# Characters that end a PDF name: white space and delimiters (ISO 32000 7.2.2-7.2.3).
_NAME_END = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_ACTIVE_NAMES = frozenset(
    {
        b"JavaScript",  # the action type of every script, and the name tree of document-level scripts
        b"Launch",  # runs a program or opens a file
        b"EmbeddedFile",
        b"EmbeddedFiles",  # attachments: anything can ride inside
        b"RichMedia",  # Flash and video with their own scripting
        b"XFA",  # dynamic forms with their own scripting
        b"SubmitForm",  # sends form data to an address
        b"ImportData",
        b"GoToE",
        b"GoToR",  # open other (remote or embedded) documents
    }
)
_ACTIVE_NAME = re.compile(
    rb"/(?:" + b"|".join(re.escape(name) for name in sorted(_ACTIVE_NAMES, key=len, reverse=True)) + rb")"
    rb"(?=[" + _NAME_END + rb"]|$)"
)
# A name written with `#xx` escapes (`/J#61vaScript` is `/JavaScript`): decoded before comparing.
_ESCAPED_NAME = re.compile(rb"/([^" + _NAME_END + rb"]*#[0-9A-Fa-f]{2}[^" + _NAME_END + rb"]*)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_ENCRYPT = re.compile(rb"/Encrypt(?=[" + _NAME_END + rb"]|$)")
# Filters we do not decode; an object stream behind one could hide anything, so such files are refused.
_UNDECODED_FILTER = re.compile(rb"/(?:LZWDecode|RunLengthDecode|Crypt)(?=[" + _NAME_END + rb"]|$)")
_STREAM_START = re.compile(rb"(?<![A-Za-z])stream\r?\n")
# An object stream (ISO 32000 7.5.7) starts with an object number and an offset.
_OBJECT_STREAM_HEAD = re.compile(rb"\s*\d+\s+\d+")
_HEX_RUN = re.compile(rb"[0-9A-Fa-f\s]*")
_A85_RUN = re.compile(rb"[!-uz\s]*")
_PEEK_OUTPUT = 64
_PEEK_INPUT = 64 * 1024
_INFLATE_STEP = 16 * 1024  # input per step: bounds the output of one step to ~16 MB


def _check_pdf(data: bytes) -> None:
    if not _PDF_HEADER.match(data):
        raise UploadMalformed("PDF 文件头无效", "the PDF header is invalid")
    if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        raise UploadMalformed("PDF 文件不完整（缺少结尾标记）", "the PDF is truncated (no end marker)")
    if _ENCRYPT.search(data) or _has_escaped_name(data, {b"Encrypt"}):
        raise PdfUnverifiable("PDF 已加密", "the PDF is encrypted")
    if _UNDECODED_FILTER.search(data):
        raise PdfUnverifiable("PDF 使用了过时的编码方式", "the PDF uses a legacy encoding")
    _refuse_active_content(data)
    budget = _Budget(PDF_INFLATE_BUDGET + 2 * len(data))
    for decoded in _object_streams(data, budget):
        _refuse_active_content(decoded)
    # The byte scan above is the cheap first filter; the file read as a PDF reader reads it is the real check.
    check_pdf_structure(data)


def _refuse_active_content(chunk: bytes) -> None:
    if _ACTIVE_NAME.search(chunk) or _has_escaped_name(chunk, _ACTIVE_NAMES):
        raise UploadActiveContent()


def _has_escaped_name(chunk: bytes, names: set[bytes] | frozenset[bytes]) -> bool:
    for match in _ESCAPED_NAME.finditer(chunk):
        decoded = _NAME_ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), match.group(1))
        if decoded in names:
            return True
    return False


class _Budget:
    """Bytes of decoding work left for one PDF; a crafted file (thousands of fake `stream` keywords,
    zlib bombs) runs out of it and is refused instead of tying up a worker."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def charge(self, amount: int) -> None:
        self.left -= amount
        if self.left < 0:
            raise PdfUnverifiable("PDF 结构过于复杂", "the PDF is too complex to check")


def _object_streams(data: bytes, budget: _Budget) -> Iterator[bytes]:
    """The decoded content of every stream that looks like an object stream.

    Dictionaries inside object streams are compressed, so the raw scan cannot see them. Rather than parse
    each stream's dictionary (which a crafted file can make ambiguous), every `stream` keyword is tried:
    its bytes are decoded a little and kept only if they start the way an object stream must. Page content
    and images cost a peek each.
    """
    view = memoryview(data)
    end = -1
    for match in _STREAM_START.finditer(data):
        start = match.end()
        if end < start:  # starts only grow, so each byte is searched once
            end = data.find(b"endstream", start)
            if end < 0:
                end = len(data)
        raw = view[start:end]
        inflated = _inflate_object_stream(raw, budget)
        if inflated is not None:
            yield inflated
        for text_decoded in (_ascii_hex(raw, budget), _ascii85(raw, budget)):
            if text_decoded is None:
                continue
            if _OBJECT_STREAM_HEAD.match(text_decoded):
                yield text_decoded
            inner = _inflate_object_stream(memoryview(text_decoded), budget)
            if inner is not None:
                yield inner


def _inflate_object_stream(raw: memoryview, budget: _Budget) -> bytes | None:
    """`raw` inflated if it is a zlib stream whose content starts like an object stream, else None."""
    peek = zlib.decompressobj()
    window = raw[:_PEEK_INPUT]
    try:
        head = peek.decompress(window, _PEEK_OUTPUT)
    except zlib.error:
        return None
    budget.charge(len(window) - len(peek.unconsumed_tail))
    if len(head) < _PEEK_OUTPUT and not peek.eof and len(raw) > _PEEK_INPUT:
        # 64 KB of input that yields almost nothing: padding (e.g. empty stored blocks) meant to push the
        # real content past where we look. Nothing legitimate is written that way.
        raise PdfUnverifiable("PDF 结构异常", "the PDF has an abnormal compressed stream")
    if not _OBJECT_STREAM_HEAD.match(head):
        return None
    inflater = zlib.decompressobj()
    parts = []
    for offset in range(0, len(raw), _INFLATE_STEP):
        try:
            part = inflater.decompress(raw[offset : offset + _INFLATE_STEP])
        except zlib.error:
            break  # a damaged tail: readers show what decodes, so check what decodes
        budget.charge(len(part))
        parts.append(part)
        if inflater.eof:
            break
    return b"".join(parts)


def _ascii_hex(raw: memoryview, budget: _Budget) -> bytes | None:
    """ASCIIHexDecode of `raw` if it is hex text ending with `>` (or the stream), else None."""
    run = _HEX_RUN.match(raw)
    end = run.end() if run else 0
    budget.charge(end)  # charged even when it fails: overlapping runs are how a crafted file wastes time
    if end == 0 or (end < len(raw) and raw[end] != ord(">")):
        return None
    digits = re.sub(rb"\s+", b"", raw[:end])
    if not digits:
        return None
    return binascii.unhexlify(digits + b"0" * (len(digits) % 2))


def _ascii85(raw: memoryview, budget: _Budget) -> bytes | None:
    """ASCII85Decode of `raw` if it is ASCII85 text ending with `~>`, else None."""
    run = _A85_RUN.match(raw)
    end = run.end() if run else 0
    budget.charge(end)
    if end == 0 or bytes(raw[end : end + 2]) != b"~>":
        return None
    try:
        return base64.a85decode(bytes(raw[:end]), ignorechars=b" \t\n\r\x0b\x0c")
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------------


def _check_image(data: bytes, pillow_format: str, max_pixels: int) -> None:
    try:
        # Only headers are read here: the size of every frame is known before any pixel is decoded.
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            frames = int(getattr(image, "n_frames", 1))
            if frames > MAX_IMAGE_FRAMES:
                raise ImageTooLarge(max_pixels)
            total = 0
            for index in range(frames):
                image.seek(index)
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageTooLarge(max_pixels)
                total += width * height
            if total > MAX_TOTAL_IMAGE_PIXELS:
                raise ImageTooLarge(max_pixels)
        # verify() checks structure (PNG chunk checksums, the end marker) but decodes nothing; Pillow
        # requires reopening after it.
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            image.verify()
        # Decoding proves the image is whole: a truncated JPEG passes verify() and fails only here.
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            for index in range(frames):
                image.seek(index)
                if pillow_format == "JPEG":
                    # DCT scaling still reads every coded byte, with 1/64 of the memory.
                    width, height = image.size
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own process-wide limit (checked while opening) is higher than ours but can trip first
        # on a frame we have not measured yet; it is the same refusal.
        raise ImageTooLarge(max_pixels) from None
    except MemoryError:
        raise
    except Exception:
        # Pillow signals damaged input with many exception types (OSError, SyntaxError, ValueError,
        # struct.error, EOFError ...); for an upload they all mean the same thing.
        raise UploadMalformed("图片已损坏或不完整", "the image is corrupt or truncated") from None


# ---------------------------------------------------------------------------------------------------------
# Display names
# ---------------------------------------------------------------------------------------------------------

# Characters Windows refuses in file names; a clerk downloads to Windows, so they are replaced.
_WINDOWS_FORBIDDEN = str.maketrans({char: "_" for char in '<>:"|?*'})
_WINDOWS_RESERVED = re.compile(r"(?i)(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?:\..*)?")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MAX_EXTENSION_CHARS = 16


def sanitize_display_name(name: str) -> str:
    """The name to show and offer for download for an upload called `name` by its client.

    Keeps only the last path component (for `/` and `\\` alike), drops control and invisible characters
    (e.g. U+202E, which makes `exe.pdf` read as `fdp.exe`), replaces characters Windows refuses, strips
    leading dots and trailing dots and spaces, and keeps at most 120 characters, preserving the extension.
    Never empty: falls back to "file". The stored object's key never uses this name.
    """
    if not isinstance(name, str):
        return "file"
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Tabs, line breaks, non-breaking and ideographic spaces become one plain space; then what is left
    # of control and invisible characters goes.
    name = "".join(" " if char.isspace() else char for char in name)
    name = "".join(char for char in name if unicodedata.category(char) not in _INVISIBLE_CATEGORIES)
    name = " ".join(name.split())
    name = name.translate(_WINDOWS_FORBIDDEN).lstrip(". ").rstrip(". ")
    if not name:
        return "file"
    if _WINDOWS_RESERVED.fullmatch(name):
        name = "_" + name
    return _truncate_keeping_extension(name, MAX_DISPLAY_NAME_CHARS)


def _truncate_keeping_extension(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= _MAX_EXTENSION_CHARS:
        return stem[: limit - len(extension) - 1].rstrip(". ") + "." + extension
    return name[:limit].rstrip(". ") or "file"
