from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "apps.console"
    label = "console"
    verbose_name = "Operator console"

    def ready(self) -> None:
        # Django app loading: the permissions module imports auth models, ready only now
        from apps.console.permissions import moderator_group_sync_on_migrate

        post_migrate.connect(moderator_group_sync_on_migrate, sender=self, dispatch_uid="console.moderator_group")
