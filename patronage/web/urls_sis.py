"""Staff UI routes: sis synchronisation."""

from django.urls import URLPattern, path

from .views import sis, sis_bulk, sis_profiles

urlpatterns: list[URLPattern] = [
    path("sis/runs/", sis.runs, name="sis_runs"),
    path("sis/runs/<int:run_id>/", sis.run_detail, name="sis_run"),
    path("sis/runs/<int:run_id>/progress/", sis.run_progress, name="sis_run_progress"),
    path("sis/runs/<int:run_id>/report/", sis.run_report, name="sis_run_report"),
    path("sis/profiles/", sis_profiles.profiles, name="sis_profiles"),
    path("sis/profiles/new/", sis_profiles.profile_form, name="sis_profile_add"),
    path("sis/profiles/<int:profile_id>/", sis_profiles.profile_form, name="sis_profile"),
    path("bulk/", sis_bulk.bulk, name="bulk"),
    path("bulk/searches/", sis_bulk.search_save, name="bulk_search_save"),
    path(
        "bulk/searches/<int:search_id>/delete/", sis_bulk.search_delete, name="bulk_search_delete"
    ),
    path("bulk/runs/<int:run_id>/", sis_bulk.run_detail, name="bulk_run"),
    path("bulk/runs/<int:run_id>/progress/", sis_bulk.run_progress, name="bulk_run_progress"),
    path("bulk/runs/<int:run_id>/report/", sis_bulk.run_report, name="bulk_run_report"),
    path("users/<int:pk>/open-for-update/", sis.open_for_update, name="user_open_for_update"),
    path(
        "users/<int:pk>/toggle-account-type/",
        sis.toggle_account_type,
        name="user_toggle_account_type",
    ),
]
