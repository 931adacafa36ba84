"""Forms for notices (通报), interviews (约谈) and progress snapshots (年中晒进度)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from branches.models import User
from campaigns.forms.entries import StyledForm
from campaigns.models import Interview, Notice, NoticeKind, ProgressSnapshot


class StyledModelForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if not isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault(
                    "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
                )


class NoticeScopeForm(StyledForm):
    """Step one of drafting (GET): the scope and kind; the lists below follow the scope."""

    scope = forms.CharField(label="发布范围（组织编码）", max_length=50)
    kind = forms.ChoiceField(label="类型", choices=NoticeKind.choices, initial=NoticeKind.WORK)


class NoticeEditForm(StyledModelForm):
    class Meta:
        model = Notice
        fields = ["kind", "number", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 20})}


class InterviewForm(StyledModelForm):
    interviewee = forms.ModelChoiceField(
        label="被约谈人账号（可选）", queryset=User.objects.none(), required=False
    )

    class Meta:
        model = Interview
        fields = [
            "interviewee_name",
            "interviewer_names",
            "held_at",
            "location",
            "reason",
            "outcome",
            "follow_up",
            "follow_up_due",
        ]
        widgets = {
            "held_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "follow_up_due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "reason": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "follow_up": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, accounts: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interviewee"].queryset = accounts  # type: ignore[attr-defined]
        self.fields["held_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]  # type: ignore[attr-defined]


class SnapshotForm(StyledModelForm):
    class Meta:
        model = ProgressSnapshot
        fields = ["title", "taken_on"]
        widgets = {"taken_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
