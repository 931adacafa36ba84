from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "评星定级"

    def ready(self) -> None:
        from scoring import reminders

        reminders.install()
