"""The metadata store protocol over HTTP, against ``yard server``.

``open_rest_store("http://host:8080", token=...)`` returns a ``MetadataStore`` whose stores
call the REST API (``/api/v1``), so every capability runs unchanged in team mode. The acting
user is the token's owner, as the server reports it; the server records it in every audit
event. Metric batches carry an idempotency key: a batch retried after a dropped connection
or a server restart is stored exactly once.
"""

from __future__ import annotations

from modelyard.store.base import MetadataStore
from modelyard.store.rest._evaluations import RestEvaluationStore
from modelyard.store.rest._http import RETRY_SECONDS, Transport
from modelyard.store.rest._models import RestModelRegistryStore
from modelyard.store.rest._stores import (
    RestAuditLog,
    RestDatasetStore,
    RestExperimentStore,
    RestLineageStore,
    RestRunStore,
)
from modelyard.store.rest._users import RestUserStore
from modelyard.store.urls import is_rest_url


def open_rest_store(
    url: str, *, token: str | None, retry_seconds: float = RETRY_SECONDS
) -> MetadataStore:
    """Connect to the server at ``url``; fails at once (Unauthenticated) on a bad token."""
    http = Transport(url, token, retry_seconds=retry_seconds)
    try:
        me = http.call("GET", "/users/me")
    except BaseException:
        http.close()
        raise
    return MetadataStore(
        experiments=RestExperimentStore(http),
        runs=RestRunStore(http),
        lineage=RestLineageStore(http),
        audit=RestAuditLog(http),
        datasets=RestDatasetStore(http),
        models=RestModelRegistryStore(http, me["name"]),
        evaluations=RestEvaluationStore(http),
        actor=me["name"],
        uri=url,
        close=http.close,
    )


def open_rest_user_store(url: str, *, token: str | None) -> RestUserStore:
    """The server's user administration (admins only)."""
    return RestUserStore(Transport(url, token))


__all__ = [
    "RestUserStore",
    "Transport",
    "is_rest_url",
    "open_rest_store",
    "open_rest_user_store",
]
