"""Forms of the reminder pages: the preview's filters, the rules and the 工委's reminder settings."""

from __future__ import annotations

from typing import Any

from django import forms

from branches.models import DeliveryStatus
from campaigns.forms.entries import StyledForm
from campaigns.forms.notices import StyledModelForm
from campaigns.models import Audience, ReminderPolicy, ReminderRule, ReminderSource, ReminderStatus

OFFSET_LIMIT = 365

ERR_NO_CHANNEL = "请至少选择一种提醒渠道。"
ERR_QUIET_PAIR = "免打扰开始和结束时间需同时填写，或同时留空。"
ERR_QUIET_SAME = "免打扰开始和结束时间不能相同。"


def _any(choices: Any) -> list[tuple[str, str]]:
    return [("", "全部"), *choices]


class PreviewDayForm(StyledForm):
    date = forms.DateField(
        label="提醒日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "日期格式应为 YYYY-MM-DD。"},
    )


class ReminderLogFilterForm(PreviewDayForm):
    status = forms.ChoiceField(label="状态", choices=_any(ReminderStatus.choices), required=False)
    source = forms.ChoiceField(label="事项类型", choices=_any(ReminderSource.choices), required=False)
    audience = forms.ChoiceField(label="提醒对象", choices=_any(Audience.choices), required=False)


class DeliveryFilterForm(StyledForm):
    status = forms.ChoiceField(label="状态", choices=_any(DeliveryStatus.choices), required=False)


class ReminderRuleForm(StyledModelForm):
    """One rung of a ladder; duplicates (same source, timing and audience) are refused by the service."""

    offset_days = forms.IntegerField(
        label="时点（天）",
        min_value=-OFFSET_LIMIT,
        max_value=OFFSET_LIMIT,
        help_text="负数为到期前若干天，0 为当天，正数为逾期/开始后若干天（-365 至 365）",
        error_messages={
            "required": "请填写时点（天数）。",
            "invalid": "时点应为整数天数。",
            "min_value": f"时点不能早于到期前{OFFSET_LIMIT}天。",
            "max_value": f"时点不能晚于逾期{OFFSET_LIMIT}天。",
        },
    )

    class Meta:
        model = ReminderRule
        fields = [
            "name",
            "source",
            "offset_days",
            "audience",
            "via_inbox",
            "via_email",
            "via_webhook",
            "is_active",
        ]
        error_messages = {
            "name": {"required": "请填写规则名称。"},
            "source": {"required": "请选择事项。"},
            "audience": {"required": "请选择提醒对象。"},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("via_inbox", "via_email", "via_webhook", "is_active"):
            self.fields[name].widget.attrs.setdefault("class", "form-check-input")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("via_inbox") or data.get("via_email") or data.get("via_webhook")):
            raise forms.ValidationError(ERR_NO_CHANNEL)
        return data


class ReminderPolicyForm(StyledModelForm):
    class Meta:
        model = ReminderPolicy
        fields = ["dispatch_time", "quiet_start", "quiet_end", "digest", "digest_weekday"]
        widgets = {
            "dispatch_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "dispatch_time": "每日提醒在此时间后发送",
            "quiet_start": "免打扰时段内暂缓发送提醒（公示等即时通知的站内消息除外），结束后补发；留空则不设免打扰",
            "digest": "每人每天（或每周一次）收到一条汇总消息，列出全部待办事项；个人可在通知设置中另选",
            "digest_weekday": "仅每周汇总时使用",
        }
        error_messages = {
            "dispatch_time": {"required": "请填写每日发送时间。", "invalid": "时间格式应为 HH:MM。"},
            "quiet_start": {"invalid": "时间格式应为 HH:MM。"},
            "quiet_end": {"invalid": "时间格式应为 HH:MM。"},
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None) and not self.errors:
            raise forms.ValidationError(ERR_QUIET_PAIR)
        if start is not None and start == end:
            raise forms.ValidationError(ERR_QUIET_SAME)
        return data
