# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection options and the run loop shared by every module of the collection."""

from __future__ import annotations

import math
import os
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import (
    DEFAULT_TIMEOUT,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiClient,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import VeeamAhvError

SUPPORTED_API_VERSIONS = ("v7",)

# Maximum duration any option accepts: a week, far beyond any restore, and small
# enough that deadlines computed from it stay finite.
MAX_SECONDS = 7 * 24 * 3600.0

# Maximum first poll interval. Later intervals stop growing at 30 seconds, so a
# longer first one only delays the first check.
MAX_POLL_SECONDS = 3600.0

# Environment variables read for each connection option, shared with the
# inventory plugin so that one AWX credential type serves both.
ENVIRONMENT_VARIABLES = {
    "url": "VEEAM_AHV_URL",
    "username": "VEEAM_AHV_USERNAME",
    "password": "VEEAM_AHV_PASSWORD",
    "access_token": "VEEAM_AHV_ACCESS_TOKEN",
    "validate_certs": "VEEAM_AHV_VALIDATE_CERTS",
    "ca_path": "VEEAM_AHV_CA_PATH",
    "timeout": "VEEAM_AHV_TIMEOUT",
    "api_version": "VEEAM_AHV_API_VERSION",
}


class ModuleFailure(VeeamAhvError):
    """A failure found by module logic, with extra keys for the task result."""

    def __init__(self, message: str, **result):
        super().__init__(message)
        self.result = result

    def to_result(self) -> dict:
        return dict(self.result)


def nonempty_env_fallback(*names):
    """Return the first of the environment variables that is set and not empty.

    An AWX credential type injects every field of the credential, so an unused
    field arrives as an empty variable. Treating it as unset keeps an empty
    VEEAM_AHV_VALIDATE_CERTS from failing the bool check and an empty
    VEEAM_AHV_PASSWORD from counting as a password.
    """
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    raise AnsibleFallbackNotFound


def _env(option: str) -> tuple:
    return (nonempty_env_fallback, [ENVIRONMENT_VARIABLES[option]])


def connection_argument_spec() -> dict:
    """Return the argument spec of the connection options (doc fragment ``connection``)."""
    return {
        "url": {"type": "str", "required": True, "fallback": _env("url")},
        "username": {"type": "str", "fallback": _env("username")},
        "password": {"type": "str", "no_log": True, "fallback": _env("password")},
        "access_token": {"type": "str", "no_log": True, "fallback": _env("access_token")},
        "validate_certs": {
            "type": "bool",
            "default": True,
            "fallback": _env("validate_certs"),
        },
        "ca_path": {"type": "path", "fallback": _env("ca_path")},
        "timeout": {"type": "float", "default": DEFAULT_TIMEOUT, "fallback": _env("timeout")},
        "api_version": {
            "type": "str",
            "default": "v7",
            "choices": list(SUPPORTED_API_VERSIONS),
            "fallback": _env("api_version"),
        },
    }


def argument_spec(**module_options) -> dict:
    """Return the connection options merged with a module's own options."""
    spec = connection_argument_spec()
    spec.update(module_options)
    return spec


def check_credentials(params: dict) -> None:
    """Raise ``VeeamAhvError`` unless the parameters contain a usable credential."""
    has_password = params.get("password") is not None
    if has_password and not params.get("username"):
        raise VeeamAhvError(
            "password is set but username is not: set username (or VEEAM_AHV_USERNAME) too."
        )
    if not has_password and not params.get("access_token"):
        raise VeeamAhvError(
            "No credentials: set username and password (or VEEAM_AHV_USERNAME and "
            "VEEAM_AHV_PASSWORD), or access_token (or VEEAM_AHV_ACCESS_TOKEN)."
        )
    check_seconds("timeout", params.get("timeout"))


def check_seconds(option: str, value, maximum: float = MAX_SECONDS) -> None:
    """Raise ``VeeamAhvError`` unless ``value`` is a finite duration in (0, maximum]."""
    if value is None:
        return
    if not math.isfinite(value) or value <= 0 or value > maximum:
        raise VeeamAhvError(
            f"{option} must be a number of seconds greater than 0 and at most {maximum:g}, "
            f"got {value!r}."
        )


def check_wait_options(params: dict) -> None:
    """Raise ``VeeamAhvError`` unless ``wait_timeout`` and ``poll_interval`` are usable."""
    check_seconds("wait_timeout", params.get("wait_timeout"))
    check_seconds("poll_interval", params.get("poll_interval"), maximum=MAX_POLL_SECONDS)


def client_from_params(params: dict, log=None, **client_options) -> ApiClient:
    """Create an ``ApiClient`` from module or inventory connection options."""
    check_credentials(params)
    return ApiClient(
        url=params["url"],
        username=params.get("username"),
        password=params.get("password"),
        access_token=params.get("access_token"),
        api_version=params.get("api_version") or "v7",
        validate_certs=params.get("validate_certs", True),
        ca_path=params.get("ca_path"),
        timeout=params.get("timeout") or DEFAULT_TIMEOUT,
        log=log,
        **client_options,
    )


def run_module(module, action, **client_options) -> None:
    """Run ``action(module, client)`` and exit the module with its result.

    ``action`` returns the result dict. Every ``VeeamAhvError`` becomes a
    ``fail_json`` whose message states what failed and what to do, with the
    context the action added to it. Any other exception also fails the task
    with a message rather than a bare traceback. The client logs out its
    token before the module exits, whatever the outcome.
    """
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    client = None
    result = None
    failure = None
    unexpected = None
    unexpected_traceback = None
    try:
        client = client_from_params(module.params, log=module.debug, **client_options)
        result = action(module, client)
    except VeeamAhvError as error:
        failure = error
    except Exception as error:  # noqa: BLE001 - the token must still be logged out
        unexpected = error
        unexpected_traceback = traceback.format_exc()
    finally:
        if client is not None:
            close_client(module, client)

    if unexpected is not None:
        module.fail_json(
            msg=f"Unexpected error in the module: {type(unexpected).__name__}: {unexpected}. "
            "Please report it with the task that triggered it.",
            exception=unexpected_traceback,
        )
    if failure is not None:
        failure_result = failure.to_result()
        failure_result.update(failure.context_result)
        module.fail_json(msg=failure.full_message(), **failure_result)
    module.exit_json(**result)


def close_client(module, client) -> None:
    """Log out the client's token and warn about retries and a failed logout."""
    for warning in client.close():
        module.warn(warning)
    if client.retry_count:
        module.warn(
            f"{client.retry_count} request(s) were retried after a busy response or "
            "a connection error; see the debug log for details."
        )
