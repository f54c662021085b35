"""Staff UI routes: access governance (role requests, the directory, removal, the yearly
confidentiality acknowledgement)."""

from django.urls import URLPattern, path

from .views import approvals_acknowledgement as acknowledgement

urlpatterns: list[URLPattern] = [
    path("governance/acknowledgement/", acknowledgement.acknowledgement, name="acknowledgement"),
    path(
        "governance/acknowledgements/",
        acknowledgement.acknowledgement_report,
        name="acknowledgement_report",
    ),
    path("governance/policy/publish/", acknowledgement.policy_publish, name="policy_publish"),
]
