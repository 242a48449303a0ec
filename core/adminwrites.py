"""Admin pages whose saves and deletes go through the services, as every write does:
so they are audited, publish their events, remove what they must (stored files, cache
volumes) and refuse as the API does. A model admin names its services in
`service_save` and `service_delete`; without them the admin cannot change or delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from core.errors import Refused


class ServiceWritesAdmin(admin.ModelAdmin):
    """`save_model`, `delete_model` and `delete_queryset` (the bulk "delete selected")
    call `service_save` / `service_delete`; a refusal is shown as a message."""

    def service_save(self, request: HttpRequest, obj: Any, changed: dict[str, Any]) -> None:
        """Write `changed` (field -> new value, only what the form changed) to `obj`."""
        if changed:
            raise NotImplementedError(f"{type(self).__name__} changes nothing")

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} deletes nothing")

    def _refusing(self, request: HttpRequest, obj: Any, write: Callable[[], object]) -> None:
        try:
            write()
        except Refused as exc:
            self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if not change:
            raise NotImplementedError("objects are made by the services, not the admin")
        self._refusing(request, obj, lambda: self.service_save(request, obj, changed))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._refusing(request, obj, lambda: self.service_delete(request, obj))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class RecordsAdmin(admin.ModelAdmin):
    """Records the platform writes itself (audit entries, webhook deliveries, purges):
    the admin lists and shows them, and adds, changes or deletes none."""

    actions = None  # not even the bulk "delete selected"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
