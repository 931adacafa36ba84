"""Forms of the notification settings: personal preferences and an organisation's group robots."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator

from branches.models import DigestMode, WebhookPlatform

URL_ERROR = "请填写以 https:// 或 http:// 开头的完整网址。"


class _Styled(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, forms.CheckboxInput | forms.RadioSelect):
                continue
            w.attrs.setdefault("class", "form-select" if isinstance(w, forms.Select) else "form-control")


class PreferenceForm(_Styled):
    """站内消息 always on; e-mail on/off; the digest cadence (or the 工委's default)."""

    email_enabled = forms.BooleanField(label="接收电子邮件提醒", required=False)
    digest = forms.ChoiceField(
        label="提醒汇总",
        choices=DigestMode.choices,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": "请选择提醒汇总方式。"},
    )


class WebhookForm(_Styled):
    platform = forms.ChoiceField(
        label="平台",
        choices=WebhookPlatform.choices,
        error_messages={"required": "请选择平台。", "invalid_choice": "请选择平台。"},
    )
    name = forms.CharField(
        label="名称", max_length=50, error_messages={"required": "请填写名称，如“支部委员群”。"}
    )
    url = forms.URLField(
        label="Webhook 地址",
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"], message=URL_ERROR)],
        error_messages={"required": "请填写 Webhook 地址。", "invalid": URL_ERROR},
        widget=forms.URLInput(
            attrs={"placeholder": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}
        ),
    )
    secret = forms.CharField(
        label="签名密钥（可选）",
        max_length=200,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="钉钉机器人“加签”的密钥（SEC 开头），或通用 Webhook 的签名密钥；企业微信可不填。",
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("请填写名称，如“支部委员群”。")
        return name

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"]).strip()
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(URL_ERROR)
        return url


class WebhookEditForm(WebhookForm):
    clear_secret = forms.BooleanField(label="清除已设置的签名密钥", required=False)

    def __init__(self, *args: Any, has_secret: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_secret:
            self.fields["secret"].help_text = "已设置密钥；留空则保持不变，填写则替换为新密钥。"
        else:
            del self.fields["clear_secret"]
