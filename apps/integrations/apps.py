from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Integrations (webhooks, metrics)"

    def ready(self) -> None:
        from apps.common.notify import notification_listen
        from apps.integrations.webhooks import notification_stored

        notification_listen(notification_stored)
