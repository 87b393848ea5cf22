#!/usr/bin/env python3
"""Hold N idle keep-alive connections open against an HTTP server.

Each connection sends one `GET <path> HTTP/1.1` and reads the full response,
so the server has seen a real request and now treats the socket as an idle
keep-alive connection (not a half-open one waiting for its first header).
Then every socket is simply held.

    idle_conns.py HOST PORT N [PATH]

Prints `READY open=N` once all N are established and answered, then sleeps
until SIGTERM/SIGINT, at which point it checks every socket (a peer close shows
up as a readable socket with EOF) and prints `FINAL open=K closed=M` before
exiting. Standard library only.
"""
import select
import signal
import socket
import sys
import time


def read_response(sock: socket.socket) -> None:
    """Read one HTTP/1.1 response with a Content-Length body."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before response header")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise ConnectionError(f"unexpected status line {status!r}")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside response body")
        body += chunk


def still_open(sock: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return True
        return sock.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/health"
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()

    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    socks = []
    started = time.monotonic()
    for i in range(n):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(request)
        read_response(s)
        socks.append(s)
    print(f"READY open={len(socks)} setup_ms={(time.monotonic() - started) * 1000:.0f}", flush=True)

    while not stop:
        time.sleep(0.05)

    alive = sum(1 for s in socks if still_open(s))
    print(f"FINAL open={alive} closed={len(socks) - alive}", flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
