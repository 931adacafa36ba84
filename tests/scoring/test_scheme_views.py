"""Scheme pages: the list, a readable scheme, the structured editor, JSON export and import."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import AuditAction, AuditEvent
from campaigns.models import CampaignStatus
from scoring import presets
from scoring.models import SchemeVersion
from scoring.scheme_forms import MAX_SCHEME_BYTES, dict_to_rows, post_data
from scoring.schemes import Scheme, scheme_from_dict, scheme_to_dict
from scoring.services import round_create
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_scheme, scheme_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(tree):  # type: ignore[no-untyped-def]
    return make_campaign(tree.gw)


@pytest.fixture
def version(campaign, committee_staff):  # type: ignore[no-untyped-def]
    return make_scheme(campaign, committee_staff)


def editor_post(data: dict[str, Any], note: str = "", **changes: Any) -> dict[str, Any]:
    return {**post_data(dict_to_rows(data)), "note": note, **changes}


def scheme_from_dict_of(version: SchemeVersion) -> Scheme:
    # Not services.scheme_of: its cache is keyed by pk, and pks repeat across rolled-back tests.
    return scheme_from_dict(version.data)


def upload(content: bytes | str, name: str = "方案.json") -> SimpleUploadedFile:
    raw = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, raw, content_type="application/json")


# --- list ----------------------------------------------------------------------------------------


def test_list_shows_each_campaigns_versions_newest_first(campaign, version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    second = make_scheme(campaign, committee_staff, name="第二版方案")
    response = login(committee_staff).get(reverse("scoring:schemes"))
    assert response.status_code == 200
    (block,) = response.context["blocks"]
    assert block["versions"] == [second, version]


def test_list_shows_newest_campaign_first(tree, campaign, version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    older = make_campaign(tree.gw, year=2025)
    response = login(committee_staff).get(reverse("scoring:schemes"))
    assert [b["campaign"] for b in response.context["blocks"]] == [campaign, older]


def test_list_says_which_round_adopted_a_version(campaign, version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    rnd = round_create(campaign=campaign, scheme=version, actor=committee_staff)
    response = login(committee_staff).get(reverse("scoring:schemes"))
    assert f"{rnd.title}采用" in response.content.decode()


def test_list_shows_every_preset_with_its_notes_and_a_start_button(campaign, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    page = login(committee_staff).get(reverse("scoring:schemes")).content.decode()
    for name in presets.available():
        scheme = presets.load(name)
        assert scheme.name in page
        assert scheme.notes[:20] in page
        assert reverse("scoring:scheme_new", args=[campaign.pk]) + f"?preset={name}" in page


def test_list_offers_no_write_buttons_to_agency_staff(campaign, version, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    page = login(agency_staff).get(reverse("scoring:schemes")).content.decode()
    assert version.name in page
    assert "以此为基础新建" not in page
    assert reverse("scoring:scheme_new", args=[campaign.pk]) not in page


def test_list_query_count_does_not_grow_with_versions(  # type: ignore[no-untyped-def]
    campaign, version, committee_staff, login, django_assert_max_num_queries
) -> None:
    client = login(committee_staff)
    round_create(campaign=campaign, scheme=version, actor=committee_staff)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("scoring:schemes"))
    for n in range(2, 7):
        make_scheme(campaign, committee_staff, name=f"方案{n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("scoring:schemes"))


# --- scheme page ---------------------------------------------------------------------------------


def test_scheme_page_summarises_the_scheme_in_chinese(version, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    page = login(agency_staff).get(reverse("scoring:scheme", args=[version.pk])).content.decode()
    for text in ("五星级：总分 ≥ 90 分", "四星级：80 分 ≤ 总分 &lt; 90 分", "低于 60 分：未定级", "取消评定"):
        assert text in page
    assert "五星级：最多 25%" in page


def test_scheme_page_shows_the_json(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:scheme", args=[version.pk]))
    assert json.loads(response.context["json_text"]) == version.data


def test_scheme_page_links_edit_and_export_for_committee_staff(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    page = login(committee_staff).get(reverse("scoring:scheme", args=[version.pk])).content.decode()
    assert reverse("scoring:scheme_edit", args=[version.pk]) in page
    assert reverse("scoring:scheme_export", args=[version.pk]) in page


def test_scheme_page_has_no_edit_link_for_agency_staff(version, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    page = login(agency_staff).get(reverse("scoring:scheme", args=[version.pk])).content.decode()
    assert reverse("scoring:scheme_edit", args=[version.pk]) not in page


def test_scheme_outside_the_visible_campaigns_is_404_and_recorded(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    missing = version.pk + 1000
    assert client.get(reverse("scoring:scheme", args=[missing])).status_code == 404
    assert client.get(reverse("scoring:scheme_export", args=[missing])).status_code == 404
    assert client.get(reverse("scoring:scheme_edit", args=[missing])).status_code == 404
    assert client.get(reverse("scoring:scheme_new", args=[version.campaign_id + 1000])).status_code == 404
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("id")
    assert event.detail["reason"] == "out_of_scope"


# --- editor --------------------------------------------------------------------------------------


def test_new_editor_starts_from_a_minimal_bands_scheme(campaign, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:scheme_new", args=[campaign.pk]))
    assert response.status_code == 200
    data = post_data(response.context)
    assert data["mode"] == "bands"
    assert (data["bands-0-level"], data["bands-0-min"]) == ("5", "90")


def test_new_editor_starts_from_a_preset(campaign, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("scoring:scheme_new", args=[campaign.pk]) + "?preset=scheme_c_shizhi_wuxing"
    response = login(committee_staff).get(url)
    assert response.context["fields"]["name"]["value"] == presets.load("scheme_c_shizhi_wuxing").name
    assert response.context["fields"]["max_total"]["value"] == "110"


def test_new_editor_starts_from_another_version(tree, campaign, version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    next_year = make_campaign(tree.gw, year=2027)
    url = reverse("scoring:scheme_new", args=[next_year.pk]) + f"?from={version.pk}"
    response = login(committee_staff).get(url)
    assert response.context["fields"]["name"]["value"] == version.name
    assert response.context["base"] == version


def test_new_editor_with_an_unknown_preset_is_404(campaign, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("scoring:scheme_new", args=[campaign.pk]) + "?preset=nope"
    assert login(committee_staff).get(url).status_code == 404


def test_editor_page_renders_every_row_input_and_the_row_script(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    page = login(committee_staff).get(reverse("scoring:scheme_edit", args=[version.pk])).content.decode()
    assert 'name="bands-0-min" value="90"' in page
    assert 'name="bands-4-min"' in page  # three bands and two spare rows
    assert 'name="vetoes-__prefix__-key"' in page  # the template the script copies
    assert "js/scheme_editor.js" in page


def test_editor_saves_a_new_version_and_keeps_the_old(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    before = dict(version.data)
    post = editor_post(version.data, note="五星下限调为 92", **{"bands-0-min": "92"})
    response = login(committee_staff).post(reverse("scoring:scheme_edit", args=[version.pk]), post)
    new = SchemeVersion.objects.get(campaign=version.campaign, number=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("scoring:scheme", args=[new.pk])
    assert new.data["bands"][0]["min"] == 92
    assert (new.note, new.created_by) == ("五星下限调为 92", committee_staff)
    version.refresh_from_db()
    assert version.data == before


def test_editor_builds_a_preset_into_a_campaign_version(campaign, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    preset = presets.load("scheme_d_jinan_edu")
    url = reverse("scoring:scheme_new", args=[campaign.pk])
    login(committee_staff).post(url, editor_post(scheme_to_dict(preset)))
    assert scheme_from_dict_of(SchemeVersion.objects.get(campaign=campaign)) == preset


def test_editor_adds_a_row_through_a_spare_row(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    post = editor_post(version.data, **{"deductions-0-kind": "notice", "deductions-0-points": "5"})
    login(committee_staff).post(reverse("scoring:scheme_edit", args=[version.pk]), post)
    new = SchemeVersion.objects.get(campaign=version.campaign, number=2)
    assert new.data["score"]["deductions"] == [{"kind": "notice", "points": 5, "cap": None}]


def test_editor_removes_a_row_ticked_for_deletion(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    post = editor_post(version.data, **{"vetoes-1-DELETE": "on"})
    login(committee_staff).post(reverse("scoring:scheme_edit", args=[version.pk]), post)
    new = SchemeVersion.objects.get(campaign=version.campaign, number=2)
    assert [v["key"] for v in new.data["vetoes"]] == ["违纪违法"]


def test_validation_errors_rerender_the_editor_with_the_values_kept(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    post = editor_post(version.data, note="改错了", **{"bands-1-min": "八十", "publicity_days": "-1"})
    response = login(committee_staff).post(reverse("scoring:scheme_edit", args=[version.pk]), post)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="bands-1-min" value="八十"' in page
    assert 'value="改错了"' in page
    assert "第2个分档 · 下限：必须是数字" in page
    assert "公示天数：必须在 0 到 365 之间" in page
    assert SchemeVersion.objects.filter(campaign=version.campaign).count() == 1


def test_each_error_is_shown_next_to_its_input(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    post = editor_post(version.data, **{"quotas-0-max": "25"})
    response = login(committee_staff).post(reverse("scoring:scheme_edit", args=[version.pk]), post)
    quota_row = response.context["lists"]["quotas"]["rows"][0]
    assert quota_row["cells"][1]["errors"] == ["比例须在 0 到 1 之间"]
    assert 'name="quotas-0-max" value="25"' in response.content.decode()


def test_saving_an_unchanged_scheme_makes_no_new_version(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).post(
        reverse("scoring:scheme_edit", args=[version.pk]), editor_post(version.data), follow=True
    )
    assert SchemeVersion.objects.filter(campaign=version.campaign).count() == 1
    assert "未生成新版本" in response.content.decode()


def test_archived_campaign_refuses_a_new_version(campaign, version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    campaign.status = CampaignStatus.ARCHIVED
    campaign.save(update_fields=["status"])
    post = editor_post(version.data, **{"bands-0-min": "95"})
    response = login(committee_staff).post(reverse("scoring:scheme_edit", args=[version.pk]), post)
    assert "活动已归档，不能修改评星方案" in response.content.decode()
    assert SchemeVersion.objects.filter(campaign=campaign).count() == 1


def test_agency_staff_cannot_save_through_the_editor(campaign, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).post(
        reverse("scoring:scheme_new", args=[campaign.pk]), editor_post(scheme_data())
    )
    assert response.status_code == 403
    assert not SchemeVersion.objects.exists()


# --- export and import ---------------------------------------------------------------------------


def test_export_is_a_pretty_printed_utf8_json_download(version, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(agency_staff).get(reverse("scoring:scheme_export", args=[version.pk]))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    text = response.content.decode("utf-8")
    assert "五星级" in text  # not \u escaped
    assert text.startswith('{\n  "version": 1,')
    assert json.loads(text) == scheme_to_dict(scheme_from_dict_of(version))


def test_export_file_name_is_chinese_safe(version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:scheme_export", args=[version.pk]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="scheme-2026-v1.json"')
    assert f"filename*=UTF-8''{quote('测试评星方案-第1版.json')}" in disposition


def test_import_saves_a_new_version_and_opens_it(campaign, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    preset = presets.load("scheme_e_district_xingji")
    text = json.dumps(scheme_to_dict(preset), ensure_ascii=False)
    response = login(committee_staff).post(
        reverse("scoring:scheme_import", args=[campaign.pk]), {"file": upload(text), "note": "区里的新办法"}
    )
    new = SchemeVersion.objects.get(campaign=campaign)
    assert response["Location"] == reverse("scoring:scheme", args=[new.pk])
    assert scheme_from_dict_of(new) == preset
    assert new.note == "区里的新办法"


def test_export_then_import_gives_an_identical_scheme(tree, version, committee_staff, login) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    exported = client.get(reverse("scoring:scheme_export", args=[version.pk])).content
    target = make_campaign(tree.gw, year=2027)
    client.post(reverse("scoring:scheme_import", args=[target.pk]), {"file": upload(exported)})
    assert scheme_from_dict_of(SchemeVersion.objects.get(campaign=target)) == scheme_from_dict_of(version)


def test_import_rejects_an_invalid_scheme_naming_the_field_and_saves_nothing(  # type: ignore[no-untyped-def]
    campaign, committee_staff, login
) -> None:
    data = scheme_data()
    data["bands"][0]["min"] = "九十"
    response = login(committee_staff).post(
        reverse("scoring:scheme_import", args=[campaign.pk]), {"file": upload(json.dumps(data))}
    )
    assert response.status_code == 200
    assert "bands[0].min（第1个分档 · 下限）：必须是数字" in response.context["error_lines"]
    assert "bands[0].min（第1个分档 · 下限）：必须是数字" in response.content.decode()
    assert not SchemeVersion.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"name": ', "不是有效的 JSON"),
        ('{"name": "方案"}'.encode("gbk"), "UTF-8"),
        (b" " * (MAX_SCHEME_BYTES + 1), "256 KB"),
        (b"[1, 2]", "必须是对象"),
    ],
)
def test_import_rejects_a_file_that_is_not_a_json_scheme(  # type: ignore[no-untyped-def]
    campaign, committee_staff, login, content, message
) -> None:
    response = login(committee_staff).post(
        reverse("scoring:scheme_import", args=[campaign.pk]), {"file": upload(content)}
    )
    assert message in response.content.decode()
    assert not SchemeVersion.objects.exists()


def test_import_page_is_refused_to_agency_staff(campaign, agency_staff, login) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps(scheme_data())
    response = login(agency_staff).post(
        reverse("scoring:scheme_import", args=[campaign.pk]), {"file": upload(text)}
    )
    assert response.status_code == 403
    assert not SchemeVersion.objects.exists()
