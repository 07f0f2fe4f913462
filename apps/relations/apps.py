from typing import Any

from django.apps import AppConfig


class RelationsConfig(AppConfig):
    name = "apps.relations"
    label = "relations"

    def ready(self) -> None:
        # Django's app loading: services import models, so they are imported once the apps are ready
        from apps.accounts.signals import user_profile_changed
        from apps.relations.services import friend_info_changed

        def tell_friends(sender: Any, *, user: Any, fields: list[str], **_: Any) -> None:
            friend_info_changed(user=user, fields=fields)

        user_profile_changed.connect(tell_friends, weak=False, dispatch_uid="relations.friend_info_changed")
