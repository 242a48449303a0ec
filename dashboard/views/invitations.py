"""An invitation's link, `/invitations/<token>/`: the invited address joins the team.

Signed in with the invited address: a button joins. Signed out, with no account for the
address: a sign-up form (username, password) makes the account, joins and signs in. An
account with the address that is signed out: sign in first. A used, expired, cancelled
or unknown token, or another account's address: a page that says so; nothing changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts import services as account_services
from accounts.selectors import InvitationClosed, find_user, invitation_for_token
from core.errors import NotFound, PermissionDenied
from dashboard.forms import InvitationSignUpForm
from dashboard.views.base import error_page, posted, render_page, showing_refusals

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from accounts.models import Invitation

# The sign-up's session: the password was checked just now by the service.
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _refused(
    request: HttpRequest, exc: NotFound | InvitationClosed | PermissionDenied
) -> HttpResponse:
    if isinstance(exc, NotFound):
        return error_page(request, 404, "Invitation not found", exc.message)
    if isinstance(exc, PermissionDenied):
        return error_page(request, 403, "Not your invitation", exc.message)
    return error_page(request, 410, "Invitation closed", exc.message)


@never_cache
def invitation_detail(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_for_token(token)
    except (NotFound, InvitationClosed) as exc:
        return _refused(request, exc)
    if request.user.is_authenticated:
        return _signed_in(request, request.user, invitation, token)
    return _signed_out(request, invitation, token)


def _signed_in(
    request: HttpRequest, user: User, invitation: Invitation, token: str
) -> HttpResponse:
    if (user.email or "").strip().lower() != invitation.email.lower():
        return error_page(
            request,
            403,
            "Not your invitation",
            "This invitation was sent to another email address than your account's. "
            "Sign out and open the link again to accept it with another account.",
        )
    if request.method == "POST":
        try:
            with showing_refusals(request):
                account_services.invitation_accept(token=token, user=user)
                messages.success(
                    request, f"You joined {invitation.team.name} as {invitation.role}."
                )
                return redirect("dashboard:team", team_id=invitation.team_id)
        except (NotFound, InvitationClosed, PermissionDenied) as exc:
            return _refused(request, exc)
    return render_page(request, "dashboard/invitation.html", {"invitation": invitation})


def _signed_out(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    has_account = find_user(invitation.email) is not None
    form = InvitationSignUpForm(None if has_account else posted(request))
    status = 200
    if request.method == "POST" and not has_account and form.is_valid():
        try:
            with showing_refusals(request, form):
                user = account_services.user_create_from_invitation(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                )
                login(request, user, backend=_BACKEND)
                messages.success(
                    request, f"Welcome! You joined {invitation.team.name} as {invitation.role}."
                )
                return redirect("dashboard:team", team_id=invitation.team_id)
        except (NotFound, InvitationClosed) as exc:
            return _refused(request, exc)
    if form.errors:
        status = 400
    context = {"invitation": invitation, "form": form, "has_account": has_account}
    return render(request, "registration/invitation.html", context, status=status)
