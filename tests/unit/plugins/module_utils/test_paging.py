"""Paging: envelopes, server caps, bare arrays and short collections."""

from __future__ import annotations

import pytest
from responses import matchers

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import PagingError
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    TOKEN_URL,
)


@pytest.fixture
def client(api, tokens, make_client):
    api.post(TOKEN_URL, json=tokens.body())
    return make_client(page_size=1000)


def page(offset, limit, total, count):
    return {
        "offset": offset,
        "limit": limit,
        "totalCount": total,
        "results": [{"id": f"vm-{offset + i}"} for i in range(count)],
    }


def serve_capped(api, url, total, cap):
    """Serve a collection of ``total`` items in pages of at most ``cap`` items."""

    def callback(request):
        import json
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(request.url).query)
        offset = int(query["offset"][0])
        limit = min(int(query["limit"][0]), cap)
        count = max(0, min(limit, total - offset))
        return 200, {}, json.dumps(page(offset, limit, total, count))

    api.add_callback("GET", url, callback=callback)


def offsets_requested(api, url):
    from urllib.parse import parse_qs, urlsplit

    return [
        int(parse_qs(urlsplit(call.request.url).query)["offset"][0])
        for call in api.calls
        if call.request.url.split("?")[0] == url
    ]


@pytest.mark.parametrize(
    ("total", "pages"), [(0, 1), (1, 1), (99, 1), (100, 1), (101, 2), (1001, 11)]
)
def test_server_cap_followed_to_total(api, client, total, pages):
    url = API + "/clusters/c1/vms"
    serve_capped(api, url, total, cap=100)

    items = client.get_all("/clusters/c1/vms")

    assert len(items) == total
    assert [item["id"] for item in items] == [f"vm-{i}" for i in range(total)]
    assert offsets_requested(api, url) == [100 * i for i in range(pages)]


def test_requests_configured_page_size(api, client):
    url = API + "/sessions"
    api.get(
        url,
        match=[matchers.query_param_matcher({"offset": "0", "limit": "1000"})],
        json=page(0, 1000, 2, 2),
    )

    assert len(client.get_all("/sessions")) == 2


def test_extra_params_kept_on_every_page(api, client):
    url = API + "/restorePoints"
    serve_capped(api, url, 250, cap=100)

    client.get_all("/restorePoints", params={"vmId": "vm 1"})

    queries = [
        call.request.url.split("?")[1] for call in api.calls if "restorePoints" in call.request.url
    ]
    assert len(queries) == 3
    assert all("vmId=vm+1" in query for query in queries)


def test_bare_array_accepted(api, client):
    api.get(API + "/clusters/c1/storageContainers", json=[{"id": "sc1"}, {"id": "sc2"}])

    assert client.get_all("/clusters/c1/storageContainers") == [{"id": "sc1"}, {"id": "sc2"}]


def test_empty_page_before_total_is_an_error(api, client):
    url = API + "/clusters/c1/vms"
    api.get(url, json=page(0, 100, 250, 100))
    api.get(url, json=page(100, 100, 250, 0))

    with pytest.raises(PagingError) as caught:
        client.get_all("/clusters/c1/vms")

    message = str(caught.value)
    assert "totalCount 250" in message
    assert "offset 100" in message
    assert "after 100 items" in message


def test_missing_total_reads_until_empty_page(api, client):
    url = API + "/jobs"
    api.get(url, json={"offset": 0, "limit": 2, "results": [{"id": 1}, {"id": 2}]})
    api.get(url, json={"offset": 2, "limit": 2, "results": [{"id": 3}]})
    api.get(url, json={"offset": 3, "limit": 2, "results": []})

    assert [item["id"] for item in client.get_all("/jobs")] == [1, 2, 3]
    assert len([c for c in api.calls if "/jobs" in c.request.url]) == 3


def test_envelope_without_results_is_an_error(api, client):
    api.get(API + "/jobs", json={"items": []})

    with pytest.raises(PagingError) as caught:
        client.get_all("/jobs")

    assert "neither a JSON array nor a page object" in str(caught.value)


def test_get_list_sends_no_paging(api, client):
    api.get(API + "/clusters", match=[matchers.query_string_matcher("")], json=[{"id": "c1"}])

    assert client.get_list("/clusters") == [{"id": "c1"}]


def test_get_list_follows_unexpected_envelope(api, client):
    url = API + "/clusters/c1/networks"
    api.get(url, match=[matchers.query_string_matcher("")], json=page(0, 100, 150, 100))
    api.get(
        url,
        match=[matchers.query_param_matcher({"offset": "100", "limit": "1000"})],
        json=page(100, 1000, 150, 50),
    )

    items = client.get_list("/clusters/c1/networks")

    assert len(items) == 150
    assert items[-1]["id"] == "vm-149"
