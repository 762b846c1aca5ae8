"""Token handling of ApiClient: login, reuse, refresh, re-login, logout."""

from __future__ import annotations

import pytest
import responses

from ansible_collections.veeam_ahv.backup.plugins.module_utils.auth import parse_timestamp
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    AuthenticationError,
    VeeamAhvError,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    LOGOUT_URL,
    PASSWORD,
    TOKEN_URL,
    form_of,
)


def token_calls(api):
    return [call for call in api.calls if call.request.url == TOKEN_URL]


def bearer_of(call) -> str:
    return call.request.headers["Authorization"]


def test_login_sends_password_grant_form(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", json=[])
    client = make_client()

    client.get("/clusters")

    login = token_calls(api)[0]
    assert form_of(login) == {
        "grantType": "Password",
        "userName": "administrator",
        "password": PASSWORD,
    }
    assert login.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert bearer_of(api.calls[1]) == "Bearer access-token-1"


def test_long_lived_refresh_token_flag(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    client = make_client(long_lived_refresh_token=True)

    client.login()

    assert form_of(token_calls(api)[0])["longLivedRefreshToken"] == "true"


def test_token_reused_for_client_life(api, make_client, tokens, clock):
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", json=[])
    client = make_client()

    for _request in range(3):
        client.get("/clusters")
        clock.advance(60)

    assert len(token_calls(api)) == 1
    assert client.request_count == 4


def test_token_path_falls_back_to_versioned_endpoint(api, make_client, tokens):
    api.post(TOKEN_URL, status=404)
    api.post(API + "/token", json=tokens.body())
    api.get(API + "/clusters", json=[])
    client = make_client()

    client.get("/clusters")
    client.get("/clusters")

    posted = [call.request.url for call in api.calls if call.request.method == "POST"]
    assert posted == [TOKEN_URL, API + "/token"]


def test_refresh_before_expiry(api, make_client, tokens, clock):
    api.post(TOKEN_URL, json=tokens.body(access_ttl=1800))
    api.get(API + "/clusters", json=[])
    client = make_client()
    client.get("/clusters")

    api.replace(responses.POST, TOKEN_URL, json=tokens.body())
    clock.advance(1800 - 299)
    client.get("/clusters")

    refresh = token_calls(api)[1]
    assert form_of(refresh) == {"grantType": "RefreshToken", "refreshToken": "refresh-token-1"}
    assert bearer_of(api.calls[-1]) == "Bearer access-token-2"


def test_no_refresh_while_token_fresh(api, make_client, tokens, clock):
    api.post(TOKEN_URL, json=tokens.body(access_ttl=1800))
    api.get(API + "/clusters", json=[])
    client = make_client()
    client.get("/clusters")

    clock.advance(1800 - 301)
    client.get("/clusters")

    assert len(token_calls(api)) == 1


def test_short_lived_token_refreshed_at_half_life(api, make_client, tokens, clock):
    api.post(TOKEN_URL, json=tokens.body(access_ttl=10))
    api.get(API + "/clusters", json=[])
    client = make_client()
    client.get("/clusters")

    clock.advance(4)
    client.get("/clusters")
    assert len(token_calls(api)) == 1

    clock.advance(2)
    client.get("/clusters")
    assert len(token_calls(api)) == 2


def test_refresh_once_after_401(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", status=401)
    client = make_client()
    client.login()

    api.replace(responses.POST, TOKEN_URL, json=tokens.body())
    api.add(responses.GET, API + "/clusters", json=[{"id": "c1"}])
    # responses serves registered matches in order: first the 401, then the list.
    result = client.get("/clusters")

    assert result == [{"id": "c1"}]
    gets = [call for call in api.calls if call.request.method == "GET"]
    assert [bearer_of(call) for call in gets] == ["Bearer access-token-1", "Bearer access-token-2"]
    assert form_of(token_calls(api)[1])["grantType"] == "RefreshToken"


def test_second_401_is_an_error(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", status=401)
    client = make_client()

    with pytest.raises(AuthenticationError) as caught:
        client.get("/clusters")

    assert caught.value.status == 401
    assert len([call for call in api.calls if call.request.method == "GET"]) == 2
    assert len(token_calls(api)) == 2


def test_relogin_when_refresh_token_expired(api, make_client, tokens, clock):
    api.post(TOKEN_URL, json=tokens.body(access_ttl=1800, refresh_ttl=3600))
    api.get(API + "/clusters", json=[])
    client = make_client()
    client.get("/clusters")

    api.replace(responses.POST, TOKEN_URL, json=tokens.body())
    clock.advance(3700)
    client.get("/clusters")

    grants = [form_of(call)["grantType"] for call in token_calls(api)]
    assert grants == ["Password", "Password"]


def test_relogin_when_refresh_rejected(api, make_client, tokens, clock):
    api.post(TOKEN_URL, json=tokens.body(access_ttl=600))
    api.get(API + "/clusters", json=[])
    client = make_client()
    client.get("/clusters")

    api.replace(responses.POST, TOKEN_URL, status=401, json={"title": "Invalid refresh token"})
    api.add(responses.POST, TOKEN_URL, json=tokens.body())
    clock.advance(590)
    client.get("/clusters")

    grants = [form_of(call)["grantType"] for call in token_calls(api)]
    assert grants == ["Password", "RefreshToken", "Password"]
    assert bearer_of(api.calls[-1]) == "Bearer access-token-2"


def test_wrong_password_message(api, make_client):
    api.post(
        TOKEN_URL,
        status=401,
        json={"type": "about:blank", "title": "Unauthorized", "status": 401},
        content_type="application/problem+json",
    )
    client = make_client()

    with pytest.raises(AuthenticationError) as caught:
        client.get("/clusters")

    message = str(caught.value)
    assert "HTTP 401" in message
    assert "user 'administrator'" in message
    assert "check username and password" in message
    assert PASSWORD not in message
    assert len(api.calls) == 1


def test_given_access_token_used_without_login(api, make_client):
    api.get(API + "/clusters", json=[])
    client = make_client(access_token="given-token")

    client.get("/clusters")
    client.close()

    assert len(api.calls) == 1
    assert bearer_of(api.calls[0]) == "Bearer given-token"


def test_given_token_rejected_without_password(api, make_client):
    api.get(API + "/clusters", status=401)
    client = make_client(access_token="given-token")

    with pytest.raises(AuthenticationError) as caught:
        client.get("/clusters")

    assert "pass username and password" in str(caught.value)
    assert "given-token" not in str(caught.value)
    assert len(api.calls) == 1


def test_given_token_rejected_falls_back_to_password(api, make_client, tokens):
    api.get(API + "/clusters", status=401)
    api.get(API + "/clusters", json=[])
    api.post(TOKEN_URL, json=tokens.body())
    api.post(LOGOUT_URL, status=204)
    client = make_client(access_token="given-token", username="administrator", password=PASSWORD)

    client.get("/clusters")
    client.close()

    methods = [(call.request.method, call.request.url) for call in api.calls]
    assert methods == [
        ("GET", API + "/clusters"),
        ("POST", TOKEN_URL),
        ("GET", API + "/clusters"),
        ("POST", LOGOUT_URL),
    ]


def test_logout_revokes_own_token(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.post(LOGOUT_URL, status=204)
    client = make_client()
    client.login()

    warnings = client.close()

    assert warnings == []
    logout = api.calls[-1]
    assert logout.request.url == LOGOUT_URL
    assert bearer_of(logout) == "Bearer access-token-1"


def test_close_without_login_sends_nothing(api, make_client):
    client = make_client()

    client.close()

    assert len(api.calls) == 0


def test_logout_failure_is_a_warning(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.post(LOGOUT_URL, status=500)
    client = make_client()
    client.login()

    warnings = client.close()

    assert len(warnings) == 1
    assert warnings[0].startswith("Logout failed, the token will expire on its own")
    assert "access-token-1" not in warnings[0]


def test_no_credentials_error(make_client):
    client = make_client(username=None, password=None)

    with pytest.raises(VeeamAhvError) as caught:
        client.get("/clusters")

    assert "set username and password, or access_token" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-04T10:00:00Z", 1796378400.0),
        ("2026-12-04T10:00:00.1234567Z", 1796378400.123456),
        ("2026-12-04T11:00:00+01:00", 1796378400.0),
        ("2026-12-04T05:30:00-0430", 1796378400.0),
        ("2026-12-04T10:00:00", 1796378400.0),
    ],
)
def test_parse_timestamp_formats(text, expected):
    assert parse_timestamp(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "yesterday", None, 17, "2026-12-04"])
def test_parse_timestamp_rejects(text):
    assert parse_timestamp(text) is None


def test_logout_not_retried(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.post(LOGOUT_URL, status=503)
    client = make_client()
    client.login()

    warnings = client.close()

    assert len(warnings) == 1
    assert len([call for call in api.calls if call.request.url == LOGOUT_URL]) == 1
