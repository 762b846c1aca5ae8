# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read several paged collections at once, with their pages spread over a thread pool.

The first page of a collection gives ``totalCount`` and the number of items the
server returns per page, which may be fewer than the ``limit`` requested. The
remaining pages are then requested at the same time, at offsets that step by
that number.

A later page with another ``totalCount`` or an unexpected number of items means
that the collection changed during the read, or that the server pages unevenly.
The collection is then read again from the start, one page after another. A
first page without ``totalCount`` makes the read sequential too, ending at the
first empty page.

Offset paging can also list an item twice without any change in counts. When an
item is created before the offset of a page still to come, the items after it
shift by one. That page then repeats the last item of the page before, and
another item is never listed. Items with an id that was already seen are dropped. When
fewer distinct items than ``totalCount`` remain, the collection is read again,
and if the second read also comes up short it fails with ``PagingError``.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, wait

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    PagingError,
    VeeamAhvError,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.paging import (
    MAX_PAGES,
    read_envelope,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_text import quote

# Repeated ids named in a message, before the rest are only counted.
MAX_REPEATED_LISTED = 3


class CollectionRead:
    """The state of one paged collection read: the pages received and the offsets still due."""

    def __init__(self, key, path: str):
        self.key = key
        self.path = path
        self.total: int | None = None
        self.step: int | None = None
        self.bare = False
        self.sequential = False
        self.changed = False
        self.pages: dict = {}
        self.outstanding = 0
        self.page_count = 0
        self.items: list | None = None
        self.error: VeeamAhvError | None = None

    @property
    def finished(self) -> bool:
        return self.items is not None or self.error is not None

    def add_page(self, offset: int, body) -> list:
        """Store one response and return the offsets to request next.

        Raises ``PagingError`` for a response that is not a page of this collection.
        """
        self.page_count += 1
        if self.page_count > MAX_PAGES:
            raise PagingError(f"GET {self.path} still returned items after {MAX_PAGES} pages.")
        if offset == 0 and isinstance(body, list):
            # An endpoint that returns a bare array sends the whole collection at once.
            self.pages[0] = body
            self.bare = True
            return []
        results, total = read_envelope(body, self.path)
        self.pages[offset] = results
        if offset == 0:
            return self._plan(results, total)
        if self.sequential:
            return [offset + len(results)] if results else []
        expected = min(self.step, self.total - offset)
        if total != self.total or len(results) != expected:
            self.changed = True
        return []

    def _plan(self, results: list, total: int | None) -> list:
        if total is None:
            # Without a total, only an empty page proves the end.
            self.sequential = True
            return [len(results)] if results else []
        self.total = total
        if len(results) >= total:
            return []
        if not results:
            raise PagingError(
                f"GET {self.path} reported totalCount {total} but returned no items at "
                "offset 0. The list may have changed while it was read: run the inventory "
                "again."
            )
        self.step = len(results)
        return list(range(self.step, total, self.step))

    def assemble(self) -> list:
        """Return the items of every page in offset order."""
        items = []
        for offset in sorted(self.pages):
            items.extend(self.pages[offset])
        return items


def read_collections(executor, get_client, paths: dict, log=None) -> dict:
    """Read every collection in ``paths`` (key to API path) with the executor's threads.

    ``get_client()`` returns the calling thread's ``ApiClient``, whose
    ``page_size`` is the ``limit`` of every page request. Returns a dict
    from each key to its list of items, or to the ``VeeamAhvError`` that ended
    its read. Pages already queued for a collection that failed are cancelled.
    """
    log = log or (lambda message: None)
    reads = [CollectionRead(key, path) for key, path in paths.items()]
    pending: dict = {}

    def submit(read: CollectionRead, offset) -> None:
        if offset is None:
            future = executor.submit(_read_all, get_client, read.path)
        else:
            future = executor.submit(_read_page, get_client, read.path, offset)
        read.outstanding += 1
        pending[future] = (read, offset)

    for read in reads:
        submit(read, 0)
    while pending:
        done, _not_done = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in done:
            read, offset = pending.pop(future)
            read.outstanding -= 1
            if read.finished:
                continue
            try:
                next_offsets = _take_result(read, offset, future.result(), log)
            except VeeamAhvError as error:
                read.error = error
                _cancel_pages(pending, read)
                continue
            for next_offset in next_offsets:
                submit(read, next_offset)
            if read.outstanding == 0 and not read.finished:
                _finish(read, submit, log)
    return {read.key: read.error if read.error is not None else read.items for read in reads}


def _take_result(read: CollectionRead, offset, result, log) -> list:
    if offset is not None:
        return read.add_page(offset, result)
    # The result of the second read, one page after another.
    items, total, bare = result
    unique_items, repeated = drop_repeated_ids(items)
    if repeated and not bare and _may_miss_items(len(unique_items), total):
        if total is None:
            count = f"{len(unique_items)} distinct item(s), and no totalCount to check them against"
        else:
            count = f"{len(unique_items)} distinct item(s) of the {total} its totalCount reports"
        raise PagingError(
            f"GET {read.path} listed {describe_repeats(repeated)} more than once and "
            f"contains {count}, also when read again. The list changed while it was read, so items "
            "may be missing: run the inventory again."
        )
    if repeated:
        log(f"GET {read.path} listed {describe_repeats(repeated)} more than once; repeats dropped")
    read.items = unique_items
    return []


def _finish(read: CollectionRead, submit, log) -> None:
    if read.changed:
        log(f"GET {read.path} changed while its pages were read in parallel; reading it again")
        _read_again(read, submit)
        return
    items, repeated = drop_repeated_ids(read.assemble())
    if repeated and not read.bare and _may_miss_items(len(items), read.total):
        log(
            f"GET {read.path} listed {describe_repeats(repeated)} more than once while its "
            "pages were read in parallel, so an item may be missing; reading it again"
        )
        _read_again(read, submit)
        return
    if repeated:
        log(f"GET {read.path} listed {describe_repeats(repeated)} more than once; repeats dropped")
    read.items = items


def _read_again(read: CollectionRead, submit) -> None:
    read.changed = False
    read.pages = {}
    submit(read, None)


def _may_miss_items(distinct: int, total: int | None) -> bool:
    """Return whether a list of ``distinct`` items may lack some, given its ``totalCount``."""
    return total is None or distinct < total


def drop_repeated_ids(items: list) -> tuple[list, list]:
    """Return the items without those whose ``id`` an earlier item has, and the repeated ids.

    Items that are not objects with a string id are kept, for the caller to judge.
    """
    seen = set()
    unique_items = []
    repeated = []
    for item in items:
        item_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, str):
            if item_id in seen:
                repeated.append(item_id)
                continue
            seen.add(item_id)
        unique_items.append(item)
    return unique_items, repeated


