"""Types for annotations only: what a request is once sign-in is required."""

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind `login_required` (the dashboard's `dashboard_view`,
    `edge_authorize`): its user is a signed-in User, never AnonymousUser. Django never
    makes one; import it under TYPE_CHECKING (this module imports the auth models)."""

    user: User
