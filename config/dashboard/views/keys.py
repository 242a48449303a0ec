"""API keys of the signed-in user. A new key's secret is shown once, in the answer to
the POST that made it (never stored, never in a redirect or the session)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework.exceptions import NotFound

from accounts import services as account_services
from config.dashboard.forms import ApiKeyForm
from config.dashboard.views.base import dashboard_view, posted, render_page


@never_cache
@dashboard_view
def key_list(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(posted(request))
    created = None
    if request.method == "POST" and form.is_valid():
        key, secret = account_services.api_key_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        created = {"key": key, "secret": secret}
        form = ApiKeyForm()
    context = {
        "keys": request.user.api_keys.all(),
        "form": form,
        "created": created,
        "api_base": request.build_absolute_uri("/v1/")[:-1],
    }
    status = 400 if form.errors else 200
    return render_page(request, "dashboard/keys.html", context, status=status)


@require_POST
@dashboard_view
def key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = request.user.api_keys.filter(pk=key_id).first()
    if key is None:
        raise NotFound(f"API key '{key_id}' not found.")
    account_services.api_key_delete(key=key)
    messages.success(request, f"API key “{key.name}” deleted; it no longer works.")
    return redirect("dashboard:keys")