def describe_repeats(repeated: list) -> str:
    """Name repeated ids for a message, as ``2 item id(s) ('a', 'b')``."""
    names = ", ".join(quote(item_id) for item_id in repeated[:MAX_REPEATED_LISTED])
    if len(repeated) > MAX_REPEATED_LISTED:
        names += ", ..."
    return f"{len(repeated)} item id(s) ({names})"


def _cancel_pages(pending: dict, failed: CollectionRead) -> None:
    for future, (read, _offset) in list(pending.items()):
        if read is failed and future.cancel():
            del pending[future]
            read.outstanding -= 1


def _read_page(get_client, path: str, offset: int):
    client = get_client()
    return client.get(path, params={"offset": offset, "limit": client.page_size})


def _read_all(get_client, path: str) -> tuple:
    """Read a collection one page after another from offset 0.

    Returns the items, the last ``totalCount`` (None when the pages have none),
    and whether the endpoint returned a bare array.
    """
    client = get_client()
    items: list = []
    for _page in range(MAX_PAGES):
        offset = len(items)
        body = client.get(path, params={"offset": offset, "limit": client.page_size})
        if offset == 0 and isinstance(body, list):
            return body, None, True
        results, total = read_envelope(body, path)
        items.extend(results)
        if total is None:
            if not results:
                return items, None, False
            continue
        if len(items) >= total:
            return items, total, False
        if not results:
            raise PagingError(
                f"GET {path} reported totalCount {total} but returned no items at offset "
                f"{offset}, after {offset} items. The list may have changed while it was "
                "read: run the inventory again."
            )
    raise PagingError(f"GET {path} still returned items after {MAX_PAGES} pages.")
