"""API keys of the signed-in user. A new key's secret is shown once, in the answer to
the POST that made it (never stored, never in a redirect or the session)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.models import Team
from core.errors import NotFound
from dashboard.forms import ApiKeyForm
from dashboard.views.base import dashboard_view, posted, render_page, showing_refusals

if TYPE_CHECKING:
    from core.http import AuthenticatedHttpRequest


@never_cache
@dashboard_view
def key_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    teams = list(Team.objects.for_user(request.user).order_by("name", "id"))
    choices = [(team.id, team.name) for team in teams]
    form = ApiKeyForm(posted(request), teams=choices)
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        days = data["expires_in"]
        aliases = {"teamId": "team", "expiresAt": "expires_in"}
        with showing_refusals(request, form, aliases):
            key, secret = account_services.api_key_create(
                user=request.user,
                name=data["name"],
                expires_in=timedelta(days=days) if days else None,
                team=next((t for t in teams if t.id == data["team"]), None),
                read_only=data["read_only"],
            )
            created = {"key": key, "secret": secret}
            form = ApiKeyForm(teams=choices)
    context = {
        "keys": request.user.api_keys.select_related("team"),
        "now": timezone.now(),
        "form": form,
        "created": created,
        "api_base": request.build_absolute_uri("/v1/")[:-1],
    }
    status = 400 if form.errors else 200
    return render_page(request, "dashboard/keys.html", context, status=status)


@require_POST
@dashboard_view
def key_delete(request: AuthenticatedHttpRequest, key_id: str) -> HttpResponse:
    key = request.user.api_keys.filter(pk=key_id).first()
    if key is None:
        raise NotFound(f"API key '{key_id}' not found.")
    account_services.api_key_delete(key=key)
    messages.success(request, f"API key “{key.name}” deleted; it no longer works.")
    return redirect("dashboard:keys")
