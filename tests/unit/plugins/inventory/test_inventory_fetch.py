"""Reading clusters, VMs and protected VMs in parallel, against a mocked HTTP layer."""

from __future__ import annotations

import datetime
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import ApiClient
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import VeeamAhvError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.retry import RetryPolicy
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_fetch import (
    ThreadClients,
    fetch_source_data,
    select_clusters,
    validate_source_data,
)

BASE = "https://vbahv.example.test"
API = BASE + "/api/v7"
TOKEN_URL = BASE + "/api/oauth2/token"
LOGOUT_URL = BASE + "/api/oauth2/logout"

CLUSTERS = [
    {"id": "c-empty", "name": "EMPTY"},
    {"id": "c-three", "name": "THREE"},
    {"id": "c-seven", "name": "SEVEN"},
]
VM_COUNTS = {"c-empty": 0, "c-three": 3, "c-seven": 7}


def vms_of(cluster_id: str) -> list:
    return [{"id": f"{cluster_id}-vm{i}", "name": f"vm{i}"} for i in range(VM_COUNTS[cluster_id])]


def paged(items: list, cap: int):
    """Return a responses callback that serves ``items`` in pages of at most ``cap``."""

    def callback(request):
        query = parse_qs(urlsplit(request.url).query)
        offset = int(query["offset"][0])
        limit = min(int(query["limit"][0]), cap)
        body = {
            "offset": offset,
            "limit": limit,
            "totalCount": len(items),
            "results": items[offset : offset + limit],
        }
        return 200, {}, json.dumps(body)

    return callback


def paged_fixed(items: list, cap: int, total: int):
    """Return a responses callback like ``paged`` that always reports ``total``."""

    def callback(request):
        query = parse_qs(urlsplit(request.url).query)
        offset = int(query["offset"][0])
        limit = min(int(query["limit"][0]), cap)
        body = {
            "offset": offset,
            "limit": limit,
            "totalCount": total,
            "results": items[offset : offset + limit],
        }
        return 200, {}, json.dumps(body)

    return callback


