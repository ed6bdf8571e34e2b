"""Checks for every file a person uploads (visit photos, commitment scans, evidence).

A file is judged by its content, not its name: HTML bytes named "x.png" would otherwise be
stored and later served back from our own origin as an image (issue 14 finding 3).
- Images are decoded with Pillow and re-encoded: what is stored is pixels we wrote ourselves
  (no script or other payload survives, and the phone's EXIF data, location included, is
  dropped). Undecodable data, and images too large to decode safely, are refused.
- PDFs must open with pypdf and have at least one page.
- Office files must carry their format's signature (OLE2 for .doc/.xls/.wps, a ZIP package
  with [Content_Types].xml for .docx/.xlsx, a ZIP for .ofd).
- Every upload has a size limit (settings.UPLOAD_MAX_IMAGE_MB / UPLOAD_MAX_DOCUMENT_MB).
"""

import io
import warnings
import zipfile
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from PIL import Image, UnidentifiedImageError

# Pillow formats we accept, and the format and extension they are stored as.
IMAGE_FORMATS = {
    "JPEG": ("JPEG", "jpg", "image/jpeg"),
    "MPO": ("JPEG", "jpg", "image/jpeg"),  # multi-picture JPEG from some phone cameras
    "PNG": ("PNG", "png", "image/png"),
    "WEBP": ("WEBP", "webp", "image/webp"),
    "GIF": ("PNG", "png", "image/png"),  # first frame only: evidence, not animation
}
IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "webp", "gif", "heic", "heif"}
MAX_PIXELS = 50_000_000  # a 12-50 MP phone photo passes; decompression bombs do not
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"

NOT_AN_IMAGE = "“{name}”不是可以识别的图片（支持 JPG、PNG、WEBP、GIF）。如为苹果手机的 HEIC 照片，请在相机设置中选择“兼容性最佳”后重拍，或转成 JPG 再上传。"
TOO_LARGE = "“{name}”太大（{size:.1f} MB），单个文件不能超过 {limit} MB。"
TOO_MANY_PIXELS = "“{name}”的分辨率过高，请缩小后再上传。"
NOT_A_PDF = "“{name}”不是有效的 PDF 文件，请重新扫描或导出后再上传。"
NOT_AN_OFFICE_FILE = "“{name}”的内容与其扩展名（.{ext}）不符，请上传真实的 {ext} 文件。"
UNKNOWN_TYPE = "不支持该文件类型（{name}），请上传图片、PDF 或 Office 文件。"


def _limit_bytes(name: str) -> int:
    return int(getattr(settings, name)) * 1024 * 1024


def _extension(upload: UploadedFile) -> str:
    return PurePath(upload.name or "").suffix.lower().lstrip(".")


def _check_size(upload: UploadedFile, setting: str) -> None:
    limit = _limit_bytes(setting)
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            TOO_LARGE.format(name=upload.name, size=upload.size / 1024 / 1024, limit=limit // 1024 // 1024),
            code="too_large",
        )


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def clean_image(upload: UploadedFile) -> UploadedFile:
    """The upload decoded and re-encoded, or ValidationError (Chinese)."""
    _check_size(upload, "UPLOAD_MAX_IMAGE_MB")
    data = _read(upload)
    try:
        with warnings.catch_warnings():
            # The pixel count is checked below, with a Chinese message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            kind = probe.format
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(TOO_MANY_PIXELS.format(name=upload.name), code="too_many_pixels")
            probe.verify()
        if kind not in IMAGE_FORMATS:
            raise ValidationError(NOT_AN_IMAGE.format(name=upload.name), code="not_an_image")
        with Image.open(io.BytesIO(data)) as decoded:
            decoded.load()
            fmt, ext, content_type = IMAGE_FORMATS[kind]
            image: Image.Image = decoded
            if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            elif fmt == "PNG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
            image.save(out, fmt, **options)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(NOT_AN_IMAGE.format(name=upload.name), code="not_an_image") from None
    stem = PurePath(upload.name or "photo").stem[:80] or "photo"
    return SimpleUploadedFile(f"{stem}.{ext}", out.getvalue(), content_type=content_type)


def check_pdf(upload: UploadedFile) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = _read(upload)
    if not data.lstrip()[:5] == b"%PDF-":
        raise ValidationError(NOT_A_PDF.format(name=upload.name), code="not_a_pdf")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        if len(reader.pages) < 1:
            raise ValidationError(NOT_A_PDF.format(name=upload.name), code="not_a_pdf")
    except ValidationError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        raise ValidationError(NOT_A_PDF.format(name=upload.name), code="not_a_pdf") from None


def _check_office(upload: UploadedFile, ext: str) -> None:
    head = _read(upload)[:8]
    if ext in ("doc", "xls", "wps"):
        ok = head == OLE2
    else:
        ok = head[:4] == ZIP
        if ok:
            upload.seek(0)
            try:
                with zipfile.ZipFile(upload) as package:
                    names = set(package.namelist())
            except zipfile.BadZipFile:
                names = set()
            finally:
                upload.seek(0)
            ok = ("[Content_Types].xml" in names) if ext in ("docx", "xlsx") else bool(names)
    if not ok:
        raise ValidationError(NOT_AN_OFFICE_FILE.format(name=upload.name, ext=ext), code="content_mismatch")


def clean_document(upload: UploadedFile) -> UploadedFile:
    """A scan or attachment: an image (re-encoded), a PDF or an Office file, checked by content."""
    ext = _extension(upload)
    if ext in IMAGE_EXTENSIONS:
        return clean_image(upload)
    _check_size(upload, "UPLOAD_MAX_DOCUMENT_MB")
    if ext == "pdf":
        check_pdf(upload)
    elif ext in ("doc", "xls", "wps", "docx", "xlsx", "ofd"):
        _check_office(upload, ext)
    else:
        raise ValidationError(UNKNOWN_TYPE.format(name=upload.name), code="unknown_type")
    return upload


class ImageFileField(forms.FileField):
    """A form field for photos: the cleaned value is the re-encoded image."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        return clean_image(upload) if isinstance(upload, UploadedFile) else upload


class DocumentFileField(forms.FileField):
    """A form field for scans and attachments (image, PDF or Office file, checked by content)."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        return clean_document(upload) if isinstance(upload, UploadedFile) else upload
