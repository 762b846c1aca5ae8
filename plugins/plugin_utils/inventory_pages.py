# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read several paged collections at once, with their pages spread over a thread pool.

The first page of a collection gives ``totalCount`` and the number of items the
server returns per page, which may be fewer than the ``limit`` requested. The
remaining pages are then requested at the same time, at offsets that step by
that number.

A later page with another ``totalCount`` or an unexpected number of items means
that the collection changed during the read, or that the server pages unevenly.
The collection is then read again from the start with ``ApiClient.get_all``, one
page after another. A first page without ``totalCount`` makes the read
sequential too, ending at the first empty page.
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


class CollectionRead:
    """The state of one paged collection read: the pages received and the offsets still due."""

    def __init__(self, key, path: str):
        self.key = key
        self.path = path
        self.total: int | None = None
        self.step: int | None = None
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
                "offset 0. The collection may have changed while it was read: run again."
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
                next_offsets = _take_result(read, offset, future.result())
            except VeeamAhvError as error:
                read.error = error
                _cancel_pages(pending, read)
                continue
            for next_offset in next_offsets:
                submit(read, next_offset)
            if read.outstanding == 0 and not read.finished:
                _finish(read, submit, log)
    return {read.key: read.error if read.error is not None else read.items for read in reads}


def _take_result(read: CollectionRead, offset, result) -> list:
    if offset is None:
        read.items = result
        return []
    return read.add_page(offset, result)


def _finish(read: CollectionRead, submit, log) -> None:
    if read.changed:
        log(f"GET {read.path} changed while its pages were read in parallel; reading it again")
        read.changed = False
        read.pages = {}
        submit(read, None)
        return
    read.items = read.assemble()


def _cancel_pages(pending: dict, failed: CollectionRead) -> None:
    for future, (read, _offset) in list(pending.items()):
        if read is failed and future.cancel():
            del pending[future]
            read.outstanding -= 1


def _read_page(get_client, path: str, offset: int):
    client = get_client()
    return client.get(path, params={"offset": offset, "limit": client.page_size})


def _read_all(get_client, path: str) -> list:
    return get_client().get_all(path)
