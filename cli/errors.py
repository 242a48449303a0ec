"""The command's failures, each with the exit code it ends with and one sentence."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # the API refused, the network failed, or the deployment failed
EXIT_USAGE = 2  # as click's own usage errors
EXIT_NOT_AUTHENTICATED = 3


class CliError(Exception):
    """A failure shown as its message alone, never a traceback."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CliError):
    exit_code = EXIT_USAGE


class NotAuthenticated(CliError):
    exit_code = EXIT_NOT_AUTHENTICATED


class ApiError(CliError):
    """A 4xx or 5xx answer: the API's own `message`, `code` (status) and `type`."""

    def __init__(self, message: str, status: int, kind: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class NetworkError(CliError):
    """The platform could not be reached, or the connection broke."""
