"""The second line of the PDF check: the file parsed as a PDF, every object looked at.

The byte scan in `sniffing.py` is a cheap first filter, but PDF is too flexible for patterns: an object
stream can be encoded twice (`/Filter [/FlateDecode /FlateDecode]`) or through a PNG predictor, a script can
ride in a `/Rendition` action's `/JS`. Here qpdf (through pikepdf) reads the file as a reader does, decoding
whatever stream encodings and predictors it uses, and every dictionary of every object, inside object streams
too, is checked for anything that can run, launch, submit, fetch or carry another file.

The parse runs in a child process with a memory ceiling and a deadline (`backend/core/isolation.py`): a file
built to exhaust the parser is refused as too complex instead of taking the API's memory.
"""

from __future__ import annotations

from typing import Literal

from backend.core.isolation import IsolatedRunner, IsolatedWorkFailed
from backend.documents.errors import PdfUnverifiable, UploadActiveContent, UploadMalformed

# Action types (`/S`) that run code, start programs, send data out, fetch or open other documents, or play
# media with their own scripting. A scanned certificate or a signed agreement needs none of them.
REFUSED_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/Rendition",
        "/RichMediaExecute",
        "/Movie",
        "/Sound",
    }
)
# Keys that hold scripts, attachments or dynamic forms wherever they appear.
REFUSED_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFiles", "/XFA", "/RichMediaContent", "/EF"})
# Object types and annotation subtypes that carry other files or active media.
REFUSED_TYPES = frozenset({"/EmbeddedFile"})
REFUSED_SUBTYPES = frozenset({"/RichMedia", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/3D"})

# qpdf's words for a stream it could not decode.
UNDECODED_MARKERS = ("error decoding stream data", "unfilterable stream", "bad_alloc")
MAX_OBJECTS = 200_000
MAX_NESTING = 64
CHECK_MEMORY_BYTES = 768 * 1024 * 1024
CHECK_TIMEOUT_SECONDS = 20.0

Finding = Literal["clean", "active", "encrypted", "malformed", "too_complex"]

_runner = IsolatedRunner(CHECK_MEMORY_BYTES)


def check_pdf_structure(data: bytes) -> None:
    """Refuse a PDF that carries active content, is encrypted, cannot be parsed or is built to exhaust the
    parser. Raises `UploadActiveContent`, `PdfUnverifiable` or `UploadMalformed`."""
    try:
        finding = _runner.run(inspect_pdf, data, timeout=CHECK_TIMEOUT_SECONDS)
    except IsolatedWorkFailed:
        finding = "too_complex"
    if finding == "active":
        raise UploadActiveContent()
    if finding == "encrypted":
        raise PdfUnverifiable("PDF 已加密", "the PDF is encrypted")
    if finding == "too_complex":
        raise PdfUnverifiable("PDF 结构过于复杂", "the PDF is too complex to check")
    if finding == "malformed":
        raise UploadMalformed("PDF 文件已损坏，无法读取", "the PDF is damaged and cannot be read")


def inspect_pdf(data: bytes) -> Finding:
    """What the file holds, read as a PDF reader reads it (runs in the isolated child)."""
    import io

    import pikepdf  # imported in the child only: qpdf stays out of the API process

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                return "encrypted"
            objects = pdf.objects
            if len(objects) > MAX_OBJECTS:
                return "too_complex"
            if _is_active(pdf.trailer, 0):
                return "active"
            for obj in objects:
                if _is_active(obj, 0):
                    return "active"
            # An object stream qpdf could not decode (out of memory under the child's ceiling, a filter it does
            # not know) hides its objects from this check but perhaps not from a reader with more memory.
            if any(marker in warning for warning in pdf.get_warnings() for marker in UNDECODED_MARKERS):
                return "too_complex"
    except pikepdf.PasswordError:
        return "encrypted"
    except RecursionError:
        return "too_complex"
    except pikepdf.PdfError:
        return "malformed"
    return "clean"


def _is_active(obj: object, depth: int) -> bool:
    """Whether a dictionary, stream dictionary or array holds a refused key, action or type, looking into its
    direct children (indirect ones are objects of their own, each checked in turn)."""
    import pikepdf

    if depth > MAX_NESTING:
        raise RecursionError("nesting too deep")
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    if isinstance(obj, pikepdf.Dictionary):
        keys = set(obj.keys())
        if keys & REFUSED_KEYS:
            return True
        if _name(obj.get("/S")) in REFUSED_ACTIONS:
            return True
        if _name(obj.get("/Type")) in REFUSED_TYPES or _name(obj.get("/Subtype")) in REFUSED_SUBTYPES:
            return True
        children = [obj.get(key) for key in keys]
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return False
    return any(
        _is_active(child, depth + 1)
        for child in children
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream) and not child.is_indirect
    )


def _name(value: object) -> str | None:
    import pikepdf

    return str(value) if isinstance(value, pikepdf.Name) else None
