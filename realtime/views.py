"""`POST /v1/realtime/tokens`: the feed's tokens, for clients that cannot send cookies."""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import key_team_scope
from accounts.throttles import RealtimeTokenThrottle
from accounts.viewsets import signed_in_user
from realtime import consumers


class RealtimeTokenView(APIView):
    """A token for `/v1/realtime?token=...`, for clients that cannot send cookies."""

    throttle_classes = [RealtimeTokenThrottle]
    throttle_scope = "realtime_tokens"
    read_only_key_allowed = True  # the token only opens a feed, which only reads

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise Throttled(wait, detail="Too many realtime tokens asked for.")

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "RealtimeToken",
                {
                    "token": serializers.CharField(help_text="For `/v1/realtime?token=`."),
                    "expiresAt": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        expires = timezone.now() + timedelta(seconds=consumers.TOKEN_AGE)
        # A team-scoped API key's token is limited to that team too.
        user = signed_in_user(request)
        token = consumers.issue_token(user.pk, key_team_scope(user))
        body = {"token": token, "expiresAt": expires}
        return Response(body, status=status.HTTP_201_CREATED)
