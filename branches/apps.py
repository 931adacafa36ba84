from django.apps import AppConfig


class BranchesConfig(AppConfig):
    name = "branches"
    verbose_name = "组织与人员"

    def ready(self) -> None:
        from branches import signals  # noqa: F401  (audit of logins and logouts)
