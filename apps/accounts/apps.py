from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Users and tokens"

    def ready(self) -> None:
        from apps.accounts import usercache  # needs the models, which are loaded by now

        user = self.get_model("User")
        post_save.connect(usercache.user_changed, sender=user, dispatch_uid="accounts.usercache.save")
        post_delete.connect(usercache.user_changed, sender=user, dispatch_uid="accounts.usercache.delete")
        pre_save.connect(usercache.user_renaming, sender=user, dispatch_uid="accounts.usercache.rename")
