from django.apps import AppConfig


class RelationsConfig(AppConfig):
    name = "apps.relations"
    label = "relations"
