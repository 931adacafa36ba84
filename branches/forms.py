from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from branches.models import OrgKind, Role, User

ACCOUNT_HELP = "3–64 位字母、数字或 _ . @ -"


class LoginForm(AuthenticationForm):
    # One message for a wrong account and a wrong password: no user enumeration (R6).
    error_messages = {
        "invalid_login": "账号或密码不正确。",
        "inactive": "账号或密码不正确。",
    }

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "账号"
        self.fields["password"].label = "密码"


class OrgSearchForm(forms.Form):
    q = forms.CharField(label="名称或编码", required=False, max_length=50)


class OrgListFilterForm(forms.Form):
    q = forms.CharField(label="名称或编码", required=False, max_length=50)
    kind = forms.ChoiceField(label="组织类型", required=False, choices=[("", "全部类型"), *OrgKind.choices])


class UserCreateForm(forms.Form):
    username = forms.RegexField(
        label="账号",
        regex=r"^[A-Za-z0-9_.@-]{3,64}$",
        help_text=ACCOUNT_HELP,
        error_messages={"invalid": "账号只能包含 3–64 位字母、数字或 _ . @ -。"},
    )
    full_name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    email = forms.EmailField(label="电子邮箱", required=False)


class UserEditForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "phone", "email"]
        labels = {"email": "电子邮箱"}


class RoleGrantForm(forms.Form):
    org_code = forms.CharField(label="组织编码", max_length=50, help_text="角色覆盖该组织及其全部下级组织")
    role = forms.ChoiceField(label="角色", choices=Role.choices)


class OrgImportForm(forms.Form):
    file = forms.FileField(label="组织导入文件（.xlsx）")
    dry_run = forms.BooleanField(label="仅预检，不写入", required=False)
