"""Fixtures for the API client tests: a fake clock and a mocked HTTP layer."""

from __future__ import annotations

import pytest
import responses

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import ApiClient
from ansible_collections.veeam_ahv.backup.plugins.module_utils.retry import RetryPolicy
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    BASE,
    PASSWORD,
    FakeClock,
    TokenFactory,
)


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
