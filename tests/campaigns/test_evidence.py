"""Evidence (佐证材料): sniffed uploads, revisions, links, and downloads only through a scoped view (R8)."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

# The matrix loads every access_* module; importing it first avoids a circular import.
import tests.access_matrix  # noqa: F401
from branches import services as branch_services
from branches.models import Role, User
from campaigns.models import (
    CampaignStatus,
    ChecklistEntry,
    EntryEvent,
    EntryEvidence,
    EntryStatus,
    EventAction,
    Evidence,
    EvidenceRevision,
)
from campaigns.services import evidence as services
from campaigns.services.entries import InvalidTransition, PermissionRefused
from campaigns.services.evidence import EvidenceRejected
from campaigns.sniffing import SniffRefused, ZipLimits, sniff
from campaigns.views.evidence import panel_context
from tests.campaigns.access_evidence import (
    JPEG,
    PDF,
    ofd_bytes,
    ole2_bytes,
    ooxml_bytes,
    png_bytes,
    upload,
)
from tests.campaigns.factories import make_campaign, make_entry, make_item
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STORED_NAME = re.compile(r"^evidence/[0-9a-f]{2}/[0-9a-f]{32}$")


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw)


@pytest.fixture
def entry(campaign, tree) -> ChecklistEntry:  # type: ignore[no-untyped-def]
    return make_entry(campaign, tree.a1, make_item(campaign))


@pytest.fixture
def second_entry(campaign, tree) -> ChecklistEntry:  # type: ignore[no-untyped-def]
    return make_entry(campaign, tree.a1, make_item(campaign))


def _stored_files() -> set[Path]:
    root = Path(settings.PRIVATE_ROOT) / "evidence"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _rows() -> tuple[int, int, int, int]:
    return (
        Evidence.objects.count(),
        EvidenceRevision.objects.count(),
        EntryEvidence.objects.count(),
        EntryEvent.objects.count(),
    )


def _upload(entry: ChecklistEntry, actor: User, name: str, data: bytes, title: str = "") -> Evidence:
    return services.evidence_upload(
        org=entry.org, file=upload(name, data), title=title, actor=actor, entry=entry
    )


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _zip_bomb_docx() -> bytes:
    buffer = io.BytesIO(ooxml_bytes("docx"))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\x00" * (8 * 1024 * 1024))
    return buffer.getvalue()


# --- accepted types ------------------------------------------------------------------------

ACCEPTED = [
    ("材料.pdf", PDF, "application/pdf"),
    ("照片.png", png_bytes(), "image/png"),
    ("照片.jpg", JPEG, "image/jpeg"),
    ("照片.JPEG", JPEG, "image/jpeg"),
    (
        "方案.docx",
        ooxml_bytes("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("台账.xlsx", ooxml_bytes("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (
        "汇报.pptx",
        ooxml_bytes("pptx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("通知.ofd", ofd_bytes(), "application/ofd"),
    ("旧版.doc", ole2_bytes("WordDocument"), "application/msword"),
    ("旧表.xls", ole2_bytes("Workbook"), "application/vnd.ms-excel"),
    ("旧演示.ppt", ole2_bytes("PowerPoint Document"), "application/vnd.ms-powerpoint"),
]


@pytest.mark.parametrize(("name", "data", "mime"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_allowed_type_is_stored_with_its_sniffed_type(entry, branch_secretary, name, data, mime) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, name, data)
    revision = evidence.current
    assert revision is not None
    assert (revision.number, revision.original_name, revision.content_type, revision.size) == (
        1,
        name,
        mime,
        len(data),
    )
    assert services.stored_path(revision).read_bytes() == data


def test_upload_records_sha256_uploader_and_links_the_entry_with_an_event(entry, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF, title="支部委员会会议记录")
    assert evidence.title == "支部委员会会议记录"
    assert evidence.current.sha256 == hashlib.sha256(PDF).hexdigest()
    assert evidence.current.uploaded_by == branch_secretary
    assert list(entry.evidence_links.values_list("evidence_id", flat=True)) == [evidence.pk]
    event = EntryEvent.objects.get(entry=entry, action=EventAction.EVIDENCE_ADDED)
    assert (event.actor, event.comment) == (branch_secretary, "支部委员会会议记录")


def test_title_defaults_to_the_file_name_without_extension(entry, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    assert _upload(entry, branch_secretary, "三会一课记录.pdf", PDF).title == "三会一课记录"


# --- hostile files: refused, nothing stored ------------------------------------------------

HOSTILE = [
    ("html-renamed-pdf", "报告.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "不符"),
    ("png-named-pdf", "报告.pdf", png_bytes(), "不符"),
    ("pdf-named-png", "照片.png", PDF, "不符"),
    ("pdf-polyglot-html", "报告.pdf", b"%PDF-1.4\n<html><body>hi</body></html>\n" + PDF, "网页代码"),
    ("pdf-polyglot-script", "报告.pdf", b"%PDF-1.4\n%<script>alert(1)</script>\n" + PDF, "网页代码"),
    (
        "png-polyglot-svg",
        "照片.png",
        png_bytes()[:16] + b"<svg onload=alert(1)>" + png_bytes()[16:],
        "网页代码",
    ),
    ("jpeg-polyglot-doctype", "照片.jpg", JPEG[:4] + b"<!doctype HTML>" + JPEG[4:], "网页代码"),
    ("macro-docx-vbaproject", "方案.docx", ooxml_bytes("docx", extra={"word/vbaProject.bin": b"VBA"}), "宏"),
    (
        "macro-enabled-content-type",
        "方案.docx",
        ooxml_bytes("docx", main_type="application/vnd.ms-word.document.macroEnabled.main+xml"),
        "宏",
    ),
    ("macro-doc-ole2", "旧版.doc", ole2_bytes("WordDocument", extra_names=("Macros", "_VBA_PROJECT")), "宏"),
    ("xlsx-renamed-docx", "方案.docx", ooxml_bytes("xlsx"), "损坏"),
    ("plain-zip-named-docx", "方案.docx", ofd_bytes(), "损坏"),
    ("zip-without-ofd-xml", "通知.ofd", ooxml_bytes("docx"), "损坏"),
    ("doc-named-xls", "旧表.xls", ole2_bytes("WordDocument"), "损坏"),
    ("zip-bomb-docx", "方案.docx", _zip_bomb_docx(), "压缩比"),
    ("exe", "工具.exe", b"MZ\x90\x00" + b"\x00" * 60, "不支持"),
    ("html", "页面.html", b"<html></html>", "不支持"),
    ("svg", "图.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "不支持"),
    ("no-extension", "README", PDF, "不支持"),
    ("double-extension", "报告.pdf.exe", PDF, "不支持"),
    ("nul-in-name", "evil.html\x00.pdf", PDF, "非法字符"),
    ("empty", "空.pdf", b"", "为空"),
]


@pytest.mark.parametrize(("name", "data", "expected"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_file_is_refused_and_nothing_is_stored(entry, branch_secretary, name, data, expected) -> None:  # type: ignore[no-untyped-def]
    rows, files = _rows(), _stored_files()
    with pytest.raises(EvidenceRejected) as refused:
        _upload(entry, branch_secretary, name, data)
    assert expected in refused.value.message
    assert _rows() == rows
    assert _stored_files() == files


def test_zip_bomb_is_refused_on_total_uncompressed_size_limit() -> None:
    with pytest.raises(SniffRefused):
        sniff(
            io.BytesIO(ooxml_bytes("docx")),
            extension="docx",
            allowed=["docx"],
            limits=ZipLimits(max_total_uncompressed=100),
        )


def test_zip_with_too_many_members_is_refused() -> None:
    with pytest.raises(SniffRefused):
        sniff(
            io.BytesIO(ooxml_bytes("docx")),
            extension="docx",
            allowed=["docx"],
            limits=ZipLimits(max_members=2),
        )


def test_oversize_file_is_refused_before_any_byte_is_read(entry, branch_secretary, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_BYTES = 100

    class Unreadable(SimpleUploadedFile):
        def chunks(self, chunk_size: int | None = None):  # type: ignore[no-untyped-def,override]
            raise AssertionError("the file was read")

    rows, files = _rows(), _stored_files()
    with pytest.raises(EvidenceRejected, match="100 字节"):
        services.evidence_upload(
            org=entry.org, file=Unreadable("大.pdf", PDF + b"0" * 200), actor=branch_secretary, entry=entry
        )
    assert (_rows(), _stored_files()) == (rows, files)


def test_file_larger_than_its_declared_size_is_refused_while_streaming(
    entry, branch_secretary, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_BYTES = 1000
    liar = upload("大.pdf", PDF + b"%" * 2000)
    liar.size = 10
    files = _stored_files()
    with pytest.raises(EvidenceRejected, match="大小上限"):
        services.evidence_upload(org=entry.org, file=liar, actor=branch_secretary, entry=entry)
    assert _stored_files() == files
    assert not Evidence.objects.exists()


def test_a_database_failure_after_sniffing_leaves_no_file_and_no_rows(
    entry, branch_secretary, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_link", boom)
    rows, files = _rows(), _stored_files()
    with pytest.raises(RuntimeError):
        _upload(entry, branch_secretary, "材料.pdf", PDF)
    assert (_rows(), _stored_files()) == (rows, files)


# --- names ---------------------------------------------------------------------------------

TRAVERSAL = [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\x.pdf", "x.pdf"),
    ("/etc/shadow.pdf", "shadow.pdf"),
    ("C:\\Windows\\system32\\报告.pdf", "报告.pdf"),
    ("..pdf.pdf", "pdf.pdf"),
]


@pytest.mark.parametrize(("name", "shown"), TRAVERSAL)
def test_traversal_name_is_stored_under_a_generated_name_and_shown_sanitised(
    entry, branch_secretary, name, shown
) -> None:  # type: ignore[no-untyped-def]
    revision = _upload(entry, branch_secretary, name, PDF).current
    assert revision.original_name == shown
    assert STORED_NAME.match(revision.stored_name)
    path = services.stored_path(revision)
    assert path.is_file()
    assert path.resolve().is_relative_to(Path(settings.PRIVATE_ROOT).resolve())


def test_sanitised_name_keeps_chinese_and_drops_control_and_direction_characters() -> None:
    assert services.sanitise_filename("支部\u202e会议\x07记录\n.pdf") == "支部会议记录.pdf"


def test_sanitised_name_is_shortened_but_keeps_its_extension() -> None:
    name = services.sanitise_filename("长" * 300 + ".docx")
    assert len(name) == services.MAX_NAME_CHARS
    assert name.endswith("长.docx")


# --- revisions -----------------------------------------------------------------------------


def test_revise_adds_a_new_numbered_revision_and_both_stay_downloadable(
    entry, branch_secretary, login
) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "方案（初稿）.pdf", PDF)
    first = evidence.current
    second_bytes = PDF.replace(b"200 200", b"300 300")
    second = services.evidence_revise(
        evidence=evidence, file=upload("方案（定稿）.pdf", second_bytes), actor=branch_secretary
    )
    evidence.refresh_from_db()
    assert list(evidence.revisions.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert evidence.current == second
    client = login(branch_secretary)
    for revision, data in ((first, PDF), (second, second_bytes)):
        response = client.get(reverse("campaigns:evidence_download", kwargs={"pk": revision.pk}))
        assert b"".join(response.streaming_content) == data


def test_refused_revision_keeps_the_current_one_and_stores_nothing(entry, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "方案.pdf", PDF)
    files = _stored_files()
    with pytest.raises(EvidenceRejected):
        services.evidence_revise(
            evidence=evidence, file=upload("方案.pdf", b"<html>"), actor=branch_secretary
        )
    assert list(evidence.revisions.values_list("number", flat=True)) == [1]
    assert _stored_files() == files


def test_revise_view_redirects_to_the_evidence_page(entry, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "方案.pdf", PDF)
    response = login(branch_secretary).post(
        reverse("campaigns:evidence_revise", kwargs={"pk": evidence.pk}), {"file": upload("方案2.pdf", PDF)}
    )
    assert response["Location"] == reverse("campaigns:evidence_detail", kwargs={"pk": evidence.pk})
    assert evidence.revisions.count() == 2


def test_unit_staff_cannot_revise_a_branch_file(entry, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "方案.pdf", PDF)
    with pytest.raises(PermissionRefused):
        services.evidence_revise(evidence=evidence, file=upload("方案.pdf", PDF), actor=agency_staff)


# --- links ---------------------------------------------------------------------------------


def test_one_evidence_can_support_two_entries(entry, second_entry, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    services.evidence_link(entry=second_entry, evidence=evidence, actor=branch_secretary)
    assert set(evidence.links.values_list("entry_id", flat=True)) == {entry.pk, second_entry.pk}
    assert EvidenceRevision.objects.count() == 1
    assert EntryEvent.objects.filter(entry=second_entry, action=EventAction.EVIDENCE_ADDED).count() == 1


def test_linking_twice_is_refused(entry, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    with pytest.raises(EvidenceRejected, match="已关联"):
        services.evidence_link(entry=entry, evidence=evidence, actor=branch_secretary)


def test_evidence_of_another_organisation_cannot_be_linked(entry, branch_secretary, tree) -> None:  # type: ignore[no-untyped-def]
    foreign = Evidence.objects.create(org=tree.a2, title="综合股材料")
    with pytest.raises(EvidenceRejected, match="本组织"):
        services.evidence_link(entry=entry, evidence=foreign, actor=branch_secretary)
    assert not EntryEvidence.objects.exists()


def test_unlink_removes_only_the_link_and_records_it(entry, second_entry, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    services.evidence_link(entry=second_entry, evidence=evidence, actor=branch_secretary)
    services.evidence_unlink(entry=entry, evidence=evidence, actor=branch_secretary)
    assert list(evidence.links.values_list("entry_id", flat=True)) == [second_entry.pk]
    assert services.stored_path(evidence.current).is_file()
    assert EntryEvent.objects.filter(entry=entry, action=EventAction.EVIDENCE_REMOVED).count() == 1


def test_link_view_links_and_redirects_to_the_entry_page(
    entry, second_entry, branch_secretary, login
) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    url = reverse("campaigns:evidence_link", kwargs={"pk": second_entry.pk})
    response = login(branch_secretary).post(url, {"evidence": evidence.pk})
    assert response["Location"] == f"/campaigns/entries/{second_entry.pk}/"
    assert second_entry.evidence_links.filter(evidence=evidence).exists()


def test_link_view_answers_404_for_evidence_outside_the_scope(entry, branch_secretary, tree, login) -> None:  # type: ignore[no-untyped-def]
    foreign = Evidence.objects.create(org=tree.b1, title="外单位材料")
    url = reverse("campaigns:evidence_link", kwargs={"pk": entry.pk})
    assert login(branch_secretary).post(url, {"evidence": foreign.pk}).status_code == 404
    assert not EntryEvidence.objects.exists()


def test_unlink_view_removes_the_link(entry, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    url = reverse("campaigns:evidence_unlink", kwargs={"pk": entry.pk, "evidence_pk": evidence.pk})
    response = login(branch_secretary).post(url)
    assert response["Location"] == f"/campaigns/entries/{entry.pk}/"
    assert not entry.evidence_links.exists()


# --- the upload view -----------------------------------------------------------------------


def test_upload_view_stores_the_file_and_redirects_to_the_entry_page(entry, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("campaigns:evidence_upload", kwargs={"pk": entry.pk})
    response = login(branch_secretary).post(url, {"file": upload("会议记录.pdf", PDF), "title": "会议记录"})
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/entries/{entry.pk}/"
    assert entry.evidence_links.get().evidence.title == "会议记录"


def test_upload_view_shows_the_refusal_in_chinese_and_stores_nothing(entry, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("campaigns:evidence_upload", kwargs={"pk": entry.pk})
    files = _stored_files()
    response = login(branch_secretary).post(
        url, {"file": upload("报告.pdf", b"<html><script></script></html>")}
    )
    assert response["Location"] == f"/campaigns/entries/{entry.pk}/"
    assert any("与扩展名" in m for m in _messages(response))
    assert (Evidence.objects.count(), _stored_files()) == (0, files)


def test_upload_view_without_a_file_asks_for_one(entry, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    response = login(branch_secretary).post(reverse("campaigns:evidence_upload", kwargs={"pk": entry.pk}), {})
    assert "请选择要上传的文件。" in _messages(response)


def test_upload_to_another_branchs_entry_is_404_and_stores_nothing(entry, outsider_secretary, login) -> None:  # type: ignore[no-untyped-def]
    files = _stored_files()
    url = reverse("campaigns:evidence_upload", kwargs={"pk": entry.pk})
    response = login(outsider_secretary).post(url, {"file": upload("会议记录.pdf", PDF)})
    assert response.status_code == 404
    assert (Evidence.objects.count(), _stored_files()) == (0, files)


# --- permissions ---------------------------------------------------------------------------


def test_committee_member_not_assigned_to_the_entry_is_refused(entry, branch_member) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        _upload(entry, branch_member, "会议记录.pdf", PDF)
    assert not Evidence.objects.exists()


def test_committee_member_assigned_to_the_entry_may_upload(entry, branch_member) -> None:  # type: ignore[no-untyped-def]
    ChecklistEntry.objects.filter(pk=entry.pk).update(responsible=branch_member)
    entry.refresh_from_db()
    assert _upload(entry, branch_member, "会议记录.pdf", PDF).created_by == branch_member


def test_unit_staff_may_see_but_not_upload_to_a_branch_entry(entry, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionRefused):
        _upload(entry, agency_staff, "会议记录.pdf", PDF)


def test_archived_campaign_refuses_uploads(entry, campaign, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    campaign.status = CampaignStatus.ARCHIVED
    campaign.save(update_fields=["status"])
    files = _stored_files()
    with pytest.raises(InvalidTransition, match="归档"):
        _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    assert (Evidence.objects.count(), _stored_files()) == (0, files)


def test_reopened_entry_of_an_archived_campaign_accepts_uploads(entry, campaign, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    campaign.status = CampaignStatus.ARCHIVED
    campaign.save(update_fields=["status"])
    ChecklistEntry.objects.filter(pk=entry.pk).update(reopened=True, status=EntryStatus.IN_PROGRESS)
    entry.refresh_from_db()
    assert _upload(entry, branch_secretary, "会议记录.pdf", PDF).pk


def test_archived_campaign_refuses_new_revisions_of_its_evidence(entry, campaign, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    campaign.status = CampaignStatus.ARCHIVED
    campaign.save(update_fields=["status"])
    with pytest.raises(InvalidTransition):
        services.evidence_revise(evidence=evidence, file=upload("新.pdf", PDF), actor=branch_secretary)


def test_submitted_entry_refuses_evidence_changes(entry, branch_secretary) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    ChecklistEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.SUBMITTED)
    entry.refresh_from_db()
    with pytest.raises(InvalidTransition, match="待审核"):
        services.evidence_unlink(entry=entry, evidence=evidence, actor=branch_secretary)


# --- downloads -----------------------------------------------------------------------------


def test_download_is_an_attachment_with_an_rfc6266_chinese_name_nosniff_and_the_sniffed_type(
    entry, branch_secretary, login
) -> None:  # type: ignore[no-untyped-def]
    revision = _upload(entry, branch_secretary, "支部会议记录.pdf", PDF).current
    response = login(branch_secretary).get(reverse("campaigns:evidence_download", kwargs={"pk": revision.pk}))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('支部会议记录.pdf')}" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF


def test_download_sends_the_sniffed_type_not_one_guessed_from_the_name(
    entry, branch_secretary, login
) -> None:  # type: ignore[no-untyped-def]
    revision = _upload(entry, branch_secretary, "方案.docx", ooxml_bytes("docx")).current
    response = login(branch_secretary).get(reverse("campaigns:evidence_download", kwargs={"pk": revision.pk}))
    assert response["Content-Type"] == revision.content_type


def test_download_in_production_hands_the_file_to_nginx(entry, branch_secretary, login, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_ACCEL_PREFIX = "/_protected/"
    revision = _upload(entry, branch_secretary, "会议记录.pdf", PDF).current
    response = login(branch_secretary).get(reverse("campaigns:evidence_download", kwargs={"pk": revision.pk}))
    assert response["X-Accel-Redirect"] == f"/_protected/{revision.stored_name}"
    assert response.content == b""
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_unit_staff_may_download_files_of_branches_below(
    entry, branch_secretary, agency_staff, login
) -> None:  # type: ignore[no-untyped-def]
    revision = _upload(entry, branch_secretary, "会议记录.pdf", PDF).current
    response = login(agency_staff).get(reverse("campaigns:evidence_download", kwargs={"pk": revision.pk}))
    assert response.status_code == 200


def test_another_branchs_revision_download_is_404(entry, branch_secretary, outsider_secretary, login) -> None:  # type: ignore[no-untyped-def]
    revision = _upload(entry, branch_secretary, "会议记录.pdf", PDF).current
    response = login(outsider_secretary).get(
        reverse("campaigns:evidence_download", kwargs={"pk": revision.pk})
    )
    assert response.status_code == 404


def test_stored_file_is_outside_static_root_and_not_reachable_by_any_public_url(
    entry, branch_secretary, client, login
) -> None:  # type: ignore[no-untyped-def]
    revision = _upload(entry, branch_secretary, "会议记录.pdf", PDF).current
    path = services.stored_path(revision).resolve()
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    logged_in = login(branch_secretary)
    for url in (
        f"{settings.STATIC_URL}{revision.stored_name}",
        f"{settings.MEDIA_URL}{revision.stored_name}",
        f"/{revision.stored_name}",
    ):
        assert logged_in.get(url).status_code == 404, url


# --- pages ---------------------------------------------------------------------------------


def test_library_lists_only_evidence_in_scope(
    entry, branch_secretary, outsider_secretary, tree, campaign, login
) -> None:  # type: ignore[no-untyped-def]
    mine = _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    foreign_entry = make_entry(campaign, tree.b1, make_item(campaign))
    _upload(foreign_entry, outsider_secretary, "外单位.pdf", PDF)
    response = login(branch_secretary).get(reverse("campaigns:evidence_library"))
    assert [e.pk for e in response.context["rows"]] == [mine.pk]


def test_library_query_count_does_not_grow_with_rows(
    entry, branch_secretary, login, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = login(branch_secretary)
    url = reverse("campaigns:evidence_library")
    _upload(entry, branch_secretary, "1.pdf", PDF)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(2, 8):
        _upload(entry, branch_secretary, f"{n}.pdf", PDF)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(one) <= 20


def test_evidence_page_lists_every_revision(entry, branch_secretary, login) -> None:  # type: ignore[no-untyped-def]
    evidence = _upload(entry, branch_secretary, "方案.pdf", PDF)
    services.evidence_revise(evidence=evidence, file=upload("方案2.pdf", PDF), actor=branch_secretary)
    response = login(branch_secretary).get(reverse("campaigns:evidence_detail", kwargs={"pk": evidence.pk}))
    assert [r.number for r in response.context["revisions"]] == [2, 1]
    assert response.context["can_manage"] is True


def test_panel_context_query_count_does_not_grow_with_links(
    entry, branch_secretary, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _upload(entry, branch_secretary, "1.pdf", PDF)
    with CaptureQueriesContext(connection) as one:
        panel_context(branch_secretary, entry)
    for n in range(2, 6):
        _upload(entry, branch_secretary, f"{n}.pdf", PDF)
    with CaptureQueriesContext(connection) as many:
        render_to_string("campaigns/_evidence_panel.html", panel_context(branch_secretary, entry))
    assert len(many) == len(one)


def test_panel_offers_upload_with_the_allowed_types_and_size_limit_to_a_filler(
    entry, branch_secretary, second_entry
) -> None:  # type: ignore[no-untyped-def]
    _upload(second_entry, branch_secretary, "已有材料.pdf", PDF)
    html = render_to_string("campaigns/_evidence_panel.html", panel_context(branch_secretary, entry))
    assert 'accept=".pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.jpg,.jpeg,.png,.ofd"' in html
    assert "20 MB" in html
    assert "使用已有文件" in html
    assert "已有材料" in html


def test_panel_is_read_only_for_a_reviewer(entry, branch_secretary, agency_staff) -> None:  # type: ignore[no-untyped-def]
    _upload(entry, branch_secretary, "会议记录.pdf", PDF)
    context = panel_context(agency_staff, entry)
    html = render_to_string("campaigns/_evidence_panel.html", context)
    assert context["library"] == []
    assert "会议记录" in html
    assert 'type="file"' not in html
    assert "移除" not in html


def test_deputy_secretary_of_a_sibling_branch_cannot_upload(entry, tree) -> None:  # type: ignore[no-untyped-def]
    deputy = UserFactory(username="a2_deputy")
    branch_services.role_grant(user=deputy, org=tree.a2, role=Role.DEPUTY_SECRETARY)
    with pytest.raises(PermissionRefused):
        _upload(entry, deputy, "会议记录.pdf", PDF)
