"""Access and refresh tokens of the v7 OAuth-like `/token` endpoint.

Tokens look like JWTs (three base64url parts with `exp`, `iat`, `jti` and `sub` claims) but the
emulator never verifies a signature: it looks every token up in memory.
"""

import base64
import json
import secrets
from dataclasses import dataclass, field

from vbahv_emulator import timeutil


@dataclass
class RefreshToken:
    value: str
    user: str
    expires_at: float
    revoked: bool = False
    access_tokens: set[str] = field(default_factory=set)


@dataclass
class AccessToken:
    value: str
    user: str
    expires_at: float
    refresh_token: str
    revoked: bool = False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _make_jwt(user: str, issued_at: float, expires_at: float, token_use: str) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "sub": user,
        "iat": int(issued_at),
        "exp": int(expires_at),
        "jti": secrets.token_hex(16),
        "token_use": token_use,
        "iss": "vbahv-emulator",
    }
    parts = [
        _b64(json.dumps(header, separators=(",", ":")).encode()),
        _b64(json.dumps(claims, separators=(",", ":")).encode()),
        _b64(secrets.token_bytes(32)),
    ]
    return ".".join(parts)


class TokenStore:
    def __init__(self) -> None:
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}

    def clear(self) -> None:
        self.access.clear()
        self.refresh.clear()

    def issue(
        self, user: str, access_lifetime: float, refresh_lifetime: float
    ) -> tuple[AccessToken, RefreshToken]:
        """Issue a new access token and a new refresh token for a password login."""
        issued_at = timeutil.now()
        refresh = RefreshToken(
            value=_make_jwt(user, issued_at, issued_at + refresh_lifetime, "refresh"),
            user=user,
            expires_at=issued_at + refresh_lifetime,
        )
        self.refresh[refresh.value] = refresh
        access = self.issue_access(refresh, access_lifetime)
        return access, refresh

    def issue_access(self, refresh: RefreshToken, access_lifetime: float) -> AccessToken:
        """Issue an access token tied to `refresh`, which is not rotated."""
        issued_at = timeutil.now()
        access = AccessToken(
            value=_make_jwt(refresh.user, issued_at, issued_at + access_lifetime, "access"),
            user=refresh.user,
            expires_at=issued_at + access_lifetime,
            refresh_token=refresh.value,
        )
        self.access[access.value] = access
        refresh.access_tokens.add(access.value)
        return access

    def valid_refresh(self, value: str) -> RefreshToken | None:
        token = self.refresh.get(value)
        if token is None or token.revoked or token.expires_at <= timeutil.now():
            return None
        return token

    def check_access(self, value: str) -> tuple[AccessToken | None, str]:
        """Return the token when it is usable, else None and the reason in words."""
        token = self.access.get(value)
        if token is None:
            return None, "The access token is unknown."
        if token.revoked:
            return None, "The access token has been revoked by a logout."
        if token.expires_at <= timeutil.now():
            return None, "The access token has expired."
        return token, ""

    def expire(self, value: str) -> bool:
        """Make one access token expire now. Return False when the token is unknown."""
        token = self.access.get(value)
        if token is None:
            return False
        token.expires_at = min(token.expires_at, timeutil.now())
        return True

    def expire_all_access(self) -> int:
        moment = timeutil.now()
        for token in self.access.values():
            token.expires_at = min(token.expires_at, moment)
        return len(self.access)

    def logout(self, access: AccessToken) -> None:
        """Revoke the refresh token behind `access` and every access token issued from it."""
        refresh = self.refresh.get(access.refresh_token)
        access.revoked = True
        if refresh is None:
            return
        refresh.revoked = True
        for value in refresh.access_tokens:
            self.access[value].revoked = True
