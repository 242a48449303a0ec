"""Every write to accounts: teams, memberships, invitations and API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import audit
from accounts.models import ApiKey, Invitation, Membership, Role, Team
from accounts.selectors import find_user, invitation_for_token
from accounts.signals import user_access_changed
from core import events, mail
from core.errors import Conflict, Invalid, NotFound, PermissionDenied, TooMany
from core.ids import new_id

log = structlog.get_logger(__name__)

API_KEY_PREFIX = "sw_"
INVITATION_PREFIX = "swi_"
MAX_USERNAME = 150  # Django's User.username


def hash_secret(secret: str) -> str:
    """API key secrets are 32 random bytes, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def team_create(*, user: User, name: str, team_id: str | None = None) -> Team:
    """Create a team with its three role groups; `user` becomes its owner."""
    team_id = team_id or new_id()
    if Team.objects.filter(pk=team_id).exists():
        raise Invalid({"teamId": f"A team with id '{team_id}' already exists."})
    groups = {
        role: Group.objects.create(name=f"team:{team_id}:{role}")
        for role in (Role.VIEWER, Role.DEVELOPER, Role.OWNER)
    }
    team = Team.objects.create(
        id=team_id,
        name=name,
        viewer_group=groups[Role.VIEWER],
        developer_group=groups[Role.DEVELOPER],
        owner_group=groups[Role.OWNER],
    )
    membership = _add_member(team, user, Role.OWNER)
    audit.record(
        action="team.create",
        team_id=team.id,
        resource_id=team.id,
        data={"name": name, "owner": user.get_username(), "membershipId": membership.id},
    )
    log.info("team.created", team_id=team.id, user_id=user.pk)
    return team


@transaction.atomic
def team_update(*, team: Team, name: str) -> Team:
    before = audit.values(team, ["name"])
    team.name = name
    team.save(update_fields=["name", "updated_at"])
    audit.record(
        action="team.update",
        team_id=team.id,
        resource_id=team.id,
        data=audit.changes(before, audit.values(team, ["name"])),
    )
    log.info("team.updated", team_id=team.id)
    return team


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """Delete a team that owns no sites (its sites must be deleted first: nothing is lost)."""
    if team.sites.exists():
        raise Conflict("The team still owns sites; delete or move them first.")
    groups = team.groups
    team_id, name = team.pk, team.name
    team.delete()
    # Its entries stay (they hold its id, not a key to it): this one is the last.
    audit.record(action="team.delete", team_id=team_id, resource_id=team_id, data={"name": name})
    Group.objects.filter(pk__in=[g.pk for g in groups]).delete()
    log.info("team.deleted", team_id=team_id)


def _add_member(team: Team, user: User, role: str) -> Membership:
    membership = Membership.objects.create(team=team, user=user, role=role)
    user.groups.add(team.group_for(role))
    return membership


@transaction.atomic
def membership_create(*, team: Team, user: User, role: str) -> Membership:
    """Add a user to a team with one role."""
    if Membership.objects.filter(team=team, user=user).exists():
        raise Conflict(f"'{user.get_username()}' is already a member of this team.")
    try:
        with transaction.atomic():
            membership = _add_member(team, user, role)
    except IntegrityError as exc:  # a concurrent add of the same user
        raise Conflict(f"'{user.get_username()}' is already a member of this team.") from exc
    audit.record(
        action="membership.create",
        team_id=team.id,
        resource_id=membership.id,
        data={"user": user.get_username(), "role": role},
    )
    log.info("membership.created", team_id=team.id, user_id=user.pk, role=role)
    return membership


def _ensure_an_owner_remains(membership: Membership) -> None:
    others = Membership.objects.filter(team_id=membership.team_id, role=Role.OWNER).exclude(
        pk=membership.pk
    )
    if membership.role == Role.OWNER and not others.exists():
        raise Conflict("A team must keep at least one owner.")


def _access_changed(user_id: int) -> None:
    """After commit: the user's open feeds re-check their channels, and their preview
    cookies stop working (the edge listens to user_access_changed)."""
    events.access_changed(user_id)
    transaction.on_commit(lambda: user_access_changed.send(sender=None, user_id=user_id))


def _locked(membership: Membership) -> Membership:
    """Lock the membership's team, then read the membership afresh.

    The team's row, not the membership's: "another owner remains" reads the team's
    other memberships, so two owners demoting or removing each other at once would each
    lock only their own target, both see the other still an owner, and both commit,
    leaving none. With the team locked the second waits for the first, then sees it.
    (Inside a transaction; the team first, always, so two changes cannot deadlock.)"""
    Team.objects.select_for_update().filter(pk=membership.team_id).values_list("pk").get()
    fresh = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("team", "user")
        .filter(pk=membership.pk)
        .first()
    )
    if fresh is None:  # removed by a change that held the lock before this one
        raise NotFound(f"Membership '{membership.pk}' not found.")
    return fresh


