"""Staff UI routes: access governance (role requests, the directory, removal, the yearly
confidentiality acknowledgement)."""

from django.urls import URLPattern, path

from .views import approvals as requests
from .views import approvals_acknowledgement as acknowledgement
from .views import approvals_directory as directory

urlpatterns: list[URLPattern] = [
    # Role requests
    path("governance/requests/", requests.inbox, name="approvals_inbox"),
    path("governance/requests/new/", requests.request_new, name="approvals_request_new"),
    path(
        "governance/requests/new/scopes/",
        requests.request_scopes,
        name="approvals_request_scopes",
    ),
    path("governance/requests/<int:pk>/", requests.request_detail, name="approvals_request"),
    path(
        "governance/requests/<int:pk>/sign-off/",
        requests.request_sign_off,
        name="approvals_sign_off",
    ),
    path("governance/requests/<int:pk>/decide/", requests.request_decide, name="approvals_decide"),
    path(
        "governance/requests/<int:pk>/co-approve/",
        requests.request_co_approve,
        name="approvals_co_approve",
    ),
    path("governance/privacy-form/", requests.my_privacy_form, name="my_privacy_form"),
    path(
        "governance/requests/<int:pk>/sandbox/", requests.request_sandbox, name="approvals_sandbox"
    ),
    path(
        "governance/requests/<int:pk>/training/",
        requests.request_training,
        name="approvals_training",
    ),
    path(
        "governance/requests/<int:pk>/production/",
        requests.request_production,
        name="approvals_production",
    ),
    path(
        "governance/requests/<int:pk>/withdraw/",
        requests.request_withdraw,
        name="approvals_withdraw",
    ),
    # The directory
    path("governance/directory/", directory.directory, name="governance_directory"),
    path("governance/directory/units/", directory.unit_add, name="directory_unit_add"),
    path(
        "governance/directory/units/<int:unit_id>/",
        directory.unit_edit,
        name="directory_unit_edit",
    ),
    path(
        "governance/directory/units/<int:unit_id>/delete/",
        directory.unit_delete,
        name="directory_unit_delete",
    ),
    path("governance/directory/contacts/", directory.contact_add, name="directory_contact_add"),
    path(
        "governance/directory/contacts/<int:contact_id>/remove/",
        directory.contact_remove,
        name="directory_contact_remove",
    ),
    path("governance/directory/stewards/", directory.steward_add, name="directory_steward_add"),
    path(
        "governance/directory/stewards/<int:steward_id>/remove/",
        directory.steward_remove,
        name="directory_steward_remove",
    ),
    path(
        "governance/directory/placements/",
        directory.placement_save,
        name="directory_placement_save",
    ),
    path("governance/directory/holidays/", directory.holiday_add, name="directory_holiday_add"),
    path(
        "governance/directory/holidays/<int:holiday_id>/remove/",
        directory.holiday_remove,
        name="directory_holiday_remove",
    ),
    path(
        "governance/directory/privacy-form/",
        directory.privacy_form_publish,
        name="directory_privacy_form_publish",
    ),
    # Separations and transfers
    path("governance/separations/", directory.separations, name="separations"),
    path("governance/separations/add/", directory.separation_add, name="separation_add"),
    path("governance/separations/upload/", directory.separation_upload, name="separation_upload"),
    path("governance/transfers/", directory.transfer, name="transfer"),
    # The yearly confidentiality acknowledgement
    path("governance/acknowledgement/", acknowledgement.acknowledgement, name="acknowledgement"),
    path(
        "governance/acknowledgements/",
        acknowledgement.acknowledgement_report,
        name="acknowledgement_report",
    ),
    path("governance/policy/publish/", acknowledgement.policy_publish, name="policy_publish"),
]
