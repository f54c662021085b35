"""Staff UI routes for roles, grants, login models and access reports."""

from django.urls import URLPattern, path

from .views import reports, roles

urlpatterns: list[URLPattern] = [
    # The Roles tab of a staff user's details
    path("users/<int:pk>/roles/", roles.user_roles, name="user_roles"),
    path("users/<int:pk>/roles/scopes/", roles.scope_options, name="user_role_scopes"),
    path("users/<int:pk>/roles/grant/", roles.grant_add, name="user_grant_add"),
    path(
        "users/<int:pk>/roles/<int:grant_id>/revoke/",
        roles.grant_revoke,
        name="user_grant_revoke",
    ),
    path("users/<int:pk>/roles/apply/", roles.proposal_apply, name="user_proposal_apply"),
    path("users/<int:pk>/login-model/", roles.login_model_set, name="user_login_model"),
    path("users/<int:pk>/shared-desk/", roles.shared_desk_set, name="user_shared_desk"),
    # Role assignment rules (configuration)
    path("config/role-rules/", roles.assignment_rules, name="role_rules"),
    path(
        "config/role-rules/<int:rule_id>/remove/",
        roles.assignment_rule_remove,
        name="role_rule_remove",
    ),
    # Access reports
    path("reports/", reports.index, name="reports"),
    path("reports/users/", reports.user_roles_lookup, name="report_user_roles_lookup"),
    path("reports/users/<int:pk>/", reports.user_roles, name="report_user_roles"),
    path("reports/holders/", reports.permission_holders, name="report_holders"),
    path("reports/who-can-see/", reports.who_can_see_lookup, name="report_who_can_see_lookup"),
    path("reports/who-can-see/<int:pk>/", reports.who_can_see, name="report_who_can_see"),
]
