"""A small HTTP/1.1 load generator: several processes, one thread per keep-alive
connection, each sending pre-built raw requests and timing every answer.

Requests are built in the client processes before the clock starts (signing them
is not part of the measured work), so the client spends only a few microseconds
of CPU per request: it shares the machine with the server and the database.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# make_requests(connection_index, count) -> list of complete raw requests
RequestMaker = Callable[[int, int], list[bytes]]


@dataclass
class LoadResult:
    seconds: float
    connections: int
    latencies: list[float] = field(default_factory=list)  # measured window only, seconds, sorted
    statuses: Counter = field(default_factory=Counter)  # measured window only
    errors: int = 0  # connection errors, unparsable answers (whole run)
    non_2xx: int = 0  # whole run, warm-up included
    bad_body: int = 0  # 2xx without the expected marker (whole run)
    ok_total: int = 0  # 2xx answers in the whole run, warm-up included
    exhausted: bool = False  # a connection ran out of pre-built requests before the end

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        return self.latencies[min(len(self.latencies) - 1, int(len(self.latencies) * p))]


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 answer: (status, body, server closes). Content-Length bodies only."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buf += chunk
    head = bytes(buf[:end]).decode("latin-1")
    del buf[: end + 4]
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
        elif name == "transfer-encoding":
            raise ConnectionError("chunked answers are not supported by this client")
    if length is None:
        length = 0 if status in (204, 304) else None
    if length is None:  # until the server closes
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        body = bytes(buf)
        buf.clear()
        return status, body, True
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        buf += chunk
    body = bytes(buf[:length])
    del buf[:length]
    return status, body, close


def _connection(host, port, requests, warm_end, end, cycle, marker, reconnect_after, out) -> None:
    perf = time.perf_counter
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors = non_2xx = bad_body = ok_total = 0
    exhausted = False
    sock = None
    buf = bytearray()
    i, n = 0, len(requests)
    warm = True
    connected_at = 0.0
    while True:
        start = perf()
        if start >= end:
            break
        if warm and start >= warm_end:
            # Connect afresh when measuring starts, so that connections are spread over
            # every server worker (the last ones may still have been starting before).
            warm = False
            if sock is not None:
                sock.close()
                sock = None
        if i >= n:
            if not cycle:
                exhausted = True
                break
            i = 0
        request = requests[i]
        i += 1
        try:
            if sock is not None and reconnect_after and start - connected_at >= reconnect_after:
                sock.close()
                sock = None
            if sock is None:
                sock = socket.create_connection((host, port), timeout=30)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buf.clear()
                connected_at = start
            sock.sendall(request)
            status, body, close = _read_response(sock, buf)
        except (OSError, ValueError, IndexError):
            errors += 1
            if sock is not None:
                sock.close()
            sock = None
            continue
        done = perf()
        if 200 <= status < 300:
            ok_total += 1
            if marker and marker not in body:
                bad_body += 1
        else:
            non_2xx += 1
        if start >= warm_end:
            latencies.append(done - start)
            statuses[status] += 1
        if close:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()
    out.append((latencies, statuses, errors, non_2xx, bad_body, ok_total, exhausted))


def _process(
    host,
    port,
    indexes,
    make_requests,
    per_connection,
    warmup,
    seconds,
    cycle,
    marker,
    reconnect_after,
    ready,
    go,
    done,
    results,
):
    built = [make_requests(i, per_connection) for i in indexes]
    ready.put(len(built))
    go.wait()
    now = time.perf_counter()
    warm_end = now + warmup
    end = warm_end + seconds
    out: list = []
    threads = [
        threading.Thread(
            target=_connection, args=(host, port, reqs, warm_end, end, cycle, marker, reconnect_after, out)
        )
        for reqs in built
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put(out)
    done.wait(timeout=120)  # stay until the parent has measured this process's CPU use


def run_load(
    host: str,
    port: int,
    make_requests: RequestMaker,
    *,
    connections: int = 8,
    processes: int = 2,
    warmup: float = 3.0,
    seconds: float = 15.0,
    per_connection: int = 10_000,
    cycle: bool = False,
    marker: bytes | None = b"<Response",
    probe: Callable[[], None] | None = None,
    reconnect_after: float = 1.0,
) -> LoadResult:
    """Drive ``connections`` keep-alive connections from ``processes`` processes for
    ``warmup`` + ``seconds``; figures are for the last ``seconds`` only. ``make_requests``
    must be a picklable top-level callable (the processes are spawned). Without ``cycle``
    every request is sent at most once. ``probe`` is called when the clients start and
    when they have all finished (to sample CPU use, for example). Each connection is
    closed and opened again after ``reconnect_after`` seconds (0: never), so that the
    connections keep spreading over the server's workers (gunicorn's workers take
    connections as they come, and keep them)."""
    ctx = mp.get_context("spawn")
    ready, results, go, done = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
    groups = [list(range(connections))[p::processes] for p in range(processes)]
    groups = [g for g in groups if g]
    procs = [
        ctx.Process(
            target=_process,
            args=(
                host,
                port,
                g,
                make_requests,
                per_connection,
                warmup,
                seconds,
                cycle,
                marker,
                reconnect_after,
                ready,
                go,
                done,
                results,
            ),
            daemon=True,
        )
        for g in groups
    ]
    for p in procs:
        p.start()
    try:
        waiting, deadline = len(procs), time.monotonic() + 300
        while waiting:
            try:
                ready.get(timeout=1)
                waiting -= 1
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in procs) or time.monotonic() > deadline:
                    raise RuntimeError("a load generator process failed before the start") from None
        go.set()
        if probe is not None:
            probe()
        merged = LoadResult(seconds=seconds, connections=connections)
        for _ in procs:
            for latencies, statuses, errors, non_2xx, bad_body, ok_total, exhausted in results.get(
                timeout=warmup + seconds + 120
            ):
                merged.latencies.extend(latencies)
                merged.statuses.update(statuses)
                merged.errors += errors
                merged.non_2xx += non_2xx
                merged.bad_body += bad_body
                merged.ok_total += ok_total
                merged.exhausted |= exhausted
        if probe is not None:
            probe()
        merged.latencies.sort()
        return merged
    finally:
        done.set()
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
