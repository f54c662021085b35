from django.apps import AppConfig


class OrganizationConfig(AppConfig):
    name = "patronage.organization"
    label = "organization"
    verbose_name = "Institution and its units"
