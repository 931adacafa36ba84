"""Forms for 年终述责: the 述职报告 and the 述职评议 sessions."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.models import EntryMode, Severity


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReportForm(VersionForm):
    title = forms.CharField(
        label="标题", max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    body = forms.CharField(
        label="正文", required=False, widget=forms.Textarea(attrs={"class": "form-control", "rows": 16})
    )


class ReportReturnForm(VersionForm):
    reason = forms.CharField(
        label="退回原因", max_length=1000, widget=forms.Textarea(attrs={"class": "form-control", "rows": 2})
    )


class ReportUploadForm(forms.Form):
    file = forms.FileField(label="附件", widget=forms.ClearableFileInput(attrs={"class": "form-control"}))
    title = forms.CharField(
        label="名称", max_length=200, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )


def _labels(value: str) -> list[str]:
    return [p.strip() for p in value.replace("，", ",").replace("、", ",").split(",") if p.strip()]


class SessionForm(forms.Form):
    title = forms.CharField(label="名称", max_length=200)
    held_on = forms.DateField(label="召开日期", widget=forms.DateInput(attrs={"type": "date"}))
    scope = forms.CharField(label="评议范围（组织编码）", max_length=50)
    entry_mode = forms.ChoiceField(label="录入方式", choices=EntryMode.choices)
    scale = forms.CharField(label="评价档次（逗号分隔）", initial="好,较好,一般,差")
    good_labels = forms.CharField(label="计入好评的档次", initial="好,较好")
    thresholds = forms.CharField(
        label="等次标准（每行：最低好评率 等次）",
        initial="0.9 好\n0.7 较好\n0.5 一般\n0 差",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    raters = forms.CharField(
        label="评议人（用户名，逗号或换行分隔）", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean_scale(self) -> list[str]:
        return _labels(self.cleaned_data["scale"])

    def clean_good_labels(self) -> list[str]:
        return _labels(self.cleaned_data["good_labels"])

    def clean_thresholds(self) -> list[list[str]]:
        rows = []
        for line in self.cleaned_data["thresholds"].splitlines():
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise forms.ValidationError("每行填写“最低好评率 等次”，例如：0.9 好")
            rows.append(parts)
        return rows

    def clean_raters(self) -> list[str]:
        return _labels(self.cleaned_data["raters"].replace("\n", ","))


class ReporterForm(forms.Form):
    org = forms.CharField(label="述职组织（组织编码）", max_length=50)
    reporter_name = forms.CharField(label="述职人", max_length=50, required=False)


class BallotForm(forms.Form):
    label = forms.CharField(max_length=20)


class ReviewFindingForm(forms.Form):
    description = forms.CharField(
        label="点评问题", widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )
    severity = forms.ChoiceField(
        label="严重程度", choices=Severity.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
