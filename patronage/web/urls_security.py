"""Staff UI routes for sign-in security: two-factor authentication and API keys."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
