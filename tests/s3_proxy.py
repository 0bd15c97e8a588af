r"""Fault injection between the store and a real S3 server, on 127.0.0.1 only.

How to use it:

    with FaultProxy(endpoint.endpoint_url) as proxy:        # endpoint from tests/s3_servers.py
        proxy.add(Fault("PUT", r"/shards/000001\.json", "drop_reply"))
        store = ArtifactStore.open(StoreConfig(uri=..., endpoint_url=proxy.endpoint_url, ...))
        ...
        assert proxy.seen("PUT", r"/shards/000001\.json") == [200, 412]

A fault hits the first ``times`` requests whose method matches and whose target matches the
regular expression. Actions:
* ``drop_reply``: forward the request, let the server do it, then close the client's connection
  instead of sending the reply (the reply lost on the way back: the case that deleted data);
* ``reset``: close the connection before forwarding (the server never sees the request);
* ``status:503`` (any code): answer that status without forwarding;
* ``before``: run ``hook`` (e.g. pause the server with SIGSTOP), then forward as usual.

``hung_gateway()`` is the other failure shape: a port that accepts connections and never answers.
"""

from __future__ import annotations

import http.client
import re
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HOST = "127.0.0.1"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection", "te", "upgrade"}


@dataclass
class Fault:
    method: str
    target: str  # regular expression searched in the request target (path + query)
    action: str  # drop_reply | reset | status:<code> | before
    times: int = 1
    hook: Callable[[], None] | None = None
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        return self.hits < self.times and method == self.method and re.search(self.target, target) is not None


@dataclass
class Exchange:
    method: str
    target: str
    status: int | None  # what the server answered (None: never forwarded)
    action: str | None  # the fault applied, if any


@dataclass
class FaultProxy:
    upstream_url: str
    faults: list[Fault] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        up = urlsplit(self.upstream_url)
        self._upstream = (up.hostname, up.port or 80)
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    proxy._serve(self.request)
                except OSError:
                    pass  # the client gave up (timed out) or we dropped it on purpose

        self._server = socketserver.ThreadingTCPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def seen(self, method: str, target: str) -> list[int | None]:
        """Statuses the server gave to matching requests, in order (None: not forwarded)."""
        with self._lock:
            return [e.status for e in self.exchanges if e.method == method and re.search(target, e.target)]

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- one client connection, possibly several requests (keep-alive) -------------------------
    def _serve(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")
        while True:
            line = reader.readline(65537)
            if not line.strip():
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: list[tuple[str, str]] = []
            while (raw := reader.readline(65537)) not in (b"\r\n", b"\n", b""):
                name, _, value = raw.decode("latin-1").partition(":")
                headers.append((name.strip(), value.strip()))
            lower = {k.lower(): v for k, v in headers}
            if lower.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if "chunked" in lower.get("transfer-encoding", "").lower():
                body = _read_chunked(reader)
            else:
                body = reader.read(int(lower.get("content-length", "0") or 0))
            fault = self._take_fault(method, target)
            action = fault.action if fault else None
            if action == "reset":
                self._record(method, target, None, action)
                sock.shutdown(socket.SHUT_RDWR)
                return
            if action and action.startswith("status:"):
                code = int(action.split(":", 1)[1])
                self._record(method, target, None, action)
                sock.sendall(f"HTTP/1.1 {code} Injected\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
                return
            if action == "before" and fault and fault.hook:
                fault.hook()
            status, reason, reply_headers, data = self._forward(method, target, headers, body)
            self._record(method, target, status, action)
            if action == "drop_reply":
                sock.shutdown(socket.SHUT_RDWR)
                return
            out = [f"HTTP/1.1 {status} {reason}"]
            for k, v in reply_headers:
                if k.lower() in HOP_BY_HOP or (k.lower() == "content-length" and method != "HEAD"):
                    continue
                out.append(f"{k}: {v}")
            if method != "HEAD":
                out.append(f"Content-Length: {len(data)}")
            sock.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + data)

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        conn = http.client.HTTPConnection(*self._upstream, timeout=300)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:  # Host stays as the client signed it
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    conn.putheader(k, v)
            if body or method in ("PUT", "POST"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.matches(method, target):
                    f.hits += 1
                    return f
        return None

    def _record(self, method: str, target: str, status: int | None, action: str | None) -> None:
        with self._lock:
            self.exchanges.append(Exchange(method, target, status, action))


def _read_chunked(reader) -> bytes:
    body = b""
    while True:
        size = int(reader.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while reader.readline() not in (b"\r\n", b"\n", b""):
                pass
            return body
        body += reader.read(size)
        reader.readline()


@contextmanager
def hung_gateway() -> Iterator[str]:
    """A port on 127.0.0.1 that accepts TCP connections and never answers; yields its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # held open, never read, never answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for s in held:
            s.close()
        listener.close()