@transaction.atomic
def membership_update(*, membership: Membership, role: str) -> Membership:
    """Change a member's role (and so the group that carries their permissions)."""
    membership = _locked(membership)
    if role != Role.OWNER:
        _ensure_an_owner_remains(membership)
    team, user = membership.team, membership.user
    before = audit.values(membership, ["role"])
    user.groups.remove(team.group_for(membership.role))
    user.groups.add(team.group_for(role))
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    _access_changed(user.pk)
    audit.record(
        action="membership.update",
        team_id=team.id,
        resource_id=membership.id,
        data={"user": user.get_username(), **audit.changes(before, {"role": role})},
    )
    log.info("membership.updated", team_id=team.id, user_id=user.pk, role=role)
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Remove a member; their access to the team's sites ends at once."""
    membership = _locked(membership)
    _ensure_an_owner_remains(membership)
    membership.user.groups.remove(*membership.team.groups)
    membership_id = membership.pk
    membership.delete()
    audit.record(
        action="membership.delete",
        team_id=membership.team_id,
        resource_id=membership_id,
        data={"user": membership.user.get_username(), "role": membership.role},
    )
    _access_changed(membership.user_id)
    log.info("membership.deleted", team_id=membership.team_id, user_id=membership.user_id)


def _team_locked(team: Team) -> None:
    """Lock the team's row (inside a transaction): its invitations are counted and
    added, or accepted, one change at a time."""
    Team.objects.select_for_update().filter(pk=team.pk).values_list("pk").get()


def invitation_link(token: str) -> str:
    """The dashboard's address of an invitation's link (the platform's public URL)."""
    path = reverse("dashboard:invitation", kwargs={"token": token})
    return settings.SHIPWAY_PUBLIC_URL.rstrip("/") + path


def _clean_email(email: str) -> str:
    email = get_user_model().objects.normalize_email(email.strip())
    try:
        validate_email(email)
    except ValidationError as exc:
        raise Invalid({"email": "Enter a valid email address."}) from exc
    return email


@transaction.atomic
def invitation_create(
    *, team: Team, email: str, role: str, invited_by: User | None
) -> tuple[Invitation, str]:
    """Invite an address that has no account yet to join `team` as `role`, and mail it
    the link (after commit). Returns the invitation and its token, which is not stored
    (only its SHA-256) and reaches nobody but the mail.

    Refused: an address with an account (add it as a member instead), one already
    invited and pending, and more than SHIPWAY_MAX_OPEN_INVITATIONS open at once.
    Invitations of the team that expired more than SHIPWAY_INVITATION_DAYS ago are
    removed."""
    email = _clean_email(email)
    if role not in Role.values:
        raise Invalid({"roles": f"Choose one of {', '.join(Role.values)}."})
    _team_locked(team)
    # The team's invitations that expired a lifetime ago go (the list keeps the recently
    # expired ones to show): what a team holds stays bounded.
    lifetime = timedelta(days=settings.SHIPWAY_INVITATION_DAYS)
    team.invitations.filter(
        accepted_at__isnull=True, expires_at__lt=timezone.now() - lifetime
    ).delete()
    if find_user(email) is not None:
        raise Conflict(f"An account with the address {email} exists: add it as a member.")
    pending = Invitation.objects.open().filter(team=team)
    if pending.filter(email__iexact=email).exists():
        raise Conflict(f"{email} is already invited; cancel that invitation to send a new one.")
    if pending.count() >= settings.SHIPWAY_MAX_OPEN_INVITATIONS:
        raise TooMany(
            f"The team has {settings.SHIPWAY_MAX_OPEN_INVITATIONS} open invitations, as many "
            "as this server allows; cancel some or wait for them to expire."
        )
    token = INVITATION_PREFIX + secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        team=team,
        email=email,
        role=role,
        token_hash=hash_secret(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.SHIPWAY_INVITATION_DAYS),
    )
    # Not the address: the team's other members may read the log, and invited addresses
    # are the owners' to see.
    audit.record(
        action="invitation.create",
        team_id=team.id,
        resource_id=invitation.id,
        data={"role": role, "expiresAt": invitation.expires_at},
    )
    mail.queue_mail(
        template="invitation",
        to=[email],
        context={
            "team_name": team.name,
            "role": invitation.get_role_display(),
            "inviter": invited_by.get_username() if invited_by else "",
            "link": invitation_link(token),
            "expires_at": invitation.expires_at,
        },
    )
    log.info(
        "invitation.created",
        team_id=team.id,
        invitation_id=invitation.id,
        role=role,
        user_id=invited_by.pk if invited_by else None,
    )
    return invitation, token


@transaction.atomic
def invitation_delete(*, invitation: Invitation) -> None:
    """Cancel an invitation: its link stops working at once."""
    invitation_id = invitation.pk
    invitation.delete()
    audit.record(
        action="invitation.delete",
        team_id=invitation.team_id,
        resource_id=invitation_id,
        data={"role": invitation.role},
    )
    log.info("invitation.deleted", team_id=invitation.team_id, invitation_id=invitation_id)


