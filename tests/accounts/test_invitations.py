"""Team invitations by email (issue 15, item 4): adding a member by an address that has
no account mails an invitation (through a real SMTP server on loopback); its link, once,
before it expires, joins the team: signed in with the invited address, or by signing up
there. Another address, a used, expired, cancelled or unknown link change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Invitation, Membership, Role
from tests.factories import add_member, api_client, make_team, make_user

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://[^/\s]+/invitations/(swi_[A-Za-z0-9_-]+)/")
NEW = "new.person@example.org"


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    owner = make_user("ada")
    return make_team(owner, team_id="acme", name="Acme & Co")


def owner_of(team):  # type: ignore[no-untyped-def]
    return team.memberships.get(role=Role.OWNER).user


def invite(team, email: str = NEW, role: str = Role.DEVELOPER) -> str:  # type: ignore[no-untyped-def]
    """Invite through the API as the team's owner; the token, from the mail's link."""
    response = api_client(owner_of(team)).post(
        f"/v1/teams/{team.id}/memberships", {"email": email, "roles": [role]}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


def token_in(mailbox, email: str = NEW) -> str:  # type: ignore[no-untyped-def]
    (received,) = mailbox.to(email)
    (token,) = set(LINK.findall(received.text))
    assert token in received.html
    return token


def test_an_unknown_address_gets_an_invitation_by_mail(team, mailbox, committed, settings):
    settings.SHIPWAY_PUBLIC_URL = "http://shipway.test:8000"
    with committed():
        response = api_client(owner_of(team)).post(
            "/v1/teams/acme/memberships", {"email": NEW, "roles": ["developer"]}, format="json"
        )
    assert response.status_code == 202
    body = response.json()
    invitation = Invitation.objects.get()
    assert body == {
        "id": invitation.id,
        "teamId": "acme",
        "email": NEW,
        "roles": ["developer"],
        "status": "pending",
        "invitedBy": "ada",
        "createdAt": body["createdAt"],
        "expiresAt": body["expiresAt"],
    }
    lifetime = invitation.expires_at - invitation.created_at
    assert timedelta(days=7) - timedelta(seconds=5) < lifetime <= timedelta(days=7)
    assert not Membership.objects.filter(team=team).exclude(user__username="ada").exists()

    (received,) = mailbox.messages
    assert received.recipients == [NEW]
    assert received.subject == "You are invited to join Acme & Co on Shipway"
    assert "ada invites you" in received.text and "as Developer" in received.text
    assert "Acme &amp; Co" in received.html
    (link,) = set(re.findall(r"http://shipway\.test:8000/invitations/swi_[\w-]+/", received.text))
    token = link.rsplit("/", 2)[1]
    assert f'href="{link}"' in received.html
    # Only the token's SHA-256 is stored, nowhere the token itself.
    assert invitation.token_hash == account_services.hash_secret(token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_invitation")
        assert token not in str(cursor.fetchall())


def test_an_address_with_an_account_is_added_as_before(team, mailbox, committed):
    member = make_user("grace")
    with committed():
        response = api_client(owner_of(team)).post(
            "/v1/teams/acme/memberships",
            {"email": "GRACE@example.com", "roles": ["viewer"]},
            format="json",
        )
    assert response.status_code == 201
    assert response.json()["userId"] == str(member.pk)
    assert Invitation.objects.count() == 0 and mailbox.messages == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address", "roles": ["viewer"]}, "email"),
        ({"email": "a@b@c", "roles": ["viewer"]}, "email"),
        ({"email": NEW, "roles": ["admin"]}, "roles.0"),
        ({"email": "x" * 250 + "@example.org", "roles": ["viewer"]}, "email"),
        ({"username": "nobody", "roles": ["viewer"]}, "username"),
    ],
)
def test_bad_invitations_are_400s_naming_the_field(team, mailbox, committed, body, field):
    with committed():
        response = api_client(owner_of(team)).post(
            "/v1/teams/acme/memberships", body, format="json"
        )
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [field]
    assert Invitation.objects.count() == 0 and mailbox.messages == []


def test_one_pending_invitation_per_address_and_a_bound_per_team(team, settings):
    settings.SHIPWAY_MAX_OPEN_INVITATIONS = 2
    client = api_client(owner_of(team))

    def post(email: str):  # type: ignore[no-untyped-def]
        body = {"email": email, "roles": ["viewer"]}
        return client.post("/v1/teams/acme/memberships", body, format="json")

    assert post("one@example.org").status_code == 202
    again = post("ONE@example.org")
    assert again.status_code == 409 and "already invited" in again.json()["message"]
    assert post("two@example.org").status_code == 202
    third = post("three@example.org")
    assert third.status_code == 429 and third.json()["type"] == "too_many"
    # An expired invitation no longer counts, and its address may be invited again.
    Invitation.objects.filter(email="one@example.org").update(expires_at=timezone.now())
    assert post("three@example.org").status_code == 202
    assert post("one@example.org").status_code == 429  # two open again
    Invitation.objects.filter(email="two@example.org").update(expires_at=timezone.now())
    assert post("one@example.org").status_code == 202
    assert Invitation.objects.count() == 4
    # Those that expired a lifetime ago go when the team invites next.
    long_ago = timezone.now() - timedelta(days=settings.SHIPWAY_INVITATION_DAYS, seconds=1)
    Invitation.objects.filter(email__in=["two@example.org", "three@example.org"]).update(
        expires_at=long_ago
    )
    assert post("four@example.org").status_code == 202
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "four@example.org",
        "one@example.org",
        "one@example.org",
    ]


def test_owners_list_and_cancel_invitations(team):
    invitation_id = invite(team)
    client = api_client(owner_of(team))
    listed = client.get("/v1/teams/acme/invitations").json()
    assert listed["total"] == 1 and listed["invitations"][0]["id"] == invitation_id
    one = client.get(f"/v1/teams/acme/invitations/{invitation_id}")
    assert one.status_code == 200 and one.json()["email"] == NEW
    assert client.delete(f"/v1/teams/acme/invitations/{invitation_id}").status_code == 204
    assert Invitation.objects.count() == 0
    gone = client.get(f"/v1/teams/acme/invitations/{invitation_id}")
    assert gone.status_code == 404


# -- the link ------------------------------------------------------------------------


PASSWORD = "Tr0ub4dor&3x"


def sign_up(client: Client, token: str, username: str = "newbie", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        f"/invitations/{token}/",
        {"username": username, "password": password, "password_again": password},
    )


def test_the_link_signs_up_a_new_account_that_joins_the_team(team, mailbox, committed):
    with committed():
        invite(team, role=Role.VIEWER)
    token = token_in(mailbox)
    client = Client()
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert "Create account and join" in page.content.decode() and NEW in page.content.decode()
    assert "no-store" in page["Cache-Control"] and page["Referrer-Policy"] == "same-origin"
    response = sign_up(client, token)
    assert response.status_code == 302 and response["Location"] == "/teams/acme/"
    user = get_user_model().objects.get(username="newbie")
    assert user.email == NEW and user.check_password("Tr0ub4dor&3x")
    assert Membership.objects.get(team=team, user=user).role == Role.VIEWER
    assert user.groups.filter(pk=team.viewer_group.pk).exists()
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is not None and invitation.accepted_by == user
    # Signed in: the team's page opens.
    assert client.get("/teams/acme/").status_code == 200
    # The link works once.
    again = Client().get(f"/invitations/{token}/")
    assert again.status_code == 410 and "already been used" in again.content.decode()
    reuse = sign_up(Client(), token, username="second")
    assert reuse.status_code == 410
    assert not get_user_model().objects.filter(username="second").exists()


def test_a_weak_password_or_taken_username_is_refused_on_the_form(team, mailbox, committed):
    make_user("taken")
    with committed():
        invite(team)
    token = token_in(mailbox)
    weak = sign_up(Client(), token, password="123")
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    taken = sign_up(Client(), token, username="TAKEN")
    assert taken.status_code == 400 and "That username is taken." in taken.content.decode()
    differ = Client().post(
        f"/invitations/{token}/",
        {"username": "z", "password": "Tr0ub4dor&3x", "password_again": "other"},
    )
    assert differ.status_code == 400 and "The two passwords differ." in differ.content.decode()
    assert get_user_model().objects.count() == 2  # ada and taken
    assert Invitation.objects.get().accepted_at is None


def test_a_signed_in_account_with_the_address_joins(team, mailbox, committed):
    with committed():
        invite(team)
    token = token_in(mailbox)
    person = make_user("person")  # an account made after the invitation, same address
    person.email = NEW.upper()
    person.save()
    client = Client()
    client.force_login(person)
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200 and "Join Acme &amp; Co" in page.content.decode()
    assert not Membership.objects.filter(team=team, user=person).exists()  # GET changes nothing
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 302 and response["Location"] == "/teams/acme/"
    assert Membership.objects.get(team=team, user=person).role == Role.DEVELOPER
    assert client.post(f"/invitations/{token}/").status_code == 410


def test_a_signed_out_account_with_the_address_is_asked_to_sign_in(team, mailbox, committed):
    with committed():
        invite(team)
    token = token_in(mailbox)
    person = make_user("person")
    get_user_model().objects.filter(pk=person.pk).update(email=NEW)
    page = Client().get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert f"/accounts/login/?next=/invitations/{token}/" in page.content.decode()
    refused = sign_up(Client(), token)
    assert refused.status_code == 200  # the sign-in page again: no form was taken
    assert not get_user_model().objects.filter(username="newbie").exists()
    assert Invitation.objects.get().accepted_at is None


def test_another_address_is_refused_and_nothing_changes(team, mailbox, committed):
    with committed():
        invite(team)
    token = token_in(mailbox)
    stranger = make_user("stranger")
    client = Client()
    client.force_login(stranger)
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 403 and "another email address" in page.content.decode()
    assert client.post(f"/invitations/{token}/").status_code == 403
    assert not Membership.objects.filter(team=team, user=stranger).exists()
    assert Invitation.objects.get().accepted_at is None
    with pytest.raises(account_services.PermissionDenied):
        account_services.invitation_accept(token=token, user=stranger)


def test_an_expired_link_is_refused_and_nothing_changes(team, mailbox, committed):
    with committed():
        invite(team)
    token = token_in(mailbox)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = Client().get(f"/invitations/{token}/")
    assert page.status_code == 410 and "has expired" in page.content.decode()
    assert sign_up(Client(), token).status_code == 410
    assert get_user_model().objects.count() == 1
    assert Invitation.objects.get().accepted_at is None
    listed = api_client(owner_of(team)).get("/v1/teams/acme/invitations").json()
    assert listed["invitations"][0]["status"] == "expired"


def test_unknown_and_cancelled_links_are_not_found(team, mailbox, committed):
    with committed():
        invitation_id = invite(team)
    token = token_in(mailbox)
    assert Client().get("/invitations/swi_made-up/").status_code == 404
    assert Client().get("/invitations/" + "x" * 500 + "/").status_code == 404
    api_client(owner_of(team)).delete(f"/v1/teams/acme/invitations/{invitation_id}")
    page = Client().get(f"/invitations/{token}/")
    assert page.status_code == 404 and "not valid" in page.content.decode()
    assert sign_up(Client(), token).status_code == 404
    assert get_user_model().objects.count() == 1


def test_an_existing_member_cannot_accept_twice(team, mailbox, committed):
    with committed():
        invite(team)
    token = token_in(mailbox)
    person = add_member(team, make_user("person"), Role.VIEWER)
    get_user_model().objects.filter(pk=person.pk).update(email=NEW)
    person.refresh_from_db()
    client = Client()
    client.force_login(person)
    response = client.post(f"/invitations/{token}/", follow=True)
    assert "already a member" in response.content.decode()
    assert Membership.objects.get(team=team, user=person).role == Role.VIEWER
    assert Invitation.objects.get().accepted_at is None


# -- the dashboard's team page ---------------------------------------------------------


def test_owners_invite_see_and_cancel_on_the_team_page(team, mailbox, committed):
    client = Client()
    client.force_login(owner_of(team))
    with committed():
        response = client.post("/teams/acme/members/", {"identifier": NEW, "role": "viewer"})
    assert response.status_code == 302
    assert token_in(mailbox)
    invitation = Invitation.objects.get()
    page = client.get("/teams/acme/").content.decode()
    assert "Invitations" in page and NEW in page
    bad = client.post("/teams/acme/members/", {"identifier": "x@", "role": "viewer"})
    assert bad.status_code == 400 and "Enter a valid email address." in bad.content.decode()
    cancel = client.post(f"/teams/acme/invitations/{invitation.id}/delete/")
    assert cancel.status_code == 302 and Invitation.objects.count() == 0


def test_members_who_are_not_owners_see_no_invitations(team):
    invite(team)
    viewer = add_member(team, make_user("viewer"), Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    assert NEW not in client.get("/teams/acme/").content.decode()
    invitation = Invitation.objects.get()
    assert client.post(f"/teams/acme/invitations/{invitation.id}/delete/").status_code == 403
    assert Invitation.objects.count() == 1
