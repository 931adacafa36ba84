"""Forms for the obligations calendar (经常性工作) and for recording a period."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet

from branches.models import OrgUnit
from campaigns.forms.entries import DATE_WIDGET, StyledForm
from campaigns.forms.notices import StyledModelForm
from campaigns.models import Obligation
from campaigns.reminders.calendar import Period
from campaigns.reminders.sources import period_label
from campaigns.services.obligations import period_for


class ObligationForm(StyledModelForm):
    """One obligation of the 工委's calendar; the name is unique within the 工委."""

    class Meta:
        model = Obligation
        fields = [
            "name",
            "applies_to",
            "frequency",
            "due_day",
            "due_month",
            "min_full_members",
            "item_code",
            "description",
            "sort_order",
            "is_active",
        ]
        error_messages = {
            "name": {"required": "请填写名称。"},
            "applies_to": {"required": "请选择适用组织。"},
            "frequency": {"required": "请选择频次。"},
        }
        help_texts = {
            "due_day": "1～31；留空为期末最后一天，超过当月天数按当月最后一天",
            "due_month": "1～12，仅每年一次的工作",
            "min_full_members": "例如支部委员会会议：正式党员7人以上的支部才需召开；0 为不限",
            "item_code": "清单中对应任务的编码；该期任务完成即视为已开展",
        }

    def __init__(self, *args: Any, committee: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committee = committee

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("请填写名称。")
        clash = Obligation.objects.filter(committee=self.committee, name=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("已有同名的经常性工作，请换一个名称。")
        return name

    def clean_due_day(self) -> int | None:
        day = self.cleaned_data.get("due_day")
        if day is not None and not 1 <= day <= 31:
            raise forms.ValidationError("每期截止日应为 1～31 之间的整数，或留空表示期末最后一天。")
        return day

    def clean_due_month(self) -> int:
        month = self.cleaned_data.get("due_month")
        if month is None:
            return 12
        if not 1 <= month <= 12:
            raise forms.ValidationError("年度截止月应为 1～12 之间的整数。")
        return month

    def clean_item_code(self) -> str:
        return str(self.cleaned_data.get("item_code") or "").strip()


class ObligationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Obligation) -> str:  # type: ignore[override]
        return f"{obj.name}（{obj.get_frequency_display()}）"


class ObligationRecordForm(StyledForm):
    """Record that the organisation held an obligation in one period."""

    obligation = ObligationChoiceField(
        label="经常性工作",
        queryset=Obligation.objects.none(),
        error_messages={"required": "请选择经常性工作。", "invalid_choice": "该项工作不适用于本组织。"},
    )
    period_key = forms.CharField(
        label="期次",
        max_length=10,
        help_text="如 2026-03（月）、2026-Q2（季度）、2026-H1（半年）、2026（年）",
        error_messages={"required": "请填写期次。"},
    )
    held_on = forms.DateField(
        label="开展日期",
        widget=DATE_WIDGET,
        error_messages={"required": "请填写开展日期。", "invalid": "请输入正确的日期。"},
    )
    note = forms.CharField(label="说明（可选）", max_length=200, required=False)

    def __init__(self, *args: Any, obligations: QuerySet[Obligation], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["obligation"].queryset = obligations  # type: ignore[attr-defined]
        self.today = today
        self.period: Period | None = None

    def clean_held_on(self) -> date:
        held_on: date = self.cleaned_data["held_on"]
        if held_on > self.today:
            raise forms.ValidationError("开展日期不能晚于今天。")
        return held_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        obligation = data.get("obligation")
        key = (data.get("period_key") or "").strip().upper()
        if obligation is None or not key:
            return data
        period = period_for(obligation, key)
        if period is None:
            self.add_error(
                "period_key",
                f"期次“{key}”不是{obligation.name}（{obligation.get_frequency_display()}）的期次，"
                "请按 2026-03、2026-Q2、2026-H1 或 2026 的格式填写。",
            )
            return data
        data["period_key"] = period.key
        self.period = period
        held_on = data.get("held_on")
        if held_on is not None and held_on < period.start:
            self.add_error(
                "held_on",
                f"开展日期不能早于{period_label(period.key)}的开始日期（{period.start:%Y-%m-%d}）。",
            )
        return data
