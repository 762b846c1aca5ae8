"""Fakes and constants shared by the API client tests."""

from __future__ import annotations

import datetime
import itertools
from urllib.parse import parse_qs

BASE = "https://vbahv.example.test"
API = BASE + "/api/v7"
TOKEN_URL = BASE + "/api/oauth2/token"
LOGOUT_URL = BASE + "/api/oauth2/logout"
PASSWORD = "S3cret-Pa55word"


class FakeClock:
    """A clock that only moves when the code under test sleeps or a test advances it."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def iso(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


class TokenFactory:
    """Builds TokenModel bodies with distinct tokens and lifetimes relative to the clock."""

    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.counter = itertools.count(1)

    def body(self, access_ttl: float = 1800, refresh_ttl: float = 86400) -> dict:
        number = next(self.counter)
        return {
            "accessToken": f"access-token-{number}",
            "refreshToken": f"refresh-token-{number}",
            "accessTokenExpiresAt": iso(self.clock.now + access_ttl),
            "refreshTokenExpiresAt": iso(self.clock.now + refresh_ttl),
        }


def form_of(call) -> dict:
    """Decode the urlencoded body of a recorded call."""
    body = call.request.body
    if isinstance(body, bytes):
        body = body.decode()
    return {key: values[0] for key, values in parse_qs(body).items()}
