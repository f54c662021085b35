from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "patronage.web"
    label = "web"
    verbose_name = "Staff web UI"
