from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "patronage.audit"
    label = "audit"
    verbose_name = "Audit trail"
