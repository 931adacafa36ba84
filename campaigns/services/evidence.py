"""Evidence (佐证材料) writes: upload, revise, link to and unlink from entries (domain.md §6, R8).

Files are streamed to a temporary file under PRIVATE_ROOT/evidence/tmp while their SHA-256
is computed, sniffed (campaigns.sniffing), then moved to PRIVATE_ROOT/evidence/<aa>/<uuid4>:
a generated name, outside any served folder. The user's file name is kept only for display
and as the download name. A refused file leaves no row and no file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max

from branches.imports.messages import human_size
from branches.models import OrgUnit, User
from branches.permissions import can_view_org
from campaigns import permissions, sniffing
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
from campaigns.models.checklists import OPEN_STATUSES
from campaigns.services.entries import ERR_LOCKED, EntryError, InvalidTransition, PermissionRefused

ERR_TOO_LARGE = "文件超过大小上限（{limit}），请压缩或拆分后上传。"
ERR_NO_FILE = "请选择要上传的文件。"
ERR_BAD_NAME = "文件名包含非法字符，请重命名后上传。"
ERR_NOT_ALLOWED = "您没有权限{action}。"
ERR_STATUS = "条目当前状态为“{status}”，不能修改佐证材料；如需修改请先撤回或联系审核人退回。"
ERR_OTHER_ORG = "只能使用本组织的佐证材料。"
ERR_ALREADY_LINKED = "该佐证材料已关联到此条目。"
ERR_NOT_LINKED = "该佐证材料未关联到此条目。"

EVIDENCE_DIR = "evidence"
MAX_NAME_CHARS = 120
_CHUNK = 64 * 1024
# Characters some file systems or shells treat specially; harmless in a display name once replaced.
_UNSAFE_CHARS = frozenset('<>:"|?*')


class EvidenceRejected(EntryError):
    """The file or request was refused; nothing was stored. `message` is Chinese."""


def sanitise_filename(name: str) -> str:
    """Basename only, no control characters or traversal, at most MAX_NAME_CHARS; Chinese kept.

    The result is only shown and offered as the download name; it never touches the disk.
    """
    if "\x00" in name:
        raise EvidenceRejected(ERR_BAD_NAME)
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    # Cc: control characters; Cf: format characters such as right-to-left overrides.
    name = "".join(
        "_" if ch in _UNSAFE_CHARS else ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf")
    )
    name = name.strip().lstrip(".").rstrip(". ")
    if not name:
        return "未命名"
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_NAME_CHARS]
    return name


def evidence_root() -> Path:
    return Path(settings.PRIVATE_ROOT) / EVIDENCE_DIR


def stored_path(revision: EvidenceRevision) -> Path:
    """Absolute path of a revision's file; `stored_name` is relative to PRIVATE_ROOT."""
    return Path(settings.PRIVATE_ROOT) / revision.stored_name


# --- permission helpers ----------------------------------------------------------------


def _is_locked(entry: ChecklistEntry) -> bool:
    return entry.campaign.is_locked and not entry.reopened


def _require_entry_editable(entry: ChecklistEntry, actor: User, action: str) -> None:
    if not permissions.can_fill_entry(actor, entry):
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action=action))
    if _is_locked(entry):
        raise InvalidTransition(ERR_LOCKED)
    if entry.status not in OPEN_STATUSES:
        raise InvalidTransition(ERR_STATUS.format(status=EntryStatus(entry.status).label))


def can_edit_entry_evidence(user: User, entry: ChecklistEntry) -> bool:
    """Upload, link and unlink on this entry now (same rule the services enforce)."""
    try:
        _require_entry_editable(entry, user, "")
    except EntryError:
        return False
    return True


def can_manage_evidence(user: User, evidence: Evidence) -> bool:
    """Revise an evidence's file: officers of its organisation, or its uploader while still in scope."""
    if permissions.is_officer_of(user, evidence.org, permissions.FILL_ROLES + permissions.ASSIGNED_ROLES):
        return True
    return evidence.created_by_id == user.pk and can_view_org(user, evidence.org)


# --- storing a file --------------------------------------------------------------------


