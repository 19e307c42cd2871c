"""Errors of the api connectors. Messages never contain secrets or full URLs with tokens."""

from __future__ import annotations


class ApiConfigError(ValueError):
    """The connector cannot start: a setting is missing or invalid. Raised to the caller."""


class MissingSecretError(ApiConfigError):
    """An environment variable holding a secret is not set. Raised to the caller."""

    def __init__(self, source: str, variable: str) -> None:
        self.source = source
        self.variable = variable
        super().__init__(f"{source}: environment variable {variable} is not set; api mode needs it (export {variable}=...)")


class ApiError(Exception):
    """A request failed for good (after retries, or not retryable); ends the fetch early."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RetryableError(Exception):
    """One attempt failed in a way worth retrying (429, 5xx, a broken body)."""

    def __init__(self, detail: str, *, status: int | None = None, wait: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.wait = wait  # seconds the server asked us to wait, if it said so
