# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read the clusters, their VMs and the protected VMs for the inventory plugin.

The cost of one run is one login, one ``GET /clusters``, the pages of
``GET /clusters/{id}/vms`` for each cluster, the pages of ``GET /protectedVms``
and one logout, whatever the number of VMs.

The lists are read in parallel, and so are the pages of one list once its first
page gives its length (see ``inventory_pages``). ``requests`` sessions are not
thread-safe, so every worker thread has an ``ApiClient`` of its own. The workers
share the token of the client that logged in, through ``SharedTokens``. A token
that nears expiry or that the server rejects is renewed once for all threads. The
client that logged in logs out the last token when the reads are done.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import api_path
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    ApiConnectionError,
    ApiError,
    VeeamAhvError,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
    list_clusters,
    match_cluster,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_pages import (
    read_collections,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_text import quote

# Key of the protected VM list among the collections read, which are otherwise
# keyed by cluster id. A tuple never equals a cluster id, which is a string.
PROTECTED_KEY = ("protectedVms",)

# Version of the source data layout stored in the inventory cache. Raise it
# when the layout changes, so an old cache entry is read again from the API.
SOURCE_DATA_FORMAT = 1


class ClusterFailure:
    """A cluster whose VMs could not be read, with the error message."""

    def __init__(self, cluster: dict, message: str):
        self.cluster = cluster
        self.message = message

    def describe(self) -> str:
        return describe_cluster(self.cluster)


def describe_cluster(cluster: dict) -> str:
    """Name a cluster for a message, as ``cluster 'PROD-AHV-01' (<id>)``."""
    return f"cluster {quote(cluster.get('name'))} ({cluster.get('id')})"


class FetchResult:
    """Source data of one inventory run and what went wrong while reading it.

    ``data`` is plain JSON: ``clusters`` (the selected clusters), ``vms``
    (VM lists keyed by cluster id) and ``protected_vms`` (the rows of
    ``GET /protectedVms``, or None when that list could not be read).
    """

    def __init__(self, data: dict):
        self.data = data
        self.cluster_failures: list = []
        self.protection_error: str | None = None
        self.warnings: list = []
        self.request_count = 0
        self.retry_count = 0

    @property
    def complete(self) -> bool:
        """Whether every list was read, so the data may be cached."""
        return not self.cluster_failures and self.protection_error is None


class SharedTokens:
    """The ``TokenManager`` of the client that logged in, shared by the workers under a lock.

    ``ApiClient`` gets its bearer token from ``client.tokens.access_token()`` and calls
    ``client.tokens.renew_after_rejection()`` after a 401, so a worker client whose
    ``tokens`` is this object uses the token of the client that logged in. The token
    manager refreshes a token that nears expiry once, for the first thread that requests it.
    Token requests go through the session of the client that logged in, which no other
    thread uses while the workers run.
    """

    def __init__(self, tokens):
        self._tokens = tokens
        self._lock = threading.Lock()
        self._sent = threading.local()

    def access_token(self) -> str:
        with self._lock:
            token = self._tokens.access_token()
        self._sent.token = token
        return token

    def renew_after_rejection(self) -> bool:
        """Renew the token after a 401, unless another thread renewed it in the meantime."""
        with self._lock:
            current = self._tokens.token
            rejected = getattr(self._sent, "token", None)
            if current is not None and current.access_token != rejected:
                return True
            return self._tokens.renew_after_rejection()

    def logout(self, include_given: bool = False) -> bool:
        """Do nothing: the client that logged in logs out once every worker is done."""
        return False


class ThreadClients:
    """One ``ApiClient`` per thread, created on first use and closed together."""

    def __init__(self, create_client):
        self._create_client = create_client
        self._local = threading.local()
        self._lock = threading.Lock()
        self.clients: list = []

    def get(self):
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._create_client()
            self._local.client = client
            with self._lock:
                self.clients.append(client)
        return client

    def close_all(self) -> list:
        """Close every client and return the warnings of failed logouts."""
        warnings_list = []
        for client in self.clients:
            warnings_list.extend(client.close())
        return warnings_list


def select_clusters(clusters: list, references: list | None) -> list:
    """Return the clusters named by name or id, or all of them when none are named.

    Raises ``VeeamAhvError`` for a name or id that matches no cluster, or a
    name that several clusters share.
    """
    if not references:
        return list(clusters)
    chosen = []
    for reference in references:
        cluster = match_cluster(clusters, str(reference))
        if cluster not in chosen:
            chosen.append(cluster)
    return chosen


def fetch_source_data(create_client, cluster_references, max_workers: int, log=None):
    """Read the selected clusters, their VMs and the protected VMs.

    ``create_client()`` returns a new ``ApiClient``. The first one logs in, and
    the others use its token. A cluster whose VMs cannot be read becomes a
    ``ClusterFailure`` and a failed ``GET /protectedVms`` sets
    ``protection_error``. Any other API error is raised as ``VeeamAhvError``.
    The client that logged in logs out before this returns.
    """
    log = log or (lambda message: None)
    main_client = create_client()
    workers = None
    result = None
    try:
        clusters = select_clusters(list_clusters(main_client), cluster_references)
        log(f"Reading VMs of {len(clusters)} cluster(s) with up to {max_workers} thread(s)")
        shared_tokens = SharedTokens(main_client.tokens)
        workers = ThreadClients(lambda: _worker_client(create_client, shared_tokens))
        result = _read_in_parallel(workers, clusters, max_workers, log)
    finally:
        closing_warnings = workers.close_all() if workers is not None else []
        closing_warnings.extend(_log_out(main_client, log))
    clients = [main_client] + workers.clients
    result.warnings.extend(closing_warnings)
    result.request_count = sum(client.request_count for client in clients)
    result.retry_count = sum(client.retry_count for client in clients)
    return result


def _worker_client(create_client, shared_tokens: SharedTokens):
    client = create_client()
    client.tokens = shared_tokens
    return client


def _log_out(client, log) -> list:
    """Log out the token that ``client`` obtained, close it, and return warnings.

    An access token that nears expiry is refreshed first while its refresh token
    is valid, so that the logout is accepted and revokes the refresh token too. A
    logout rejected with HTTP 401 means the token had expired already, which needs
    no warning.
    """
    warnings_list = []
    tokens = client.tokens
    token = tokens.token
    try:
        if token is not None and token.issued_by_client and token.can_refresh(time.time()):
            # Sends a request only when the access token is no longer fresh.
            tokens.access_token()
        tokens.logout()
    except ApiError as error:
        if error.status == 401:
            log(f"The logout was rejected with HTTP 401, so the token had expired already: {error}")
        else:
            warnings_list.append(f"Logout failed, the token will expire on its own: {error}")
    except (ApiConnectionError, VeeamAhvError) as error:
        warnings_list.append(f"Logout failed, the token will expire on its own: {error}")
    # With the token logged out or forgotten, close() only closes the session.
    warnings_list.extend(client.close())
    return warnings_list


def _read_in_parallel(workers: ThreadClients, clusters: list, max_workers: int, log):
    # The protected VM list spans all clusters and may be the longest, so it starts first.
    paths = {PROTECTED_KEY: "/protectedVms"}
    for cluster in clusters:
        paths[cluster["id"]] = api_path("clusters", cluster["id"], "vms")
    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="veeam_ahv")
    try:
        outcomes = read_collections(executor, workers.get, paths, log)
    finally:
        # On an error or Ctrl-C, drop the reads that have not started yet.
        executor.shutdown(wait=True, cancel_futures=True)

    result = FetchResult({"format": SOURCE_DATA_FORMAT, "clusters": clusters, "vms": {}})
    for cluster in clusters:
        outcome = outcomes[cluster["id"]]
        if isinstance(outcome, VeeamAhvError):
            result.cluster_failures.append(ClusterFailure(cluster, str(outcome)))
            continue
        result.data["vms"][cluster["id"]] = outcome
        log(f"Read {len(outcome)} VM(s) of cluster {quote(cluster.get('name'))} ({cluster['id']})")
    protected = outcomes[PROTECTED_KEY]
    if isinstance(protected, VeeamAhvError):
        result.data["protected_vms"] = None
        result.protection_error = str(protected)
    else:
        result.data["protected_vms"] = protected
        log(f"Read {len(protected)} protected VM(s)")
    return result


def validate_source_data(data) -> bool:
    """Return whether cached source data has the layout this version writes."""
    if not isinstance(data, dict) or data.get("format") != SOURCE_DATA_FORMAT:
        return False
    if not isinstance(data.get("clusters"), list) or not isinstance(data.get("vms"), dict):
        return False
    protected = data.get("protected_vms")
    return protected is None or isinstance(protected, list)
