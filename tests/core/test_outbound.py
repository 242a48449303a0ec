"""core/outbound.py: may the platform connect out to this address?

Nothing here connects anywhere: names resolve through fake_dns or are IP literals.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core import outbound


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4
        ("64:ff9b::7f00:1", "loopback"),  # NAT64
        ("10.0.0.5", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared"),
        ("100.127.255.254", "shared"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104  (an address to refuse, not to bind)
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "private"),  # documentation ranges are not the Internet either
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),
    ],
)
def test_kinds_of_address(address: str, kind: str | None) -> None:
    assert outbound.refusal(ipaddress.ip_address(address), own=frozenset) == kind


def test_allowed_networks_win_and_cover_ipv4_in_ipv6_forms(settings) -> None:
    settings.SHIPWAY_OUTBOUND_ALLOW = ["10.1.2.0/24", "fd00:1::/64"]
    for address in ("10.1.2.3", "::ffff:10.1.2.3", "fd00:1::5"):
        assert outbound.refusal(ipaddress.ip_address(address), own=frozenset) is None
    for address in ("10.1.3.3", "fd00:2::5", "127.0.0.1"):
        assert outbound.refusal(ipaddress.ip_address(address), own=frozenset) is not None


def test_the_machines_own_addresses_are_known() -> None:
    if not Path("/proc/net/fib_trie").exists():
        pytest.skip("interface addresses come from /proc on Linux")
    own = outbound._own_addresses()
    assert ipaddress.ip_address("127.0.0.1") in own


# Part of a real /proc/net/fib_trie of a machine with a network namespace and a swarm
# set-up: 10.213.0.1 has two LOCAL lines, one after the other.
FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.213.0.0
        /24 link UNICAST
     |-- 10.213.0.1
        /32 host LOCAL
        /32 host LOCAL
     |-- 127.0.0.1
        /32 host LOCAL
     |-- 192.0.2.255
        /32 link BROADCAST
"""


def test_the_own_addresses_are_read_from_fib_trie_whatever_its_repeats() -> None:
    assert outbound.local_ipv4(FIB_TRIE) == {
        ipaddress.IPv4Address("10.213.0.1"),
        ipaddress.IPv4Address("127.0.0.1"),
    }
    assert outbound.local_ipv4("") == set()


def test_an_own_public_address_is_refused(settings) -> None:
    settings.SHIPWAY_SERVER_IPS = ["93.184.215.14"]
    assert outbound.refusal(ipaddress.ip_address("93.184.215.14")) == "own"


def test_check_url_returns_what_to_connect_to(fake_dns) -> None:
    fake_dns.answer("git.example.com", "93.184.215.14", "93.184.215.14", "2606:2800::1")
    target = outbound.check_url("https://user:tok@Git.Example.com/team/site.git")
    assert (target.scheme, target.host, target.port) == ("https", "git.example.com", 443)
    assert [str(a) for a in target.addresses] == ["93.184.215.14", "2606:2800::1"]
    assert not target.is_literal
    assert outbound.check_url("http://93.184.215.14:8080/x").port == 8080
    assert outbound.check_url("http://93.184.215.14:8080/x").is_literal


def test_messages_say_what_and_why(fake_dns) -> None:
    fake_dns.answer("git.internal", "10.0.0.5")
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.check_url("https://git.internal/x", subject="The hook", verb="call")
    assert str(refused.value) == (
        "The hook's host git.internal resolves to 10.0.0.5, a private address; Shipway "
        "does not call private networks (SHIPWAY_OUTBOUND_ALLOW allows named networks)."
    )
    with pytest.raises(
        outbound.OutboundRefused, match=re.escape("host 10.0.0.5 is a private address")
    ):
        outbound.check_url("https://10.0.0.5/x")


def test_an_ip_written_as_a_number_is_refused_even_on_an_allowed_network(settings) -> None:
    settings.SHIPWAY_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    assert outbound.check_url("http://127.0.0.1/x").addresses
    for host in ("2130706433", "0x7f000001", "127.1", "0177.0.0.1"):
        with pytest.raises(outbound.OutboundRefused, match=re.escape("write it as 127.0.0.1")):
            outbound.check_url(f"http://{host}/x")


@pytest.mark.parametrize(
    "url",
    [
        "http://a\\@93.184.215.14/",
        "http://a@b@93.184.215.14/",
        "http://ex%41mple.com/",
        "http://example.com./",
        "http://exämple.com/",
        "http://-example.com/",
        "http:///x",
        "http://93.184.215.14:99999/",
    ],
)
def test_hosts_two_parsers_could_read_differently_are_refused(url: str) -> None:
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url)


def test_a_bad_allow_entry_stops_the_start() -> None:
    env = {**os.environ, "SHIPWAY_OUTBOUND_ALLOW": "10.0.0.0/8,not-a-network"}
    done = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode != 0 and "not-a-network" in done.stderr
