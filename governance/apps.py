from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"

    def ready(self):
        from governance import checks  # noqa: F401 - registers the PII vault key check
