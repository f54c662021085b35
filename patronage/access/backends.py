"""Staff and patron log-in with the primary ID, compared case-insensitively."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from patronage.accounts.models import User, identifier_key


class PrimaryIdBackend(BaseBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        user = User.objects.filter(
            identifiers__key=identifier_key(username), identifiers__is_primary=True
        ).first()
        if user is None:
            # Hash anyway so that response time does not tell whether the ID exists.
            User().set_password(password)
            return None
        if user.check_password(password) and user.is_active:
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None
