"""Staff UI routes for sign-in security: two-factor authentication and API keys."""

from django.urls import URLPattern, path

from .views import security

urlpatterns: list[URLPattern] = [
    path("users/<int:pk>/api-keys/", security.api_keys, name="api_keys"),
    path(
        "users/<int:pk>/api-keys/<int:key_id>/revoke/",
        security.api_key_revoke,
        name="api_key_revoke",
    ),
    path("users/<int:pk>/two-factor/", security.two_factor, name="two_factor"),
    path("users/<int:pk>/two-factor/reset/", security.two_factor_reset, name="two_factor_reset"),
]
