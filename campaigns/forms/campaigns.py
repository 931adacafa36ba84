"""Forms of the campaign and task-list pages: shape and types only; business rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms

from branches.models import OrgKind, Role
from campaigns.models import CHECK_METHODS, Campaign, CampaignEvent, ChecklistItem, Frequency, Section
from campaigns.services.campaigns import CALENDAR_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", *CALENDAR_FIELDS, "publicity_days", "letter_text"]
        widgets = {f: DATE_WIDGET for f in CALENDAR_FIELDS} | {
            "letter_text": forms.Textarea(attrs={"rows": 4})
        }


class CampaignCreateForm(CampaignForm):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)

    class Meta(CampaignForm.Meta):
        fields = ["year", *CampaignForm.Meta.fields]


class CampaignCloneForm(forms.Form):
    year = forms.IntegerField(label="新年度", min_value=2000, max_value=2100)


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = CampaignEvent
        fields = ["kind", "title", "starts_on", "ends_on", "location", "description"]
        widgets = {
            "starts_on": DATE_WIDGET,
            "ends_on": DATE_WIDGET,
            "description": forms.Textarea(attrs={"rows": 3}),
        }


class SectionForm(forms.ModelForm):
    class Meta:
        model = Section
        fields = ["name", "sort_order"]


class ItemForm(forms.ModelForm):
    """One task; the section list is limited to the campaign's sections by the view."""

    check_methods = forms.MultipleChoiceField(
        label="考评方式",
        required=False,
        choices=[(m, m) for m in CHECK_METHODS],
        widget=forms.CheckboxSelectMultiple,
    )
    kinds = forms.MultipleChoiceField(
        label="适用组织类型",
        required=False,
        choices=OrgKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选表示全部适用",
    )
    responsible_role = forms.ChoiceField(
        label="责任人角色", required=False, choices=[("", "—"), *Role.choices]
    )
    frequency = forms.ChoiceField(label="频次", choices=Frequency.choices)

    class Meta:
        model = ChecklistItem
        fields = [
            "section",
            "code",
            "title",
            "requirement",
            "evidence_guidance",
            "points",
            "scoring_rule",
            "due_date",
            "frequency",
            "responsible_role",
            "sort_order",
        ]
        widgets = {
            "due_date": DATE_WIDGET,
            "requirement": forms.Textarea(attrs={"rows": 3}),
            "evidence_guidance": forms.Textarea(attrs={"rows": 2}),
            "scoring_rule": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        section_field = self.fields["section"]
        assert isinstance(section_field, forms.ModelChoiceField)
        section_field.queryset = Section.objects.filter(campaign=campaign)
        self.fields["sort_order"].required = False
        if self.instance.pk:
            self.initial["check_methods"] = [m for m in CHECK_METHODS if m in self.instance.check_method]
            self.initial["kinds"] = list(self.instance.applicable_kinds)

    def service_values(self) -> dict[str, Any]:
        """The cleaned data in the shape the item services take."""
        data = dict(self.cleaned_data)
        data["check_method"] = "、".join(data.pop("check_methods"))
        data["applicable_kinds"] = data.pop("kinds")
        if data.get("sort_order") is None:
            data.pop("sort_order", None)  # the service puts a new item last, an edited one stays
        return data


class TaskListImportForm(forms.Form):
    file = forms.FileField(label="任务清单文件（.xlsx）")
    dry_run = forms.BooleanField(label="仅预检，不写入", required=False)
