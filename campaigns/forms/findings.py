"""Forms for findings and the rectification loop: each accepts only its own fields (R4)."""

from __future__ import annotations

from django import forms

from campaigns.forms.entries import DATE_WIDGET, StyledForm
from campaigns.models import FindingSource, RectificationStatus, Severity

TEXT = forms.Textarea(attrs={"rows": 3})


def _blank(label: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


class FindingFilterForm(StyledForm):
    source = forms.ChoiceField(required=False, choices=_blank("全部来源", FindingSource.choices))
    severity = forms.ChoiceField(required=False, choices=_blank("全部程度", Severity.choices))
    status = forms.ChoiceField(required=False, choices=_blank("全部状态", RectificationStatus.choices))
    org = forms.CharField(required=False, max_length=50)
    overdue = forms.BooleanField(required=False)
    repeat = forms.BooleanField(required=False)


class FindingForm(StyledForm):
    org_code = forms.CharField(label="党组织代码", max_length=50)
    source = forms.ChoiceField(
        label="问题来源",
        choices=[c for c in FindingSource.choices if c[0] != FindingSource.SELF_CHECK],
    )
    category = forms.CharField(label="问题类别", max_length=50, required=False)
    severity = forms.ChoiceField(label="严重程度", choices=Severity.choices, initial=Severity.MINOR)
    description = forms.CharField(label="问题描述", max_length=5000, widget=TEXT)
    is_immediate = forms.BooleanField(label="立行立改", required=False)
    deadline = forms.DateField(label="整改时限", required=False, widget=DATE_WIDGET)
    item_code = forms.CharField(label="关联任务编号（可选）", max_length=50, required=False)


class RectVersionForm(StyledForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class PlanForm(RectVersionForm):
    measures = forms.CharField(label="整改措施", max_length=5000, widget=TEXT)
    responsible_name = forms.CharField(label="责任人", max_length=50)
    leader_name = forms.CharField(label="责任领导", max_length=50)
    deadline = forms.DateField(label="整改时限", widget=DATE_WIDGET)


class DecideForm(RectVersionForm):
    """Approve or reject; a rejection needs the reason (checked by the service)."""

    decision = forms.ChoiceField(choices=[("approve", "通过"), ("reject", "退回")], widget=forms.HiddenInput)
    comment = forms.CharField(
        label="意见", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseDecideForm(RectVersionForm):
    decision = forms.ChoiceField(choices=[("close", "销号"), ("reject", "退回")], widget=forms.HiddenInput)
    comment = forms.CharField(
        label="意见", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ProgressForm(RectVersionForm):
    progress = forms.CharField(label="整改进展", max_length=5000, widget=TEXT)


class ExtensionForm(StyledForm):
    until = forms.DateField(label="申请延期至", widget=DATE_WIDGET)
    reason = forms.CharField(label="延期理由", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ExtensionDecideForm(StyledForm):
    decision = forms.ChoiceField(choices=[("approve", "批准"), ("refuse", "不批准")])
    note = forms.CharField(label="审批意见", max_length=1000, required=False)


class CloseRequestForm(RectVersionForm):
    progress = forms.CharField(label="整改完成情况", max_length=5000, widget=TEXT)
    evidence = forms.TypedMultipleChoiceField(label="已有佐证材料", required=False, coerce=int, choices=[])
    title = forms.CharField(label="材料名称（可选）", max_length=200, required=False)

    def __init__(
        self, *args: object, evidence_choices: list[tuple[int, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["evidence"].choices = evidence_choices or []  # type: ignore[attr-defined]
