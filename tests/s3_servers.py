"""Real S3-compatible servers on 127.0.0.1 for the store's tests.

How to use it:

    from tests.s3_servers import ceph_rgw, moto_s3

    with ceph_rgw(tmp_path) as s3:          # or moto_s3(tmp_path) for fast unit tests
        s3.make_bucket("salad-test")
        os.environ.update(s3.env())         # AWS_* for boto3, s3fs and pyarrow
        ...

* ``ceph_rgw`` is the production implementation: a one-monitor, one-OSD Ceph cluster (file-backed
  BlueStore, pool size 1, auth none) plus the RADOS Gateway. It needs the Debian packages
  ``ceph-mon ceph-osd radosgw``. Start it once per test session: a cold start takes about
  8 s and the three daemons use about 140 MB.
* ``moto_s3`` runs moto's standalone server as a separate process (not in-process), so tests
  talk HTTP to it exactly as they would to Ceph.

Everything either server writes (config, data, logs, sockets) stays under the folder the caller
gives. Both listen on 127.0.0.1 only, so they work in a loopback-only network namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
CEPH_PACKAGES = "ceph-mon ceph-osd radosgw"
CEPH_BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph")
# Fixed credentials: the servers are private to one test session, so secrecy does not matter,
# and fixed strings make failures easy to reproduce by hand.
CEPH_ACCESS_KEY = "SALADTESTACCESSKEY00"
CEPH_SECRET_KEY = "saladtestsecretkey0000000000000000000000"
MOTO_ACCESS_KEY = "testing"
MOTO_SECRET_KEY = "testing"
REGION = "us-east-1"

CEPH_START_TIMEOUT_S = 120.0
MOTO_START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


class S3ServerError(RuntimeError):
    """A test S3 server could not be set up; the message says why and shows its log."""


@dataclass(frozen=True)
class S3Endpoint:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = REGION
    pid: int | None = None  # the server process answering HTTP, for tests that pause it (SIGSTOP/SIGCONT)

    def env(self) -> dict[str, str]:
        """AWS_* variables that point boto3, s3fs and pyarrow at this server.

        The checksum settings matter: recent AWS SDKs send streaming checksums with chunked
        uploads by default, which Ceph RGW rejects (HTTP 411 on writes from pyarrow).
        """
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "WHEN_REQUIRED",
            # no instance-metadata lookups: there is no network to look on
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def boto3_client(self):
        """A boto3 S3 client for this server, independent of the process environment."""
        import boto3
        from botocore.config import Config

        config = Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 2, "mode": "standard"},
        )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=config,
        )

    def make_bucket(self, name: str) -> None:
        """Creates the bucket; creating one that this user already owns is not an error."""
        client = self.boto3_client()
        try:
            client.create_bucket(Bucket=name)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass


# --------------------------------------------------------------------------------------------
# Process helpers shared by both servers


def free_port() -> int:
    """Asks the kernel for a free port on 127.0.0.1 (a small race with other programs is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    """The environment for server processes, without variables that would redirect them.

    CEPH_ARGS / CEPH_CONF would add options behind our back; AWS_* from the developer's shell
    have no business in a server.
    """
    drop = ("CEPH_ARGS", "CEPH_CONF", "CEPH_KEYRING")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AWS_")}


def _die_with_parent() -> None:
    """Runs in the child before exec: if pytest itself is killed (no cleanup runs), the kernel
    kills the server too, so no daemon outlives its test session."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen:
    """Starts a server in its own session so a Ctrl-C in pytest reaches it only through us
    (and the orderly stop below), not half-way through a test."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def _stop(proc: subprocess.Popen) -> None:
    """Terminate, then kill: a server that ignores SIGTERM must not outlive the test session."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text[-lines:]) or "(empty)"


def _logs_tail(logs: list[Path]) -> str:
    return "\n".join(f"--- last lines of {log} ---\n{_tail(log)}" for log in logs)


def _wait_until(
    ready: Callable[[], bool],
    what: str,
    timeout_s: float,
    procs: list[subprocess.Popen],
    logs: list[Path],
) -> None:
    """Polls ``ready`` and fails early, with the logs, if a server process exits meanwhile."""
    deadline = time.monotonic() + timeout_s
    while True:
        if ready():
            return
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            codes = ", ".join(f"{p.args[0]} exited with {p.returncode}" for p in dead)
            raise S3ServerError(f"{what}: {codes}\n{_logs_tail(logs)}")
        if time.monotonic() > deadline:
            raise S3ServerError(f"{what}: not ready after {timeout_s:.0f} s\n{_logs_tail(logs)}")
        time.sleep(0.2)


def _answers_http(url: str) -> bool:
    """True once anything answers HTTP at ``url``; an error status still means it is up."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# moto


@contextmanager
def moto_s3(workdir: Path) -> Iterator[S3Endpoint]:
    """moto's standalone S3 server as a child process; fast to start, for unit tests."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "moto.log"
    proc = _spawn([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)], log)
    try:
        url = f"http://{HOST}:{port}"
        ready = lambda: _answers_http(url + "/moto-api/")  # noqa: E731
        _wait_until(ready, "moto S3 server", MOTO_START_TIMEOUT_S, [proc], [log])
        yield S3Endpoint(url, MOTO_ACCESS_KEY, MOTO_SECRET_KEY, pid=proc.pid)
    finally:
        _stop(proc)


# --------------------------------------------------------------------------------------------
# Ceph RADOS Gateway


def _require_ceph() -> None:
    missing = [b for b in CEPH_BINARIES if shutil.which(b) is None]
    if missing:
        raise S3ServerError(
            f"Ceph programs not found: {', '.join(missing)}. Install the Debian packages with:\n"
            f"  sudo apt-get install -y --no-install-recommends {CEPH_PACKAGES}"
        )


def _require_direct_io(folder: Path) -> None:
    """BlueStore opens its block file with O_DIRECT; tmpfs refuses that with a cryptic error."""
    probe = folder / ".odirect-probe"
    try:
        fd = os.open(probe, os.O_RDWR | os.O_CREAT | getattr(os, "O_DIRECT", 0), 0o600)
        os.close(fd)
    except OSError as exc:
        raise S3ServerError(
            f"{folder} does not support O_DIRECT ({exc}), which Ceph BlueStore needs; give ceph_rgw a folder on a disk filesystem (ext4, xfs), not tmpfs"
        ) from exc
    finally:
        probe.unlink(missing_ok=True)


def _ceph_conf(root: Path, fsid: str, mon_port: int, rgw_port: int) -> str:
    """A self-contained cluster config: every path under ``root``, every socket on 127.0.0.1.

    Tricky parts, learned the hard way:
    * auth none is not enough for radosgw: its monitor connection defaults to the "secure"
      messenger mode, which the "none" auth method cannot provide, so it loops on
      "get_initial_auth_request returned -13". Allowing "crc" everywhere fixes that; no keyring
      is then needed by any daemon or tool.
    * a one-OSD cluster needs size-1 pools and few placement groups: RGW creates about eight
      pools at start and the default 32 PGs each would pass mon_max_pg_per_osd.
    * the monitor refuses to run when its disk is below mon_data_avail_crit (5 %) free; a test
      cluster should not care.
    """
    return f"""\
[global]
fsid = {fsid}
mon_host = v2:{HOST}:{mon_port}
public_addr = {HOST}
cluster_addr = {HOST}
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
ms_bind_msgr2 = true
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
ms_client_mode = crc
ms_cluster_mode = crc
ms_service_mode = crc
run_dir = {root}/run
pid_file = {root}/run/$name.pid
crash_dir = {root}/crash
log_file = {root}/log/$name.log
mon_cluster_log_file = {root}/log/cluster.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
mon_warn_on_pool_no_redundancy = false
# every monitor change waits for the next paxos proposal (1 s by default); RGW's start makes
# a dozen such changes (pools, flags), so a short interval saves most of the start time
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[mon]
mon_data = {root}/mon.$id

[osd]
osd_data = {root}/osd.$id
osd_objectstore = bluestore
# the block file is created sparse inside osd_data; it holds the objects
bluestore_block_create = true
bluestore_block_size = {10 * 2**30}
bluestore_fsck_on_mkfs = false
osd_memory_target = {1 * 2**30}

[client.rgw]
rgw_data = {root}/rgw
rgw_frontends = beast endpoint={HOST}:{rgw_port}
rgw_thread_pool_size = 32
"""


def _run(cmd: list[str], what: str, logs: list[Path], timeout_s: float = 60.0) -> str:
    """Runs a setup command; on failure the error carries its output and the daemons' logs."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env(), timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise S3ServerError(f"{what}: timed out after {timeout_s:.0f} s: {' '.join(cmd)}\n{_logs_tail(logs)}") from exc
    if done.returncode != 0:
        raise S3ServerError(
            f"{what}: {' '.join(cmd)} exited with {done.returncode}\nstdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}\n{_logs_tail(logs)}"
        )
    return done.stdout


def _kill_by_pid_files(run_dir: Path, conf: Path) -> None:
    """Last resort for daemons that escaped their Popen handle (e.g. one that forked).

    Only a process whose command line names this cluster's config is killed, so a recycled
    pid can never hit an unrelated process.
    """
    for pid_file in run_dir.glob("*.pid"):
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if str(conf).encode() in cmdline:
            os.kill(pid, signal.SIGKILL)


@contextmanager
def ceph_rgw(workdir: Path) -> Iterator[S3Endpoint]:
    """A throwaway Ceph cluster with a RADOS Gateway, the S3 implementation used in production."""
    _require_ceph()
    root = Path(workdir).resolve()
    for sub in ("run", "log", "crash", "rgw", "mon.a", "osd.0"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    _require_direct_io(root)
    mon_port, rgw_port = free_port(), free_port()
    fsid = str(uuid.uuid4())
    conf = root / "ceph.conf"
    conf.write_text(_ceph_conf(root, fsid, mon_port, rgw_port))
    log_dir = root / "log"
    logs = [log_dir / name for name in ("mon.a.log", "osd.0.log", "client.rgw.log", "daemons.out")]

    with ExitStack() as stack:
        # Registered first, so it runs last: whatever is left after the orderly stops goes.
        stack.callback(_kill_by_pid_files, root / "run", conf)

        def start(cmd: list[str]) -> subprocess.Popen:
            proc = _spawn(cmd, log_dir / "daemons.out")
            stack.callback(_stop, proc)  # stops run in reverse: rgw, then osd, then mon
            return proc

        _mkfs_monitor(root, conf, fsid, mon_port, logs)
        mon = start(["ceph-mon", "-c", str(conf), "-i", "a", "-f"])
        osd_id = _mkfs_osd(conf, logs)
        osd = start(["ceph-osd", "-c", str(conf), "-i", osd_id, "-f"])
        # RGW waits for the OSD by itself while it creates its pools, so it can start right away.
        rgw = start(["radosgw", "-c", str(conf), "-n", "client.rgw", "-f"])

        url = f"http://{HOST}:{rgw_port}"
        daemons = [mon, osd, rgw]
        _wait_until(lambda: _answers_http(url), "Ceph RADOS Gateway", CEPH_START_TIMEOUT_S, daemons, logs)
        _create_user(conf, logs)
        yield S3Endpoint(url, CEPH_ACCESS_KEY, CEPH_SECRET_KEY, pid=rgw.pid)


def _mkfs_monitor(root: Path, conf: Path, fsid: str, port: int, logs: list[Path]) -> None:
    """A monitor store whose monmap lists only mon.a on 127.0.0.1, so nothing is looked up in DNS."""
    monmap = root / "monmap"
    _run(
        ["monmaptool", "--create", "--fsid", fsid, "--addv", "a", f"[v2:{HOST}:{port}]", str(monmap)],
        "monmaptool --create",
        logs,
    )
    _run(["ceph-mon", "-c", str(conf), "-i", "a", "--mkfs", "--monmap", str(monmap)], "ceph-mon --mkfs", logs)


def _mkfs_osd(conf: Path, logs: list[Path]) -> str:
    """Registers one OSD with the running monitor, then formats its BlueStore; returns its id."""
    osd_uuid = str(uuid.uuid4())
    ceph = ["ceph", "-c", str(conf), "--connect-timeout", "30"]
    osd_id = _run([*ceph, "osd", "new", osd_uuid], "ceph osd new", logs).strip()
    mkfs = ["ceph-osd", "-c", str(conf), "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid]
    _run(mkfs, "ceph-osd --mkfs", logs)
    return osd_id


def _create_user(conf: Path, logs: list[Path]) -> None:
    """The S3 user with the fixed keys; radosgw-admin talks to RADOS directly, not over HTTP."""
    out = _run(
        [
            "radosgw-admin",
            "-c",
            str(conf),
            "user",
            "create",
            "--uid",
            "salad-test",
            "--display-name",
            "SALAD tests",
            "--access-key",
            CEPH_ACCESS_KEY,
            "--secret-key",
            CEPH_SECRET_KEY,
        ],
        "radosgw-admin user create",
        logs,
    )
    keys = json.loads(out)["keys"]
    if not any(k["access_key"] == CEPH_ACCESS_KEY for k in keys):
        raise S3ServerError(f"radosgw-admin did not set the access key: {out}")
