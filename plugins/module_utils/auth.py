# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Access tokens for the plug-in's OAuth2 endpoint: login, refresh and logout.

The v7 appliance issues a token pair from ``POST /api/oauth2/token`` with a
form body in camelCase (``grantType=Password&userName=...``). The access token
lasts 30 minutes and the refresh token 24 hours (14 days when
``longLivedRefreshToken`` is set), as the v7 REST guide states.
"""

from __future__ import annotations

import datetime
import re
import time

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    VeeamAhvError,
)

TOKEN_PATH = "/api/oauth2/token"
LOGOUT_PATH = "/api/oauth2/logout"

# Renew an access token this many seconds before it expires, or at half its
# lifetime when that is shorter, so a request never carries a token that
# expires on the way.
REFRESH_MARGIN = 300.0

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(value) -> float | None:
    """Return an ISO 8601 timestamp as seconds since the epoch, or None.

    Accepts a ``Z`` or numeric offset and up to seven fractional digits, as
    .NET writes them. A timestamp without an offset is taken as UTC.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    microseconds = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        microseconds,
        tzinfo=datetime.timezone.utc,
    )
    if offset and offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment -= sign * delta
    return moment.timestamp()


class Token:
    """An access token with its refresh token and expiry times (epoch seconds)."""

    def __init__(
        self,
        access_token: str,
        access_expires_at: float | None = None,
        refresh_token: str | None = None,
        refresh_expires_at: float | None = None,
        issued_at: float | None = None,
        issued_by_client: bool = False,
        raw_access_expiry: str | None = None,
        raw_refresh_expiry: str | None = None,
    ):
        self.access_token = access_token
        self.raw_access_expiry = raw_access_expiry
        self.raw_refresh_expiry = raw_refresh_expiry
        self.access_expires_at = access_expires_at
        self.refresh_token = refresh_token
        self.refresh_expires_at = refresh_expires_at
        self.issued_at = issued_at
        self.issued_by_client = issued_by_client

    def access_is_fresh(self, now: float) -> bool:
        """Return whether the access token is valid for longer than the margin."""
        if self.access_expires_at is None:
            return True
        margin = REFRESH_MARGIN
        if self.issued_at is not None:
            margin = min(margin, (self.access_expires_at - self.issued_at) / 2)
        return now < self.access_expires_at - margin

    def can_refresh(self, now: float) -> bool:
        """Return whether the refresh token exists and has not expired."""
        if not self.refresh_token:
            return False
        return self.refresh_expires_at is None or now < self.refresh_expires_at


