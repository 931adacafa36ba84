"""Assessment workbook exports as Celery jobs: request, run, and who sees which job.

``export_request`` checks scope and permission, creates the ``ExportJob``, queues
``scoring.tasks.build_assessment_export`` through the outbox in the same transaction (a request
never waits on the broker, R13) and audits the export (R14). ``export_run`` claims a queued job
with a compare-and-set UPDATE (a redelivered task does nothing), writes the workbook to a
temporary file under ``PRIVATE_ROOT/exports`` and renames it into place, so a half-written file is
never offered for download.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from branches.audit import audit_record
from branches.models import AuditAction, OrgUnit, User
from branches.notify import outbox_enqueue
from branches.permissions import can_staff_org, is_staff_anywhere
from branches.selectors import grants_of, organisations_visible_to
from campaigns.models import Campaign
from campaigns.permissions import FILL_ROLES, is_officer_of
from campaigns.selectors import campaigns_visible_to
from scoring.exports import assessment_workbook, download_name
from scoring.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)

EXPORT_TASK = "scoring.tasks.build_assessment_export"
EXPORT_DIR = "exports"
# A job still RUNNING after this long lost its worker (killed, redeployed): it may be claimed again.
STALE_EXPORT_AFTER = timedelta(minutes=30)


class ExportRefused(Exception):
    """An export the user may not make, with a Chinese message; ``not_found`` answers 404."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def can_export(user: User, org: OrgUnit) -> bool:
    """Staff whose subtree covers the organisation, or its own 书记/副书记."""
    return can_staff_org(user, org) or is_officer_of(user, org, FILL_ROLES)


def can_export_anything(user: User) -> bool:
    """Who may open the export form at all: staff anywhere, and 书记/副书记."""
    return is_staff_anywhere(user) or any(g.role in FILL_ROLES for g in grants_of(user))


def export_request(
    *, campaign: Campaign, org: OrgUnit, actor: User, request: HttpRequest | None = None
) -> ExportJob:
    """Queue the assessment workbook of ``org``'s subtree for ``campaign``."""
    if not organisations_visible_to(actor).filter(pk=org.pk).exists():
        raise ExportRefused("没有找到该党组织。", not_found=True)
    if not campaigns_visible_to(actor).filter(pk=campaign.pk).exists():
        raise ExportRefused("没有找到该创建活动。", not_found=True)
    if not org.path.startswith(campaign.committee.path):
        raise ExportRefused("该党组织不在此创建活动的范围内。")
    if not can_export(actor, org):
        raise ExportRefused("您无权导出该党组织的考核汇总表。")
    with transaction.atomic():
        job = ExportJob.objects.create(
            campaign=campaign,
            org=org,
            requested_by=actor,
            filename=download_name(campaign, org, timezone.localdate()),
            stage="排队中",
        )
        outbox_enqueue(EXPORT_TASK, job_id=job.pk)
        audit_record(
            action=AuditAction.EXPORT,
            actor=actor,
            request=request,
            target=job,
            detail={"kind": "assessment", "year": campaign.year, "org": org.code, "file_name": job.filename},
        )
    return job


def _claim(job_id: int) -> bool:
    now = timezone.now()
    return bool(
        ExportJob.objects.filter(
            Q(status=ExportStatus.QUEUED)
            | Q(status=ExportStatus.RUNNING, started_at__lt=now - STALE_EXPORT_AFTER),
            pk=job_id,
        ).update(status=ExportStatus.RUNNING, started_at=now, stage="准备中", done=0, error="")
    )


def export_path(job: ExportJob) -> Path:
    """Absolute path of a finished job's file (``file`` is relative to PRIVATE_ROOT)."""
    return Path(settings.PRIVATE_ROOT) / job.file


def export_run(job_id: int) -> ExportJob | None:
    """Build one queued job's workbook. A job that is not queued any more is left alone."""
    if not _claim(job_id):
        return ExportJob.objects.filter(pk=job_id).first()
    job = ExportJob.objects.select_related("campaign__committee", "org", "requested_by").get(pk=job_id)
    folder = Path(settings.PRIVATE_ROOT) / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"assessment-{job.pk}-{secrets.token_hex(8)}.xlsx"
    partial = folder / f"{name}.part"

    def progress(done: int, total: int, stage: str) -> None:  # called every ~2,000 rows
        ExportJob.objects.filter(pk=job.pk).update(done=done, total=total, stage=stage[:50])

    try:
        assessment_workbook(
            campaign=job.campaign, org=job.org, out=str(partial), progress=progress, viewer=job.requested_by
        )
        os.replace(partial, folder / name)
    except Exception as exc:
        logger.exception("assessment export %s failed", job.pk)
        partial.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED,
            stage="失败",
            error=f"生成失败：{exc}"[:2000],
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    size = (folder / name).stat().st_size
    total = ExportJob.objects.filter(pk=job.pk).values_list("total", flat=True).first() or 0
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        file=f"{EXPORT_DIR}/{name}",
        size=size,
        done=total,
        stage="已完成",
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def exports_visible_to(user: User) -> QuerySet[ExportJob]:
    """A user's own export jobs only (newest first)."""
    if not getattr(user, "is_authenticated", False):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by=user).select_related("campaign", "org")
