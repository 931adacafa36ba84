"""manage.py scheme_export / scheme_import: schemes as JSON files on the shell."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.management import CommandError, call_command

from branches import services as branch_services
from branches.models import Role, User
from scoring import presets
from scoring.models import SchemeVersion
from scoring.schemes import scheme_from_dict, scheme_to_dict
from tests.campaigns.factories import make_campaign
from tests.factories import UserFactory
from tests.scoring.factories import make_scheme, scheme_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw)


@pytest.fixture
def version(campaign, committee_staff):  # type: ignore[no-untyped-def]
    return make_scheme(campaign, committee_staff)


def run(name: str, *args: Any, **options: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, data: Any, name: str = "方案.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# --- export --------------------------------------------------------------------------------------


def test_export_writes_the_latest_version_as_pretty_utf8_json(  # type: ignore[no-untyped-def]
    tmp_path, campaign, version, committee_staff
) -> None:
    latest = make_scheme(campaign, committee_staff, name="第二版")
    target = tmp_path / "out.json"
    run("scheme_export", campaign=str(campaign.pk), output=str(target))
    text = target.read_text(encoding="utf-8")
    assert json.loads(text) == latest.data
    assert '\n  "name": "第二版",' in text


def test_export_writes_a_chosen_version(tmp_path, campaign, version, committee_staff) -> None:  # type: ignore[no-untyped-def]
    make_scheme(campaign, committee_staff, name="第二版")
    target = tmp_path / "v1.json"
    run("scheme_export", f"--campaign={campaign.pk}", "--version=1", "-o", str(target))
    assert json.loads(target.read_text(encoding="utf-8")) == version.data


def test_export_to_stdout_prints_only_the_json(campaign, version) -> None:  # type: ignore[no-untyped-def]
    out, _ = run("scheme_export", campaign=str(campaign.pk), output="-")
    assert json.loads(out) == version.data


def test_export_writes_a_shipped_preset(campaign) -> None:  # type: ignore[no-untyped-def]
    out, _ = run("scheme_export", preset="scheme_k_henan_named")
    assert scheme_from_dict(json.loads(out)) == presets.load("scheme_k_henan_named")


def test_export_of_a_missing_version_fails(campaign, version) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="没有第 7 版"):
        run("scheme_export", campaign=str(campaign.pk), number=7)


def test_export_of_a_campaign_without_schemes_fails(campaign) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="还没有评星方案"):
        run("scheme_export", campaign=str(campaign.pk))


# --- import --------------------------------------------------------------------------------------


def test_import_saves_a_new_version_as_the_first_committee_admin(tmp_path, campaign, committee_admin) -> None:  # type: ignore[no-untyped-def]
    out, _ = run(
        "scheme_import", str(write(tmp_path, scheme_data())), campaign=str(campaign.pk), note="年初定稿"
    )
    saved = SchemeVersion.objects.get(campaign=campaign)
    assert (saved.number, saved.note, saved.created_by) == (1, "年初定稿", committee_admin)
    assert "第 1 版" in out


def test_import_records_the_named_actor(tmp_path, campaign, committee_admin, committee_staff) -> None:  # type: ignore[no-untyped-def]
    run("scheme_import", str(write(tmp_path, scheme_data())), campaign=str(campaign.pk), actor="gw_staff")
    assert SchemeVersion.objects.get(campaign=campaign).created_by == committee_staff


def test_import_refuses_an_actor_who_is_not_committee_staff(tmp_path, campaign, agency_staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="不是工委工作人员"):
        run("scheme_import", str(write(tmp_path, scheme_data())), campaign=str(campaign.pk), actor="a_staff")
    assert not SchemeVersion.objects.exists()


def test_import_without_an_active_committee_admin_asks_for_an_actor(tmp_path, campaign) -> None:  # type: ignore[no-untyped-def]
    retired = cast(User, UserFactory(username="retired", is_active=False))
    branch_services.role_grant(user=retired, org=campaign.committee, role=Role.COMMITTEE_ADMIN)
    with pytest.raises(CommandError, match="--actor"):
        run("scheme_import", str(write(tmp_path, scheme_data())), campaign=str(campaign.pk))


def test_import_rejects_an_invalid_file_naming_each_field_and_saves_nothing(  # type: ignore[no-untyped-def]
    tmp_path, campaign, committee_admin
) -> None:
    data = scheme_data()
    data["bands"][0]["min"] = "九十"
    data["quotas"] = {"5": {"max": "1.5"}}
    err = StringIO()
    with pytest.raises(CommandError, match="处错误，未保存"):
        call_command("scheme_import", str(write(tmp_path, data)), campaign=str(campaign.pk), stderr=err)
    assert "bands[0].min（第1个分档 · 下限）：必须是数字" in err.getvalue()
    assert "quotas.5.max（名额 · 5星 · 最高占比）：比例须在 0 到 1 之间" in err.getvalue()
    assert not SchemeVersion.objects.exists()


def test_import_rejects_a_file_that_is_not_json(tmp_path, campaign, committee_admin) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.json"
    path.write_text('{"name": "方案",', encoding="utf-8")
    with pytest.raises(CommandError, match="不是有效的 JSON"):
        run("scheme_import", str(path), campaign=str(campaign.pk))
    assert not SchemeVersion.objects.exists()


def test_import_of_a_missing_file_fails(tmp_path, campaign, committee_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="找不到文件"):
        run("scheme_import", str(tmp_path / "nope.json"), campaign=str(campaign.pk))


def test_export_then_import_gives_an_identical_scheme(tmp_path, tree, version, committee_admin) -> None:  # type: ignore[no-untyped-def]
    exported = tmp_path / "exported.json"
    run("scheme_export", campaign=str(version.campaign_id), output=str(exported))
    target = make_campaign(tree.gw, year=2027)
    run("scheme_import", str(exported), campaign=str(target.pk))
    imported = SchemeVersion.objects.get(campaign=target)
    assert scheme_from_dict(imported.data) == scheme_from_dict(version.data)
    assert imported.data == scheme_to_dict(scheme_from_dict(version.data))


def test_importing_the_latest_version_again_makes_no_new_version(tmp_path, version, committee_admin) -> None:  # type: ignore[no-untyped-def]
    out, _ = run("scheme_import", str(write(tmp_path, version.data)), campaign=str(version.campaign_id))
    assert SchemeVersion.objects.filter(campaign=version.campaign).count() == 1
    assert "未生成新版本" in out
