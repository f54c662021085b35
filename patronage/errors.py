"""Domain errors with stable machine codes, mapped once per interface (API, UI, CLI)."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user can act on. ``code`` is stable; ``message`` is for people."""

    code = "invalid_request"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(DomainError):
    """One or more fields are wrong. ``errors`` maps each field to its message."""

    code = "validation_failed"
    status = 422

    def __init__(self, errors: dict[str, str], *, code: str | None = None):
        self.errors = errors
        summary = "; ".join(f"{field}: {message}" for field, message in errors.items())
        super().__init__(summary, code=code)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "errors": self.errors}


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "permission_denied"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class ConfirmationRequired(DomainError):
    """The action would proceed, but asks for explicit confirmation first."""

    code = "confirmation_required"
    status = 409
