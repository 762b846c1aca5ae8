"""Connection options: argument spec, environment fallbacks and credential checks."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import VeeamAhvError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ENVIRONMENT_VARIABLES,
    check_credentials,
    check_wait_options,
    client_from_params,
    connection_argument_spec,
)


def validate(params: dict) -> dict:
    result = ArgumentSpecValidator(connection_argument_spec()).validate(params)
    assert result.error_messages == []
    return result.validated_parameters


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENVIRONMENT_VARIABLES.values():
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_option_reads_environment(clean_env):
    values = {
        "VEEAM_AHV_URL": "https://vbahv.example.test",
        "VEEAM_AHV_USERNAME": "operator",
        "VEEAM_AHV_PASSWORD": "pw",
        "VEEAM_AHV_ACCESS_TOKEN": "tok",
        "VEEAM_AHV_VALIDATE_CERTS": "false",
        "VEEAM_AHV_CA_PATH": "/tmp/ca.pem",
        "VEEAM_AHV_TIMEOUT": "12.5",
        "VEEAM_AHV_API_VERSION": "v7",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)

    params = validate({})

    assert params["url"] == "https://vbahv.example.test"
    assert params["username"] == "operator"
    assert params["password"] == "pw"
    assert params["access_token"] == "tok"
    assert params["validate_certs"] is False
    assert params["ca_path"] == "/tmp/ca.pem"
    assert params["timeout"] == 12.5
    assert params["api_version"] == "v7"
    assert set(ENVIRONMENT_VARIABLES.values()) == set(values)


def test_task_value_wins_over_environment(clean_env):
    clean_env.setenv("VEEAM_AHV_TIMEOUT", "5")
    clean_env.setenv("VEEAM_AHV_VALIDATE_CERTS", "false")

    params = validate({"url": "https://a", "timeout": 30, "validate_certs": True})

    assert params["timeout"] == 30
    assert params["validate_certs"] is True


def test_defaults_without_environment(clean_env):
    params = validate({"url": "https://a"})

    assert params["timeout"] == 60
    assert params["validate_certs"] is True
    assert params["api_version"] == "v7"


def test_secrets_are_no_log(clean_env):
    clean_env.setenv("VEEAM_AHV_PASSWORD", "from-env")
    result = ArgumentSpecValidator(connection_argument_spec()).validate(
        {"url": "https://a", "access_token": "given"}
    )

    assert {"from-env", "given"} <= result._no_log_values


def test_unsupported_api_version_rejected(clean_env):
    result = ArgumentSpecValidator(connection_argument_spec()).validate(
        {"url": "https://a", "api_version": "v8"}
    )

    assert "value of api_version must be one of: v7, got: v8" in result.error_messages


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "No credentials: set username and password"),
        ({"password": "x"}, "password is set but username is not"),
        ({"username": "u"}, "No credentials"),
        ({"access_token": "t", "timeout": 0}, "timeout must be a number of seconds greater"),
        ({"access_token": "t", "timeout": float("inf")}, "timeout must be a number of seconds"),
        ({"access_token": "t", "timeout": float("nan")}, "timeout must be a number of seconds"),
        ({"access_token": "t", "timeout": 1e300}, "timeout must be a number of seconds"),
    ],
)
def test_credential_checks(params, message):
    with pytest.raises(VeeamAhvError) as caught:
        check_credentials(params)

    assert str(caught.value).startswith(message)


def test_credential_checks_accept():
    check_credentials({"access_token": "t"})
    check_credentials({"username": "u", "password": ""})


def test_client_from_params():
    client = client_from_params(
        {
            "url": "https://vbahv.example.test/",
            "username": "u",
            "password": "p",
            "validate_certs": False,
            "timeout": 9.0,
            "api_version": "v7",
        }
    )

    assert client.base_url == "https://vbahv.example.test"
    assert client.verify is False
    assert client.timeout == 9.0


def test_empty_environment_variables_are_unset(clean_env):
    for name in ENVIRONMENT_VARIABLES.values():
        clean_env.setenv(name, "")
    clean_env.setenv("VEEAM_AHV_URL", "https://vbahv.example.test")
    clean_env.setenv("VEEAM_AHV_ACCESS_TOKEN", "tok")

    params = validate({})

    assert params["validate_certs"] is True
    assert params["password"] is None
    assert params["username"] is None
    assert params["ca_path"] is None
    assert params["timeout"] == 60
    check_credentials(params)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"wait_timeout": 0, "poll_interval": 2}, "wait_timeout must be a number of seconds"),
        ({"wait_timeout": 10, "poll_interval": float("nan")}, "poll_interval must be"),
        ({"wait_timeout": 10**18, "poll_interval": 2}, "at most 604800"),
        ({"wait_timeout": 10, "poll_interval": 7200}, "at most 3600"),
    ],
)
def test_wait_option_checks(params, fragment):
    with pytest.raises(VeeamAhvError) as caught:
        check_wait_options(params)

    assert fragment in str(caught.value)


def test_wait_option_checks_accept():
    check_wait_options({"wait_timeout": 3600, "poll_interval": 0.5})
