from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"

    def ready(self) -> None:
        # Django's app loading: the Celery task entry points must be registered in every
        # process (server nodes queue them by name, apps.messaging.delivery), and a task
        # module can only be imported once the apps are loaded.
        from apps.messaging import tasks  # noqa: F401
