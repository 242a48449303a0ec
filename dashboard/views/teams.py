"""Teams: create one, see its members; owners add, change and remove members, and
invite addresses that have no account yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.models import Team
from accounts.selectors import (
    find_user,
    invitation_for,
    invitations_of,
    membership_for,
    team_for,
)
from core.errors import PermissionDenied
from dashboard.forms import MemberAddForm, MemberRoleForm, TeamForm, TeamRenameForm
from dashboard.views.base import (
    SESSION_TEAM,
    Navigation,
    dashboard_view,
    navigation,
    posted,
    remember_team,
    render_page,
    showing_refusals,
)

if TYPE_CHECKING:
    from core.http import AuthenticatedHttpRequest


def team_with_role(nav: Navigation, team: Team) -> Team:
    """`team` as the navigation read it (annotated with the user's role), if it is there."""
    return next((t for t in nav.teams if t.id == team.id), team)


def _can_manage(request: HttpRequest, team: Team) -> bool:
    try:
        team_for(request.user, team.id, "manage")
    except PermissionDenied:  # a member who is not an owner
        return False
    return True


@dashboard_view
def team_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TeamForm(posted(request))
    if request.method == "POST" and form.is_valid():
        with showing_refusals(request, form):
            team = account_services.team_create(
                user=request.user,
                name=form.cleaned_data["name"],
                team_id=form.cleaned_data["team_id"] or None,
            )
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
    can_manage = _can_manage(request, team)
    context = {
        "team": team,
        "memberships": memberships,
        "can_manage": can_manage,
        "can_audit": nav.allows(team_with_role(nav, team), "audit"),
        "invitations": list(invitations_of(team)) if can_manage else [],
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
    with showing_refusals(request):
        account_services.team_delete(team=team)
        request.session.pop(SESSION_TEAM, None)
        messages.success(request, f"Team “{team.name}” was deleted.")
        return redirect("dashboard:home")
    return redirect("dashboard:team", team_id=team.id)


@require_POST
@dashboard_view
def member_add(request: AuthenticatedHttpRequest, team_id: str) -> HttpResponse:
    team = team_for(request.user, team_id, "manage")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        identifier = form.cleaned_data["identifier"].strip()
        user = find_user(identifier)
        if user is None and "@" in identifier:
            with showing_refusals(request, form, aliases={"email": "identifier"}):
                account_services.invitation_create(
                    team=team,
                    email=identifier,
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                )
                messages.success(request, f"Invitation sent to {identifier}.")
                return redirect("dashboard:team", team_id=team.id)
        elif user is None:
            form.add_error("identifier", "No user has that username or email address.")
        else:
            with showing_refusals(request, form):
                account_services.membership_create(
                    team=team, user=user, role=form.cleaned_data["role"]
                )
                messages.success(
                    request, f"{user.get_username()} joined as {form.cleaned_data['role']}."
                )
                return redirect("dashboard:team", team_id=team.id)
    return team_page(request, team, add_form=form, status=400)


@require_POST
@dashboard_view
def member_update(request: HttpRequest, team_id: str, membership_id: str) -> HttpResponse:
    membership = membership_for(request.user, team_id, membership_id, "manage")
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: viewer, developer or owner.")
    else:
        with showing_refusals(request):
            account_services.membership_update(
                membership=membership, role=form.cleaned_data["role"]
            )
            messages.success(
                request,
                f"{membership.user.get_username()} is now {form.cleaned_data['role']}.",
            )
    return redirect("dashboard:team", team_id=membership.team_id)


@require_POST
@dashboard_view
def member_delete(request: HttpRequest, team_id: str, membership_id: str) -> HttpResponse:
    membership = membership_for(request.user, team_id, membership_id, "manage")
    with showing_refusals(request):
        account_services.membership_delete(membership=membership)
        messages.success(request, f"{membership.user.get_username()} was removed from the team.")
        if membership.user_id == request.user.pk:
            request.session.pop(SESSION_TEAM, None)
            return redirect("dashboard:home")
    return redirect("dashboard:team", team_id=membership.team_id)


@require_POST
@dashboard_view
def invitation_delete(request: HttpRequest, team_id: str, invitation_id: str) -> HttpResponse:
    invitation = invitation_for(request.user, team_id, invitation_id, "manage")
    account_services.invitation_delete(invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} was cancelled.")
    return redirect("dashboard:team", team_id=invitation.team_id)
