"""Staff UI routes for roles, grants, login models and access reports."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
