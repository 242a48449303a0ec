"""Model validation as the domain's Invalid: one set of rules for the API, dashboard
and admin."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model

from core.errors import Invalid


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def validate(
    instance: Model, *, exclude: list[str] | None = None, rename: dict[str, str] | None = None
) -> None:
    """Run the model's full_clean; raise Invalid whose fields use the API's names
    (camelCase, or as `rename` says)."""
    rename = rename or {}
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise Invalid(
            {
                rename.get(field, camel(field)): messages
                for field, messages in exc.message_dict.items()
            }
        ) from exc
