"""Custom domains: the records they ask for, verification against a real DNS server on
loopback, validation, claims across sites, permissions, Caddy's `ask`, and the edge's
invalidation signal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from django.utils import timezone

from deployments.services import deployment_create_from_upload
from sites import domains, services
from sites.domains import CHECK_ERRORS
from sites.models import Domain, DomainStatus, Site
from sites.selectors import verified_domains_for_site, verified_site_for_domain
from sites.signals import site_serving_changed
from tests import api_matrix
from tests.api_matrix import Case, PermissionMatrix, World, hidden, members, owners
from tests.archives import tar_gz, upload
from tests.factories import api_client, make_site, make_team, make_user

pytestmark = pytest.mark.django_db

SITES_DOMAIN = "sites.example.net"
PLATFORM_HOST = "shipway.example.net"
SERVER_IPS = ["203.0.113.7", "2001:db8::7"]


# -- a DNS server on loopback ----------------------------------------------------------


class LoopbackDns:
    """A UDP DNS server on 127.0.0.1 (random port) answering from `records`, chasing
    CNAMEs the way a recursive resolver does: NXDOMAIN for a name it has nothing for."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.queries: list[tuple[str, str]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="loopback-dns", daemon=True)
        self._thread.start()

    def add(self, name: str, rdtype: str, *values: str) -> None:
        if rdtype == "TXT":
            values = tuple(f'"{value}"' for value in values)
        elif rdtype == "CNAME":
            values = tuple(f"{value.rstrip('.')}." for value in values)
        self.records.setdefault((name.lower(), rdtype), []).extend(values)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self._socket.sendto(self._answer(wire).to_wire(), peer)

    def _answer(self, wire: bytes) -> dns.message.Message:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        for _hop in range(8):
            values = self.records.get((name, rdtype))
            if values:
                response.answer.append(dns.rrset.from_text(f"{name}.", 60, "IN", rdtype, *values))
                break
            target = self.records.get((name, "CNAME"))
            if target and rdtype != "CNAME":
                response.answer.append(dns.rrset.from_text(f"{name}.", 60, "IN", "CNAME", *target))
                name = target[0].rstrip(".")
                continue
            if not response.answer and not any(known == name for known, _ in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            break
        return response


@pytest.fixture(scope="module")
def loopback_dns() -> Iterator[LoopbackDns]:
    server = LoopbackDns()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def dns_server(loopback_dns: LoopbackDns, settings: Any) -> LoopbackDns:
    """Every test resolves through the loopback server, with no records to start with,
    under a platform of its own (sites on SITES_DOMAIN, the dashboard on PLATFORM_HOST)."""
    loopback_dns.records.clear()
    loopback_dns.queries.clear()
    settings.SHIPWAY_DNS_NAMESERVERS = [f"127.0.0.1:{loopback_dns.port}"]
    settings.SHIPWAY_SERVER_IPS = []
    settings.SITES_DOMAIN = SITES_DOMAIN
    settings.SHIPWAY_PUBLIC_URL = f"https://{PLATFORM_HOST}"
    settings.SHIPWAY_PLATFORM_HOSTS = ["testserver", PLATFORM_HOST]
    return loopback_dns


@pytest.fixture
def owner() -> Any:
    return make_user("owner")


@pytest.fixture
def site(owner: Any) -> Site:
    return make_site(make_team(owner, team_id="acme"), "blog", name="Blog")


@pytest.fixture
def client(owner: Any) -> Any:
    return api_client(owner)


def add(client: Any, name: str, site_id: str = "blog") -> Any:
    return client.post(f"/v1/sites/{site_id}/domains", {"domain": name}, format="json")


def verify(client: Any, domain_id: str, site_id: str = "blog") -> dict[str, Any]:
    response = client.patch(f"/v1/sites/{site_id}/domains/{domain_id}/verify")
    assert response.status_code == 200, response.content
    return response.json()


def claimed(client: Any, name: str) -> dict[str, Any]:
    response = add(client, name)
    assert response.status_code == 201, response.content
    return response.json()


def publish_records(dns_server: LoopbackDns, domain: dict[str, Any], *kinds: str) -> None:
    """Add the records the API asked for, of the given kinds, to the DNS server."""
    for record in domain["records"]:
        if record["type"] in kinds:
            dns_server.add(record["name"], record["type"], record["value"])


def error(kind: str, domain: str, **words: str) -> str:
    """The sentence `lastError` carries for `kind` (sites.domains.CHECK_ERRORS)."""
    return CHECK_ERRORS[kind].format(
        domain=domain,
        challenge=f"_shipway-challenge.{domain}",
        site_host=f"blog.{SITES_DOMAIN}",
        **words,
    )


# -- creating: the records to add -----------------------------------------------------


def test_create_gives_the_records_to_add(client, site):
    response = add(client, "  WWW.Example.COM. ")
    assert response.status_code == 201, response.content
    body = response.json()
    row = Domain.objects.get()
    assert body["id"] == row.id
    assert body["siteId"] == "blog"
    assert body["domain"] == "www.example.com"
    assert (body["status"], body["verified"]) == ("pending", False)
    assert body["verifiedAt"] is body["lastCheckedAt"] is body["lastError"] is None
    assert body["createdAt"] and body["updatedAt"]
    assert len(row.verification_token) >= 32
    assert body["records"] == [
        {
            "type": "TXT",
            "name": "_shipway-challenge.www.example.com",
            "value": row.verification_token,
        },
        {"type": "CNAME", "name": "www.example.com", "value": f"blog.{SITES_DOMAIN}"},
    ]

    listed = client.get("/v1/sites/blog/domains").json()
    assert listed == {"total": 1, "domains": [body]}
    assert client.get(f"/v1/sites/blog/domains/{row.id}").json() == body
    assert client.get("/v1/sites/blog/domains", {"search": "nothing"}).json()["total"] == 0


def test_records_name_the_servers_addresses_when_configured(client, site, settings):
    settings.SHIPWAY_SERVER_IPS = SERVER_IPS
    records = claimed(client, "example.com")["records"]
    assert [r["type"] for r in records] == ["TXT", "CNAME", "A", "AAAA"]
    assert records[2:] == [
        {"type": "A", "name": "example.com", "value": "203.0.113.7"},
        {"type": "AAAA", "name": "example.com", "value": "2001:db8::7"},
    ]


def test_unicode_names_are_stored_in_their_ascii_form(client, site):
    assert claimed(client, "Bücher.Example")["domain"] == "xn--bcher-kva.example"
    assert add(client, "xn--bcher-kva.example").status_code == 409  # the same name


def test_each_domain_has_its_own_token(client, site):
    first = claimed(client, "a.example.com")["records"][0]["value"]
    second = claimed(client, "b.example.com")["records"][0]["value"]
    assert first != second


# -- verifying against DNS ----------------------------------------------------------


def test_verify_without_the_txt_record_stays_pending_and_says_why(client, site, dns_server):
    domain = claimed(client, "www.example.com")
    publish_records(dns_server, domain, "CNAME")
    body = verify(client, domain["id"])
    assert (body["status"], body["verified"]) == ("pending", False)
    assert body["lastError"] == "No TXT record _shipway-challenge.www.example.com."
    assert body["lastError"] == error("txt_missing", "www.example.com")
    assert body["lastCheckedAt"] is not None and body["verifiedAt"] is None
    assert ("_shipway-challenge.www.example.com", "TXT") in dns_server.queries
    assert verified_site_for_domain("www.example.com") is None


def test_verify_with_another_token_says_so(client, site, dns_server):
    domain = claimed(client, "www.example.com")
    dns_server.add("_shipway-challenge.www.example.com", "TXT", "not-the-token")
    publish_records(dns_server, domain, "CNAME")
    body = verify(client, domain["id"])
    token = domain["records"][0]["value"]
    assert body["status"] == "pending"
    assert body["lastError"] == error("txt_mismatch", "www.example.com", token=token)


def test_verify_with_txt_but_no_cname_or_address(client, site, dns_server, settings):
    domain = claimed(client, "www.example.com")
    publish_records(dns_server, domain, "TXT")
    body = verify(client, domain["id"])
    assert body["status"] == "pending"
    assert body["lastError"] == error("not_pointed", "www.example.com")

    settings.SHIPWAY_SERVER_IPS = SERVER_IPS
    body = verify(client, domain["id"])
    assert body["status"] == "pending"
    assert body["lastError"] == error(
        "not_pointed_or_ip", "www.example.com", server_ips="203.0.113.7, 2001:db8::7"
    )


def test_verify_with_a_cname_elsewhere_or_addresses_elsewhere(client, site, dns_server, settings):
    settings.SHIPWAY_SERVER_IPS = SERVER_IPS
    www = claimed(client, "www.example.com")
    publish_records(dns_server, www, "TXT")
    dns_server.add("www.example.com", "CNAME", "old-host.example.org")
    body = verify(client, www["id"])
    assert body["status"] == "pending"
    assert body["lastError"] == error(
        "cname_elsewhere", "www.example.com", target="old-host.example.org"
    )

    apex = claimed(client, "example.com")
    publish_records(dns_server, apex, "TXT", "A")  # ours, and one left from the old host
    dns_server.add("example.com", "A", "198.51.100.1")
    body = verify(client, apex["id"])
    assert body["status"] == "pending"
    assert body["lastError"] == error(
        "other_addresses",
        "example.com",
        addresses="198.51.100.1, 203.0.113.7",
        server_ips="203.0.113.7, 2001:db8::7",
    )


def test_verify_with_txt_and_cname_verifies(
    client, site, dns_server, django_assert_max_num_queries
):
    domain = claimed(client, "www.example.com")
    publish_records(dns_server, domain, "TXT", "CNAME")
    body = verify(client, domain["id"])
    assert (body["status"], body["verified"], body["lastError"]) == ("verified", True, None)
    assert body["verifiedAt"] == body["lastCheckedAt"] is not None
    assert verified_site_for_domain("WWW.example.com.") == "blog"
    assert verified_domains_for_site("blog") == ["www.example.com"]
    with django_assert_max_num_queries(1):
        assert verified_site_for_domain("other.example.com") is None


def test_verify_with_txt_and_a_records_verifies(client, site, dns_server, settings):
    settings.SHIPWAY_SERVER_IPS = SERVER_IPS
    domain = claimed(client, "example.com")
    publish_records(dns_server, domain, "TXT", "A", "AAAA")
    body = verify(client, domain["id"])
    assert (body["status"], body["verified"], body["lastError"]) == ("verified", True, None)
    assert verified_site_for_domain("example.com") == "blog"


def test_a_cname_chain_that_ends_at_this_server_verifies(client, site, dns_server, settings):
    settings.SHIPWAY_SERVER_IPS = SERVER_IPS
    domain = claimed(client, "www.example.com")
    publish_records(dns_server, domain, "TXT")
    dns_server.add("www.example.com", "CNAME", "edge.example.org")
    dns_server.add("edge.example.org", "A", "203.0.113.7")
    assert verify(client, domain["id"])["status"] == "verified"


def test_a_verified_domain_stays_verified_when_its_txt_record_is_removed(client, site, dns_server):
    domain = claimed(client, "www.example.com")
    publish_records(dns_server, domain, "TXT", "CNAME")
    first = verify(client, domain["id"])
    dns_server.records.clear()  # the TXT record may be removed once verified
    publish_records(dns_server, domain, "CNAME")
    again = verify(client, domain["id"])
    assert (again["status"], again["verifiedAt"]) == ("verified", first["verifiedAt"])
    assert again["lastError"] is None
    assert again["lastCheckedAt"] >= first["lastCheckedAt"]


def test_an_unreachable_dns_server_is_a_failed_check_not_an_error(
    client, site, settings, monkeypatch
):
    monkeypatch.setattr(domains, "DNS_LIFETIME", 0.5)
    domain = claimed(client, "www.example.com")
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    settings.SHIPWAY_DNS_NAMESERVERS = [f"127.0.0.1:{port}"]
    body = verify(client, domain["id"])
    assert body["status"] == "pending"
    assert body["lastError"] == error(
        "lookup_failed",
        "www.example.com",
        rdtype="TXT",
        name="_shipway-challenge.www.example.com",
        reason="no answer in time",
    )


# -- validation -------------------------------------------------------------------------

INVALID = [
    ("", "blank"),
    ("example", "a single label"),
    ("https://example.com", "a scheme"),
    ("example.com/path", "a path"),
    ("example.com:8080", "a port"),
    ("*.example.com", "a wildcard"),
    ("203.0.113.7", "an IPv4 address"),
    ("2001:db8::1", "an IPv6 address"),
    ("[2001:db8::1]", "a bracketed IPv6 address"),
    ("exa_mple.com", "an underscore"),
    ("-example.com", "a leading hyphen"),
    ("example-.com", "a trailing hyphen"),
    ("exa mple.com", "a space"),
    ("www..example.com", "an empty label"),
    (".example.com", "a leading dot"),
    ("a" * 64 + ".com", "a label over 63 characters"),
    (".".join(["a" * 63] * 4) + ".com", "over 253 characters"),
    ("example.123", "an all-digit last label"),
    ("☃.example.com", "a label IDNA refuses"),
    ("xn--zz.example.com", "bad punycode"),
]


@pytest.mark.parametrize(("name", "why"), INVALID, ids=[why for _, why in INVALID])
def test_invalid_domains_are_400s_naming_the_field_and_write_nothing(client, site, name, why):
    before = Domain.objects.count(), api_matrix.snapshot()
    response = add(client, name)
    assert response.status_code == 400, (why, response.content)
    body = response.json()
    assert (body["code"], body["type"]) == (400, "validation_error")
    assert "domain" in body["fields"], body
    assert body["message"].startswith("domain: ")
    assert (Domain.objects.count(), api_matrix.snapshot()) == before


@pytest.mark.parametrize("payload", [{}, {"domain": 123}, {"domain": None}, {"domain": ["a.com"]}])
def test_a_missing_or_mistyped_domain_is_a_400_naming_it(client, site, payload):
    response = client.post("/v1/sites/blog/domains", payload, format="json")
    assert response.status_code == 400
    assert "domain" in response.json()["fields"]
    assert not Domain.objects.exists()


PLATFORM = [
    SITES_DOMAIN,
    f"blog.{SITES_DOMAIN}",
    f"other.{SITES_DOMAIN}",
    f"deployment1.blog.{SITES_DOMAIN}",
    f"deployment1--blog.{SITES_DOMAIN}",
    f"BLOG.{SITES_DOMAIN.upper()}.",
    PLATFORM_HOST,
    "localhost",
    "app.localhost",
]


@pytest.mark.parametrize("name", PLATFORM)
def test_platform_hostnames_cannot_be_claimed(client, site, name):
    response = add(client, name)
    assert response.status_code == 400, response.content
    assert "domain" in response.json()["fields"]
    assert not Domain.objects.exists()


def test_the_public_urls_host_is_refused_even_when_set_late(client, site, settings):
    settings.SHIPWAY_PUBLIC_URL = "https://console.example.org:8443/base"
    response = add(client, "Console.Example.org")
    assert response.status_code == 400
    assert "domain" in response.json()["fields"]


# -- claims across sites ------------------------------------------------------------------


def test_a_site_adds_a_name_once(client, site, owner):
    make_site(site.team, "shop", name="Shop")
    claimed(client, "www.example.com")
    again = add(client, "WWW.example.com")
    assert again.status_code == 409
    assert again.json()["type"] == "conflict"
    assert "already added to this site" in again.json()["message"]
    assert add(client, "www.example.com", site_id="shop").status_code == 201
    assert Domain.objects.count() == 2


def test_a_deleted_domain_can_be_added_again_at_once(client, site, dns_server):
    make_site(site.team, "shop", name="Shop")
    first = claimed(client, "www.example.com")
    publish_records(dns_server, first, "TXT", "CNAME")
    assert verify(client, first["id"])["verified"]

    response = client.delete(f"/v1/sites/blog/domains/{first['id']}")
    assert response.status_code == 204
    assert client.get(f"/v1/sites/blog/domains/{first['id']}").status_code == 404
    assert verified_site_for_domain("www.example.com") is None

    again = claimed(client, "www.example.com")
    assert again["id"] != first["id"]
    assert again["records"][0]["value"] != first["records"][0]["value"]  # a new token
    assert again["status"] == "pending"
    client.delete(f"/v1/sites/blog/domains/{again['id']}")
    assert add(client, "www.example.com", site_id="shop").status_code == 201


def test_deleting_a_site_frees_its_domains(client, site):
    from sites.services import site_delete

    claimed(client, "www.example.com")
    site_delete(site=site)
    assert not Domain.objects.exists()


# -- squatting (issue 11, item 7) ----------------------------------------------------


@pytest.fixture
def rival() -> Any:
    """The owner of another team's site, `theirs`."""
    stranger = make_user("stranger")
    make_site(make_team(stranger, team_id="other"), "theirs", name="Theirs")
    return api_client(stranger)


def theirs_claimed(rival: Any, name: str) -> dict[str, Any]:
    response = add(rival, name, site_id="theirs")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_pending_claim_blocks_no_other_site(client, site, rival):
    """Attack: claim a name you cannot prove, and nobody else can add it."""
    ours = claimed(client, "www.example.com")
    theirs = theirs_claimed(rival, "WWW.example.com.")
    assert theirs["status"] == "pending" and theirs["id"] != ours["id"]
    assert theirs["records"][0]["value"] != ours["records"][0]["value"]
    assert Domain.objects.filter(domain="www.example.com").count() == 2
    assert add(client, "www.example.com").status_code == 409  # once per site


def test_re_adding_a_claim_before_it_lapses_does_not_hold_the_name(client, site, rival):
    """Attack: delete a pending claim just before it lapses and add it again, forever."""
    first = claimed(client, "www.example.com")
    Domain.objects.filter(pk=first["id"]).update(
        created_at=timezone.now() - timedelta(days=6, hours=23)
    )
    assert client.delete(f"/v1/sites/blog/domains/{first['id']}").status_code == 204
    claimed(client, "www.example.com")
    assert theirs_claimed(rival, "www.example.com")["status"] == "pending"


def test_the_first_dns_proof_wins_and_the_others_see_it_taken(client, site, rival, dns_server):
    ours = claimed(client, "www.example.com")
    theirs = theirs_claimed(rival, "www.example.com")
    publish_records(dns_server, theirs, "TXT", "CNAME")  # the name's DNS says "theirs"

    won = verify(rival, theirs["id"], site_id="theirs")
    assert (won["status"], won["verified"]) == ("verified", True)
    seen = client.get(f"/v1/sites/blog/domains/{ours['id']}").json()
    assert (seen["status"], seen["verified"]) == ("taken", False)
    assert "another site" in seen["lastError"] and "theirs" not in seen["lastError"]
    again = verify(client, ours["id"])
    assert again["status"] == "taken"
    assert verified_site_for_domain("www.example.com") == "theirs"
    assert ask("www.example.com").status_code == 200

    # A third site's new claim is taken from the start.
    make_site(site.team, "shop", name="Shop")
    assert add(client, "www.example.com", site_id="shop").json()["status"] == "taken"


def test_a_proof_that_still_holds_is_not_taken_away(client, site, rival, dns_server, settings):
    """Two sites whose records both pass (both tokens in the TXT record, A records to
    this server): the one verified first keeps it."""
    settings.SHIPWAY_SERVER_IPS = SERVER_IPS
    ours = claimed(client, "example.com")
    publish_records(dns_server, ours, "TXT", "A")
    assert verify(client, ours["id"])["status"] == "verified"
    theirs = theirs_claimed(rival, "example.com")
    assert theirs["status"] == "taken"
    publish_records(dns_server, theirs, "TXT")
    assert verify(rival, theirs["id"], site_id="theirs")["status"] == "taken"
    assert client.get(f"/v1/sites/blog/domains/{ours['id']}").json()["status"] == "verified"
    assert verified_site_for_domain("example.com") == "blog"


def test_a_verified_domain_whose_records_moved_goes_to_the_site_that_proves_it(
    client, site, rival, dns_server, serving_changes, django_capture_on_commit_callbacks
):
    """Attack: verify once, and keep the name after it has changed hands."""
    ours = claimed(client, "www.example.com")
    publish_records(dns_server, ours, "TXT", "CNAME")
    assert verify(client, ours["id"])["verified"]

    dns_server.records.clear()  # the name's new holder points it at their own site
    theirs = theirs_claimed(rival, "www.example.com")
    assert theirs["status"] == "taken"
    publish_records(dns_server, theirs, "TXT", "CNAME")
    with django_capture_on_commit_callbacks(execute=True):
        won = verify(rival, theirs["id"], site_id="theirs")
    assert (won["status"], won["verified"]) == ("verified", True)
    assert {site_id for _, site_id in serving_changes} == {"blog", "theirs"}  # both edges

    lost = client.get(f"/v1/sites/blog/domains/{ours['id']}").json()
    assert (lost["status"], lost["verified"]) == ("lost", False)
    assert lost["verifiedAt"] is not None  # when it was verified, kept for the record
    assert "another site" in lost["lastError"].lower()
    assert verified_site_for_domain("www.example.com") == "theirs"
    assert verified_domains_for_site("blog") == []
    # The lost claim cannot win it back while the records name the other site.
    assert verify(client, ours["id"])["status"] == "taken"


def recheck_due(settings: Any) -> None:
    """Every verified domain's last check is older than the re-check interval."""
    Domain.objects.update(
        last_checked_at=timezone.now()
        - timedelta(seconds=settings.SHIPWAY_DOMAIN_RECHECK_SECONDS + 1)
    )


def test_verified_domains_are_checked_again_periodically(client, site, dns_server, settings):
    from sites.tasks import recheck_domains

    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "sites.tasks.recheck_domains" in schedule
    assert settings.SHIPWAY_DOMAIN_RECHECK_SECONDS == 24 * 3600

    kept = claimed(client, "kept.example.com")
    moved = claimed(client, "moved.example.com")
    for domain in (kept, moved):
        publish_records(dns_server, domain, "TXT", "CNAME")
        assert verify(client, domain["id"])["verified"]
    recheck_due(settings)
    dns_server.records.clear()
    dns_server.add("kept.example.com", "CNAME", f"blog.{SITES_DOMAIN}")  # its TXT removed
    dns_server.add("moved.example.com", "CNAME", "elsewhere.example.org")

    assert recheck_domains() == 2
    kept_now = client.get(f"/v1/sites/blog/domains/{kept['id']}").json()
    moved_now = client.get(f"/v1/sites/blog/domains/{moved['id']}").json()
    assert kept_now["status"] == "verified"
    assert (moved_now["status"], moved_now["verified"]) == ("lost", False)
    assert moved_now["lastError"] == error(
        "cname_elsewhere", "moved.example.com", target="elsewhere.example.org"
    )
    assert verified_site_for_domain("moved.example.com") is None
    assert ask("moved.example.com").status_code == 404
    assert recheck_domains() == 0  # checked just now: not due again

    # Its records back, a verify makes it verified again.
    dns_server.records.clear()
    publish_records(dns_server, moved, "TXT", "CNAME")
    assert verify(client, moved["id"])["status"] == "verified"


def test_a_failed_lookup_on_a_recheck_changes_nothing(
    client, site, dns_server, settings, monkeypatch
):
    from sites.tasks import recheck_domains

    domain = claimed(client, "www.example.com")
    publish_records(dns_server, domain, "TXT", "CNAME")
    assert verify(client, domain["id"])["verified"]
    recheck_due(settings)
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    settings.SHIPWAY_DNS_NAMESERVERS = [f"127.0.0.1:{port}"]
    monkeypatch.setattr(domains, "DNS_LIFETIME", 0.3)
    assert recheck_domains() == 1
    body = client.get(f"/v1/sites/blog/domains/{domain['id']}").json()
    assert body["status"] == "verified" and "try again later" in body["lastError"]


# -- who may do what ------------------------------------------------------------------------


@pytest.fixture
def snapshot_with_domains(monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix's write check also watches the domains table."""
    plain = api_matrix.snapshot

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        rows = sorted(Domain.objects.values_list(), key=repr)
        return {**plain(), "domain": rows}

    monkeypatch.setattr(api_matrix, "snapshot", snapshot)


def _lists_the_domain(answer: api_matrix.Answer) -> str | None:
    domains_listed = [item["domain"] for item in answer.body["domains"]]
    return None if domains_listed == ["www.example.com"] else f"listed {domains_listed}"


@pytest.mark.usefixtures("snapshot_with_domains")
class TestDomainPermissions(PermissionMatrix):
    """Members read a site's domains; only owners (and staff) add, verify and remove
    them; another team's are hidden (404), and anonymous callers get 401."""

    cases = (
        Case("GET", "/v1/sites/{site}/domains", members(200), check=_lists_the_domain),
        Case("GET", "/v1/sites/{site}/domains/{domain}", members(200)),
        Case("POST", "/v1/sites/{site}/domains", owners(201), body={"domain": "new.example.com"}),
        Case("PATCH", "/v1/sites/{site}/domains/{domain}/verify", owners(200)),
        Case("DELETE", "/v1/sites/{site}/domains/{domain}", owners(204)),
        Case("GET", "/v1/sites/{other_site}/domains", hidden(200)),
        Case("GET", "/v1/sites/{other_site}/domains/{other_domain}", hidden(200)),
        Case("POST", "/v1/sites/{other_site}/domains", hidden(201), body={"domain": "x.example"}),
        Case("PATCH", "/v1/sites/{other_site}/domains/{other_domain}/verify", hidden(200)),
        Case("DELETE", "/v1/sites/{other_site}/domains/{other_domain}", hidden(204)),
        # A domain id of another site, through a site the caller may see.
        Case("GET", "/v1/sites/{site}/domains/{other_domain}", members(404)),
        Case("DELETE", "/v1/sites/{site}/domains/{other_domain}", owners(404)),
    )

    def extend_world(self, world: World) -> None:
        site = Site.objects.get(pk=world.ids["site"])
        other = Site.objects.get(pk=world.ids["other_site"])
        world.ids["domain"] = services.domain_create(site=site, domain="www.example.com").id
        world.ids["other_domain"] = services.domain_create(site=other, domain="b.example.org").id


def test_the_roles_in_plain_words(owner, site):
    """The matrix above, the cases the issue names: a viewer reads, a developer cannot
    add (403), an outsider sees nothing (404), the owner adds."""
    from accounts.models import Role
    from tests.factories import add_member

    viewer = add_member(site.team, make_user("viewer"), Role.VIEWER)
    developer = add_member(site.team, make_user("developer"), Role.DEVELOPER)
    outsider = make_user("outsider")
    assert add(api_client(owner), "www.example.com").status_code == 201
    assert api_client(viewer).get("/v1/sites/blog/domains").json()["total"] == 1
    assert add(api_client(viewer), "a.example.com").status_code == 403
    assert add(api_client(developer), "a.example.com").status_code == 403
    assert api_client(outsider).get("/v1/sites/blog/domains").status_code == 404
    assert add(api_client(outsider), "a.example.com").status_code == 404
    assert Domain.objects.count() == 1


# -- Caddy's on-demand TLS `ask` ---------------------------------------------------------------


def ask(host: str) -> Any:
    return api_client().get("/v1/edge/tls-ask", {"domain": host})


def test_tls_ask_approves_exactly_the_verified_custom_domains(client, site, dns_server):
    deployment = deployment_create_from_upload(
        site=site, archive=upload(tar_gz({"index.html": "x"})), activate=False
    )
    make_site(site.team, "shop", name="Shop")
    verified = claimed(client, "www.example.com")
    publish_records(dns_server, verified, "TXT", "CNAME")
    verify(client, verified["id"])
    claimed(client, "pending.example.com")

    allowed = ["www.example.com", "WWW.Example.com."]
    refused = [  # under SITES_DOMAIN: one wildcard certificate covers them
        f"blog.{SITES_DOMAIN}",
        f"{deployment.id}--blog.{SITES_DOMAIN}",
        f"{deployment.id}.blog.{SITES_DOMAIN}",
        "pending.example.com",
        "unknown.example.com",
        f"nosuchsite.{SITES_DOMAIN}",
        f"{deployment.id}--shop.{SITES_DOMAIN}",  # another site's deployment id
        f"nosuchdeployment--blog.{SITES_DOMAIN}",
        f"a.b.blog.{SITES_DOMAIN}",
        SITES_DOMAIN,
        PLATFORM_HOST,
        "localhost",
        "203.0.113.7",
        "x" * 300 + ".com",
    ]
    for host in allowed:
        response = ask(host)
        assert response.status_code == 200, host
        assert response.json() == {"allowed": True}
    for host in refused:
        response = ask(host)
        assert response.status_code == 404, host
        body = response.json()
        assert body == {
            "message": "No certificate for this host.",
            "code": 404,
            "type": "not_found",
        }


def test_tls_ask_approves_no_certificate_per_deployment(client, site):
    """Attack (issue 11, item 5): every deployment address used to be approved for a
    certificate of its own, so one tenant making deployment after deployment spent the
    certificate authority's weekly quota for the whole SITES_DOMAIN. One wildcard
    certificate covers every host under it: none of them is approved on demand."""
    made = [
        deployment_create_from_upload(
            site=site, archive=upload(tar_gz({"index.html": str(n)})), activate=False
        )
        for n in range(5)
    ]
    for deployment in made:
        for host in (
            f"{deployment.id}.blog.{SITES_DOMAIN}",
            f"{deployment.id}--blog.{SITES_DOMAIN}",
            deployment.hostname,
        ):
            assert ask(host).status_code == 404, host
    assert ask(f"blog.{SITES_DOMAIN}").status_code == 404
    assert ask(site.hostname).status_code == 404


def test_tls_ask_is_one_query_and_needs_no_credentials(
    site, django_assert_num_queries, django_assert_max_num_queries
):
    with django_assert_num_queries(1):
        assert ask("www.example.com").status_code == 404
    for host in (f"blog.{SITES_DOMAIN}", f"d1--blog.{SITES_DOMAIN}", PLATFORM_HOST):
        with django_assert_max_num_queries(0):
            assert ask(host).status_code == 404
    response = api_client().get("/v1/edge/tls-ask")
    assert response.status_code == 400
    assert "domain" in response.json()["fields"]


def test_the_edge_serves_only_verified_domains(client, site, dns_server):
    domain = claimed(client, "www.example.com")
    assert verified_site_for_domain("www.example.com") is None
    publish_records(dns_server, domain, "TXT", "CNAME")
    verify(client, domain["id"])
    assert verified_site_for_domain("www.example.com") == "blog"


# -- the edge hears of it --------------------------------------------------------------


@pytest.fixture
def serving_changes() -> Iterator[list[tuple[Any, str]]]:
    heard: list[tuple[Any, str]] = []

    def receiver(sender: Any, site_id: str, **kwargs: Any) -> None:
        heard.append((sender, site_id))

    site_serving_changed.connect(receiver, weak=False)
    yield heard
    site_serving_changed.disconnect(receiver)


def test_create_verify_and_delete_tell_the_edge_after_commit(
    client, site, dns_server, serving_changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        domain = claimed(client, "www.example.com")
    assert serving_changes == [(Site, "blog")]

    publish_records(dns_server, domain, "TXT", "CNAME")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        verify(client, domain["id"])
    assert serving_changes == [(Site, "blog")]  # not before the commit
    for callback in pending:
        callback()
    assert serving_changes == [(Site, "blog")] * 2
    assert Domain.objects.get().status == DomainStatus.VERIFIED

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/v1/sites/blog/domains/{domain['id']}").status_code == 204
    assert serving_changes == [(Site, "blog")] * 3


def test_a_refused_request_tells_the_edge_nothing(
    client, site, serving_changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert add(client, "https://example.com").status_code == 400
    assert serving_changes == []
