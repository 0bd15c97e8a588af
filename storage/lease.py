"""A writer's lease on a version: proof of life that `gc` respects.

`gc` used to decide by file age alone and deleted the committed shards of a live run whose version
had not committed yet. A writer now holds `<version>/leases/<attempt>.json`, rewritten every
`refresh_s` by a daemon thread while the writer lives; `gc` leaves a version alone while any of
its leases was refreshed within `ttl_s`. A killed writer's lease simply stops being refreshed.

Waiting out the TTL after a crash made every resume on the same machine stall for three minutes
(the resumed run would not take over the shard the killed one had claimed). A lease therefore also
names its process exactly: the machine's boot, its pid namespace, the pid and the process's start
time. A reader on the same boot and in the same pid namespace can then see that the process is
gone (no such pid, another process under that pid, or a zombie) and treat the lease as dead at
once. Anywhere else (another node, another container) it cannot tell, and the TTL decides as before.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

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
        body = {"pid": os.getpid(), "host": socket.gethostname(), "process": process_identity(), "heartbeat": time.time()}
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
    """Leases of this version refreshed within `ttl_s` whose process is not seen to be gone."""
    now = now or time.time()
    live = []
    for key in objects.glob(f"{version_key}/leases/*.json"):
        try:
            body = objects.read_json(key)
            beat = float(body.get("heartbeat", 0))
        except (FileNotFoundError, ValueError, TypeError, AttributeError):
            continue
        if now - beat < ttl_s and not process_is_gone(body.get("process")):
            live.append(key)
    return live


def process_identity(pid: int | None = None) -> str | None:
    """``boot:pid-namespace:pid:start-time`` of a process (this one by default); None where /proc cannot say."""
    pid = os.getpid() if pid is None else pid
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
        started = _stat_fields(pid)[19]  # field 22 of /proc/<pid>/stat: start time in clock ticks since boot
    except (OSError, IndexError):
        return None
    return f"{boot}:{namespace}:{pid}:{started}"


def process_is_gone(identity: str | None) -> bool:
    """True only when `identity` names a process of this boot and pid namespace that no longer runs.

    A zombie (killed, not yet reaped) is gone: it computes nothing. Anything this machine cannot
    judge (no identity, another boot or namespace, no /proc) is not gone: the TTL decides.
    """
    if not identity:
        return False
    mine = process_identity()
    try:
        machine, pid, started = identity.rsplit(":", 2)  # machine: the boot and pid namespace (which holds a colon)
    except ValueError:
        return False
    if mine is None or mine.rsplit(":", 2)[0] != machine:
        return False
    try:
        fields = _stat_fields(int(pid))
    except (OSError, ValueError):
        return True  # no process under that pid here
    return fields[19] != started or fields[0] in ("Z", "X")


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state first), which may itself hold spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