class _Stored:
    """A sniffed file waiting in the tmp folder; `commit` moves it to its generated name."""

    def __init__(self, *, tmp: Path, original_name: str, size: int, sha256: str, content_type: str) -> None:
        self.tmp = tmp
        self.original_name = original_name
        self.size = size
        self.sha256 = sha256
        self.content_type = content_type
        key = uuid.uuid4().hex
        self.stored_name = f"{EVIDENCE_DIR}/{key[:2]}/{key}"

    def commit(self) -> Path:
        final = Path(settings.PRIVATE_ROOT) / self.stored_name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.tmp, final)
        return final


def _receive(file: UploadedFile | None) -> _Stored:
    """Check size and name, stream to tmp while hashing, then sniff. Leaves nothing on refusal."""
    if file is None:
        raise EvidenceRejected(ERR_NO_FILE)
    limit = settings.EVIDENCE_MAX_BYTES
    # Refuse on the declared size before reading a single byte.
    if file.size is not None and file.size > limit:
        raise EvidenceRejected(ERR_TOO_LARGE.format(limit=human_size(limit)))
    if not file.size:
        raise EvidenceRejected(sniffing.ERR_EMPTY)
    original_name = sanitise_filename(file.name or "")
    extension = sniffing.extension_of(original_name)
    allowed = [e.lower() for e in settings.EVIDENCE_ALLOWED_EXTENSIONS]
    if extension not in allowed:
        raise EvidenceRejected(
            sniffing.ERR_EXTENSION.format(ext=extension or "无扩展名", allowed="、".join(allowed))
        )
    tmp_dir = evidence_root() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="up-", delete=False)  # noqa: SIM115
    tmp = Path(handle.name)
    try:
        digest = hashlib.sha256()
        size = 0
        with handle:
            for chunk in file.chunks(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise EvidenceRejected(ERR_TOO_LARGE.format(limit=human_size(limit)))
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise EvidenceRejected(sniffing.ERR_EMPTY)
        with tmp.open("rb") as stream:
            try:
                content_type = sniffing.sniff(stream, extension=extension, allowed=allowed)
            except sniffing.SniffRefused as exc:
                raise EvidenceRejected(exc.message) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _Stored(
        tmp=tmp, original_name=original_name, size=size, sha256=digest.hexdigest(), content_type=content_type
    )


def _persist(stored: _Stored, build: Callable[[], None]) -> None:
    """Run `build()` (the row writes) and move the file in one unit: either both happen or neither."""
    final: Path | None = None
    try:
        with transaction.atomic():
            build()
            final = stored.commit()
    except BaseException:
        stored.tmp.unlink(missing_ok=True)
        if final is not None:
            final.unlink(missing_ok=True)
        raise


def _new_revision(evidence: Evidence, stored: _Stored, number: int, actor: User) -> EvidenceRevision:
    return EvidenceRevision.objects.create(
        evidence=evidence,
        number=number,
        original_name=stored.original_name,
        stored_name=stored.stored_name,
        size=stored.size,
        sha256=stored.sha256,
        content_type=stored.content_type,
        uploaded_by=actor,
    )


def _link(entry: ChecklistEntry, evidence: Evidence, actor: User) -> EntryEvidence:
    link = EntryEvidence.objects.create(entry=entry, evidence=evidence, linked_by=actor)
    EntryEvent.objects.create(
        entry=entry, actor=actor, action=EventAction.EVIDENCE_ADDED, comment=evidence.title
    )
    return link


# --- services --------------------------------------------------------------------------


def evidence_upload(
    *,
    org: OrgUnit,
    file: UploadedFile | None,
    title: str = "",
    actor: User,
    entry: ChecklistEntry | None = None,
) -> Evidence:
    """Store a new evidence for `org` (revision 1), linked to `entry` when given.

    With an entry the actor must be able to fill it and the campaign must be open; without one
    the actor must be an officer of the organisation.
    """
    action = "上传佐证材料"
    if entry is not None:
        _require_entry_editable(entry, actor, action)
        if entry.org_id != org.pk:
            raise PermissionRefused(ERR_OTHER_ORG)
    elif not permissions.is_officer_of(actor, org, permissions.FILL_ROLES + permissions.ASSIGNED_ROLES):
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action=action))
    return evidence_store(
        org=org,
        file=file,
        title=title,
        actor=actor,
        attach=(lambda e: _link(entry, e, actor)) if entry else None,
    )


