from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Integrations (webhooks, metrics)"

    def ready(self) -> None:
        # Django's app loading: the Celery task entry points must be registered in every
        # process (the webhooks queue them by name), and a task module can only be imported
        # once the apps are loaded.
        from apps.integrations import tasks  # noqa: F401
