from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "patronage.access"
    label = "access"
    verbose_name = "Roles and permissions"
