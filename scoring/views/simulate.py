"""Views: 评星模拟测算 — any scheme over a round's current data or an uploaded 汇总表.

Only 工委 staff simulate (they design the quotas). Nothing is stored: the result is shown or
downloaded, never written to ratings or compile runs. Upload errors are kept in the session for
a short while so they can be downloaded as a workbook.
"""

from __future__ import annotations

import io
import secrets
from typing import Any, cast

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from branches.access import STAFF, AuthedHttpRequest, access
from branches.imports.messages import RowError, human_size
from branches.imports.workbooks import errors_workbook
from branches.models import User
from scoring import permissions, presets, simulation
from scoring.models import RatingRound, SchemeVersion
from scoring.schemes import Scheme, SchemeError
from scoring.selectors import rounds_visible_to, schemes_visible_to
from scoring.services import scheme_errors, scheme_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_ERRORS = "simulate_errors"
KEEP_ERROR_LISTS = 5
ACTION_DOWNLOAD = "download"

SCHEME_VERSION, SCHEME_PRESET, SCHEME_FILE = "version", "preset", "file"
DATA_ROUND, DATA_FILE = "round", "file"


class SchemeVersionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SchemeVersion) -> str:
        return f"{obj.campaign.year}年 · {obj}"


class RoundField(forms.ModelChoiceField):
    def label_from_instance(self, obj: RatingRound) -> str:
        return f"{obj.campaign.year}年 · {obj.title}（{obj.get_applies_to_display()}）"


class SimulateForm(forms.Form):
    scheme_source = forms.ChoiceField(
        label="评星方案",
        choices=[
            (SCHEME_VERSION, "活动中保存的方案版本"),
            (SCHEME_PRESET, "预置方案"),
            (SCHEME_FILE, "上传方案文件（JSON）"),
        ],
        initial=SCHEME_VERSION,
        widget=forms.RadioSelect,
    )
    version = SchemeVersionField(label="方案版本", queryset=SchemeVersion.objects.none(), required=False)
    preset = forms.ChoiceField(label="预置方案", choices=(), required=False)
    scheme_file = forms.FileField(label="方案文件（.json）", required=False)
    data_source = forms.ChoiceField(
        label="测算数据",
        choices=[(DATA_ROUND, "评星的当前数据"), (DATA_FILE, "上传汇总表（.xlsx）")],
        initial=DATA_ROUND,
        widget=forms.RadioSelect,
    )
    round = RoundField(label="评星", queryset=RatingRound.objects.none(), required=False)
    scores_file = forms.FileField(
        label="汇总表文件（.xlsx）", required=False, help_text="格式见“汇总表格式”说明，不超过 10 MB。"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = schemes_visible_to(user).order_by("-campaign__year", "name", "-number")
        cast(SchemeVersionField, self.fields["version"]).queryset = versions
        cast(RoundField, self.fields["round"]).queryset = rounds_visible_to(user)
        cast(forms.ChoiceField, self.fields["preset"]).choices = [("", "——"), *simulation.preset_choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        source = data.get("scheme_source")
        if source == SCHEME_VERSION:
            if data.get("version") is None:
                self.add_error("version", "请选择方案版本。")
            else:
                data["scheme"] = scheme_of(data["version"])
        elif source == SCHEME_PRESET:
            if not data.get("preset"):
                self.add_error("preset", "请选择预置方案。")
            else:
                data["scheme"] = presets.load(data["preset"])
        elif source == SCHEME_FILE:
            data["scheme"] = self._uploaded_scheme(data.get("scheme_file"))
        if data.get("data_source") == DATA_ROUND and data.get("round") is None:
            self.add_error("round", "请选择评星。")
        if data.get("data_source") == DATA_FILE and not data.get("scores_file"):
            self.add_error("scores_file", "请上传汇总表文件。")
        return data

    def _uploaded_scheme(self, upload: Any) -> Scheme | None:
        if not upload:
            self.add_error("scheme_file", "请上传方案文件。")
            return None
        if upload.size > simulation.SCHEME_FILE_MAX_BYTES:
            self.add_error(
                "scheme_file",
                simulation.ERR_SCHEME_TOO_LARGE.format(limit=human_size(simulation.SCHEME_FILE_MAX_BYTES)),
            )
            return None
        try:
            return simulation.scheme_from_json(upload.read())
        except SchemeError as exc:
            self.add_error("scheme_file", [forms.ValidationError(line) for line in scheme_errors(exc)])
            return None


def _committee_only(request: AuthedHttpRequest) -> None:
    if not permissions.can_manage_rating(request.user):
        raise PermissionDenied("只有工委工作人员可以进行评星模拟测算。")


def _xlsx(data: bytes, filename: str) -> FileResponse:
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=filename, content_type=XLSX)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _remember(request: AuthedHttpRequest, errors: list[RowError]) -> str:
    key = secrets.token_urlsafe(12)
    stored: dict[str, Any] = dict(request.session.get(SESSION_ERRORS, {}))
    stored[key] = errors
    request.session[SESSION_ERRORS] = dict(list(stored.items())[-KEEP_ERROR_LISTS:])
    return key


def _table(form: SimulateForm) -> simulation.ScoreTable:
    data = form.cleaned_data
    if data["data_source"] == DATA_ROUND:
        return simulation.current_inputs(data["round"], today=timezone.localdate())
    return simulation.read_scores(data["scores_file"], data["scheme"])


@require_http_methods(["GET", "POST"])
@access(STAFF)
def simulate(request: AuthedHttpRequest) -> HttpResponseBase:
    """Choose a scheme and the data, then show the simulated result or download it (nothing is stored)."""
    _committee_only(request)
    form = SimulateForm(request.POST or None, request.FILES or None, user=request.user)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            table = _table(form)
        except simulation.ScoresError as exc:
            context.update(score_errors=exc.errors, errors_key=_remember(request, exc.errors))
        else:
            sim = simulation.run(form.cleaned_data["scheme"], table)
            if request.POST.get("action") == ACTION_DOWNLOAD:
                stamp = timezone.localtime(sim.at).strftime("%Y%m%d_%H%M")
                return _xlsx(simulation.simulation_workbook(sim), f"评星模拟测算_{stamp}.xlsx")
            context.update(sim=sim, scheme_lines=simulation.scheme_summary(sim.scheme))
    return render(request, "scoring/simulate.html", context)


@require_GET
@access(STAFF)
def simulate_errors(request: AuthedHttpRequest, key: str) -> FileResponse:
    _committee_only(request)
    errors = request.session.get(SESSION_ERRORS, {}).get(key)
    if errors is None:
        raise Http404("错误清单已过期，请重新上传。")
    return _xlsx(errors_workbook(errors), "汇总表错误清单.xlsx")


urlpatterns: list[URLPattern] = [
    path("simulate/", simulate, name="simulate"),
    path("simulate/errors/<str:key>.xlsx", simulate_errors, name="simulate_errors"),
]
