"""Staff UI routes: sis synchronisation."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