def _locked_open_invitation(token: str) -> Invitation:
    """The token's invitation, its team and row locked, if its link still works
    (invitation_for_token's refusals otherwise)."""
    found = invitation_for_token(token)
    _team_locked(found.team)
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related("team")
    return invitation_for_token(token, queryset=invitation)  # again, under the lock


def _accept(invitation: Invitation, user: User) -> Membership:
    membership = membership_create(team=invitation.team, user=user, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        action="invitation.accept",
        team_id=invitation.team_id,
        resource_id=invitation.id,
        data={"user": user.get_username(), "role": invitation.role},
    )
    log.info(
        "invitation.accepted",
        team_id=invitation.team_id,
        invitation_id=invitation.id,
        user_id=user.pk,
    )
    return membership


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """A signed-in user takes up the invitation sent to their address: they join its
    team with its role, and the link stops working. Nothing changes when the link does
    not work any more, the address is another, or they are already a member."""
    invitation = _locked_open_invitation(token)
    if (user.email or "").strip().lower() != invitation.email.lower():
        raise PermissionDenied(
            "This invitation was sent to another email address than your account's."
        )
    return _accept(invitation, user)


@transaction.atomic
def user_create_from_invitation(*, token: str, username: str, password: str) -> User:
    """Make an account for the invited address, with this username and password, and
    join the invitation's team with its role (the link then stops working)."""
    invitation = _locked_open_invitation(token)
    if find_user(invitation.email) is not None:
        raise Conflict("An account with this email address exists: sign in to accept.")
    model = get_user_model()
    username = username.strip()
    try:
        model.username_validator(username)
    except ValidationError as exc:
        raise Invalid({"username": exc.messages}) from exc
    if not 1 <= len(username) <= MAX_USERNAME:
        raise Invalid({"username": f"Between 1 and {MAX_USERNAME} characters."})
    if model.objects.filter(username__iexact=username).exists():
        raise Invalid({"username": "That username is taken."})
    try:
        password_validation.validate_password(
            password, model(username=username, email=invitation.email)
        )
    except ValidationError as exc:
        raise Invalid({"password": exc.messages}) from exc
    try:
        with transaction.atomic():
            user = model.objects.create_user(
                username=username, email=invitation.email, password=password
            )
    except IntegrityError as exc:  # the same username taken at the same moment
        raise Invalid({"username": "That username is taken."}) from exc
    log.info("user.created", user_id=user.pk, invitation_id=invitation.id)
    with audit.as_user(user):  # the new account signs itself up
        audit.record(
            action="user.create",
            team_id=invitation.team_id,
            resource_id=user.pk,
            data={"username": user.get_username(), "invitationId": invitation.id},
        )
        _accept(invitation, user)
    return user


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    expires_in: timedelta | None = None,
    expires_at: datetime | None = None,
    team: Team | None = None,
    read_only: bool = False,
) -> tuple[ApiKey, str]:
    """Create a key for `user`; returns it with its secret, which is never stored.

    It expires `expires_in` from now or at `expires_at` (never without either), reaches
    only `team` (one of the user's teams) when given, and only reads when `read_only`."""
    if expires_in is not None:
        expires_at = timezone.now() + expires_in
    if expires_at is not None and expires_at <= timezone.now():
        raise Invalid({"expiresAt": "Must be in the future."})
    if team is not None and not Team.objects.for_user(user).filter(pk=team.pk).exists():
        raise Invalid({"teamId": f"You are not a member of team '{team.pk}'."})
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=secret[:10],
        secret_hash=hash_secret(secret),
        expires_at=expires_at,
        team=team,
        read_only=read_only,
    )
    # A key limited to a team is in that team's log; an unlimited one in no team's.
    audit.record(
        action="api_key.create",
        team_id=key.team_id,
        resource_id=key.id,
        data={
            "name": name,
            "user": user.get_username(),
            "prefix": key.prefix,
            "readOnly": read_only,
            "expiresAt": expires_at,
        },
    )
    log.info(
        "api_key.created",
        api_key_id=key.id,
        user_id=user.pk,
        team_id=key.team_id,
        read_only=read_only,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return key, secret


@transaction.atomic
def api_key_delete(*, key: ApiKey) -> None:
    key_id = key.pk
    key.delete()
    audit.record(
        action="api_key.delete",
        team_id=key.team_id,
        resource_id=key_id,
        data={"name": key.name, "prefix": key.prefix},
    )
    log.info("api_key.deleted", api_key_id=key_id, user_id=key.user_id)


def api_key_touch(*, key: ApiKey) -> bool:
    """Record use, at most once per API_KEY_LAST_USED_RESOLUTION seconds (no write per
    call). True when it wrote."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION)
    if key.last_used_at is not None and now - key.last_used_at < resolution:
        return False
    # update(), not save(): recording use is not a change the read cache must drop for.
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return True
