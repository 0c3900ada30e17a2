"""Errors the domain and service layers raise; the HTTP edge turns each into an RFC 9457 problem."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a command can fail with for a reason the caller can act on."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.rule = rule


class RuleViolationError(DomainError):
    """A business rule refuses the command (HTTP 422); `rule` names it."""

    status = 422
    title = "Business rule violated"


class NotFoundError(DomainError):
    status = 404
    title = "Not found"


class ForbiddenError(DomainError):
    status = 403
    title = "Forbidden"


class ConflictError(DomainError):
    status = 409
    title = "Conflict"
