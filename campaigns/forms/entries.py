"""Forms for filling in, duties and review: each accepts only its own fields (R4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from branches.models import User
from campaigns.models import EntryStatus, ReviewStage

SCORE_FIELD = {"max_digits": 6, "decimal_places": 2, "min_value": Decimal("0")}
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StyledForm(forms.Form):
    """Bootstrap classes on the widgets, so templates render fields without per-field markup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput | forms.CheckboxInput):
                continue
            widget.attrs.setdefault(
                "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
            )


class VersionForm(StyledForm):
    """The version the user loaded; a stale one is refused by the service (R11)."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    # A signed snapshot of what the user saw, only used to list the changes of a conflict.
    seen = forms.CharField(required=False, max_length=20000, widget=forms.HiddenInput)


class ProgressForm(VersionForm):
    progress_note = forms.CharField(
        label="工作进展", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    completed_on = forms.DateField(label="完成日期", required=False, widget=DATE_WIDGET)
    self_score = forms.DecimalField(label="自评得分", required=False, **SCORE_FIELD)  # type: ignore[arg-type]


class ReasonForm(VersionForm):
    reason = forms.CharField(label="理由", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(StyledForm):
    reason = forms.CharField(
        label="重新打开的理由", max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(VersionForm):
    score = forms.DecimalField(label="得分", required=False, **SCORE_FIELD)  # type: ignore[arg-type]
    comment = forms.CharField(
        label="审核意见", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignForm(VersionForm):
    responsible = forms.ModelChoiceField(
        label="责任人", queryset=User.objects.none(), required=False, empty_label="（未指定）"
    )
    due_date = forms.DateField(label="完成时限", required=False, widget=DATE_WIDGET)

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["responsible"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people


class BulkAssignForm(forms.Form):
    """Several entries of one checklist at once; entry ids are re-fetched from that checklist."""

    entries = forms.TypedMultipleChoiceField(label="条目", coerce=int, choices=())
    responsible = forms.ModelChoiceField(
        label="责任人", queryset=User.objects.none(), required=False, empty_label="（不修改）"
    )
    due_date = forms.DateField(label="完成时限", required=False, widget=DATE_WIDGET)

    def __init__(self, *args: Any, people: QuerySet[User], entry_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["responsible"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people
        entries = self.fields["entries"]
        assert isinstance(entries, forms.TypedMultipleChoiceField)
        entries.choices = [(i, str(i)) for i in entry_ids]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("responsible") and not data.get("due_date"):
            raise forms.ValidationError("请选择责任人或填写完成时限。")
        return data


class LetterSignForm(forms.Form):
    """The digest of the text the secretary read; a changed text must be read again."""

    digest = forms.CharField(max_length=64, widget=forms.HiddenInput)
    confirm = forms.BooleanField(label="我已阅读并承诺履行上述责任")


FILTER_ALL, FILTER_TODO, FILTER_OVERDUE, FILTER_RETURNED = "all", "todo", "overdue", "returned"
CHECKLIST_FILTERS = (
    (FILTER_ALL, "全部"),
    (FILTER_TODO, "待办"),
    (FILTER_OVERDUE, "逾期"),
    (FILTER_RETURNED, "已退回"),
)


class ReviewFilterForm(forms.Form):
    org = forms.CharField(label="组织", required=False, max_length=50)
    section = forms.TypedChoiceField(label="类别", required=False, coerce=int, empty_value=None, choices=())
    stage = forms.ChoiceField(
        label="审核环节",
        required=False,
        choices=[("", "全部环节"), (ReviewStage.PARENT, "上级初审"), (ReviewStage.COMMITTEE, "工委审核")],
    )
    na_only = forms.BooleanField(label="仅不适用申请", required=False)
    overdue = forms.BooleanField(label="仅逾期", required=False)

    def __init__(self, *args: Any, sections: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["section"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "全部类别"), *sections]


__all__ = ["EntryStatus"]
