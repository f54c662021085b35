"""Staff UI routes: privacy (the access log and its reports, privacy settings)."""

from django.urls import URLPattern, path

from .views import privacy, privacy_legal, privacy_retention

urlpatterns: list[URLPattern] = [
    path("privacy/access-log/", privacy.access_log, name="privacy_access_log"),
    path("privacy/access-log/lookup/", privacy.access_log_lookup, name="privacy_access_log_lookup"),
    path("privacy/access-log/patrons/<int:pk>/", privacy.views_of, name="privacy_views_of"),
    path("privacy/access-log/staff/<int:pk>/", privacy.views_by, name="privacy_views_by"),
    path("privacy/unusual-volume/", privacy.unusual_volume, name="privacy_unusual_volume"),
    path("config/privacy/", privacy.privacy_settings, name="privacy_settings"),
]

urlpatterns += [
    path("privacy/legal/", privacy_legal.legal_list, name="legal_list"),
    path("privacy/legal/new/", privacy_legal.legal_new, name="legal_new"),
    path("privacy/legal/<int:request_id>/", privacy_legal.legal_detail, name="legal_detail"),
    path(
        "privacy/legal/<int:request_id>/transition/",
        privacy_legal.legal_transition,
        name="legal_transition",
    ),
    path(
        "privacy/legal/<int:request_id>/documents/",
        privacy_legal.legal_document_add,
        name="legal_document_add",
    ),
    path(
        "privacy/legal/<int:request_id>/documents/<int:document_id>/",
        privacy_legal.legal_document,
        name="legal_document",
    ),
    path(
        "privacy/legal/<int:request_id>/release/",
        privacy_legal.legal_release,
        name="legal_release",
    ),
    path(
        "privacy/legal/<int:request_id>/release/download/",
        privacy_legal.legal_release_download,
        name="legal_release_download",
    ),
]

urlpatterns += [
    path("privacy/retention/", privacy_retention.retention_page, name="privacy_retention"),
    path("privacy/forgetting/", privacy_retention.forgetting_list, name="forgetting_list"),
    path("privacy/forgetting/new/", privacy_retention.forgetting_new, name="forgetting_new"),
    path(
        "privacy/forgetting/<int:request_id>/",
        privacy_retention.forgetting_detail,
        name="forgetting_detail",
    ),
    path(
        "privacy/forgetting/<int:request_id>/decide/",
        privacy_retention.forgetting_decide,
        name="forgetting_decide",
    ),
]
