"""Staff UI routes: privacy (the access log and its reports, privacy settings)."""

from django.urls import URLPattern, path

from .views import privacy

urlpatterns: list[URLPattern] = [
    path("privacy/access-log/", privacy.access_log, name="privacy_access_log"),
    path("privacy/access-log/lookup/", privacy.access_log_lookup, name="privacy_access_log_lookup"),
    path("privacy/access-log/patrons/<int:pk>/", privacy.views_of, name="privacy_views_of"),
    path("privacy/access-log/staff/<int:pk>/", privacy.views_by, name="privacy_views_by"),
    path("privacy/unusual-volume/", privacy.unusual_volume, name="privacy_unusual_volume"),
    path("config/privacy/", privacy.privacy_settings, name="privacy_settings"),
]
