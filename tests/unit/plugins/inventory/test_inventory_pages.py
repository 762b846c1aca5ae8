"""Paged collections read in parallel: offsets, server caps, changes mid-read and errors."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    ApiError,
    PagingError,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_pages import (
    drop_repeated_ids,
    read_collections,
)


class FakeServer:
    """Serves collections of numbered items in pages of at most ``cap`` items."""

    def __init__(self, collections: dict, cap: int = 100, with_total: bool = True):
        self.collections = collections
        self.cap = cap
        self.with_total = with_total
        self.lock = threading.Lock()
        self.requests: list = []
        self.hooks: dict = {}

    def page(self, path: str, offset: int, limit: int):
        with self.lock:
            self.requests.append((path, offset, limit))
            # A hook runs once, at the first request for its page.
            hook = self.hooks.pop((path, offset), None)
        if hook is not None:
            hook(self)
        items = self.collections[path]
        if isinstance(items, Exception):
            raise items
        if isinstance(items, tuple):
            return list(items)
        size = min(limit, self.cap)
        body = {"offset": offset, "limit": size, "results": items[offset : offset + size]}
        if self.with_total:
            body["totalCount"] = len(items)
        return body

    def offsets(self, path: str) -> list:
        return sorted(offset for requested, offset, _limit in self.requests if requested == path)


class FakeClient:
    """Stands in for ApiClient: ``get`` reads one page."""

    def __init__(self, server: FakeServer, page_size: int):
        self.server = server
        self.page_size = page_size

    def get(self, path, params=None):
        return self.server.page(path, params["offset"], params["limit"])


def numbered(count: int, prefix: str = "vm") -> list:
    return [{"id": f"{prefix}-{number}"} for number in range(count)]


def read(server: FakeServer, paths: dict, page_size: int = 500, workers: int = 4):
    client = FakeClient(server, page_size)
    with ThreadPoolExecutor(max_workers=workers) as executor:
        outcomes = read_collections(executor, lambda: client, paths)
    return outcomes, client


@pytest.mark.parametrize("count", [0, 1, 49, 50, 51, 1001])
def test_page_edges_with_server_cap(count):
    server = FakeServer({"/vms": numbered(count)}, cap=50)

    outcomes, _client = read(server, {"a": "/vms"})

    assert outcomes["a"] == numbered(count)
    assert server.offsets("/vms") == [50 * page for page in range(max(1, -(-count // 50)))]


def test_page_size_below_cap():
    server = FakeServer({"/vms": numbered(10)}, cap=500)

    outcomes, _client = read(server, {"a": "/vms"}, page_size=3)

    assert outcomes["a"] == numbered(10)
    assert server.offsets("/vms") == [0, 3, 6, 9]
    assert {limit for _path, _offset, limit in server.requests} == {3}


def test_several_collections_kept_apart():
    server = FakeServer({"/a": numbered(120, "a"), "/b": numbered(7, "b")}, cap=50)

    outcomes, _client = read(server, {("a",): "/a", "b": "/b"}, workers=2)

    assert outcomes[("a",)] == numbered(120, "a")
    assert outcomes["b"] == numbered(7, "b")


class SlowServer(FakeServer):
    """Holds each request for a moment and records how many run at the same time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_flight = 0
        self.max_in_flight = 0

    def page(self, path, offset, limit):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(0.01)
        with self.lock:
            self.in_flight -= 1
        return super().page(path, offset, limit)


@pytest.mark.parametrize("workers", [1, 3])
def test_requests_in_flight_bounded(workers):
    server = SlowServer({"/a": numbered(100, "a"), "/b": numbered(40, "b")}, cap=10)

    outcomes, _client = read(server, {"a": "/a", "b": "/b"}, workers=workers)

    assert outcomes["a"] == numbered(100, "a")
    assert outcomes["b"] == numbered(40, "b")
    assert server.max_in_flight <= workers
    assert server.max_in_flight > 1 or workers == 1
    assert len(server.requests) == 14


def test_bare_array_read_once():
    server = FakeServer({"/clusters": (1, 2, 3)})

    outcomes, _client = read(server, {"c": "/clusters"})

    assert outcomes["c"] == [1, 2, 3]
    assert len(server.requests) == 1


def test_without_total_reads_until_empty():
    server = FakeServer({"/vms": numbered(7)}, cap=3, with_total=False)

    outcomes, _client = read(server, {"a": "/vms"})

    assert outcomes["a"] == numbered(7)
    assert server.offsets("/vms") == [0, 3, 6, 7]


def test_collection_growing_read_again():
    items = numbered(100)
    server = FakeServer({"/vms": items}, cap=10)
    server.hooks[("/vms", 50)] = lambda s: items.append({"id": "vm-new"})

    outcomes, _client = read(server, {"a": "/vms"}, page_size=10, workers=1)

    assert outcomes["a"] == numbered(100) + [{"id": "vm-new"}]
    assert server.offsets("/vms").count(0) == 2


def test_short_page_read_again():
    items = numbered(30)
    server = FakeServer({"/vms": items}, cap=10)

    def drop_one(_server):
        del items[25]

    server.hooks[("/vms", 20)] = drop_one

    outcomes, _client = read(server, {"a": "/vms"}, page_size=10, workers=1)

    assert [item["id"] for item in outcomes["a"]] == [f"vm-{n}" for n in range(30) if n != 25]
    assert server.offsets("/vms").count(0) == 2


