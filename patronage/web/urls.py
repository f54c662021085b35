from django.contrib.auth import views as auth_views
from django.urls import include, path

from patronage.access.decorators import public

from .views import config, details, details_edit, home, quick_add, search, signin

app_name = "web"

# Class-based views return HttpResponseBase; the decorator's narrower hint does not matter here.
logout_view = public(auth_views.LogoutView.as_view(next_page="web:login"))  # type: ignore[arg-type]

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", signin.login_view, name="login"),
    path("login/external/", signin.external_login_view, name="login_external"),
    path("login/verify/", signin.verify_view, name="login_verify"),
    path("login/enroll/", signin.enroll_view, name="login_enroll"),
    path("logout/", logout_view, name="logout"),
    path("users/", search.user_search, name="user_search"),
    path("users/new/", quick_add.user_add, name="user_add"),
    path("users/new/options/", quick_add.record_type_options_partial, name="user_add_options"),
    path("users/new/pin/", quick_add.pin_partial, name="user_add_pin"),
    path("users/<int:pk>/", details.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", details_edit.user_edit, name="user_edit"),
    path(
        "users/<int:pk>/edit/options/",
        details_edit.general_options_partial,
        name="user_edit_options",
    ),
    path("users/<int:pk>/password/", details_edit.password_set, name="user_password"),
    path("users/<int:pk>/pin/", details_edit.pin_set, name="user_pin"),
    path("users/<int:pk>/pin/generate/", details_edit.pin_generate, name="user_pin_generate"),
    path("users/<int:pk>/contact/<str:kind>/add/", details_edit.contact_add, name="contact_add"),
    path(
        "users/<int:pk>/contact/<str:kind>/<int:entry_id>/edit/",
        details_edit.contact_edit,
        name="contact_edit",
    ),
    path(
        "users/<int:pk>/contact/<str:kind>/<int:entry_id>/remove/",
        details_edit.contact_remove,
        name="contact_remove",
    ),
    path("users/<int:pk>/identifiers/add/", details_edit.identifier_add, name="identifier_add"),
    path(
        "users/<int:pk>/identifiers/<int:entry_id>/remove/",
        details_edit.identifier_remove,
        name="identifier_remove",
    ),
    path("users/<int:pk>/notes/add/", details_edit.note_add, name="note_add"),
    path(
        "users/<int:pk>/notes/<int:entry_id>/remove/",
        details_edit.note_remove,
        name="note_remove",
    ),
    path("users/<int:pk>/statistics/add/", details_edit.statistic_add, name="statistic_add"),
    path(
        "users/<int:pk>/statistics/<int:entry_id>/remove/",
        details_edit.statistic_remove,
        name="statistic_remove",
    ),
    path("users/<int:pk>/blocks/add/", details_edit.block_add, name="block_add"),
    path(
        "users/<int:pk>/blocks/<int:entry_id>/remove/",
        details_edit.block_remove,
        name="block_remove",
    ),
    path("users/<int:pk>/attachments/add/", details_edit.attachment_add, name="attachment_add"),
    path(
        "users/<int:pk>/attachments/<int:entry_id>/",
        details_edit.attachment_download,
        name="attachment_download",
    ),
    path(
        "users/<int:pk>/attachments/<int:entry_id>/remove/",
        details_edit.attachment_remove,
        name="attachment_remove",
    ),
    path("config/code-tables/", config.code_tables, name="code_tables"),
    path("config/code-tables/<str:table>/save/", config.code_entry_save, name="code_entry_save"),
    path("config/user-settings/", config.user_settings, name="user_settings"),
    path("", include("patronage.web.urls_security")),
    path("", include("patronage.web.urls_access")),
    path("", include("patronage.web.urls_circulation")),
    path("", include("patronage.web.urls_approvals")),
    path("", include("patronage.web.urls_privacy")),
    path("", include("patronage.web.urls_personal_data")),
    path("", include("patronage.web.urls_sis")),
]
