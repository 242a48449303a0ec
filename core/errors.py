"""What the domain refuses, in its own words.

Services, selectors, the intake, uploads and domains raise these; nothing here knows
HTTP. Each caller turns them into its answer in one place: the API's exception handler
(core/api/errors.py) into the error envelope, the dashboard (dashboard/views/base.py)
into pages and messages, the admin and the CLI into their messages.
"""

from collections.abc import Mapping, Sequence


class Refused(Exception):
    """A request the domain refuses. `message` is one sentence for people; `code` is
    the stable name programs match on (the API's error `type`)."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(Refused):
    """The object does not exist, or the caller may not even see it."""

    code = "not_found"


class PermissionDenied(Refused):
    """The caller may see the object but their role does not allow this."""

    code = "forbidden"


class Conflict(Refused):
    """The request is well formed but the object's state forbids it now."""

    code = "conflict"


class TooMany(Refused):
    """The caller already holds as many of something as this server allows."""

    code = "too_many"


class Invalid(Refused):
    """Input the domain refuses: messages by field, named as the API names them
    (camelCase), or one message about the input as a whole."""

    code = "validation_error"

    def __init__(self, errors: str | Mapping[str, str | Sequence[str]]) -> None:
        by_field = {"": errors} if isinstance(errors, str) else errors
        # (field, message) pairs in order; field "" is the input as a whole.
        self.errors: list[tuple[str, str]] = [
            (field, text)
            for field, texts in by_field.items()
            for text in ([texts] if isinstance(texts, str) else texts)
        ]
        super().__init__(
            "; ".join(f"{field}: {text}" if field else text for field, text in self.errors)
        )
