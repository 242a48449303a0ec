"""A site's environment variables. A secret's value never leaves the server: the list
shows a mask, the edit form starts empty, and a refused form forgets what was typed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dashboard.forms import VariableForm
from dashboard.views.base import (
    dashboard_view,
    posted,
    remember_team,
    render_page,
    showing_refusals,
    site_with_form,
)
from sites import services as site_services
from sites.selectors import variable_for


@dashboard_view
def variable_list(request: HttpRequest, site_id: str) -> HttpResponse:
    """The variables, and the form that adds one (POST)."""
    site, can_change = site_with_form(request, site_id, "change")
    form = VariableForm(posted(request))
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            with showing_refusals(request, form):
                variable = site_services.variable_create(
                    site=site,
                    key=data["key"],
                    value=data["value"],
                    secret=data["secret"],
                    scope=data["scope"],
                    environment=data["environment"],
                )
                messages.success(request, f"Variable {variable.key} added.")
                return redirect("dashboard:variables", site_id=site.id)
        form.forget_secret_input()
    context = {
        "site": site,
        "tab": "variables",
        "variables": site.variables.all(),
        "form": form,
        "can_change": can_change,
    }
    return render_page(
        request, "dashboard/site_variables.html", context, status=400 if form.errors else 200
    )


@dashboard_view
def variable_edit(request: HttpRequest, site_id: str, variable_id: str) -> HttpResponse:
    variable = variable_for(request.user, site_id, variable_id, "change")
    site = variable.site
    remember_team(request, site.team_id)
    form = VariableForm(posted(request), variable=variable)
    if request.method == "POST":
        if form.is_valid():
            changes = form.changes()
            with showing_refusals(request, form):
                if changes:
                    variable = site_services.variable_update(variable=variable, **changes)
                messages.success(request, f"Variable {variable.key} saved.")
                return redirect("dashboard:variables", site_id=site.id)
        form.forget_secret_input()
    context = {"site": site, "tab": "variables", "variable": variable, "form": form}
    return render_page(
        request, "dashboard/variable_edit.html", context, status=400 if form.errors else 200
    )


@require_POST
@dashboard_view
def variable_delete(request: HttpRequest, site_id: str, variable_id: str) -> HttpResponse:
    variable = variable_for(request.user, site_id, variable_id, "change")
    site_services.variable_delete(variable=variable)
    messages.success(request, f"Variable {variable.key} deleted.")
    return redirect("dashboard:variables", site_id=variable.site_id)
