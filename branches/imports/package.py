"""Checks on the uploaded package before any XML parser sees it (R9).

An .xlsx is a zip of XML parts, and a crafted one can carry macros, links to other
files, DTD entity declarations or a zip bomb. All of that is refused here, from the
zip directory and a streamed scan of every part, so openpyxl only ever opens a plain,
modest workbook.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from io import BytesIO

from django.conf import settings

from branches.imports.messages import (
    ERR_EXTENSION,
    ERR_EXTERNAL_LINK,
    ERR_MACRO,
    ERR_MACRO_EXTENSION,
    ERR_NOT_XLSX,
    ERR_TOO_LARGE,
    ERR_TOO_MANY_PARTS,
    ERR_XML_DTD,
    ERR_ZIP_BOMB,
    RowError,
    file_error,
    human_size,
)

# --- package limits (R9) -------------------------------------------------------------

# A workbook of this product has about a dozen parts; thousands means a crafted file.
MAX_ZIP_MEMBERS = 1000
# Real sheet XML compresses 10–30×; a bomb compresses 1,000× and more.
MAX_COMPRESSION_RATIO = 100
# Parts smaller than this cannot hurt whatever their ratio; tiny XML compresses oddly well.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
_SCAN_CHUNK = 1024 * 1024
_DTD_MARKERS = (b"<!doctype", b"<!entity")
_MACRO_CONTENT_MARKERS = (b"macroenabled", b"vbaproject")
# --- 1. package checks (R9) ------------------------------------------------------------


def package_errors(*, data: bytes, file_name: str) -> list[RowError]:
    """Refuse anything that is not a plain, modest .xlsx before any XML parser sees it.

    Returns at most one error: once the file is refused, nothing else about it matters.
    """
    extension = os.path.splitext(file_name)[1].lower()
    if extension in (".xlsm", ".xltm", ".xlsb", ".xlam"):
        return file_error(ERR_MACRO_EXTENSION.format(ext=extension))
    if extension != ".xlsx":
        return file_error(ERR_EXTENSION.format(name=file_name))
    if len(data) > settings.IMPORT_MAX_BYTES:
        return file_error(ERR_TOO_LARGE.format(limit=human_size(settings.IMPORT_MAX_BYTES)))
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return file_error(ERR_NOT_XLSX)
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            return file_error(ERR_TOO_MANY_PARTS)
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            return file_error(ERR_NOT_XLSX)
        # Declared sizes are binding: zipfile never inflates a member past its file_size.
        if sum(info.file_size for info in infos) > settings.IMPORT_MAX_UNCOMPRESSED_BYTES:
            return file_error(ERR_ZIP_BOMB)
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_CHECK_MIN_BYTES and ratio > MAX_COMPRESSION_RATIO:
                return file_error(ERR_ZIP_BOMB)
        lowered = [name.lower() for name in names]
        if any(name.endswith("vbaproject.bin") for name in lowered):
            return file_error(ERR_MACRO)
        if any(name.startswith("xl/externallinks/") for name in lowered):
            return file_error(ERR_EXTERNAL_LINK)
        try:
            for info in infos:
                if info.is_dir():
                    continue
                problem = _scan_part(archive, info)
                if problem:
                    return file_error(problem)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError):
            # Corrupt data, unsupported compression or an encrypted member.
            return file_error(ERR_NOT_XLSX)
    return []


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """Stream one part looking for DTDs, macro content types and external-link relationships.

    Every part is scanned, not only *.xml: openpyxl follows relationship targets, so a
    sheet may hide under any name. NUL bytes are dropped so UTF-16 XML cannot hide a DTD.
    """
    name = info.filename.lower()
    markers: list[tuple[bytes, str]] = [(m, ERR_XML_DTD) for m in _DTD_MARKERS]
    if name == "[content_types].xml":
        markers += [(m, ERR_MACRO) for m in _MACRO_CONTENT_MARKERS]
    if name.endswith(".rels"):
        markers.append((b"/externallink", ERR_EXTERNAL_LINK))
    overlap = max(len(m) for m, _ in markers) - 1
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            window = tail + chunk.replace(b"\x00", b"").lower()
            for marker, message in markers:
                if marker in window:
                    return message
            tail = window[-overlap:]
    return None
