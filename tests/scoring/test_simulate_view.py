"""The 评星模拟测算 page: 工委 staff pick a scheme and data, see or download the result; nothing is stored."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from scoring.models import CompileRun, Rating
from tests.campaigns.factories import make_campaign
from tests.scoring.factories import make_round, scheme_data, score
from tests.scoring.test_simulation import README_EXAMPLE, table_bytes

pytestmark = pytest.mark.django_db
URL = reverse("scoring:simulate")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(data: bytes, name: str = "汇总表.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def preset_post(data: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "scheme_source": "preset",
        "preset": "scheme_b_city_pingxing",
        "data_source": "file",
        "scores_file": upload(data),
        "action": "show",
        **extra,
    }


@pytest.fixture
def rnd(tree, committee_staff):  # type: ignore[no-untyped-def]
    campaign = make_campaign(tree.gw)
    for org, points in ((tree.a1, "95"), (tree.b1, "95"), (tree.a2, "85"), (tree.ag1, "70"), (tree.d1, "50")):
        score(campaign, org, points)
    return make_round(campaign, committee_staff)


def test_committee_staff_see_the_form_with_schemes_presets_and_rounds(login, committee_staff, rnd) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert [v.pk for v in form.fields["version"].queryset] == [rnd.scheme_id]
    assert [r.pk for r in form.fields["round"].queryset] == [rnd.pk]
    assert ("scheme_b_city_pingxing", "方案B：某市2023年度基层党支部评星定级") in form.fields[
        "preset"
    ].choices


def test_unit_staff_are_refused(login, agency_staff) -> None:  # type: ignore[no-untyped-def]
    assert login(agency_staff).get(URL).status_code == 403


def test_an_uploaded_table_is_simulated_and_labelled_as_a_simulation(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).post(URL, preset_post(table_bytes(README_EXAMPLE)))
    assert response.status_code == 200
    sim = response.context["sim"]
    assert [r.level_label for r in sim.rows] == [
        "五星级",
        "四星级",
        "四星级",
        "三星级",
        "二星级",
        "一星级",
        "未定级",
    ]
    page = response.content.decode()
    assert "模拟结果，不影响正式评定" in page
    assert "因名额限制降档" in page
    assert "<details><summary>乙支部</summary>" in page


def test_the_page_flags_ties_needing_a_decision(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    rows = [{"党组织名称": n, "审核得分": 100, "评议得分": 100} for n in ("甲支部", "乙支部")]
    rows += [{"党组织名称": n, "审核得分": 60, "评议得分": 60} for n in ("丙支部", "丁支部")]
    response = login(committee_staff).post(URL, preset_post(table_bytes(rows)))
    (tie,) = response.context["sim"].ties
    assert tie.names == ("甲支部", "乙支部")
    assert "甲支部、乙支部" in response.content.decode()


def test_the_current_data_of_a_round_is_simulated_without_writing_results(
    login, committee_staff, rnd, tree
) -> None:  # type: ignore[no-untyped-def]
    ratings, runs = Rating.objects.count(), CompileRun.objects.count()
    post = {"scheme_source": "version", "version": rnd.scheme_id, "data_source": "round", "round": rnd.pk}
    response = login(committee_staff).post(URL, {**post, "action": "show"})
    sim = response.context["sim"]
    levels = {r.name: r.level_label for r in sim.rows}
    assert levels[tree.a2.name] == "四星级"
    assert [t.names for t in sim.ties] == [(tree.a1.name, tree.b1.name)]
    assert (Rating.objects.count(), CompileRun.objects.count()) == (ratings, runs)


def test_simulating_current_data_takes_a_fixed_number_of_queries(  # type: ignore[no-untyped-def]
    login, committee_staff, rnd, django_assert_max_num_queries
) -> None:
    client = login(committee_staff)
    post = {
        "scheme_source": "preset",
        "preset": "scheme_a_tianjin_wuhao",
        "data_source": "round",
        "round": rnd.pk,
    }
    with django_assert_max_num_queries(25):
        assert client.post(URL, {**post, "action": "show"}).status_code == 200


def test_download_gives_the_result_workbook(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    ratings, runs = Rating.objects.count(), CompileRun.objects.count()
    response = login(committee_staff).post(URL, preset_post(table_bytes(README_EXAMPLE), action="download"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["说明", "汇总表", "名额分布", "待决并列", "评定说明"]
    assert (Rating.objects.count(), CompileRun.objects.count()) == (ratings, runs)


def test_upload_errors_are_shown_with_row_and_column(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    data = table_bytes([{"党组织名称": "甲支部", "审核得分": "九十"}])
    response = login(committee_staff).post(URL, preset_post(data))
    assert "sim" not in response.context
    assert response.context["score_errors"] == [
        {"sheet": "汇总表", "row": 2, "column": "审核得分", "message": "不是数字。"}
    ]
    assert "<td>汇总表</td><td>2</td><td>审核得分</td><td>不是数字。</td>" in response.content.decode()


def test_upload_errors_can_be_downloaded_as_a_workbook(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    client = login(committee_staff)
    data = table_bytes([{"党组织名称": "甲支部", "扣分": "x"}])
    key = client.post(URL, preset_post(data)).context["errors_key"]
    response = client.get(reverse("scoring:simulate_errors", args=[key]))
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert list(workbook["错误清单"].iter_rows(values_only=True))[1] == ("汇总表", "2", "扣分", "不是数字。")


def test_an_expired_errors_download_is_404(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).get(reverse("scoring:simulate_errors", args=["gone"]))
    assert response.status_code == 404


def test_a_file_renamed_to_xlsx_is_refused_by_its_content(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    response = login(committee_staff).post(URL, preset_post("党组织名称,审核得分\n甲,90\n".encode()))
    (error,) = response.context["score_errors"]
    assert "不是有效的 Excel 工作簿" in error["message"]


def test_an_uploaded_scheme_file_is_used(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    scheme = json.dumps(scheme_data(name="上传的测算方案", quotas={}), ensure_ascii=False).encode()
    post = preset_post(
        table_bytes([{"党组织名称": "甲支部", "审核得分": 95}]),
        scheme_source="file",
        scheme_file=SimpleUploadedFile("方案.json", scheme, content_type="application/json"),
    )
    response = login(committee_staff).post(URL, post)
    sim = response.context["sim"]
    assert sim.scheme.name == "上传的测算方案"
    assert sim.rows[0].level_label == "五星级"


def test_an_invalid_scheme_file_names_the_field(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    bad = json.dumps(scheme_data(quota_rounding="sometimes")).encode()
    post = preset_post(
        table_bytes([{"党组织名称": "甲支部"}]),
        scheme_source="file",
        scheme_file=SimpleUploadedFile("方案.json", bad, content_type="application/json"),
    )
    response = login(committee_staff).post(URL, post)
    assert response.context["form"].errors["scheme_file"] == [
        "quota_rounding：取值必须是 floor / ceil / round 之一"
    ]


def test_a_scheme_file_that_is_not_json_is_refused(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    post = preset_post(
        table_bytes([{"党组织名称": "甲支部"}]),
        scheme_source="file",
        scheme_file=SimpleUploadedFile("方案.json", b"{oops", content_type="application/json"),
    )
    response = login(committee_staff).post(URL, post)
    assert response.context["form"].errors["scheme_file"] == ["方案文件不是有效的 JSON（第 1 行第 2 列）。"]


def test_choosing_round_data_requires_a_round(login, committee_staff) -> None:  # type: ignore[no-untyped-def]
    post = {"scheme_source": "preset", "preset": "scheme_b_city_pingxing", "data_source": "round"}
    response = login(committee_staff).post(URL, post)
    assert response.context["form"].errors["round"] == ["请选择评星。"]
