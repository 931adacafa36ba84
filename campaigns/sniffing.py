"""What an uploaded evidence file really is, from its bytes (R8). Pure: no ORM, no settings.

The extension a user gives is only a claim. The file's magic bytes and structure decide
its type, and the two must agree: HTML renamed .pdf, a PNG named .pdf, a macro-enabled
Word file renamed .docx, a zip bomb dressed as .xlsx and markup hidden at the start of
an otherwise valid file are all refused. The returned MIME type is the one the download
view sends, never the browser's guess.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

# --- Chinese messages -------------------------------------------------------------------

ERR_EMPTY = "文件为空，请重新选择。"
ERR_EXTENSION = "不支持的文件类型“{ext}”。允许上传：{allowed}。"
ERR_MISMATCH = "文件内容（{actual}）与扩展名“.{ext}”不符，已拒绝上传。"
ERR_MARKUP = "文件中含有网页代码，可能是伪装文件，已拒绝上传。"
ERR_BROKEN = "文件已损坏或不是有效的{label}文件。"
ERR_MACRO = "文件含有宏代码，出于安全考虑不予接收；请另存为不含宏的格式后上传。"
ERR_ZIP_BOMB = "文件解压后过大或压缩比异常，已拒绝上传。"

# --- magic numbers ----------------------------------------------------------------------

PDF_MAGIC = b"%PDF-"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Markup a browser would render if it ever sniffed the file; legitimate documents of the
# allowed types never start with it.
HEAD_BYTES = 1024
_MARKUP = (b"<html", b"<script", b"<svg", b"<!doctype html", b"<body", b"<iframe", b"<?xml-stylesheet")

MIME_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
}

# Extension -> the container family its bytes must show.
_FAMILY = {
    "pdf": "pdf",
    "doc": "ole2",
    "xls": "ole2",
    "ppt": "ole2",
    "docx": "zip",
    "xlsx": "zip",
    "pptx": "zip",
    "ofd": "zip",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "png": "png",
}
_FAMILY_LABELS = {
    "pdf": "PDF 文档",
    "ole2": "Office 97-2003 文档",
    "zip": "压缩包/Office 文档",
    "jpeg": "JPEG 图片",
    "png": "PNG 图片",
    "html": "网页",
    None: "未知格式",
}
_EXT_LABELS = {
    "pdf": "PDF",
    "doc": "Word",
    "xls": "Excel",
    "ppt": "PowerPoint",
    "docx": "Word",
    "xlsx": "Excel",
    "pptx": "PowerPoint",
    "ofd": "OFD",
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "png": "PNG",
}

# OOXML: the part that must exist and the main content type [Content_Types].xml must declare.
_OOXML_MAIN = {
    "docx": ("word/document.xml", b"wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", b"spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", b"presentationml.presentation.main+xml"),
}
_MACRO_CONTENT_MARKERS = (b"macroenabled", b"vbaproject")
# OLE2: the stream each legacy format keeps its body in (directory names are UTF-16LE).
_OLE_STREAMS = {
    "doc": ("WordDocument",),
    "xls": ("Workbook", "Book"),
    "ppt": ("PowerPoint Document",),
}
# Word keeps VBA under Macros/VBA, Excel under _VBA_PROJECT_CUR/VBA; both hold this stream.
_OLE_MACRO_STREAMS = ("_VBA_PROJECT",)
_SCAN_CHUNK = 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """Zip-bomb limits, the same approach as branches/imports/package.py."""

    max_members: int = 1000
    max_total_uncompressed: int = 200 * 1024 * 1024
    max_ratio: int = 100
    # Members smaller than this cannot hurt whatever their ratio; tiny XML compresses oddly well.
    ratio_check_min_bytes: int = 1024 * 1024


class SniffRefused(Exception):
    """The file is not what it claims to be; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def extension_of(name: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def family_of(head: bytes) -> str | None:
    """The container family the first bytes show, or None."""
    if head.startswith(PDF_MAGIC):
        return "pdf"
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(PNG_MAGIC):
        return "png"
    if _has_markup(head):
        return "html"
    return None


def _has_markup(head: bytes) -> bool:
    lowered = head.replace(b"\x00", b"").lower()
    return any(marker in lowered for marker in _MARKUP)


def sniff(
    stream: BinaryIO,
    *,
    extension: str,
    allowed: tuple[str, ...] | list[str],
    limits: ZipLimits | None = None,
) -> str:
    """Check that `stream` really is a file of type `extension`; return its MIME type.

    Raises SniffRefused with a Chinese message for anything else.
    """
    ext = extension.lower().lstrip(".")
    if ext not in allowed or ext not in _FAMILY:
        raise SniffRefused(
            ERR_EXTENSION.format(
                ext=ext or "无扩展名", allowed="、".join(sorted(set(allowed) & set(_FAMILY)))
            )
        )
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    if not head:
        raise SniffRefused(ERR_EMPTY)
    actual = family_of(head)
    if actual != _FAMILY[ext]:
        raise SniffRefused(ERR_MISMATCH.format(actual=_FAMILY_LABELS[actual], ext=ext))
    # A valid header followed by markup is a polyglot: refuse it whatever its type.
    if _has_markup(head):
        raise SniffRefused(ERR_MARKUP)
    if actual == "ole2":
        _check_ole2(stream, ext)
    elif actual == "zip":
        _check_zip(stream, ext, limits or ZipLimits())
    return MIME_TYPES[ext]


def _check_ole2(stream: BinaryIO, ext: str) -> None:
    """Legacy Office: the body stream for the claimed type must exist; VBA storages are refused.

    Directory entries hold stream names in UTF-16LE, so a streamed scan finds them without
    parsing the compound file.
    """
    wanted = [name.encode("utf-16-le") for name in _OLE_STREAMS[ext]]
    macros = [name.encode("utf-16-le") + b"\x00\x00" for name in _OLE_MACRO_STREAMS]
    overlap = max(len(m) for m in wanted + macros) - 1
    found = False
    tail = b""
    stream.seek(0)
    while chunk := stream.read(_SCAN_CHUNK):
        window = tail + chunk
        if any(m in window for m in macros):
            raise SniffRefused(ERR_MACRO)
        found = found or any(w in window for w in wanted)
        tail = window[-overlap:]
    if not found:
        raise SniffRefused(ERR_BROKEN.format(label=_EXT_LABELS[ext]))


def _check_zip(stream: BinaryIO, ext: str, limits: ZipLimits) -> None:
    label = _EXT_LABELS[ext]
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise SniffRefused(ERR_BROKEN.format(label=label)) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise SniffRefused(ERR_ZIP_BOMB)
        # Declared sizes are binding: zipfile never inflates a member past its file_size.
        if sum(info.file_size for info in infos) > limits.max_total_uncompressed:
            raise SniffRefused(ERR_ZIP_BOMB)
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_check_min_bytes and ratio > limits.max_ratio:
                raise SniffRefused(ERR_ZIP_BOMB)
        names = {info.filename for info in infos}
        if ext == "ofd":
            if "OFD.xml" not in names:
                raise SniffRefused(ERR_BROKEN.format(label=label))
            return
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise SniffRefused(ERR_MACRO)
        main_part, main_type = _OOXML_MAIN[ext]
        if main_part not in names or "[Content_Types].xml" not in names:
            raise SniffRefused(ERR_BROKEN.format(label=label))
        content_types = _read_bounded(archive, "[Content_Types].xml", label)
    lowered = content_types.replace(b"\x00", b"").lower()
    if any(marker in lowered for marker in _MACRO_CONTENT_MARKERS):
        raise SniffRefused(ERR_MACRO)
    if main_type not in lowered:
        raise SniffRefused(ERR_BROKEN.format(label=label))


def _read_bounded(archive: zipfile.ZipFile, name: str, label: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_CONTENT_TYPES_BYTES:
        raise SniffRefused(ERR_ZIP_BOMB)
    try:
        with archive.open(info) as member:
            return member.read(MAX_CONTENT_TYPES_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError):
        # Corrupt data, unsupported compression or an encrypted member.
        raise SniffRefused(ERR_BROKEN.format(label=label)) from None
