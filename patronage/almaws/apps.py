from django.apps import AppConfig


class AlmawsConfig(AppConfig):
    name = "patronage.almaws"
    label = "almaws"
    verbose_name = "Alma-compatible API"
