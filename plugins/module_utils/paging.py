# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read whole collections from the API's paged and unpaged list endpoints.

Paged endpoints take ``offset`` and ``limit`` and return the envelope
``{offset, limit, totalCount, results}``. The server may return fewer items
than ``limit`` requests, so the loop advances by what it received and stops
only when it has ``totalCount`` items. Some endpoints (``GET /clusters``,
networks, volume groups, restore point disks) return a bare JSON array instead.
"""

from __future__ import annotations

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import PagingError

# Upper bound on pages per collection, which stops a server that keeps
# returning items from looping for ever.
MAX_PAGES = 100000


def read_envelope(body, path: str) -> tuple[list, int | None]:
    """Return the items and ``totalCount`` of one page (None when it is absent)."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise PagingError(
            f"GET {path} returned neither a JSON array nor a page object with a 'results' list."
        )
    total = body.get("totalCount")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
        raise PagingError(f"GET {path} returned a non-integer totalCount: {total!r}.")
    return body["results"], total


def collect_pages(fetch, path: str, params: dict | None, page_size: int, first_offset: int = 0):
    """Fetch every page of a paged collection and return all items.

    ``fetch(path, params)`` performs one GET and returns the parsed body. A bare
    array on the first page is returned as it is.
    """
    items: list = []
    offset = first_offset
    for _page in range(MAX_PAGES):
        page_params = dict(params or {})
        page_params.update(offset=offset, limit=page_size)
        body = fetch(path, page_params)
        if isinstance(body, list) and offset == first_offset and not items:
            return body
        results, total = read_envelope(body, path)
        items.extend(results)
        if _is_complete(results, total, offset):
            return items
        if not results:
            raise PagingError(
                f"GET {path} reported totalCount {total} but returned no items at offset "
                f"{offset}, after {len(items)} items. The collection may have changed while "
                "it was read: try again."
            )
        offset += len(results)
    raise PagingError(f"GET {path} still returned items after {MAX_PAGES} pages.")


def _is_complete(results: list, total: int | None, offset: int) -> bool:
    if total is None:
        # Without a total, only an empty page proves the end.
        return not results
    return offset + len(results) >= total


def complete_list(fetch, path: str, body, page_size: int) -> list:
    """Return all items of an unpaged endpoint's response.

    An endpoint documented to return a bare array may return a page envelope on
    another server version. The rest of the pages are then fetched too, rather
    than silently using the first page.
    """
    if isinstance(body, list):
        return body
    results, total = read_envelope(body, path)
    if total is None or len(results) >= total:
        return results
    return results + collect_pages(fetch, path, None, page_size, first_offset=len(results))
