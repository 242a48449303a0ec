"""Sign in and sign out."""

import pytest

from tests.dashboard.conftest import client_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_sign_in_page_and_sign_in() -> None:
    make_user("ada")
    client = client_for(None)
    page = client.get("/accounts/login/?next=/account/keys/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    assert 'name="next" value="/account/keys/"' in html
    wrong = client.post("/accounts/login/", {"username": "ada", "password": "nope"})
    assert wrong.status_code == 200 and 'role="alert"' in wrong.content.decode()
    response = client.post(
        "/accounts/login/",
        {"username": "ada", "password": "pw-for-tests-1", "next": "/account/keys/"},
    )
    assert response.status_code == 302 and response["Location"] == "/account/keys/"


def test_sign_out_is_a_post_form() -> None:
    client = client_for(make_user())
    html = client.get("/").content.decode()
    assert 'method="post" action="/accounts/logout/"' in html
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("signed_in", [False, True])
def test_unknown_addresses_get_the_dashboards_page_and_the_api_its_json(signed_in) -> None:
    client = client_for(make_user() if signed_in else None)
    page = client.get("/no/such/page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "Not found" in html and "Back to your sites" in html
    api = client.get("/v1/no-such-collection")
    assert api.status_code == 404
    assert api.json() == {
        "message": "The requested resource was not found.",
        "code": 404,
        "type": "not_found",
    }
