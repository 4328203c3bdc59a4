"""Typed errors of the documents domain. Upload refusals name the form field `file`, so pages show the
message next to the file input and API clients get `fields: [{"loc": ["body", "file"], ...}]`."""

from __future__ import annotations

from backend.core.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound

FILE_FIELD_LOC: tuple[str, ...] = ("body", "file")


class UploadRejected(DomainError):
    """An uploaded file was refused. Catch this to handle every refusal below."""

    def __init__(self, zh: str, en: str, *, status_code: int, code: str) -> None:
        super().__init__(
            detail=f"文件：{zh} / file: {en}",
            fields=[FieldError(FILE_FIELD_LOC, f"{zh} / {en}")],
            status_code=status_code,
            code=code,
        )


class UploadEmpty(UploadRejected):
    def __init__(self) -> None:
        super().__init__("文件为空", "the file is empty", status_code=422, code="UPLOAD_EMPTY")


class UploadTooLarge(UploadRejected):
    def __init__(self, max_bytes: int) -> None:
        limit_zh, limit_en = _format_size(max_bytes)
        super().__init__(
            f"文件超过 {limit_zh} 上限",
            f"the file exceeds the {limit_en} limit",
            status_code=413,
            code="UPLOAD_TOO_LARGE",
        )
        self.max_bytes = max_bytes


class UnsupportedUploadType(UploadRejected):
    def __init__(self) -> None:
        super().__init__(
            "只接受 PDF、JPEG、PNG、TIFF 文件",
            "only PDF, JPEG, PNG and TIFF files are accepted",
            status_code=415,
            code="UNSUPPORTED_MEDIA_TYPE",
        )


class UploadMalformed(UploadRejected):
    """The bytes start like a supported type but are truncated or corrupt."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en, status_code=422, code="UPLOAD_MALFORMED")


class UploadActiveContent(UploadRejected):
    """A PDF that carries scripts, launch actions, embedded files or similar active content."""

    def __init__(self) -> None:
        super().__init__(
            "PDF 含脚本、启动操作或附件等活动内容，请另存为普通 PDF 后再上传",
            "the PDF contains scripts, launch actions, attachments or other active content; "
            "save it as a plain PDF and upload again",
            status_code=422,
            code="UPLOAD_ACTIVE_CONTENT",
        )


class ImageTooLarge(UploadRejected):
    """An image whose pixel count would take too much memory to decode (a decompression bomb, 解压炸弹)."""

    def __init__(self, max_pixels: int) -> None:
        megapixels = max_pixels // 1_000_000
        super().__init__(
            f"图片像素超过 {megapixels} 百万像素上限",
            f"the image exceeds the {megapixels} megapixel limit",
            status_code=413,
            code="IMAGE_TOO_LARGE",
        )
        self.max_pixels = max_pixels


def _format_size(size: int) -> tuple[str, str]:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB", f"{size // (1024 * 1024)} MB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KB", f"{size // 1024} KB"
    return f"{size} 字节", f"{size} bytes"


class PdfUnverifiable(UploadRejected):
    """A PDF whose content cannot be checked (encrypted, legacy encodings, crafted structure)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(
            f"{zh}，无法检查其内容，请用“打印为 PDF”另存后再上传",
            f"{en}, so its content cannot be checked; print it to a new PDF and upload that",
            status_code=422,
            code="UPLOAD_PDF_UNVERIFIABLE",
        )


class DocumentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("材料不存在 / Document not found")


class OwnerNotFound(NotFound):
    """The person, case, agreement or verification request to attach to is not there or not in reach."""

    def __init__(self) -> None:
        super().__init__("材料所属的人员、案件或协议不存在 / The owner of the document was not found")


class IssuedDocumentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("文书不存在或验证码无效 / No issued document has this verification code")


class SignedScanLocked(Conflict):
    """A signed agreement scan is evidence: it is never replaced or deleted, only superseded by a new version.

    The refusal is audited; endpoints answer it without rolling the request back so the audit event stays.
    """

    def __init__(self) -> None:
        super().__init__(
            "已签署协议的扫描件不能替换或删除，只能上传新版本 / a signed agreement scan cannot be replaced or "
            "deleted; upload a new version instead",
            code="SIGNED_SCAN_LOCKED",
        )


class DocumentDestroyed(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "材料已按保存期限销毁 / the document was destroyed after its retention period", code="DOCUMENT_DESTROYED"
        )


class RetentionNotPassed(Conflict):
    def __init__(self, retain_until: str) -> None:
        super().__init__(
            f"材料保存期至 {retain_until}，未到期不能销毁 / the document is retained until {retain_until} and "
            "cannot be destroyed before",
            code="RETENTION_NOT_PASSED",
        )


class DocumentRejected(InvalidInput):
    """A request about a document breaks a rule; the message names the field."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}", [FieldError(("body", field), f"{zh} / {en}")])


class UploadBadFileName(UploadRejected):
    """A file name carrying a path (`../../x.pdf`, `C:\\x.pdf`): browsers send the bare name, so a path is
    crafted. Refused rather than silently cut, so the sender learns the name was not accepted."""

    def __init__(self) -> None:
        super().__init__(
            "文件名不能包含路径（/、\\ 或 ..）",
            "the file name must not contain a path (/, \\ or ..)",
            status_code=422,
            code="UPLOAD_BAD_FILE_NAME",
        )


class PreviewUnavailable(DomainError):
    """The file could not be rendered within the preview's memory and time (a damaged or hostile file)."""

    def __init__(self) -> None:
        super().__init__(
            detail="无法生成预览，请下载查看 / No preview could be made of this file; download it instead",
            status_code=422,
            code="PREVIEW_UNAVAILABLE",
        )


class RenderingUnavailable(DomainError):
    """The PDF renderer's child process failed or passed its deadline; nothing was issued."""

    def __init__(self) -> None:
        super().__init__(
            detail="文书生成失败，请稍后重试 / The document could not be rendered; try again shortly",
            status_code=503,
            code="RENDERING_UNAVAILABLE",
        )
