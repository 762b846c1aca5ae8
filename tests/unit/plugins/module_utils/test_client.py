"""URL handling, TLS settings and request headers of ApiClient."""

from __future__ import annotations

import warnings

import pytest
from urllib3.exceptions import InsecureRequestWarning

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import (
    api_path,
    encode_json_parameter,
    validate_url,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import VeeamAhvError
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    BASE,
    TOKEN_URL,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://vbahv.example.com", "https://vbahv.example.com"),
        ("https://vbahv.example.com/", "https://vbahv.example.com"),
        ("https://10.0.0.5:8443", "https://10.0.0.5:8443"),
        (" HTTPS://vbahv.example.com:443/ ", "https://vbahv.example.com:443"),
        ("https://[fd00::5]:443", "https://[fd00::5]:443"),
    ],
)
def test_validate_url_accepts(url, expected):
    assert validate_url(url) == expected


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("vbahv.example.com", "does not start with https://"),
        ("ftp://vbahv.example.com", "does not start with https://"),
        ("http://127.0.0.1:8000", "served over HTTPS only: use https:// instead"),
        ("https://vbahv.example.com/api/v7", "contains the path '/api/v7'"),
        ("https://vbahv.example.com?x=1", "contains the path"),
        ("", "The url option is empty"),
        ("https://127.0.0.1:99999", "has an invalid host or port"),
        ("https://127.0.0.1:0", "has an invalid host or port"),
        ("https://host:port", "has an invalid host or port"),
    ],
)
def test_validate_url_rejects(url, fragment):
    with pytest.raises(VeeamAhvError) as caught:
        validate_url(url)

    assert fragment in str(caught.value)


def test_validate_url_hides_credentials():
    with pytest.raises(VeeamAhvError) as caught:
        validate_url("https://admin:Secret123@vbahv.example.com")

    message = str(caught.value)
    assert "must not contain a user name or password" in message
    assert "Secret123" not in message
    assert "admin" not in message


def test_api_path_quotes_segments():
    assert api_path("clusters", "a/b c", "vms") == "/clusters/a%2Fb%20c/vms"


def test_encode_json_parameter_compact():
    value = [{"property": "name", "operation": "Equals", "value": "Bücher"}]

    assert encode_json_parameter(value) == (
        '[{"property":"name","operation":"Equals","value":"Bücher"}]'
    )


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return str(path)


def test_ca_path_wins_over_environment(api, make_client, tokens, ca_file, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", json=[])
    api.post(BASE + "/api/oauth2/logout", status=204)
    client = make_client(ca_path=ca_file)

    client.get("/clusters")
    client.close()

    assert [call.request.req_kwargs["verify"] for call in api.calls] == [ca_file] * 3


def test_validate_certs_false_wins_over_environment(api, make_client, tokens, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", json=[])
    client = make_client(validate_certs=False)

    client.get("/clusters")

    assert [call.request.req_kwargs["verify"] for call in api.calls] == [False, False]


def test_validate_certs_false_wins_over_ca_path(api, make_client, tokens, ca_file):
    api.post(TOKEN_URL, json=tokens.body())
    client = make_client(validate_certs=False, ca_path=ca_file)

    client.login()

    assert api.calls[0].request.req_kwargs["verify"] is False


def test_missing_ca_path_ignored_without_validation(make_client, tmp_path):
    client = make_client(validate_certs=False, ca_path=str(tmp_path / "nowhere.pem"))

    assert client.verify is False


def test_missing_ca_path_rejected(make_client, tmp_path):
    missing = str(tmp_path / "nowhere.pem")

    with pytest.raises(VeeamAhvError) as caught:
        make_client(ca_path=missing)

    assert f"ca_path '{missing}' does not exist" in str(caught.value)


def test_timeout_sent_with_every_request(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", json=[])
    client = make_client(timeout=12.5)

    client.get("/clusters")

    assert [call.request.req_kwargs["timeout"] for call in api.calls] == [12.5, 12.5]


def test_headers(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.post(API + "/restorePoints/restore", json={"sessionId": "s1"})
    client = make_client()

    client.post("/restorePoints/restore", body={"restorePointId": "rp1"})

    request = api.calls[-1].request
    assert request.headers["User-Agent"].startswith("veeam_ahv.backup/")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json, application/problem+json"
    assert request.body == b'{"restorePointId": "rp1"}'


def test_netrc_credentials_never_sent(api, make_client, tokens, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine vbahv.example.test login intruder password leaked\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    api.post(TOKEN_URL, json=tokens.body())
    client = make_client()

    client.login()

    assert "Authorization" not in api.calls[0].request.headers


def test_absolute_api_paths_kept(api, make_client, tokens):
    api.post(TOKEN_URL, json=tokens.body())
    api.get(BASE + "/api/v6/clusters", json=[])
    client = make_client()

    assert client.get("/api/v6/clusters") == []


def _urllib3_warning(host):
    warnings.warn(
        f"Unverified HTTPS request is being made to host '{host}'. Adding certificate "
        "verification is strongly advised.",
        InsecureRequestWarning,
        stacklevel=1,
    )


def test_insecure_warning_silenced_for_appliance_only(make_client):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_client(url="https://insecure.example.test", validate_certs=False)
        _urllib3_warning("insecure.example.test")
        _urllib3_warning("other.example.test")

    hosts = [str(warning.message).split("'")[1] for warning in caught]
    assert hosts == ["other.example.test"]


def test_insecure_warning_kept_when_validating(make_client):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_client(url="https://checked.example.test")
        _urllib3_warning("checked.example.test")

    assert len(caught) == 1
