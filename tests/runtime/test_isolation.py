"""A server reaches neither another site's server nor the host, while the host (the
edge) reaches both. Traffic goes only to servers and listeners this test starts."""

from __future__ import annotations

import pytest

from runtime.schedulers.docker import BRIDGE
from tests.e2e.test_build_network import Listener, _host_address
from tests.runtime.conftest import get, started

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def test_a_server_reaches_neither_another_sites_server_nor_the_host(make_ssr):
    mine, theirs = make_ssr(), make_ssr()
    my_address = started(mine).address
    their_host, their_port = started(theirs).address.split(":")
    listener = Listener(_host_address(BRIDGE))
    try:
        # The probe works: a server reaches its own address.
        own_host, own_port = my_address.split(":")
        assert get(mine, f"/connect?host={own_host}&port={own_port}") == "REACHED"
        other = get(mine, f"/connect?host={their_host}&port={their_port}")
        host = get(mine, f"/connect?host={listener.address}&port={listener.port}")
    finally:
        listener.close()
    assert other.startswith("BLOCKED"), other
    assert host.startswith("BLOCKED"), host
    assert listener.accepted == 0
    assert get(theirs).startswith("hello")  # the host reaches both
