# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP client for the Veeam Plug-in for Nutanix AHV REST API.

One ``ApiClient`` has one ``requests`` session and one token pair. Modules
create it through ``module.client_from_params`` and the inventory plugin
creates it directly; both get the same token handling, retries, paging, TLS
options and error messages.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
import warnings
from urllib.parse import quote, urlsplit

try:
    import requests
    from requests.exceptions import ConnectTimeout, RequestException, SSLError
    from urllib3.exceptions import InsecureRequestWarning, NewConnectionError

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.veeam_ahv.backup.plugins.module_utils.auth import TokenManager
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    ApiConnectionError,
    ApiError,
    AuthenticationError,
    ResponseFormatError,
    VeeamAhvError,
    excerpt_body,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.paging import (
    collect_pages,
    complete_list,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.retry import (
    RetryPolicy,
    is_idempotent,
    parse_retry_after,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.version import COLLECTION_VERSION

DEFAULT_TIMEOUT = 60.0

# Items requested per page. The API's own default is 100; asking for more
# saves requests, and a server with a lower cap returns fewer items, which the
# paging loop handles.
DEFAULT_PAGE_SIZE = 500

USER_AGENT = f"veeam_ahv.backup/{COLLECTION_VERSION} (Ansible collection)"

TLS_HINT = (
    "Set ca_path to the CA certificate that signed the appliance's certificate, "
    "or set validate_certs to false for an appliance with a self-signed certificate."
)
NOT_JSON_HINT = (
    "The response is not JSON: check that url points to the Veeam Plug-in for Nutanix AHV "
    "appliance and not to a proxy or login page."
)


def validate_url(url) -> str:
    """Return the base URL, ``https://host[:port]``, without a trailing slash.

    Raises ``VeeamAhvError`` naming the problem and the fix. The message never
    repeats a URL that contains credentials.
    """
    text = (url or "").strip()
    if not text:
        raise VeeamAhvError("The url option is empty: set it to https://<appliance address>.")
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise VeeamAhvError(
            "url must not contain a user name or password: remove them from url and set the "
            "username and password options instead."
        )
    scheme = parts.scheme.lower()
    if scheme == "http":
        raise VeeamAhvError(
            f"url '{text}' uses http://, but the plug-in's REST API is served over HTTPS "
            "only: use https:// instead."
        )
    if scheme != "https" or not parts.netloc:
        raise VeeamAhvError(
            f"url '{text}' does not start with https://: set it to https:// followed by the "
            "appliance's host name or address, for example https://vbahv.example.com."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise VeeamAhvError(
            f"url '{text}' contains the path '{parts.path}': set url to the scheme, host and "
            "optional port only, such as https://vbahv.example.com. The collection adds "
            "/api/<api_version> itself."
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or not parts.hostname:
        raise VeeamAhvError(
            f"url '{text}' has an invalid host or port: use https://<host>[:<port>] with a "
            "port from 1 to 65535, for example https://vbahv.example.com:443."
        )
    return f"https://{parts.netloc}"


def api_path(*segments) -> str:
    """Join path segments, URL-quoting each one, into a path such as ``/clusters/a%2Fb``."""
    return "".join("/" + quote(str(segment), safe="") for segment in segments)


def encode_json_parameter(value) -> str:
    """Encode a ``filter`` or ``sort`` value as the compact JSON the API expects."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _NoAuth:
    """Stops ``requests`` from adding credentials from ~/.netrc to any request."""

    def __call__(self, request):
        return request


class ApiClient:
    """Send authenticated requests to one appliance and parse the responses."""

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        api_version: str = "v7",
        validate_certs: bool = True,
        ca_path: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        long_lived_refresh_token: bool = False,
        retry_policy: RetryPolicy | None = None,
        session=None,
        clock=time.time,
        sleep=time.sleep,
        log=None,
    ):
        if not HAS_REQUESTS:
            raise VeeamAhvError("The Python library 'requests' is required but not installed.")
        self.base_url = validate_url(url)
        if validate_certs and ca_path and not os.path.exists(ca_path):
            raise VeeamAhvError(
                f"ca_path '{ca_path}' does not exist: set it to the PEM file of the CA that "
                "signed the appliance's certificate."
            )

        self.api_version = api_version
        self.timeout = timeout
        self.page_size = page_size
        self.retry_policy = retry_policy or RetryPolicy()

        # Passed with every request: an explicit verify argument is the only
        # setting that REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE cannot override.
        # validate_certs=false turns validation off even when ca_path is set.
        if not validate_certs:
            self.verify = False
        else:
            self.verify = ca_path or True
        if self.verify is False:
            _ignore_insecure_warnings(self.base_url)

        self.session = session or requests.Session()
        self.session.auth = _NoAuth()
        self.session.headers["User-Agent"] = USER_AGENT
        self._clock = clock
        self._sleep = sleep
        self._log = log or (lambda message: None)
        self.request_count = 0
        self.retry_count = 0

        self.tokens = TokenManager(
            self.send_auth_request,
            username=username,
            password=password,
            access_token=access_token,
            api_version=api_version,
            long_lived_refresh_token=long_lived_refresh_token,
            clock=clock,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def get(self, path: str, params: dict | None = None):
        """Send a GET and return the parsed JSON body."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body=None, params: dict | None = None):
        """Send a POST once (never retried after it reached the server)."""
        return self.request("POST", path, params=params, body=body)

    def put(self, path: str, body=None, params: dict | None = None):
        """Send a PUT and return the parsed JSON body, or None when it is empty."""
        return self.request("PUT", path, params=params, body=body)

    def delete(self, path: str, params: dict | None = None):
        """Send a DELETE and return the parsed JSON body, or None when it is empty."""
        return self.request("DELETE", path, params=params)

    def get_all(self, path: str, params: dict | None = None, page_size: int | None = None):
        """Return every item of a paged collection, following ``totalCount``."""
        return collect_pages(self.get, path, params, page_size or self.page_size)

    def get_list(self, path: str, params: dict | None = None) -> list:
        """Return every item of an endpoint documented to return a bare array.

        No paging parameters are sent. A page envelope is accepted too, and its
        remaining pages are fetched.
        """
        body = self.get(path, params=params)
        return complete_list(self.get, path, body, self.page_size)

    def request(self, method: str, path: str, params: dict | None = None, body=None):
        """Send an authenticated API request and return the parsed JSON body.

        ``path`` is relative to ``/api/<api_version>`` unless it starts with
        ``/api/``. Returns None for an empty 2xx response.
        """
        url = self._url(path)
        response, retries = self._send(
            method, url, params=params, json_body=body, authenticate=True
        )
        return self._parse(response, method, url, retries)

    def send_auth_request(self, method: str, path: str, form=None, bearer=None):
        """Send a token or logout request for the ``TokenManager``.

        A token request has no effect beyond issuing a token, so it is retried
        like an idempotent request. A logout is sent once: an expired token
        needs no logout.
        """
        url = self._url(path)
        response, retries = self._send(
            method, url, form=form, bearer=bearer, authenticate=False, idempotent=form is not None
        )
        return self._parse(response, method, url, retries)

    def login(self) -> None:
        """Get an access token now, to fail early on bad credentials."""
        self.tokens.access_token()

    def close(self) -> list[str]:
        """Log out the token this client obtained and close the session.

        Returns warnings for a logout that failed; a failed logout leaves a
        token that expires on its own, so it is not an error.
        """
        warnings_list = []
        try:
            self.tokens.logout()
        except (ApiError, ApiConnectionError) as error:
            warnings_list.append(f"Logout failed, the token will expire on its own: {error}")
        finally:
            self.session.close()
        return warnings_list

    def _url(self, path: str) -> str:
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith("/api/"):
            path = f"/api/{self.api_version}{path}"
        return self.base_url + path

    def _send(
        self,
        method,
        url,
        params=None,
        json_body=None,
        form=None,
        bearer=None,
        authenticate=True,
        idempotent=None,
    ):
        """Send one request with retries and one token renewal after a 401.

        Returns the final response and the number of retries it took.
        """
        if idempotent is None:
            idempotent = is_idempotent(method)
        attempt = 0
        renewed = False
        while True:
            headers = {"Accept": "application/json, application/problem+json"}
            if authenticate:
                headers["Authorization"] = "Bearer " + self.tokens.access_token()
            elif bearer:
                headers["Authorization"] = "Bearer " + bearer
            try:
                response = self._send_once(method, url, params, json_body, form, headers)
            except SSLError as error:
                raise ApiConnectionError(
                    method, _display_url(url), _describe_tls_error(error), hint=TLS_HINT
                ) from None
            except RequestException as error:
                sent = _request_reached_server(error)
                if not self.retry_policy.retries_connection_error(idempotent, sent, attempt):
                    raise self._connection_error(method, url, error, attempt, idempotent) from None
                self._wait_before_retry(method, url, attempt, _describe_error(error), None)
                attempt += 1
                continue
            if response.status_code == 401 and authenticate and not renewed:
                # The server checks the token before it acts, so a request it
                # rejected with 401 had no effect and can be sent again.
                renewed = True
                if self.tokens.renew_after_rejection():
                    continue
            if self._should_retry_status(idempotent, response, attempt):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                reason = f"HTTP {response.status_code}"
                self._wait_before_retry(method, url, attempt, reason, retry_after)
                attempt += 1
                continue
            return response, attempt

    def _should_retry_status(self, idempotent, response, attempt) -> bool:
        if not self.retry_policy.retries_status(idempotent, response.status_code, attempt):
            return False
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        # A server that requests a very long pause gets an error instead of a hung task.
        if retry_after is not None and retry_after > self.retry_policy.max_retry_after:
            response.retry_after_too_long = retry_after
            return False
        return True

    def _send_once(self, method, url, params, json_body, form, headers):
        self.request_count += 1
        started = self._clock()
        response = self.session.request(
            method,
            url,
            params=params,
            json=json_body,
            data=form,
            headers=headers,
            timeout=self.timeout,
            verify=self.verify,
            allow_redirects=False,
        )
        elapsed_ms = (self._clock() - started) * 1000
        self._log(f"{method} {_display_url(url)} -> {response.status_code} ({elapsed_ms:.0f} ms)")
        return response

    def _wait_before_retry(self, method, url, attempt, reason, retry_after):
        delay = self.retry_policy.delay(attempt, retry_after)
        self.retry_count += 1
        self._log(
            f"Retrying {method} {_display_url(url)} after {reason} in {delay:.1f} s "
            f"(retry {attempt + 1} of {self.retry_policy.max_retries})"
        )
        self._sleep(delay)

    def _connection_error(self, method, url, error, attempt, idempotent) -> ApiConnectionError:
        sent = _request_reached_server(error)
        if sent and not idempotent:
            hint = (
                "The appliance may have received this request and acted on it before the "
                "connection failed: check its sessions before sending it again by hand."
            )
        elif isinstance(error, requests.exceptions.Timeout):
            hint = (
                f"No response within {self.timeout:g} s: check that the appliance is up, "
                "or raise the timeout option."
            )
        else:
            hint = "Check url and that the appliance is reachable from this host."
        return ApiConnectionError(
            method,
            _display_url(url),
            _describe_error(error),
            hint=hint,
            retries=attempt,
            request_sent=sent,
        )

    def _parse(self, response, method, url, retries):
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ResponseFormatError(
                    method,
                    _display_url(url),
                    status,
                    reason=response.reason or "",
                    body_excerpt=excerpt_body(response.text),
                    hint=NOT_JSON_HINT,
                    retries=retries,
                ) from None
        error = _error_from_response(response, method, _display_url(url), retries)
        too_long = getattr(response, "retry_after_too_long", None)
        if too_long is not None:
            error.hint = (
                f"The appliance asked to wait {too_long:.0f} s before a retry (Retry-After), "
                f"longer than the {self.retry_policy.max_retry_after:.0f} s the collection "
                "waits: try again later."
            )
        raise error


def _ignore_insecure_warnings(base_url: str) -> None:
    """Silence urllib3's unverified-request warning for this appliance's host only.

    The user turned validation off for this appliance, and urllib3 would warn on
    every request. A filter added once is thread-safe, unlike catch_warnings()
    around each request, and it leaves the warning on for every other host.
    """
    host = urlsplit(base_url).hostname
    warnings.filterwarnings(
        "ignore",
        message=re.escape(f"Unverified HTTPS request is being made to host '{host}'"),
        category=InsecureRequestWarning,
    )


def _error_from_response(response, method, url, retries) -> ApiError:
    """Build an ``ApiError`` from a problem-details body, or from any other body."""
    status = response.status_code
    problem = _problem_details(response)
    error_class = AuthenticationError if status in (401, 403) else ApiError
    if problem is None:
        return error_class(
            method,
            url,
            status,
            reason=response.reason or "",
            body_excerpt=excerpt_body(response.text),
            hint=_status_hint(status, html=_is_html(response)),
            retries=retries,
        )
    errors = problem.get("errors")
    return error_class(
        method,
        url,
        status,
        reason=response.reason or "",
        title=str(problem.get("title") or ""),
        detail=str(problem.get("detail") or problem.get("message") or ""),
        errors=errors if isinstance(errors, dict) else None,
        hint=_status_hint(status, html=False),
        retries=retries,
    )


def _problem_details(response) -> dict | None:
    if not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _is_html(response) -> bool:
    content_type = response.headers.get("Content-Type", "")
    return "html" in content_type or response.text.lstrip().lower().startswith("<")


def _status_hint(status: int, html: bool) -> str:
    if html:
        return NOT_JSON_HINT
    if status == 401:
        return (
            "The access token was rejected or has expired: pass username and password so "
            "the collection can log in again, or get a new token."
        )
    if status == 403:
        return "The user lacks the permission for this operation on the appliance."
    if status in (429, 502, 503, 504):
        return "The appliance is busy or restarting: try again later."
    if status >= 500:
        return (
            "The appliance failed while handling the request: its logs have the details. "
            "Run the task again, and contact Veeam support if the error persists."
        )
    return ""


def _display_url(url: str) -> str:
    """Return the URL without its query string, which may hold long filter JSON."""
    return url.split("?", 1)[0]


def _request_reached_server(error) -> bool:
    """Return False only when the connection could not be opened at all."""
    if isinstance(error, ConnectTimeout):
        return False
    seen = set()
    current = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return False
        nested = getattr(current, "reason", None)
        if nested is None and getattr(current, "args", None):
            nested = current.args[0] if isinstance(current.args[0], BaseException) else None
        current = nested or current.__cause__ or current.__context__
    return True


def _describe_error(error) -> str:
    text = str(error)
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(error, requests.exceptions.Timeout):
        return "timed out"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the server closed the connection without a response"
    if "Name or service not known" in text or "NameResolutionError" in text:
        return "the host name could not be resolved"
    return f"connection error ({type(error).__name__})"


def _describe_tls_error(error) -> str:
    text = str(error)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        match = re.search(r"certificate verify failed: ([^(\"')]+)", text)
        detail = match.group(1).strip() if match else "certificate verify failed"
        return f"TLS certificate verification failed ({detail})"
    if "No such file" in text or "Could not find a suitable TLS CA certificate" in text:
        return "the CA certificate file in ca_path could not be read"
    return "the TLS handshake failed"
