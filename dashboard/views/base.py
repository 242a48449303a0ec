"""What every dashboard view shares: sign-in, error pages, the current team, refusals.

Reads go through the selectors (`site_for`, `deployment_for`, ...), which raise the
domain's NotFound and PermissionDenied; `dashboard_view` turns those into pages. Writes
go through the services, whose Invalid and Conflict land on the form or in a message
(`showing_refusals`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Membership, Team
from accounts.permissions import role_allows
from accounts.selectors import team_for
from core.api.errors import json_not_found
from core.errors import Conflict, Invalid, NotFound, PermissionDenied, Refused, TooMany
from sites.selectors import can, site_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import WithAnnotations

    from sites.models import Site

SESSION_TEAM = "dashboard_team_id"

View = Callable[..., HttpResponse]


def dashboard_view(view: View) -> View:
    """Sign-in required; `?team=` switches the current team; a NotFound answers the 404
    page and a PermissionDenied the 403 page (what the API answers, as pages)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if request.method == "GET" and request.GET.get("team"):
                switch_team(request, request.GET["team"])
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return error_page(request, 404, "Not found", exc.message)
        except Http404:
            return error_page(request, 404, "Not found", "There is nothing here.")
        except PermissionDenied as exc:
            return error_page(request, 403, "Not allowed", exc.message)

    return login_required(wrapper)


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    # A signed-out visitor (an unknown address) gets the page without a team switcher.
    nav = None if request.user.is_authenticated else Navigation(teams=[], current=None)
    return render_page(
        request,
        "dashboard/error.html",
        {"code": status, "title": title, "message": message},
        status=status,
        nav=nav,
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the API's JSON envelope under /v1/, the dashboard's page elsewhere."""
    if request.path.startswith("/v1/"):
        return json_not_found(request, exception)
    return error_page(request, 404, "Not found", "There is nothing at this address.")


# -- the current team -------------------------------------------------------------------


class _Role(TypedDict):
    role: str | None


@dataclass
class Navigation:
    # Each annotated with `role`, the user's role in it (or None).
    teams: Sequence[WithAnnotations[Team, _Role]]
    current: Team | None
    superuser: bool = False

    @property
    def role(self) -> str | None:
        return getattr(self.current, "role", None) if self.current else None

    def allows(self, team: Team, action: str) -> bool:
        """May take this team action on `team` (one of `teams`)."""
        return self.superuser or role_allows(getattr(team, "role", None), action)

    @property
    def can_deploy(self) -> bool:
        """May create sites in the current team."""
        return self.current is not None and self.allows(self.current, "deploy")

    @property
    def can_manage(self) -> bool:
        """May manage the current team's members."""
        return self.current is not None and self.allows(self.current, "manage")


def switch_team(request: HttpRequest, team_id: str) -> Team:
    """Make `team_id` the current team (404 when the user is not in it)."""
    team = team_for(request.user, team_id, "view")
    request.session[SESSION_TEAM] = team.id
    return team


def remember_team(request: HttpRequest, team_id: str) -> None:
    """Pages of a site follow its team, so the switcher shows where the user is."""
    if request.session.get(SESSION_TEAM) != team_id:
        request.session[SESSION_TEAM] = team_id


def site_with_form(request: HttpRequest, site_id: str, post_action: str) -> tuple[Site, bool]:
    """The site of a tab that whoever reads the site sees and whose form POSTs what
    `post_action` allows (site_for's refusals otherwise), its team made the current one;
    and whether the user may `post_action` (to show the form, or a note instead)."""
    action = post_action if request.method == "POST" else "view"
    site = site_for(request.user, site_id, action)
    remember_team(request, site.team_id)
    # A POST got this far with `post_action` allowed: no second query to ask again.
    return site, action == post_action or can(request.user, site, post_action)


def navigation(request: HttpRequest) -> Navigation:
    """The user's teams, each with their role in it (one query), and the current one."""
    # render_page's pages are signed-in ones (error_page brings its own Navigation else).
    user = cast("User", request.user)
    role = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    teams = list(Team.objects.for_user(user).annotate(role=Subquery(role)).order_by("name", "id"))
    wanted = request.session.get(SESSION_TEAM)
    current = next((t for t in teams if t.id == wanted), teams[0] if teams else None)
    if current is not None and current.id != wanted:
        request.session[SESSION_TEAM] = current.id
    return Navigation(teams=teams, current=current, superuser=user.is_superuser)


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    nav: Navigation | None = None,
) -> HttpResponse:
    """Render a page of the dashboard with the team switcher's data."""
    nav = nav or navigation(request)
    unisolated = settings.SHIPWAY_BUILD_RUNNER == "local"
    return render(
        request,
        template,
        {"nav": nav, "unisolated_builds": unisolated, **(context or {})},
        status=status,
    )


def posted(request: HttpRequest) -> Any:
    """The form data of a POST (even an empty one, so it is validated), else None."""
    return request.POST if request.method == "POST" else None


# -- refusals from services ------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _refusal_text(exc: Refused) -> str:
    """A refusal as one sentence for people (an Invalid's messages without field names)."""
    if isinstance(exc, Invalid):
        return "; ".join(text for _field, text in exc.errors)
    return exc.message


def _put_on_form(form: forms.Form, exc: Refused, aliases: dict[str, str]) -> None:
    """On the field it names (the API's camelCase names map to the form's snake_case
    ones), else above the form."""
    errors = exc.errors if isinstance(exc, Invalid) else [("", exc.message)]
    for field, message in errors:
        name = aliases.get(field, _snake(field))
        form.add_error(name if name in form.fields else None, message)


@contextmanager
def showing_refusals(
    request: HttpRequest, form: forms.Form | None = None, aliases: dict[str, str] | None = None
) -> Iterator[None]:
    """Around a service call and what its success leads to (its message, its redirect):
    when the service refuses (Invalid, Conflict, TooMany), put why on `form`, or in a
    message without one, and carry on after the `with`, where the view answers the form
    again or redirects back."""
    try:
        yield
    except (Invalid, Conflict, TooMany) as exc:
        if form is None:
            messages.error(request, _refusal_text(exc))
        else:
            _put_on_form(form, exc, aliases or {})


def redirect_back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page a button was on (`next`), if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)
