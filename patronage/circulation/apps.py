from django.apps import AppConfig


class CirculationConfig(AppConfig):
    name = "patronage.circulation"
    label = "circulation"
    verbose_name = "Circulation"
