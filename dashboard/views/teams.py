"""Teams: create one, see its members; owners add, change and remove members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts import services as account_services
from accounts.models import Membership, Team
from accounts.selectors import team_for
from core.api.errors import Conflict
from dashboard.forms import MemberAddForm, MemberRoleForm, TeamForm, TeamRenameForm
from dashboard.views.base import (
    SESSION_TEAM,
    apply_errors,
    dashboard_view,
    flash_error,
    navigation,
    posted,
    remember_team,
    render_page,
)

if TYPE_CHECKING:
    from core.http import AuthenticatedHttpRequest


def _can_manage(request: HttpRequest, team: Team) -> bool:
    try:
        team_for(request.user, team.id, "manage")
    except PermissionDenied:  # a member who is not an owner
        return False
    return True


def _membership(team: Team, membership_id: str) -> Membership:
    membership = team.memberships.select_related("user").filter(pk=membership_id).first()
    if membership is None:
        raise NotFound(f"Member '{membership_id}' not found.")
    return membership


@dashboard_view
def team_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TeamForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            team = account_services.team_create(
                user=request.user,
                name=form.cleaned_data["name"],
                team_id=form.cleaned_data["team_id"] or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            request.session[SESSION_TEAM] = team.id
            messages.success(request, f"Team “{team.name}” created. Next, create a site.")
            return redirect("dashboard:home")
    return render_page(
        request, "dashboard/team_create.html", {"form": form}, status=400 if form.errors else 200
    )


def team_page(
    request: HttpRequest,
    team: Team,
    *,
    add_form: MemberAddForm | None = None,
    rename_form: TeamRenameForm | None = None,
    status: int = 200,
) -> HttpResponse:
    remember_team(request, team.id)
    nav = navigation(request)
    memberships = list(team.memberships.select_related("user").order_by("user__username"))
    context = {
        "team": team,
        "memberships": memberships,
        "can_manage": _can_manage(request, team),
        "add_form": add_form or MemberAddForm(),
        "rename_form": rename_form or TeamRenameForm(initial={"name": team.name}),
        "role_form": MemberRoleForm(),
        "site_count": team.sites.count(),
    }
    return render_page(request, "dashboard/team.html", context, nav=nav, status=status)


@dashboard_view
def team_detail(request: HttpRequest, team_id: str) -> HttpResponse:
    return team_page(request, team_for(request.user, team_id, "view"))


@require_POST
@dashboard_view
def team_rename(request: HttpRequest, team_id: str) -> HttpResponse:
    team = team_for(request.user, team_id, "manage")
    form = TeamRenameForm(request.POST)
    if not form.is_valid():
        return team_page(request, team, rename_form=form, status=400)
    account_services.team_update(team=team, name=form.cleaned_data["name"])
    messages.success(request, "Team renamed.")
    return redirect("dashboard:team", team_id=team.id)


@require_POST
@dashboard_view
def team_delete(request: HttpRequest, team_id: str) -> HttpResponse:
    team = team_for(request.user, team_id, "manage")
    try:
        account_services.team_delete(team=team)
    except Conflict as exc:
        flash_error(request, exc)
        return redirect("dashboard:team", team_id=team.id)
    request.session.pop(SESSION_TEAM, None)
    messages.success(request, f"Team “{team.name}” was deleted.")
    return redirect("dashboard:home")


@require_POST
@dashboard_view
def member_add(request: HttpRequest, team_id: str) -> HttpResponse:
    team = team_for(request.user, team_id, "manage")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        user = account_services.find_user(form.cleaned_data["identifier"].strip())
        if user is None:
            form.add_error("identifier", "No user has that username or email address.")
        else:
            try:
                account_services.membership_create(
                    team=team, user=user, role=form.cleaned_data["role"]
                )
            except (ValidationError, Conflict) as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"{user.get_username()} joined as {form.cleaned_data['role']}."
                )
                return redirect("dashboard:team", team_id=team.id)
    return team_page(request, team, add_form=form, status=400)


@require_POST
@dashboard_view
def member_update(request: HttpRequest, team_id: str, membership_id: str) -> HttpResponse:
    team = team_for(request.user, team_id, "manage")
    membership = _membership(team, membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: viewer, developer or owner.")
    else:
        try:
            account_services.membership_update(
                membership=membership, role=form.cleaned_data["role"]
            )
        except (ValidationError, Conflict) as exc:
            flash_error(request, exc)
        else:
            messages.success(
                request,
                f"{membership.user.get_username()} is now {form.cleaned_data['role']}.",
            )
    return redirect("dashboard:team", team_id=team.id)


@require_POST
@dashboard_view
def member_delete(request: HttpRequest, team_id: str, membership_id: str) -> HttpResponse:
    team = team_for(request.user, team_id, "manage")
    membership = _membership(team, membership_id)
    try:
        account_services.membership_delete(membership=membership)
    except Conflict as exc:
        flash_error(request, exc)
    else:
        messages.success(request, f"{membership.user.get_username()} was removed from the team.")
        if membership.user_id == request.user.pk:
            request.session.pop(SESSION_TEAM, None)
            return redirect("dashboard:home")
    return redirect("dashboard:team", team_id=team.id)