def test_insert_shift_read_again():
    # A VM created at the front and one deleted at the end keep totalCount at 25, but the
    # page at offset 10 then repeats vm-9 and vm-24 is gone.
    items = numbered(25)
    server = FakeServer({"/vms": items}, cap=5)

    def shift(_server):
        items.insert(0, {"id": "vm-new"})
        del items[-1]

    server.hooks[("/vms", 10)] = shift

    outcomes, _client = read(server, {"a": "/vms"}, page_size=5, workers=1)

    assert outcomes["a"] == [{"id": "vm-new"}] + numbered(24)
    assert server.offsets("/vms").count(0) == 2


class RepeatingServer(FakeServer):
    """Starts the page at ``offset`` one item early, so it repeats an item and skips one."""

    def __init__(self, *args, offset: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.shifted_offset = offset

    def page(self, path, offset, limit):
        body = super().page(path, offset, limit)
        if offset == self.shifted_offset:
            body["results"] = self.collections[path][offset - 1 : offset - 1 + len(body["results"])]
        return body


def test_repeat_in_every_read_fails():
    server = RepeatingServer({"/vms": numbered(25)}, cap=5, offset=10)

    outcomes, _client = read(server, {"a": "/vms"}, page_size=5, workers=1)

    error = outcomes["a"]
    assert isinstance(error, PagingError)
    assert "GET /vms listed 1 item id(s) ('vm-9') more than once" in str(error)
    assert "24 distinct item(s) of the 25 its totalCount reports" in str(error)
    assert "run the inventory again" in str(error)
    assert server.offsets("/vms").count(0) == 2


class OverlappingServer(FakeServer):
    """Returns the page at ``offset`` with one extra item in front, the last of the page before."""

    def __init__(self, *args, offset: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.overlap_offset = offset

    def page(self, path, offset, limit):
        body = super().page(path, offset, limit)
        if offset == self.overlap_offset:
            body["results"] = [self.collections[path][offset - 1]] + body["results"]
        return body


def test_repeat_without_loss_dropped():
    server = OverlappingServer({"/vms": numbered(10)}, cap=5, offset=5)

    outcomes, _client = read(server, {"a": "/vms"}, page_size=5, workers=1)

    assert outcomes["a"] == numbered(10)


def test_repeat_in_bare_array_dropped():
    server = FakeServer({"/clusters": ({"id": "c1"}, {"id": "c2"}, {"id": "c1"})})

    outcomes, _client = read(server, {"c": "/clusters"})

    assert outcomes["c"] == [{"id": "c1"}, {"id": "c2"}]
    assert len(server.requests) == 1


def test_drop_repeated_ids_keeps_items_without_id():
    items = [{"id": "a"}, {"id": "b"}, {"id": "a"}, {"id": None}, {"id": None}, 1, 1]

    unique_items, repeated = drop_repeated_ids(items)

    assert unique_items == [{"id": "a"}, {"id": "b"}, {"id": None}, {"id": None}, 1, 1]
    assert repeated == ["a"]


class OvercountingServer(FakeServer):
    """Reports a totalCount one higher than the number of items it has."""

    def page(self, path, offset, limit):
        body = super().page(path, offset, limit)
        body["totalCount"] += 1
        return body


def test_second_read_short_fails():
    server = OvercountingServer({"/vms": numbered(10)}, cap=5)

    outcomes, _client = read(server, {"a": "/vms"}, page_size=5, workers=1)

    error = outcomes["a"]
    assert isinstance(error, PagingError)
    assert "reported totalCount 11 but returned no items at offset 10, after 10 items" in str(error)
    assert "run the inventory again" in str(error)
    assert server.offsets("/vms").count(0) == 2


def test_page_error_fails_one_collection():
    error = ApiError("GET", "https://x/api/v7/b", 500, title="Internal error")
    server = FakeServer({"/a": numbered(20, "a"), "/b": error}, cap=5)

    outcomes, _client = read(server, {"a": "/a", "b": "/b"})

    assert outcomes["a"] == numbered(20, "a")
    assert outcomes["b"] is error


def test_later_page_error_fails_collection():
    server = FakeServer({"/vms": numbered(40)}, cap=5)

    def fail(_server):
        raise ApiError("GET", "https://x/api/v7/vms", 503)

    server.hooks[("/vms", 20)] = fail

    outcomes, _client = read(server, {"a": "/vms"}, workers=1)

    assert isinstance(outcomes["a"], ApiError)
    assert outcomes["a"].status == 503


def test_total_without_items_error():
    class EmptyFirstPage(FakeServer):
        def page(self, path, offset, limit):
            return {"offset": 0, "limit": limit, "totalCount": 3, "results": []}

    outcomes, _client = read(EmptyFirstPage({}), {"a": "/vms"})

    assert isinstance(outcomes["a"], PagingError)
    assert "reported totalCount 3 but returned no items" in str(outcomes["a"])


def test_not_a_page_error():
    class NotAPage(FakeServer):
        def page(self, path, offset, limit):
            return {"items": []}

    outcomes, _client = read(NotAPage({}), {"a": "/vms"})

    assert isinstance(outcomes["a"], PagingError)
    assert "neither a JSON array nor a page object" in str(outcomes["a"])
