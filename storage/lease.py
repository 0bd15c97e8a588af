"""A writer's lease on a version: proof of life that `gc` respects.

`gc` used to decide by file age alone and deleted the committed shards of a live run whose version
had not committed yet. A writer now holds `<version>/leases/<attempt>.json`, rewritten every
`refresh_s` by a daemon thread while the writer lives; `gc` leaves a version alone while any of
its leases was refreshed within `ttl_s`. A killed writer's lease simply stops being refreshed.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

from storage.filesystem import ObjectStore

LEASE_REFRESH_S = 30.0
LEASE_TTL_S = 180.0  # several refreshes: a slow store call must not make a live writer look dead


def lease_key(version_key: str, attempt: str) -> str:
    """Where writer `attempt`'s lease on `version_key` is kept (what `live_leases` lists)."""
    return f"{version_key}/leases/{attempt}.json"


class Lease:
    def __init__(self, objects: ObjectStore, version_key: str, attempt: str, refresh_s: float = LEASE_REFRESH_S):
        self.objects, self.key, self.refresh_s = objects, lease_key(version_key, attempt), refresh_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Write the first heartbeat, then refresh it every `refresh_s` from a daemon thread; a second call does nothing."""
        if self._thread is not None:
            return
        self._beat()
        self._thread = threading.Thread(target=self._run, name=f"lease {self.key}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        body = {"pid": os.getpid(), "host": socket.gethostname(), "heartbeat": time.time()}
        self.objects.write_bytes(self.key, json.dumps(body).encode())

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one; the TTL spans several
                pass

    def release(self) -> None:
        """Stop refreshing and delete the lease, so `gc` stops waiting for this writer; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.objects.delete(self.key)


def live_leases(objects: ObjectStore, version_key: str, ttl_s: float = LEASE_TTL_S, now: float | None = None) -> list[str]:
    """Leases of this version refreshed within `ttl_s` (by their heartbeat, else the object's time)."""
    now = now or time.time()
    live = []
    for key in objects.glob(f"{version_key}/leases/*.json"):
        try:
            beat = float(objects.read_json(key).get("heartbeat", 0))
        except (FileNotFoundError, ValueError, TypeError):
            continue
        if now - beat < ttl_s:
            live.append(key)
    return live
