from typing import Any

from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "apps.groups"
    label = "groups"

    def ready(self) -> None:
        # Django's app loading: services import models, so they are imported once the apps are ready
        from apps.accounts.signals import user_profile_changed
        from apps.groups.services import member_profile_changed

        def tell_member_lists(sender: Any, *, user: Any, fields: list[str], **_: Any) -> None:
            member_profile_changed(user=user, fields=fields)

        user_profile_changed.connect(tell_member_lists, weak=False, dispatch_uid="groups.member_profile_changed")
