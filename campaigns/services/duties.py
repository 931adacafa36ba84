"""年初明责 writes besides entry assignment: signing the 目标责任书 (domain.md §5)."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from branches.models import User
from campaigns import permissions
from campaigns.models import Checklist
from campaigns.services.entries import ERR_LOCKED, EntryError, PermissionRefused

ERR_ALREADY_SIGNED = "本年度目标责任书已于 {when} 签订，不能重复签订。"


def letter_text_for(checklist: Checklist, secretary: User) -> str:
    """The exact text the secretary reads and signs: title, organisation, signer, the campaign's text."""
    return (
        f"{checklist.campaign.name}目标责任书\n\n"
        f"责任单位：{checklist.org.name}\n"
        f"第一责任人（书记）：{secretary.display_name}\n\n"
        f"{checklist.campaign.letter_text}"
    )


def letter_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def checklist_sign_letter(*, checklist: Checklist, actor: User, text: str) -> Checklist:
    """The secretary signs once per year; the signed text is kept verbatim. Archived campaigns are locked."""
    if not permissions.can_sign_letter(actor, checklist):
        raise PermissionRefused("只有本组织书记可以签订目标责任书。")
    if checklist.campaign.is_locked:
        raise EntryError(ERR_LOCKED)
    now = timezone.now()
    updated = Checklist.objects.filter(pk=checklist.pk, letter_signed_at__isnull=True).update(
        letter_signed_at=now, letter_signed_by=actor, letter_text_signed=text
    )
    if updated != 1:
        current = Checklist.objects.get(pk=checklist.pk)
        when = timezone.localtime(current.letter_signed_at).strftime("%Y-%m-%d %H:%M")
        raise EntryError(ERR_ALREADY_SIGNED.format(when=when))
    checklist.letter_signed_at, checklist.letter_signed_by, checklist.letter_text_signed = now, actor, text
    return checklist
