"""Preview protection: deployment addresses of a "previews" site open only for signed-in
members of its team, through the dashboard handshake."""

import time
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from accounts.models import Membership, Role
from accounts.services import membership_delete
from sites.services import site_delete, site_update
from tests.edge.conftest import SITES_DOMAIN, publish
from tests.factories import add_member, make_site, make_team, make_user
from tests.live import EdgeClient

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:  # type: ignore[no-untyped-def]
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{django_settings.SESSION_COOKIE_NAME}={session.session_key}"


def follow_handshake(edge, host: str, user) -> str:  # type: ignore[no-untyped-def]
    """Walk the redirects a browser would; returns the access cookie for `host`."""
    first = edge.get(host, "/page?x=1")
    assert first.status == 302
    authorize = urlsplit(first.getheader("location"))
    assert authorize.path == "/edge/authorize"
    back = edge.get("127.0.0.1", f"{authorize.path}?{authorize.query}", Cookie=session_cookie(user))
    assert back.status == 302, back.body
    callback = urlsplit(back.getheader("location"))
    assert callback.hostname == host and callback.path == "/.shipway/auth"
    landed = edge.get(host, f"{callback.path}?{callback.query}")
    assert landed.status == 302 and landed.getheader("location") == "/page?x=1"
    jar = SimpleCookie(landed.getheader("set-cookie"))
    return "; ".join(f"{k}={m.value}" for k, m in jar.items())


def test_preview_needs_a_team_member(edge, static_site):
    site, owner = static_site
    site_update(site=site, access="previews")
    deployment = publish(site, {"index.html": "secret preview", "page.html": "page"})
    preview = f"{deployment.id}--{site.id}.{SITES_DOMAIN}"
    production = f"{site.id}.{SITES_DOMAIN}"

    assert edge.get(production).body == b"secret preview"  # production stays public
    anonymous = edge.get(preview)
    assert anonymous.status == 302 and b"secret" not in anonymous.body

    cookie = follow_handshake(edge, preview, owner)
    assert edge.get(preview, "/", Cookie=cookie).body == b"secret preview"
    # The cookie is for this host only: another site's preview does not accept it.
    assert edge.get(production.replace(site.id, "x" + site.id[1:]), "/", Cookie=cookie).status in (
        302,
        404,
    )
    forged = cookie[:-3] + "abc"
    assert edge.get(preview, "/", Cookie=forged).status == 302


def test_outsiders_are_refused_at_the_dashboard(edge, static_site):
    site, _ = static_site
    site_update(site=site, access="team")
    publish(site, {"index.html": "team only"})
    host = f"{site.id}.{SITES_DOMAIN}"
    location = urlsplit(edge.get(host).getheader("location"))
    outsider = make_user()
    refused = edge.get(
        "127.0.0.1", f"{location.path}?{location.query}", Cookie=session_cookie(outsider)
    )
    assert refused.status == 403
    signed_out = edge.get("127.0.0.1", f"{location.path}?{location.query}")
    assert signed_out.status == 302 and "/accounts/login/" in signed_out.getheader("location")


def test_a_forged_ticket_is_not_accepted(edge, static_site):
    site, _ = static_site
    site_update(site=site, access="team")
    publish(site, {"index.html": "team only"})
    host = f"{site.id}.{SITES_DOMAIN}"
    response = edge.get(host, "/.shipway/auth?ticket=bogus&next=/")
    assert response.status == 302 and "/edge/authorize" in response.getheader("location")
    assert response.getheader("set-cookie") is None


def _soon(condition) -> bool:  # type: ignore[no-untyped-def]
    """The live server learns a change through Redis a moment after it is made."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _refused_soon(edge, host: str, cookie: str) -> bool:  # type: ignore[no-untyped-def]
    return _soon(lambda: edge.get(host, "/", Cookie=cookie).status == 302)


def test_a_removed_member_loses_preview_access_at_once(edge, static_site, _live_server):
    site, owner = static_site
    site_update(site=site, access="previews")
    deployment = publish(site, {"index.html": "secret preview"})
    preview = f"{deployment.id}--{site.id}.{SITES_DOMAIN}"
    member = add_member(site.team, make_user(), Role.VIEWER)
    cookie = follow_handshake(edge, preview, member)
    owner_cookie = follow_handshake(edge, preview, owner)
    assert edge.get(preview, "/", Cookie=cookie).body == b"secret preview"

    membership_delete(membership=Membership.objects.get(team=site.team, user=member))
    assert _refused_soon(edge, preview, cookie)
    assert edge.get(preview, "/", Cookie=owner_cookie).body == b"secret preview"
    # The dashboard refuses them a new one; a web process started later refuses the old.
    location = urlsplit(edge.get(preview).getheader("location"))
    again = edge.get(
        "127.0.0.1", f"{location.path}?{location.query}", Cookie=session_cookie(member)
    )
    assert again.status == 403
    _live_server.stop()
    restarted = EdgeClient(_live_server.ensure_fresh())
    assert restarted.get(preview, "/", Cookie=cookie).status == 302
    assert restarted.get(preview, "/", Cookie=owner_cookie).body == b"secret preview"


def test_a_deactivated_user_loses_preview_access_at_once(edge, static_site):
    site, owner = static_site
    site_update(site=site, access="team")
    publish(site, {"index.html": "team only"})
    host = f"{site.id}.{SITES_DOMAIN}"
    cookie = follow_handshake(edge, host, owner)
    assert edge.get(host, "/", Cookie=cookie).body == b"team only"
    owner.is_active = False
    owner.save()  # as the admin does it
    assert _refused_soon(edge, host, cookie)


def test_a_new_site_that_takes_a_deleted_sites_id_accepts_none_of_its_cookies(edge, static_site):
    """Site ids are the users' to choose, and free again after a delete: a member of the
    old site's team must not open the new one's protected pages with the old cookie."""
    site, owner = static_site
    site_update(site=site, access="team")
    publish(site, {"index.html": "old team's page"})
    host = f"{site.id}.{SITES_DOMAIN}"
    cookie = follow_handshake(edge, host, owner)
    assert edge.get(host, "/", Cookie=cookie).body == b"old team's page"

    site_id = site.id
    site_delete(site=site)
    assert _soon(lambda: edge.get(host, "/", Cookie=cookie).status == 404)  # remembered as gone
    other_owner = make_user()
    reused = make_site(make_team(other_owner), site_id=site_id, framework="static", access="team")
    publish(reused, {"index.html": "new team's page"})
    assert _soon(lambda: edge.get(host).status == 302)  # the new site is seen, not "gone"
    refused = edge.get(host, "/", Cookie=cookie)
    assert refused.status == 302 and b"new team" not in refused.body
