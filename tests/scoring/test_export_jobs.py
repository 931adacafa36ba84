"""Assessment workbook exports as jobs: request → outbox → run → download, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branches.models import AuditAction, AuditEvent, Outbox, User
from scoring import export_jobs
from scoring.export_jobs import ExportRefused, export_request, export_run, exports_visible_to
from scoring.models import ExportJob, ExportStatus
from tests.conftest import Tree
from tests.scoring.test_exports import World, build_export_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    """Each test its own private folder: job ids repeat between tests, files would not."""
    settings.PRIVATE_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def world(tree: Tree, committee_staff: User, branch_secretary: User) -> World:
    return build_export_world(tree, committee_staff, branch_secretary)


def _request_and_run(world: World, org: Any, actor: User, capture: Any) -> ExportJob:
    with capture(execute=True):
        job = export_request(campaign=world.campaign, org=org, actor=actor)
    job.refresh_from_db()
    return job


# --- request -----------------------------------------------------------------------------------------


def test_request_creates_a_queued_job_with_its_outbox_row_and_an_export_audit_event(
    world: World, tree: Tree, committee_staff: User
) -> None:
    job = export_request(campaign=world.campaign, org=tree.a, actor=committee_staff)

    assert job.status == ExportStatus.QUEUED and job.requested_by == committee_staff
    assert job.filename == (
        f"2026年度模范机关创建考核汇总表_{tree.a.name}_{timezone.localdate():%Y%m%d}.xlsx"
    )
    row = Outbox.objects.get(task="scoring.tasks.build_assessment_export")
    assert row.kwargs == {"job_id": job.pk}
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.actor == committee_staff and event.target_id == str(job.pk)
    assert event.detail["org"] == "A" and event.detail["kind"] == "assessment"


def test_unit_staff_may_not_export_another_subtree_it_does_not_see(
    world: World, tree: Tree, agency_staff: User
) -> None:
    with pytest.raises(ExportRefused) as refused:
        export_request(campaign=world.campaign, org=tree.b, actor=agency_staff)

    assert refused.value.not_found
    assert not ExportJob.objects.exists()
    assert not Outbox.objects.filter(task="scoring.tasks.build_assessment_export").exists()


def test_a_committee_member_of_the_branch_may_not_export(
    world: World, tree: Tree, branch_member: User
) -> None:
    with pytest.raises(ExportRefused) as refused:
        export_request(campaign=world.campaign, org=tree.a1, actor=branch_member)

    assert not refused.value.not_found
    assert not ExportJob.objects.exists()


def test_a_branch_secretary_may_export_their_own_branch(
    world: World, tree: Tree, branch_secretary: User
) -> None:
    job = export_request(campaign=world.campaign, org=tree.a1, actor=branch_secretary)

    assert job.org == tree.a1


# --- run ---------------------------------------------------------------------------------------------


def test_the_job_runs_after_commit_and_ends_done_with_full_progress_and_a_readable_file(
    world: World, tree: Tree, committee_staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    job = _request_and_run(world, tree.a, committee_staff, django_capture_on_commit_callbacks)

    assert job.status == ExportStatus.DONE
    assert job.percent == 100 and job.done == job.total > 0 and job.stage == "已完成"
    assert job.finished_at is not None and job.started_at is not None
    path = export_jobs.export_path(job)
    assert path.is_file() and path.stat().st_size == job.size > 0
    assert path.parent == Path(settings.PRIVATE_ROOT) / "exports"
    assert not list(path.parent.glob("*.part"))
    assert "汇总表" in load_workbook(path, read_only=True).sheetnames
    assert Outbox.objects.get(task="scoring.tasks.build_assessment_export").status == "done"


def test_running_a_done_job_again_changes_nothing(
    world: World, tree: Tree, committee_staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    job = _request_and_run(world, tree.a, committee_staff, django_capture_on_commit_callbacks)

    again = export_run(job.pk)

    assert again is not None and (again.file, again.finished_at, again.status) == (
        job.file,
        job.finished_at,
        ExportStatus.DONE,
    )
    assert len(list((Path(settings.PRIVATE_ROOT) / "exports").glob(f"assessment-{job.pk}-*"))) == 1


def test_a_job_running_elsewhere_is_left_alone_until_it_is_stale(
    world: World, tree: Tree, committee_staff: User
) -> None:
    job = export_request(campaign=world.campaign, org=tree.a1, actor=committee_staff)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now())

    assert export_run(job.pk).status == ExportStatus.RUNNING  # type: ignore[union-attr]

    ExportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert export_run(job.pk).status == ExportStatus.DONE  # type: ignore[union-attr]


def test_a_failing_job_is_failed_with_a_chinese_error_and_leaves_no_partial_file(
    world: World, tree: Tree, committee_staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*, out: str, **kwargs: Any) -> None:
        Path(out).write_bytes(b"half")
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(export_jobs, "assessment_workbook", explode)
    job = export_request(campaign=world.campaign, org=tree.a, actor=committee_staff)

    job = export_run(job.pk)  # type: ignore[assignment]

    assert job.status == ExportStatus.FAILED
    assert job.error == "生成失败：数据库连接中断"
    assert job.finished_at is not None and not job.file
    assert not list((Path(settings.PRIVATE_ROOT) / "exports").glob(f"assessment-{job.pk}-*"))


def test_progress_is_stored_on_the_job_while_it_runs(
    world: World, tree: Tree, committee_staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, str]] = []
    real = export_jobs.assessment_workbook

    def spy(**kwargs: Any) -> None:
        def progress(done: int, total: int, stage: str) -> None:
            kwargs_progress(done, total, stage)
            job = ExportJob.objects.get()
            seen.append((job.done, job.total, job.stage))

        kwargs_progress = kwargs.pop("progress")
        real(progress=progress, **kwargs)

    monkeypatch.setattr(export_jobs, "assessment_workbook", spy)
    job = export_request(campaign=world.campaign, org=tree.gw, actor=committee_staff)

    export_run(job.pk)

    assert any("评分明细" in stage for _, _, stage in seen)
    assert all(total > 0 for _, total, _ in seen)


# --- visibility ----------------------------------------------------------------------------------


def test_a_user_sees_only_their_own_jobs(
    world: World, tree: Tree, committee_staff: User, agency_staff: User, committee_admin: User
) -> None:
    mine = export_request(campaign=world.campaign, org=tree.a, actor=agency_staff)
    export_request(campaign=world.campaign, org=tree.a, actor=committee_staff)

    assert list(exports_visible_to(agency_staff)) == [mine]
    assert not exports_visible_to(committee_admin).exists()


# --- pages -------------------------------------------------------------------------------------------


def test_the_form_offers_visible_units_and_prefills_campaign_and_organisation(
    world: World, tree: Tree, agency_staff: User, login: Any
) -> None:
    client = login(agency_staff)

    response = client.get(
        reverse("scoring:export_create") + f"?campaign={world.campaign.pk}&org={tree.a1.pk}"
    )

    assert response.status_code == 200
    choices = dict(response.context["form"].fields["org"].choices)
    assert set(choices) == {tree.a.pk, tree.ag.pk, tree.a1.pk}
    html = response.content.decode()
    assert f'<option value="{tree.a1.pk}" selected>' in html
    assert f'<option value="{world.campaign.pk}" selected>' in html


def test_requesting_an_export_through_the_page_queues_it_and_shows_its_progress(
    world: World, tree: Tree, agency_staff: User, login: Any
) -> None:
    client = login(agency_staff)

    response = client.post(
        reverse("scoring:export_create"), {"campaign": world.campaign.pk, "org": tree.a.pk}
    )

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "scoring:export_detail", args=[job.pk]
    )
    page = client.get(reverse("scoring:export_detail", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "排队中" in html and 'hx-trigger="every 2s"' in html
    assert reverse("scoring:export_status", args=[job.pk]) in html


def test_posting_an_organisation_outside_the_subtree_is_404(
    world: World, tree: Tree, agency_staff: User, login: Any
) -> None:
    response = login(agency_staff).post(
        reverse("scoring:export_create"), {"campaign": world.campaign.pk, "org": tree.b1.pk}
    )

    assert response.status_code == 404 and not ExportJob.objects.exists()


def test_the_request_requires_a_csrf_token(world: World, tree: Tree, agency_staff: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agency_staff)

    response = client.post(
        reverse("scoring:export_create"), {"campaign": world.campaign.pk, "org": tree.a.pk}
    )

    assert response.status_code == 403 and not ExportJob.objects.exists()


def test_the_requester_downloads_the_finished_workbook_as_an_attachment(
    world: World, tree: Tree, agency_staff: User, login: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _request_and_run(world, tree.a, agency_staff, django_capture_on_commit_callbacks)
    client = login(agency_staff)

    status = client.get(reverse("scoring:export_status", args=[job.pk]))
    response = client.get(reverse("scoring:export_download", args=[job.pk]))

    assert "hx-trigger" not in status.content.decode() and "下载" in status.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == export_jobs_views_xlsx()
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition
    assert "%E8%80%83%E6%A0%B8" in disposition  # 考核, RFC 5987 encoded
    wb = load_workbook(BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    assert wb.sheetnames[:2] == ["说明", "汇总表"]


def export_jobs_views_xlsx() -> str:
    from scoring.views.exports import XLSX

    return XLSX


def test_download_through_the_accel_prefix_names_the_private_file(
    world: World,
    tree: Tree,
    agency_staff: User,
    login: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    job = _request_and_run(world, tree.a, agency_staff, django_capture_on_commit_callbacks)
    settings.PRIVATE_ACCEL_PREFIX = "/protected/"

    response = login(agency_staff).get(reverse("scoring:export_download", args=[job.pk]))

    assert response["X-Accel-Redirect"] == f"/protected/{job.file}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "name", ["scoring:export_detail", "scoring:export_status", "scoring:export_download"]
)
def test_another_user_gets_404_for_someone_elses_job(
    world: World,
    tree: Tree,
    agency_staff: User,
    committee_admin: User,
    login: Any,
    django_capture_on_commit_callbacks: Any,
    name: str,
) -> None:
    job = _request_and_run(world, tree.a, agency_staff, django_capture_on_commit_callbacks)

    response = login(committee_admin).get(reverse(name, args=[job.pk]))

    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, detail__object="ExportJob").exists()


def test_download_of_an_unfinished_job_is_404(
    world: World, tree: Tree, agency_staff: User, login: Any
) -> None:
    job = export_request(campaign=world.campaign, org=tree.a, actor=agency_staff)

    assert login(agency_staff).get(reverse("scoring:export_download", args=[job.pk])).status_code == 404


def test_my_exports_lists_own_jobs_with_status_and_download_link(
    world: World, tree: Tree, agency_staff: User, login: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _request_and_run(world, tree.a, agency_staff, django_capture_on_commit_callbacks)

    html = login(agency_staff).get(reverse("scoring:export_list")).content.decode()

    assert tree.a.name in html and "已完成" in html
    assert reverse("scoring:export_download", args=[job.pk]) in html


def test_a_failed_job_page_shows_its_error(world: World, tree: Tree, agency_staff: User, login: Any) -> None:
    job = export_request(campaign=world.campaign, org=tree.a, actor=agency_staff)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error="生成失败：磁盘已满")

    html = login(agency_staff).get(reverse("scoring:export_detail", args=[job.pk])).content.decode()

    assert "生成失败：磁盘已满" in html and "hx-trigger" not in html
