from django.apps import AppConfig


class SisConfig(AppConfig):
    name = "patronage.sis"
    label = "sis"
    verbose_name = "SIS synchronisation"