class TokenManager:
    """Keep a valid access token for one client.

    ``transport`` is the client's ``send_auth_request(method, path, form=None,
    bearer=None)``, which returns the parsed JSON body or raises ``ApiError``.
    A token the caller passed in is used as it is and never logged out; tokens
    this manager obtained are logged out by ``logout()``.
    """

    def __init__(
        self,
        transport,
        username: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        api_version: str = "v7",
        long_lived_refresh_token: bool = False,
        clock=time.time,
    ):
        self._transport = transport
        self._username = username
        self._password = password
        self._api_version = api_version
        self._long_lived = long_lived_refresh_token
        self._clock = clock
        self._token_path = TOKEN_PATH
        self.token: Token | None = None
        if access_token:
            self.token = Token(access_token)

    @property
    def can_login(self) -> bool:
        """Whether a username and password are available for a new login."""
        return bool(self._username) and self._password is not None

    def access_token(self) -> str:
        """Return an access token that is not about to expire.

        Refreshes with the refresh token when the access token is close to
        expiry, and logs in again with the password when the refresh token is
        gone or rejected.
        """
        now = self._clock()
        token = self.token
        if token is not None and token.access_is_fresh(now):
            return token.access_token
        if token is not None and token.can_refresh(now) and self._try_refresh():
            return self.token.access_token
        if self.can_login:
            self.login()
            return self.token.access_token
        if token is not None:
            # A caller-supplied token without expiry data: let the server judge it.
            return token.access_token
        raise VeeamAhvError(
            "No credentials to log in with: set username and password, or access_token."
        )

    def renew_after_rejection(self) -> bool:
        """Get a new access token after the server rejected one with 401.

        Returns False when there is no refresh token or password to get one with.
        """
        token = self.token
        if token is not None and token.can_refresh(self._clock()) and self._try_refresh():
            return True
        if self.can_login:
            self.login()
            return True
        return False

    def login(self) -> Token:
        """Log in with the password grant and keep the new token pair."""
        form = {
            "grantType": "Password",
            "userName": self._username,
            "password": self._password,
        }
        if self._long_lived:
            form["longLivedRefreshToken"] = "true"
        try:
            body = self._request_token(form)
        except AuthenticationError as error:
            if error.status in (401, 403):
                error.hint = (
                    f"The server rejected the login of user '{self._username}': "
                    "check username and password."
                )
            raise
        self.token = self._token_from_body(body)
        return self.token

    def logout(self, include_given: bool = False) -> bool:
        """Revoke the token this manager obtained, if any.

        With ``include_given``, a token the caller passed in is revoked too.
        Returns whether a logout request was sent. Raises ``ApiError`` or
        ``ApiConnectionError`` when it fails; the token is forgotten either way.
        """
        token = self.token
        if token is None or not (token.issued_by_client or include_given):
            return False
        self.token = None
        self._transport("POST", LOGOUT_PATH, bearer=token.access_token)
        return True

    def release(self) -> Token | None:
        """Forget the current token without logging it out, and return it.

        The caller takes over the token, so ``logout()`` will not revoke it.
        """
        token = self.token
        self.token = None
        return token

    def _try_refresh(self) -> bool:
        form = {"grantType": "RefreshToken", "refreshToken": self.token.refresh_token}
        try:
            body = self._request_token(form)
        except AuthenticationError:
            self.token.refresh_token = None
            return False
        self.token = self._token_from_body(body)
        return True

    def _request_token(self, form: dict) -> dict:
        """Send a token request, falling back to ``/api/<version>/token`` on 404 or 405."""
        try:
            return self._post_token_form(self._token_path, form)
        except ApiError as error:
            if self._token_path != TOKEN_PATH or error.status not in (404, 405):
                raise
        self._token_path = f"/api/{self._api_version}/token"
        return self._post_token_form(self._token_path, form)

    def _post_token_form(self, path: str, form: dict) -> dict:
        try:
            body = self._transport("POST", path, form=form)
        except ApiError as error:
            if error.status in (400, 401, 403) and not isinstance(error, AuthenticationError):
                raise _as_authentication_error(error) from None
            raise
        if not isinstance(body, dict) or not isinstance(body.get("accessToken"), str):
            raise VeeamAhvError(
                f"The token response from {path} has no accessToken field: check that url "
                "points to the Veeam Plug-in for Nutanix AHV appliance."
            )
        return body

    def _token_from_body(self, body: dict) -> Token:
        return Token(
            access_token=body["accessToken"],
            access_expires_at=parse_timestamp(body.get("accessTokenExpiresAt")),
            refresh_token=body.get("refreshToken") or None,
            refresh_expires_at=parse_timestamp(body.get("refreshTokenExpiresAt")),
            issued_at=self._clock(),
            issued_by_client=True,
            raw_access_expiry=body.get("accessTokenExpiresAt"),
            raw_refresh_expiry=body.get("refreshTokenExpiresAt"),
        )


def _as_authentication_error(error: ApiError) -> AuthenticationError:
    return AuthenticationError(
        error.method,
        error.url,
        error.status,
        reason=error.reason,
        title=error.title,
        detail=error.detail,
        errors=error.errors,
        body_excerpt=error.body_excerpt,
        hint=error.hint,
        retries=error.retries,
    )