class TokenServer:
    """Issues a new token pair for every token request, and records the grant types.

    Given a ``clock``, the access tokens expire ``lifetime`` seconds after its time.
    """

    def __init__(self, clock=None, lifetime: float = 600):
        self.count = 0
        self.lock = threading.Lock()
        self.grants: list = []
        self.clock = clock
        self.lifetime = lifetime

    def __call__(self, request):
        with self.lock:
            self.count += 1
            number = self.count
            self.grants.append(parse_qs(request.body)["grantType"][0])
        body = {"accessToken": f"access-{number}", "refreshToken": f"refresh-{number}"}
        if self.clock is not None:
            expiry = datetime.datetime.fromtimestamp(
                self.clock() + self.lifetime, datetime.timezone.utc
            )
            body["accessTokenExpiresAt"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {}, json.dumps(body)


class FakeClock:
    """A clock that returns the same time until a test changes it."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def token_server():
    return TokenServer()


@pytest.fixture
def api(token_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", TOKEN_URL, callback=token_server)
        mock.post(LOGOUT_URL, status=204)
        mock.get(API + "/clusters", json=CLUSTERS)
        yield mock


def serve_cluster_vms(api, cap: int = 100):
    for cluster in CLUSTERS:
        url = f"{API}/clusters/{cluster['id']}/vms"
        api.add_callback("GET", url, callback=paged(vms_of(cluster["id"]), cap))


def serve_protected_vms(api, cap: int = 100):
    rows = [{"id": "c-three-vm0", "backups": 1, "snapshots": 0}]
    api.add_callback("GET", API + "/protectedVms", callback=paged(rows, cap))


def create_client(page_size: int = 100, clock=None):
    def factory():
        return ApiClient(
            url=BASE,
            username="administrator",
            password="secret",
            page_size=page_size,
            retry_policy=RetryPolicy(max_retries=0),
            clock=clock or time.time,
        )

    return factory


def calls(api, method: str, url: str) -> list:
    return [
        call
        for call in api.calls
        if call.request.method == method and call.request.url.split("?")[0] == url
    ]


def bearer_tokens(api, url_part: str) -> set:
    return {
        call.request.headers.get("Authorization")
        for call in api.calls
        if url_part in call.request.url and call.request.method == "GET"
    }


def test_fetch_reads_every_vm(api):
    serve_cluster_vms(api, cap=3)
    serve_protected_vms(api)

    result = fetch_source_data(create_client(page_size=3), None, max_workers=4)

    assert result.complete
    assert [cluster["id"] for cluster in result.data["clusters"]] == [
        "c-empty",
        "c-seven",
        "c-three",
    ]
    for cluster_id in VM_COUNTS:
        assert result.data["vms"][cluster_id] == vms_of(cluster_id)
    assert result.data["protected_vms"] == [{"id": "c-three-vm0", "backups": 1, "snapshots": 0}]
    assert validate_source_data(result.data)


def test_fetch_request_count(api):
    serve_cluster_vms(api, cap=3)
    serve_protected_vms(api)

    result = fetch_source_data(create_client(page_size=3), None, max_workers=2)

    # Login, clusters, 1 + 1 + 3 VM pages, 1 protected VM page, logout.
    assert len(api.calls) == 9
    assert result.request_count == 9
    assert len(calls(api, "POST", TOKEN_URL)) == 1
    assert len(calls(api, "POST", LOGOUT_URL)) == 1
    assert len(calls(api, "GET", API + "/clusters/c-seven/vms")) == 3


def test_workers_reuse_login_token(api):
    serve_cluster_vms(api)
    serve_protected_vms(api)

    fetch_source_data(create_client(), None, max_workers=3)

    assert bearer_tokens(api, "/vms") == {"Bearer access-1"}
    assert bearer_tokens(api, "/protectedVms") == {"Bearer access-1"}
    logout = calls(api, "POST", LOGOUT_URL)[0]
    assert logout.request.headers["Authorization"] == "Bearer access-1"


def test_selected_clusters_only(api):
    serve_cluster_vms(api)
    serve_protected_vms(api)

    result = fetch_source_data(create_client(), ["SEVEN", "c-empty"], max_workers=1)

    assert [cluster["id"] for cluster in result.data["clusters"]] == ["c-seven", "c-empty"]
    assert calls(api, "GET", API + "/clusters/c-three/vms") == []


def test_cluster_failure_keeps_others(api):
    serve_protected_vms(api)
    api.get(API + "/clusters/c-three/vms", status=500, json={"title": "Internal error"})
    for cluster_id in ("c-empty", "c-seven"):
        api.add_callback(
            "GET", f"{API}/clusters/{cluster_id}/vms", callback=paged(vms_of(cluster_id), 100)
        )

    result = fetch_source_data(create_client(), None, max_workers=4)

    assert not result.complete
    assert [failure.cluster["id"] for failure in result.cluster_failures] == ["c-three"]
    assert "HTTP 500" in result.cluster_failures[0].message
    assert "Internal error" in result.cluster_failures[0].message
    assert sorted(result.data["vms"]) == ["c-empty", "c-seven"]
    assert len(calls(api, "POST", LOGOUT_URL)) == 1


def test_repeated_vm_fails_cluster(api):
    serve_protected_vms(api)
    for cluster_id in ("c-empty", "c-three"):
        api.add_callback(
            "GET", f"{API}/clusters/{cluster_id}/vms", callback=paged(vms_of(cluster_id), 100)
        )
    seven = vms_of("c-seven")
    # Every read gets the page at offset 3 one item early: vm2 twice, vm5 never.
    shifted = seven[:3] + seven[2:5] + seven[6:]
    api.add_callback("GET", API + "/clusters/c-seven/vms", callback=paged_fixed(shifted, 3, 7))

    result = fetch_source_data(create_client(page_size=3), None, max_workers=2)

    assert [failure.cluster["id"] for failure in result.cluster_failures] == ["c-seven"]
    message = result.cluster_failures[0].message
    assert "listed 1 item id(s) ('c-seven-vm2') more than once" in message
    assert "6 distinct item(s) of the 7" in message
    assert sorted(result.data["vms"]) == ["c-empty", "c-three"]


def test_protected_failure_recorded(api):
    serve_cluster_vms(api)
    api.get(API + "/protectedVms", status=403, json={"title": "Forbidden"})

    result = fetch_source_data(create_client(), None, max_workers=2)

    assert not result.complete
    assert result.data["protected_vms"] is None
    assert "HTTP 403" in result.protection_error
    assert len(result.data["vms"]) == 3


def test_rejected_token_refreshed_once(api, token_server):
    serve_protected_vms(api)
    for cluster_id in ("c-empty", "c-seven"):
        api.add_callback(
            "GET", f"{API}/clusters/{cluster_id}/vms", callback=paged(vms_of(cluster_id), 100)
        )
    api.get(API + "/clusters/c-three/vms", status=401)
    api.add_callback("GET", API + "/clusters/c-three/vms", callback=paged(vms_of("c-three"), 100))

    result = fetch_source_data(create_client(), None, max_workers=1)

    assert result.complete
    assert result.warnings == []
    assert token_server.grants == ["Password", "RefreshToken"]
    # The client that logged in logs out the refreshed token, and nothing else is logged out.
    logouts = [call.request.headers["Authorization"] for call in calls(api, "POST", LOGOUT_URL)]
    assert logouts == ["Bearer access-2"]


def test_parallel_rejections_refresh_once(api, token_server):
    serve_protected_vms(api)
    served = {cluster["id"]: paged(vms_of(cluster["id"]), 100) for cluster in CLUSTERS}
    barrier = threading.Barrier(3, timeout=5)

    def expire_first_token(request):
        # Every list is requested with the first token, which the server has expired.
        cluster_id = request.url.split("/clusters/")[1].split("/")[0]
        if request.headers["Authorization"] == "Bearer access-1":
            barrier.wait()
            return 401, {}, ""
        return served[cluster_id](request)

    for cluster in CLUSTERS:
        api.add_callback("GET", f"{API}/clusters/{cluster['id']}/vms", callback=expire_first_token)

    result = fetch_source_data(create_client(), ["EMPTY", "THREE", "SEVEN"], max_workers=4)

    assert result.complete
    assert token_server.grants == ["Password", "RefreshToken"]
    logouts = [call.request.headers["Authorization"] for call in calls(api, "POST", LOGOUT_URL)]
    assert logouts == ["Bearer access-2"]


def test_stale_token_refreshed_before_logout(api, token_server):
    clock = FakeClock()
    token_server.clock = clock
    serve_cluster_vms(api)
    serve_protected_vms(api)
    factory = create_client(clock=clock)
    created = []

    def create_and_age_token():
        client = factory()
        if created:
            # Once the workers are done, the access token of the login is near expiry.
            original_close = client.close
            client.close = lambda: (setattr(clock, "now", clock.now + 400), original_close())[1]
        created.append(client)
        return client

    result = fetch_source_data(create_and_age_token, None, max_workers=1)

    assert result.warnings == []
    assert token_server.grants == ["Password", "RefreshToken"]
    logouts = [call.request.headers["Authorization"] for call in calls(api, "POST", LOGOUT_URL)]
    assert logouts == ["Bearer access-2"]


def test_logout_401_not_a_warning(api):
    serve_cluster_vms(api)
    serve_protected_vms(api)
    api.replace(responses.POST, LOGOUT_URL, status=401, json={"title": "Token expired"})
    messages = []

    result = fetch_source_data(create_client(), None, max_workers=2, log=messages.append)

    assert result.warnings == []
    assert any("The logout was rejected with HTTP 401" in message for message in messages)


def test_logout_failure_warns(api):
    serve_cluster_vms(api)
    serve_protected_vms(api)
    api.replace(responses.POST, LOGOUT_URL, status=500, json={"title": "Internal error"})

    result = fetch_source_data(create_client(), None, max_workers=2)

    assert len(result.warnings) == 1
    assert "Logout failed, the token will expire on its own" in result.warnings[0]
    assert "HTTP 500" in result.warnings[0]


def test_cluster_list_failure_raises_and_logs_out(api):
    api.replace(responses.GET, API + "/clusters", status=503)

    with pytest.raises(VeeamAhvError, match="HTTP 503"):
        fetch_source_data(create_client(), None, max_workers=2)

    assert len(calls(api, "POST", LOGOUT_URL)) == 1


def test_select_clusters_by_name_and_id():
    chosen = select_clusters(CLUSTERS, ["c-seven", "THREE", "SEVEN"])

    assert [cluster["id"] for cluster in chosen] == ["c-seven", "c-three"]


def test_select_clusters_unknown_name():
    with pytest.raises(VeeamAhvError, match="Cluster 'NOPE' was not found") as error:
        select_clusters(CLUSTERS, ["NOPE"])

    assert "EMPTY (c-empty)" in str(error.value)


def test_select_clusters_shared_name():
    clusters = CLUSTERS + [{"id": "c-other", "name": "THREE"}]

    with pytest.raises(VeeamAhvError, match="2 clusters are named 'THREE'"):
        select_clusters(clusters, ["THREE"])


def test_thread_clients_one_per_thread():
    created = []

    class Client:
        def __init__(self):
            created.append(self)

        def close(self):
            return ["closed"]

    clients = ThreadClients(Client)
    seen = {}
    barrier = threading.Barrier(3)

    def work(name):
        first = clients.get()
        barrier.wait()
        seen[name] = (first, clients.get())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(created) == 3
    assert all(first is second for first, second in seen.values())
    assert len({id(first) for first, _second in seen.values()}) == 3
    assert clients.close_all() == ["closed"] * 3


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"format": 0, "clusters": [], "vms": {}},
        {"format": 1, "clusters": {}, "vms": {}},
        {"format": 1, "clusters": [], "vms": {}, "protected_vms": "x"},
    ],
)
def test_validate_source_data_rejects(data):
    assert validate_source_data(data) is False
