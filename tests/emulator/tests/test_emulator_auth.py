"""Token endpoints, lifetimes, refresh, logout and Bearer checks."""

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from emu_helpers import FIELDS, assert_problem


def parse_time(text: str) -> float:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text).astimezone(UTC).timestamp()


def password_form(emulator, **extra):
    return {
        "grantType": "Password",
        "userName": emulator.username,
        "password": emulator.password,
        **extra,
    }


@pytest.mark.parametrize("path", ["/api/oauth2/token", "/api/v7/token"])
def test_password_login_on_both_paths(anon, emulator, path):
    before = time.time()
    response = anon.post(path, data=password_form(emulator))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS["TokenModel"]
    access_left = parse_time(body["accessTokenExpiresAt"]) - before
    refresh_left = parse_time(body["refreshTokenExpiresAt"]) - before
    assert 1795 <= access_left <= 1802
    assert 86395 <= refresh_left <= 86402


def test_tokens_are_jwt_shaped(anon, emulator):
    body = anon.post("/api/oauth2/token", data=password_form(emulator)).json()
    parts = body["accessToken"].split(".")
    assert len(parts) == 3
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=="))
    assert claims["sub"] == emulator.username
    assert body["accessToken"] != body["refreshToken"]


def test_long_lived_refresh_token_lasts_14_days(anon, emulator):
    before = time.time()
    form = password_form(emulator, longLivedRefreshToken="true")
    body = anon.post("/api/oauth2/token", data=form).json()
    refresh_left = parse_time(body["refreshTokenExpiresAt"]) - before
    assert 14 * 86400 - 5 <= refresh_left <= 14 * 86400 + 2


def test_access_token_grants_api_access(api):
    response = api.get("/clusters")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


@pytest.mark.parametrize(
    "form",
    [
        {"userName": "administrator", "password": "wrong"},
        {"userName": "someone-else", "password": "Emulator-Passw0rd"},
    ],
)
def test_bad_credentials_are_401(anon, form):
    response = anon.post("/api/oauth2/token", data={"grantType": "Password", **form})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"userName": "administrator", "password": "x"}, "grantType"),
        ({"grantType": "password", "userName": "administrator", "password": "x"}, "grantType"),
        ({"grantType": "ClientCredentials"}, "grantType"),
        ({"grantType": "Password", "password": "x"}, "userName"),
        ({"grantType": "Password", "userName": "administrator"}, "password"),
        ({"grantType": "Password", "userName": "a", "password": "b", "scope": "all"}, "scope"),
        ({"grant_type": "password", "username": "a", "password": "b"}, "grant_type"),
        ({"grantType": "RefreshToken"}, "refreshToken"),
        ({"grantType": "UpdaterToken", "updaterToken": "abc"}, "grantType"),
        (
            {
                "grantType": "Password",
                "userName": "a",
                "password": "b",
                "longLivedRefreshToken": "yes",
            },
            "longLivedRefreshToken",
        ),
    ],
)
def test_invalid_token_requests_are_400(anon, form, field):
    body = assert_problem(anon.post("/api/oauth2/token", data=form), 400)
    assert field in body["errors"], body


def test_updater_grant_message_names_the_emulator(anon):
    form = {"grantType": "UpdaterToken", "updaterToken": "abc"}
    body = assert_problem(anon.post("/api/oauth2/token", data=form), 400)
    assert "not supported by the emulator" in body["detail"]


def test_json_token_request_is_400(anon, emulator):
    response = anon.post("/api/oauth2/token", json=password_form(emulator))
    body = assert_problem(response, 400)
    assert "Content-Type" in body["errors"]


def test_refresh_grant_issues_new_access_token(anon, emulator):
    first = anon.post("/api/oauth2/token", data=password_form(emulator)).json()
    form = {"grantType": "RefreshToken", "refreshToken": first["refreshToken"]}
    second = anon.post("/api/oauth2/token", data=form)
    assert second.status_code == 200
    body = second.json()
    assert body["accessToken"] != first["accessToken"]
    # Refresh tokens are not rotated: the same one comes back and stays valid.
    assert body["refreshToken"] == first["refreshToken"]
    again = anon.post("/api/v7/token", data=form)
    assert again.status_code == 200
    assert anon.get("/clusters", token=body["accessToken"]).status_code == 200


def test_unknown_refresh_token_is_401(anon):
    form = {"grantType": "RefreshToken", "refreshToken": "not-a-token"}
    assert_problem(anon.post("/api/oauth2/token", data=form), 401)


def test_expired_refresh_token_is_401(anon, emulator, control):
    control.set_config(refreshTokenLifetime=0.3)
    body = anon.post("/api/oauth2/token", data=password_form(emulator)).json()
    time.sleep(0.4)
    form = {"grantType": "RefreshToken", "refreshToken": body["refreshToken"]}
    assert_problem(anon.post("/api/oauth2/token", data=form), 401)


def test_access_token_expires_after_lifetime(api, control):
    control.set_config(accessTokenLifetime=0.3)
    api.login()
    assert api.get("/clusters").status_code == 200
    time.sleep(0.4)
    response = api.get("/clusters")
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "expired" in response.json()["detail"]


def test_control_expire_tokens_keeps_refresh_valid(api, control):
    assert api.get("/jobs").status_code == 200
    result = control.expire_tokens()
    assert result["expired"] >= 1
    assert_problem(api.get("/jobs"), 401)
    form = {"grantType": "RefreshToken", "refreshToken": api.refresh_token}
    refreshed = api.http.post(api.url("/api/oauth2/token"), data=form, verify=api.verify)
    assert refreshed.status_code == 200
    assert api.get("/jobs", token=refreshed.json()["accessToken"]).status_code == 200


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer unknown-token", "Basic YWRtaW46cGFzcw==", "bearer"],
)
def test_bad_authorization_is_401(anon, header):
    headers = {} if header is None else {"Authorization": header}
    response = anon.get("/clusters", token=None, headers=headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_logout_revokes_access_and_refresh(api):
    refresh = api.refresh_token
    response = api.post("/api/oauth2/logout")
    assert response.status_code == 204
    assert response.content == b""
    after = api.get("/clusters")
    assert_problem(after, 401)
    assert "revoked" in after.json()["detail"]
    form = {"grantType": "RefreshToken", "refreshToken": refresh}
    again = api.http.post(api.url("/api/oauth2/token"), data=form, verify=api.verify)
    assert again.status_code == 401


def test_delete_token_also_logs_out(api):
    assert api.delete("/api/v7/token").status_code == 204
    assert_problem(api.get("/clusters"), 401)


def test_logout_needs_bearer(anon):
    assert_problem(anon.post("/api/oauth2/logout", token=None), 401)


def test_logout_rejects_body(api):
    response = api.post("/api/oauth2/logout", json={"all": True})
    assert_problem(response, 400)
    assert api.get("/clusters").status_code == 200


def test_other_session_survives_logout(api, emulator):
    from emu_helpers import ApiClient

    other = ApiClient(emulator)
    other.login()
    assert api.post("/api/oauth2/logout").status_code == 204
    assert other.get("/clusters").status_code == 200


def test_configured_credentials_apply(anon, control):
    control.set_config(username="backup-admin", password="S3cond-Passw0rd")
    form = {"grantType": "Password", "userName": "backup-admin", "password": "S3cond-Passw0rd"}
    assert anon.post("/api/oauth2/token", data=form).status_code == 200
    old = {"grantType": "Password", "userName": "administrator", "password": "Emulator-Passw0rd"}
    assert anon.post("/api/oauth2/token", data=old).status_code == 401
