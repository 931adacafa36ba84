"""Access cases for the evidence URLs, and small valid files of every allowed type built in code."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign
from campaigns.services.evidence import evidence_upload
from tests.access_matrix import ANON_REDIRECT, Case, Spec
from tests.campaigns.factories import make_campaign, make_entry, make_item

# --- minimal valid files -------------------------------------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"

_OOXML = {
    "docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}


def ooxml_bytes(kind: str, *, main_type: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    part, content_type = _OOXML[kind]
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_type or content_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(part, '<?xml version="1.0"?><root/>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ofd_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "OFD.xml",
            '<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>',
        )
        archive.writestr("Doc_0/Document.xml", '<?xml version="1.0"?><ofd:Document/>')
    return buffer.getvalue()


def ole2_bytes(stream_name: str = "WordDocument", *, extra_names: tuple[str, ...] = ()) -> bytes:
    """A compound-file header and a directory sector naming the body stream (enough for sniffing)."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504
    directory = b""
    for name in ("Root Entry", stream_name, *extra_names):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        directory += encoded.ljust(64, b"\x00") + b"\x00" * 64
    return header + directory.ljust(512, b"\x00")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


# --- the access matrix ---------------------------------------------------------------------


def build_world(world: dict[str, Any]) -> None:
    tree = world["tree"]
    campaign = Campaign.objects.filter(committee=tree.gw, year=2038).first() or make_campaign(
        tree.gw, year=2038
    )
    entry = make_entry(campaign, tree.a1, make_item(campaign, title="佐证材料访问测试任务"))
    evidence = evidence_upload(
        org=tree.a1,
        file=upload("会议记录.pdf", PDF),
        title="会议记录",
        actor=world["branch_secretary"],
        entry=entry,
    )
    world["evidence_entry"] = entry
    world["evidence_evidence"] = evidence
    world["evidence_revision"] = evidence.current


def _entry(w: dict[str, Any]) -> dict[str, Any]:
    return {"pk": w["evidence_entry"].pk}


_ANON_POST = Case("anonymous", "post", 302)

MATRIX: dict[str, Spec] = {
    "campaigns:evidence_upload": Spec(
        "authenticated",
        (
            _ANON_POST,
            Case("outsider_secretary", "post", 404, {"title": "越权"}),
            Case("leader", "post", 404),
            Case("no_role_user", "post", 404),
        ),
        args=_entry,
        writes=True,
    ),
    "campaigns:evidence_link": Spec(
        "authenticated",
        (_ANON_POST, Case("outsider_secretary", "post", 404), Case("no_role_user", "post", 404)),
        args=_entry,
        writes=True,
    ),
    "campaigns:evidence_unlink": Spec(
        "authenticated",
        (_ANON_POST, Case("outsider_secretary", "post", 404), Case("leader", "post", 404)),
        args=lambda w: {"pk": w["evidence_entry"].pk, "evidence_pk": w["evidence_evidence"].pk},
        writes=True,
    ),
    "campaigns:evidence_revise": Spec(
        "authenticated",
        (_ANON_POST, Case("outsider_secretary", "post", 404), Case("no_role_user", "post", 404)),
        args=lambda w: {"pk": w["evidence_evidence"].pk},
        writes=True,
    ),
    "campaigns:evidence_download": Spec(
        "authenticated",
        (
            ANON_REDIRECT,
            Case("outsider_secretary", "get", 404),
            Case("leader", "get", 404),
            Case("no_role_user", "get", 404),
        ),
        args=lambda w: {"pk": w["evidence_revision"].pk},
    ),
    "campaigns:evidence_detail": Spec(
        "authenticated",
        (ANON_REDIRECT, Case("outsider_secretary", "get", 404), Case("leader", "get", 404)),
        args=lambda w: {"pk": w["evidence_evidence"].pk},
    ),
    "campaigns:evidence_library": Spec("authenticated", (ANON_REDIRECT,)),
}