def evidence_store(
    *,
    org: OrgUnit,
    file: UploadedFile | None,
    title: str,
    actor: User,
    attach: Callable[[Evidence], object] | None = None,
) -> Evidence:
    """Check, hash, sniff and store a file as a new evidence of `org` (revision 1).

    No permission check here: the caller decides who may add evidence in its own context
    (an officer on an entry, an inspector on a visit, a secretary asking for close-out).
    `attach` links the new evidence inside the same write, so a failure leaves nothing behind.
    """
    stored = _receive(file)
    title = (
        (title or "").strip()[:200] or stored.original_name.rsplit(".", 1)[0][:200] or stored.original_name
    )
    evidence = Evidence(org=org, title=title, created_by=actor)

    def build() -> None:
        evidence.save()
        evidence.current = _new_revision(evidence, stored, 1, actor)
        evidence.save(update_fields=["current"])
        if attach is not None:
            attach(evidence)

    _persist(stored, build)
    return evidence


def evidence_revise(*, evidence: Evidence, file: UploadedFile | None, actor: User) -> EvidenceRevision:
    """Add revision n+1 and make it current; earlier revisions stay stored and downloadable."""
    if not can_manage_evidence(actor, evidence):
        raise PermissionRefused(ERR_NOT_ALLOWED.format(action="更新该佐证材料"))
    # Evidence of an archived campaign is part of the record: frozen like the entries it supports.
    locked = ChecklistEntry.objects.filter(
        evidence_links__evidence=evidence, campaign__status=CampaignStatus.ARCHIVED, reopened=False
    )
    if locked.exists():
        raise InvalidTransition(ERR_LOCKED)
    stored = _receive(file)
    revision: list[EvidenceRevision] = []

    def build() -> None:
        # Lock the evidence row so two simultaneous revisions cannot take the same number.
        locked_evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
        last = locked_evidence.revisions.aggregate(n=Max("number"))["n"] or 0
        revision.append(_new_revision(locked_evidence, stored, last + 1, actor))
        Evidence.objects.filter(pk=evidence.pk).update(current=revision[0])

    _persist(stored, build)
    evidence.current = revision[0]
    return revision[0]


def evidence_link(*, entry: ChecklistEntry, evidence: Evidence, actor: User) -> EntryEvidence:
    """使用已有文件: link an evidence of the entry's own organisation to the entry."""
    _require_entry_editable(entry, actor, "关联佐证材料")
    if evidence.org_id != entry.org_id:
        raise EvidenceRejected(ERR_OTHER_ORG)
    with transaction.atomic():
        if EntryEvidence.objects.filter(entry=entry, evidence=evidence).exists():
            raise EvidenceRejected(ERR_ALREADY_LINKED)
        return _link(entry, evidence, actor)


def evidence_unlink(*, entry: ChecklistEntry, evidence: Evidence, actor: User) -> None:
    """Remove the link only; the evidence and its files stay (other entries may use them)."""
    _require_entry_editable(entry, actor, "移除佐证材料")
    with transaction.atomic():
        deleted, _ = EntryEvidence.objects.filter(entry=entry, evidence=evidence).delete()
        if not deleted:
            raise EvidenceRejected(ERR_NOT_LINKED)
        EntryEvent.objects.create(
            entry=entry, actor=actor, action=EventAction.EVIDENCE_REMOVED, comment=evidence.title
        )


def duplicates_of(evidence: Evidence) -> list[Evidence]:
    """Other evidence of the same organisation holding a file with the current revision's SHA-256."""
    if evidence.current is None:
        return []
    return list(
        Evidence.objects.filter(org_id=evidence.org_id, revisions__sha256=evidence.current.sha256)
        .exclude(pk=evidence.pk)
        .distinct()
    )
