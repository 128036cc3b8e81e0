"""One family of errors carrying a French message for the user and a technical detail for the log."""

from __future__ import annotations


class ObservatoireError(Exception):
    """Base error: ``message`` is shown to the user (French), ``detail`` only goes to the log."""

    exit_code = 1

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ObservatoireError):
    """Settings that cannot work (default secret outside development, bad URL…)."""


class DatabaseUnavailable(ObservatoireError):
    """The database cannot be reached or started."""


class MissingSystemPackage(ObservatoireError):
    """A system program the product needs is absent."""


class InputFileError(ObservatoireError):
    """An input file cannot be read or does not have the expected shape."""


class ValidationFailed(ObservatoireError):
    """Rows of an import broke validation rules; ``report`` holds the details."""

    def __init__(self, message: str, report: object | None = None, detail: str | None = None):
        super().__init__(message, detail)
        self.report = report


class PersonalDataRefused(InputFileError):
    """An input carries what looks like personal data: it is refused whole."""


class NotFound(ObservatoireError):
    """A named object (user, batch, territory, indicator…) does not exist."""


class PermissionDenied(ObservatoireError):
    """The current user's role does not allow the action."""

    exit_code = 3


class AuthenticationFailed(ObservatoireError):
    """Login refused; the message never tells whether the account exists."""


class SecondFactorFailed(AuthenticationFailed):
    """The password was right but the one-time code was not: the code may be typed again."""


class LoginThrottled(AuthenticationFailed):
    """Too many failures from one address: ``retry_after`` seconds to wait before the next attempt."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
