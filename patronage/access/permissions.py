"""The one vocabulary of what a person may do: ``area:resource:action``.

Code, UI, API and reports all speak of these values. Roles (data, in ``Role``) are sets
of them; nothing grants a permission that is not listed here.
"""

from django.db import models


class Permission(models.TextChoices):
    # User records (seed 002)
    USERS_VIEW = "users:user:view", "View user records"
    USERS_SEARCH_BY_NAME = "users:patron:view_by_name", "Look up users by name (seed 000)"
    USERS_CREATE = "users:user:create", "Add users"
    USERS_EDIT = "users:user:edit", "Edit user records and their tabs"
    USERS_DELETE = "users:user:delete", "Delete users"
    USERS_MANAGE_BLOCKS = "users:block:manage", "Add and remove blocks"
    USERS_MANAGE_ATTACHMENTS = "users:attachment:manage", "Add and remove attachments"
    USERS_VIEW_HISTORY = "users:history:view", "View the change history of user records"
    # Roles
    ROLES_VIEW = "access:grant:view", "See who holds which roles"
    ROLES_GRANT = "access:grant:manage", "Grant and revoke roles"
    # Configuration
    CONFIG_CODE_TABLES = "config:code_table:edit", "Edit code tables"
    CONFIG_USER_SETTINGS = "config:user_settings:edit", "Edit user-management settings"
