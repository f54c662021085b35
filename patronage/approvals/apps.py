from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "patronage.approvals"
    label = "approvals"
    verbose_name = "Access governance"
