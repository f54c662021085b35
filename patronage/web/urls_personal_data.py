"""Routes of the personal-data export: the staff tab of a user record, and the patron's own
account (``/my/``)."""

from django.urls import URLPattern, path

from .views import personal_data, self_service

urlpatterns: list[URLPattern] = [
    path("users/<int:pk>/personal-data/", personal_data.personal_data_tab, name="personal_data"),
    path(
        "users/<int:pk>/personal-data/download/",
        personal_data.personal_data_download,
        name="personal_data_download",
    ),
    path(
        "users/<int:pk>/personal-data/letter/",
        personal_data.personal_information_letter,
        name="personal_information_letter",
    ),
    path("my/", self_service.my_account, name="my_account"),
    path("my/personal-data/", self_service.my_data, name="my_data"),
]
