"""One run at a time per store: a Prefect global concurrency limit of one slot per store.

    with store_lock(config.store, get_run_logger()):      # in a flow's body
        ...

A store's versions are safe under concurrent writers, but two runs on one store (the nightly
regeneration and a manual run) duplicate work and race on reuse. The later run waits, saying so
in its log. The lease is renewed while the run lives, so a run killed -9 frees the store after
STORE_LEASE_S. A subflow of a run that holds the slot (regenerate → pipeline) goes ahead.
"""

from __future__ import annotations

import hashlib
import logging
import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from storage import StoreConfig

STORE_LEASE_S = 60.0
_HELD: ContextVar[frozenset[str]] = ContextVar("salad_store_locks", default=frozenset())


def store_location(store: StoreConfig) -> str:
    """The store under one name however it was given: an S3 URI as it is, a local folder made absolute (the lock is named after it)."""
    return store.uri if store.is_s3 else os.path.abspath(os.path.expanduser(store.uri))


def store_lock_name(store: StoreConfig) -> str:
    """The concurrency limit's name (the Prefect UI lists it under Concurrency)."""
    return "salad-store-" + hashlib.sha256(store_location(store).encode()).hexdigest()[:12]


@contextmanager
def store_lock(store: StoreConfig, log: logging.Logger | logging.LoggerAdapter | None = None) -> Iterator[None]:
    """Hold the store's slot for the block, waiting while another run holds it. A subflow of a
    run that holds it (regenerate → pipeline) goes ahead: the slot is held per run, not per flow."""
    from prefect.client.orchestration import get_client
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import PrefectHTTPStatusError

    name = store_lock_name(store)
    if name in _HELD.get():
        yield
        return
    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(name, 1)
        except PrefectHTTPStatusError as exc:  # created by another run at the same moment
            if exc.response.status_code != 409:
                raise
        busy = client.read_global_concurrency_limit_by_name(name).active_slots >= 1
    if busy and log is not None:
        log.warning(
            "store %s is in use by another run (concurrency limit %s); waiting for it to end: one run at a time per store",
            store_location(store),
            name,
        )
    with concurrency(name, occupy=1, lease_duration=STORE_LEASE_S, strict=True):
        token = _HELD.set(_HELD.get() | {name})
        try:
            yield
        finally:
            _HELD.reset(token)
