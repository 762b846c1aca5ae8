"""Fixtures for the API client tests: a fake clock and a mocked HTTP layer."""

from __future__ import annotations

import datetime
import itertools

import pytest
import responses

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import ApiClient
from ansible_collections.veeam_ahv.backup.plugins.module_utils.retry import RetryPolicy

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


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def tokens(clock):
    return TokenFactory(clock)


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def log_lines():
    return []


@pytest.fixture
def make_client(clock, log_lines):
    created = []

    def factory(**options):
        options.setdefault("url", BASE)
        if "access_token" not in options:
            options.setdefault("username", "administrator")
            options.setdefault("password", PASSWORD)
        options.setdefault("retry_policy", RetryPolicy(jitter=lambda: 0.5))
        client = ApiClient(clock=clock.time, sleep=clock.sleep, log=log_lines.append, **options)
        created.append(client)
        return client

    return factory


def form_of(call) -> dict:
    """Decode the urlencoded body of a recorded call."""
    from urllib.parse import parse_qs

    body = call.request.body
    if isinstance(body, bytes):
        body = body.decode()
    return {key: values[0] for key, values in parse_qs(body).items()}
